// forksafe in a real Neovim: headless nvim with test/e2e/neovim/init.lua attaches the shipped server to an example driver; the diagnostics, the hover and the code actions arrive.
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readExpectations, groupByLine, mapToObject } from '../helpers/expectations';
import { REPO_ROOT, SERVER_BUNDLE } from '../helpers/lspProcess';

const INIT_LUA = path.join(REPO_ROOT, 'test', 'e2e', 'neovim', 'init.lua');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'rdma_mr', 'rdma_like_mr.c');
/** Each wait inside nvim ends as soon as its condition holds; this only bounds a hang. */
const WAIT_MS = 60_000;

interface NvimDiagnostic { lnum: number; col: number; end_lnum: number; end_col: number; code: string; severity: number; message: string; href: string | null; data: unknown }
interface NvimAction { title: string; kind: string | null; isPreferred: boolean; hasEdit: boolean; command: string | null; disabled: string | null; diagnostics: string[] }
interface NvimResult {
  errors: string[];
  steps: string[];
  file?: string;
  nvim?: { major: number; minor: number; patch: number };
  serverInfo?: { name?: string };
  capabilities?: { hoverProvider: unknown; codeActionProvider: unknown; textDocumentSync: unknown };
  diagnostics?: NvimDiagnostic[];
  target?: { lnum: number; col: number; code: string };
  hover?: { contents?: { kind?: string; value?: string } | string } | null;
  codeActions?: NvimAction[];
  afterFix?: { title: string; line: string; changed: boolean; targetGone: boolean; diagnostics: NvimDiagnostic[] };
  fixAll?: Array<{ title: string; kind: string | null; hasEdit: boolean }>;
}

/** The nvim binary's version, or a failure that says how to install it (no silent skip: CI installs it in .ci/run). */
function nvimVersion(): string {
  const r = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
  if (r.error) assert.fail(`nvim is not installed (${r.error.message}): run \`apt-get install -y neovim\` (CI installs it in .ci/run)`);
  const m = /NVIM v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  assert.ok(m, `cannot read the nvim version from: ${r.stdout.slice(0, 200)}`);
  assert.ok(Number(m[1]) > 0 || Number(m[2]) >= 7, `nvim ${m[0]} is older than 0.7 (needs vim.lsp.start_client and vim.diagnostic)`);
  return m[0];
}

function runNvim(file: string, settings: object): Promise<{ result: NvimResult; code: number | null; stderr: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-nvim-'));
  const resultFile = path.join(tmp, 'result.json');
  // A private home and XDG dirs: no user config, shada or LSP log of the machine leaks in or out.
  const env = {
    ...process.env, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'config'), XDG_DATA_HOME: path.join(tmp, 'data'),
    XDG_STATE_HOME: path.join(tmp, 'state'), XDG_CACHE_HOME: path.join(tmp, 'cache'),
    FORKSAFE_NODE: process.execPath, FORKSAFE_SERVER: SERVER_BUNDLE, FORKSAFE_RESULT: resultFile,
    FORKSAFE_SETTINGS: JSON.stringify(settings), FORKSAFE_TIMEOUT_MS: String(WAIT_MS),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('nvim', ['--headless', '--noplugin', '-n', '-i', 'NONE', '-u', INIT_LUA, file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => { stderr += d.toString(); });
    // The script quits by itself after at most 4 × WAIT_MS; this catches an nvim that never runs it.
    const hang = setTimeout(() => { child.kill('SIGKILL'); }, 5 * WAIT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(hang);
      let result: NvimResult;
      try {
        result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as NvimResult;
      } catch (err) {
        reject(new Error(`nvim exited (code ${code}) without a result: ${(err as Error).message}\n${stderr}`));
        return;
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      resolve({ result, code, stderr });
    });
  });
}

describe('e2e: Neovim (built-in LSP client, headless)', function () {
  this.timeout(6 * WAIT_MS);
  let run: { result: NvimResult; code: number | null; stderr: string };
  let version: string;

  before(async function () {
    version = nvimVersion();
    // Default settings: the example is a driver of its own folder, as `npm start` scans it.
    run = await runNvim(EXAMPLE, {});
  });

  it('starts the server over stdio and gets through the script without a Lua or protocol error', function () {
    assert.equal(run.code, 0, `nvim exit code; output:\n${run.stderr}`);
    assert.deepEqual(run.result.errors, [], `${version}; steps reached: ${run.result.steps.join(' → ')}`);
    assert.equal(run.result.serverInfo?.name, 'forksafe');
    assert.equal(run.result.file, EXAMPLE);
  });

  it('advertises hover and code actions (including source.fixAll.forksafe) to Neovim', function () {
    const caps = run.result.capabilities;
    assert.ok(caps, 'capabilities recorded');
    assert.equal(caps.hoverProvider, true, 'hoverProvider');
    const actions = caps.codeActionProvider as { codeActionKinds?: string[] } | boolean | null;
    assert.ok(actions, 'codeActionProvider');
    if (typeof actions === 'object') assert.ok(actions.codeActionKinds?.includes('source.fixAll.forksafe'), JSON.stringify(actions));
  });

  it("shows exactly the example's expected FS diagnostics, at the expected lines, with rule links", function () {
    const expected = readExpectations(fs.readFileSync(EXAMPLE, 'utf8')).byLine;
    assert.ok(expected.size > 0, 'the example states expectations');
    const diags = run.result.diagnostics ?? [];
    assert.deepEqual(mapToObject(groupByLine(diags.map((d) => ({ line: d.lnum, code: d.code })))), mapToObject(expected));
    for (const d of diags) {
      assert.match(d.code, /^FS\d{3}$/);
      assert.ok(d.href?.endsWith(`/docs/rules/${d.code}.md`), `rule link of ${d.code}: ${d.href}`);
      assert.match(d.message, /fork\(\)/);
    }
    const fs001 = diags.find((d) => d.code === 'FS001');
    assert.ok(fs001, 'an FS001');
    assert.equal(fs001.severity, 1, 'FS001 is an error in Neovim (vim.diagnostic.severity.ERROR)');
  });

  it('answers K (hover) on the pin call with the explanation of the site', function () {
    const hover = run.result.hover as { contents?: { kind?: string; value?: string } | string; range?: { start: { line: number; character: number } } } | null | undefined;
    const contents = hover?.contents;
    assert.ok(contents, `a hover on ${JSON.stringify(run.result.target)}: ${JSON.stringify(hover)}`);
    assert.equal(typeof contents === 'string' ? 'plaintext' : contents.kind, 'markdown');
    const text = typeof contents === 'string' ? contents : contents.value ?? '';
    assert.match(text, /FS001/);
    assert.match(text, /get_user_pages\(\)/);
    assert.match(text, /fork\(\)/);
    assert.deepEqual(hover?.range?.start, { line: run.result.target?.lnum, character: run.result.target?.col }, 'the hover covers the callee');
  });

  it('offers the quick fixes for the line, and applying the preferred one makes the FS001 go away', function () {
    const actions = run.result.codeActions ?? [];
    const fixes = actions.filter((a) => a.kind === 'quickfix' && a.hasEdit && a.diagnostics.includes('FS001'));
    assert.ok(fixes.length > 0, `a quick fix with an edit for FS001: ${JSON.stringify(actions)}`);
    assert.equal(actions.filter((a) => a.isPreferred).length, 1, `one preferred fix: ${JSON.stringify(actions.map((a) => a.title))}`);
    const after = run.result.afterFix;
    assert.ok(after, 'the preferred fix was applied');
    assert.ok(after.changed, 'the buffer changed');
    assert.ok(after.targetGone, `FS001 left line ${(run.result.target?.lnum ?? 0) + 1} after '${after.title}': ${JSON.stringify(after.diagnostics.map((d) => [d.code, d.lnum]))}`);
    assert.match(after.line, /pin_user_pages/, 'the fixed line pins with pin_user_pages*()');
  });

  it('offers source.fixAll.forksafe while a safe fix is pending, and nothing once the fix is applied', function () {
    const actions = run.result.codeActions ?? [];
    assert.equal(actions.filter((a) => a.kind === 'source.fixAll.forksafe' && a.hasEdit).length, 1, `one fix-all action before the fix: ${JSON.stringify(actions.map((a) => a.kind))}`);
    assert.ok(run.result.steps.includes('fixAll'), `steps: ${run.result.steps.join(' → ')}`);
    assert.deepEqual(run.result.afterFix?.diagnostics, [], 'nothing left after the fix');
    assert.deepEqual(run.result.fixAll, [], 'no fix-all action when nothing is left to fix');
  });
});
