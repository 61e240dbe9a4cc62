-- forksafe in a real Neovim (0.7+, built-in client): attach the server to the file on the command line, collect what a user sees, write it as JSON, quit.
-- Driven by test/e2e/neovim.test.ts through environment variables:
--   FORKSAFE_NODE, FORKSAFE_SERVER  how to start the server (node <server.js> --stdio)
--   FORKSAFE_SETTINGS               JSON of the `forksafe` settings section Neovim answers workspace/configuration with
--   FORKSAFE_RESULT                 where to write the JSON result
--   FORKSAFE_TIMEOUT_MS             how long each wait may take (a hang detector; every wait ends as soon as its condition holds)

local result = { errors = {}, steps = {} }
local timeout = tonumber(os.getenv('FORKSAFE_TIMEOUT_MS') or '60000')
local finished = false

local function step(name)
  table.insert(result.steps, name)
end

local function fail(message)
  table.insert(result.errors, message)
end

local function finish()
  if finished then return end
  finished = true
  local ok, encoded = pcall(vim.fn.json_encode, result)
  if not ok then encoded = vim.fn.json_encode({ errors = { 'could not encode the result: ' .. tostring(encoded) }, steps = result.steps }) end
  local f = assert(io.open(os.getenv('FORKSAFE_RESULT'), 'w'))
  f:write(encoded)
  f:close()
  vim.cmd('qa!')
end

-- A Lua table of plain data (JSON-encodable): drops functions, keeps vim.NIL.
local function plain(value)
  if type(value) == 'table' then
    local out = {}
    for k, v in pairs(value) do
      if type(v) ~= 'function' and type(v) ~= 'userdata' or v == vim.NIL then out[k] = plain(v) end
    end
    return out
  end
  return value
end

local function forksafe_diagnostics(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'forksafe' then
      local lsp = d.user_data and d.user_data.lsp or {}
      table.insert(out, {
        lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
        code = d.code, severity = d.severity, message = d.message,
        href = lsp.codeDescription and lsp.codeDescription.href or vim.NIL,
        data = lsp.data or vim.NIL,
      })
    end
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum or (a.lnum == b.lnum and (a.col < b.col or (a.col == b.col and tostring(a.code) < tostring(b.code)))) end)
  return out
end

-- The answer of the one client to a synchronous request, or nil with the reason recorded.
local function request(bufnr, client_id, method, params, what)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, timeout)
  if not responses then fail(what .. ': no answer: ' .. tostring(err)); return nil end
  local r = responses[client_id]
  if not r then fail(what .. ': no answer from the forksafe client'); return nil end
  if r.err or r.error then fail(what .. ': error ' .. vim.inspect(r.err or r.error)); return nil end
  return r.result
end

local function main()
  local bufnr = vim.api.nvim_get_current_buf()
  result.file = vim.api.nvim_buf_get_name(bufnr)
  result.nvim = vim.version()
  local settings = vim.fn.json_decode(os.getenv('FORKSAFE_SETTINGS') or '{}')
  local client_id = vim.lsp.start_client({
    name = 'forksafe',
    cmd = { os.getenv('FORKSAFE_NODE') or 'node', assert(os.getenv('FORKSAFE_SERVER'), 'FORKSAFE_SERVER is not set'), '--stdio' },
    root_dir = vim.fn.fnamemodify(result.file, ':h'),
    -- Neovim 0.7 answers workspace/configuration but does not advertise it, so the server reads initializationOptions
    -- there; later versions advertise it and the server pulls `settings` instead. Both carry the same table.
    init_options = { settings = settings },
    settings = { forksafe = settings },
    on_init = function(_, initialize_result) result.serverInfo = plain(initialize_result.serverInfo or vim.NIL) end,
  })
  if not client_id then return fail('vim.lsp.start_client returned nil') end
  vim.lsp.buf_attach_client(bufnr, client_id)
  step('started')

  local client
  if not vim.wait(timeout, function()
    client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized == true
  end, 20) then return fail('the client did not initialize') end
  local caps = client.server_capabilities or {}
  result.capabilities = {
    hoverProvider = caps.hoverProvider or vim.NIL,
    codeActionProvider = plain(caps.codeActionProvider or vim.NIL),
    textDocumentSync = plain(caps.textDocumentSync or vim.NIL),
  }
  step('initialized')

  if not vim.wait(timeout, function() return #forksafe_diagnostics(bufnr) > 0 end, 20) then
    return fail('no forksafe diagnostics arrived')
  end
  result.diagnostics = forksafe_diagnostics(bufnr)
  step('diagnostics')

  -- The first FS001, else the first diagnostic: put the cursor on it, as a user would.
  local target = result.diagnostics[1]
  for _, d in ipairs(result.diagnostics) do
    if d.code == 'FS001' then target = d; break end
  end
  vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
  result.target = { lnum = target.lnum, col = target.col, code = target.code }

  -- Hover, as `K` (vim.lsp.buf.hover) asks for it.
  if caps.hoverProvider then
    local hover = request(bufnr, client_id, 'textDocument/hover', vim.lsp.util.make_position_params(0, client.offset_encoding), 'hover')
    result.hover = plain(hover or vim.NIL)
    step('hover')
  else
    fail('the server does not advertise hoverProvider')
  end

  -- Code actions, as vim.lsp.buf.code_action() asks for them: the cursor's range and the line's diagnostics.
  if caps.codeActionProvider then
    local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
    params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr) }
    local actions = request(bufnr, client_id, 'textDocument/codeAction', params, 'code actions') or {}
    result.codeActions = {}
    for _, a in ipairs(actions) do
      local codes = {}
      for _, d in ipairs(a.diagnostics or {}) do table.insert(codes, d.code) end
      table.insert(result.codeActions, {
        title = a.title, kind = a.kind or vim.NIL, isPreferred = a.isPreferred or false, hasEdit = a.edit ~= nil,
        command = a.command and (type(a.command) == 'table' and a.command.command or a.command) or vim.NIL,
        disabled = a.disabled and a.disabled.reason or vim.NIL, diagnostics = codes,
      })
    end
    step('codeActions')

    -- Apply the preferred quick fix with Neovim's own workspace-edit code, then wait for the diagnostics to follow the text.
    local chosen
    for _, a in ipairs(actions) do
      if a.isPreferred and a.edit then chosen = a; break end
    end
    if chosen then
      local changedtick = vim.api.nvim_buf_get_changedtick(bufnr)
      vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding or 'utf-16')
      local fixed_line = vim.api.nvim_buf_get_lines(bufnr, target.lnum, target.lnum + 1, false)[1]
      result.afterFix = { title = chosen.title, line = fixed_line, changed = vim.api.nvim_buf_get_changedtick(bufnr) ~= changedtick }
      local gone = vim.wait(timeout, function()
        for _, d in ipairs(forksafe_diagnostics(bufnr)) do
          if d.code == target.code and d.lnum == target.lnum then return false end
        end
        return true
      end, 20)
      result.afterFix.targetGone = gone
      result.afterFix.diagnostics = forksafe_diagnostics(bufnr)
      step('fixApplied')
    end

    -- source.fixAll.forksafe on the (possibly fixed) buffer: what :lua vim.lsp.buf.code_action({ only = { 'source.fixAll.forksafe' } }) gets.
    local last = vim.api.nvim_buf_line_count(bufnr)
    local all = request(bufnr, client_id, 'textDocument/codeAction', {
      textDocument = { uri = vim.uri_from_bufnr(bufnr) },
      range = { start = { line = 0, character = 0 }, ['end'] = { line = last, character = 0 } },
      context = { diagnostics = {}, only = { 'source.fixAll.forksafe' } },
    }, 'fix-all') or {}
    result.fixAll = {}
    for _, a in ipairs(all) do table.insert(result.fixAll, { title = a.title, kind = a.kind or vim.NIL, hasEdit = a.edit ~= nil }) end
    step('fixAll')
  else
    fail('the server does not advertise codeActionProvider')
  end

  vim.lsp.stop_client(client_id)
  step('stopped')
end

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    -- A last resort so a stuck wait can never keep Neovim running: report what was reached and quit.
    vim.defer_fn(function()
      fail('the script did not finish within ' .. (4 * timeout) .. ' ms')
      finish()
    end, 4 * timeout)
    local ok, err = xpcall(main, debug.traceback)
    if not ok then fail('Lua error: ' .. tostring(err)) end
    finish()
  end,
})
