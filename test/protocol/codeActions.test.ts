// Code actions over stdio: titles and edits of each fix, applying them (no new syntax error, the diagnostic goes), refusal after the document moved, fix-all idempotence.
import { strict as assert } from 'assert';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { EDITOR_CAPABILITIES, LspProcess } from '../helpers/lspProcess';
import { applyLspEdits, editsOf } from '../helpers/lspEdits';
import { countSyntaxErrors } from '../helpers/syntaxErrors';
import { syntax } from '../helpers/syntax';

const URI = 'file:///virtual/fix/mr.c';
const TEXT = [
  'struct mr { struct page **pages; int n; };',
  'static int reg_mr(struct mr *mr, unsigned long start)',
  '{',
  '\tint ret = get_user_pages(start, mr->n, FOLL_WRITE, mr->pages);',
  '\treturn ret;',
  '}',
  'static void dereg_mr(struct mr *mr)',
  '{',
  '\tint i;',
  '\tfor (i = 0; i < mr->n; i++)',
  '\t\tput_page(mr->pages[i]);',
  '}',
  '',
].join('\n');

const CONVERT = 'Convert to pin_user_pages() with FOLL_LONGTERM and release with unpin_user_pages()';
const SUPPRESS = 'Suppress FS001 on this line (then replace <reason> with why fork() cannot break this pin)';
const ASSUME = 'State the userspace MADV_DONTFORK contract (forksafe-assume dontfork; the error becomes information to verify)';

describe('protocol: code actions', function () {
  let server: LspProcess;
  let n = 0;

  before(async function () {
    server = new LspProcess();
    const init = await server.initialize(EDITOR_CAPABILITIES);
    const provider = init.capabilities.codeActionProvider as { codeActionKinds: string[] };
    assert.deepEqual(provider.codeActionKinds, ['quickfix', 'source.fixAll.forksafe']);
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  async function openFresh(text: string): Promise<{ uri: string; diags: Diagnostic[] }> {
    const uri = URI.replace('mr.c', `mr${n++}.c`);
    await server.open(uri, text);
    return { uri, diags: await server.diagnosticsForCurrentVersion(uri) };
  }

  function actions(uri: string, diags: Diagnostic[], only?: string[]): Promise<CodeAction[]> {
    return server.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri }, range: diags[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: diags, ...(only ? { only } : {}) },
    });
  }

  /** Applies a code action's edit to the text (one file), checks the syntax, and re-opens the result in the server. */
  async function applyAndReopen(uri: string, text: string, action: CodeAction): Promise<{ fixed: string; diags: Diagnostic[] }> {
    const changes = editsOf(action.edit!);
    assert.deepEqual([...changes.keys()], [uri], 'edits stay in the file');
    assert.equal(changes.get(uri)!.version, 1, 'the edit is versioned: the editor refuses it if the document moved');
    const fixed = applyLspEdits(text, changes.get(uri)!.edits);
    const s = await syntax();
    assert.ok(countSyntaxErrors(s, fixed) <= countSyntaxErrors(s, text), `new syntax errors:\n${fixed}`);
    const reopened = await openFresh(fixed);
    return { fixed, diags: reopened.diags };
  }

  it('offers the conversion (preferred), the contract comment, the suppression and the simulation on FS001, with the fix-all source action', async function () {
    const { uri, diags } = await openFresh(TEXT);
    assert.deepEqual(diags.map((d) => d.code), ['FS001']);
    const list = await actions(uri, diags);
    assert.deepEqual(list.map((a) => a.title), [CONVERT, ASSUME, SUPPRESS, 'Show fork simulation (FS001)', 'Fix all safe forksafe problems']);
    assert.deepEqual(list.map((a) => a.kind), ['quickfix', 'quickfix', 'quickfix', 'quickfix', 'source.fixAll.forksafe']);
    assert.equal(list[0].isPreferred, true);
    const edits = editsOf(list[0].edit!).get(uri)!.edits;
    assert.deepEqual(edits.map((e) => [e.range.start.line, e.newText]), [
      [3, 'pin_user_pages'], [3, 'FOLL_WRITE | FOLL_LONGTERM'], [9, 'unpin_user_pages(mr->pages, mr->n);'],
      // The loop's index is unused once the loop is one call: its declaration goes (-Werror builds, issue 16).
      [8, ''],
    ]);
    assert.deepEqual(list[3].command, { title: 'Show fork simulation', command: 'forksafe.showSimulation', arguments: [{ uri, position: diags[0].range.start, fingerprint: (diags[0].data as { fingerprint: string }).fingerprint }] });
  });

  it('applying the conversion removes FS001 and adds nothing (the put_page loop becomes unpin_user_pages)', async function () {
    const { uri, diags } = await openFresh(TEXT);
    const [convert] = await actions(uri, diags);
    const { fixed, diags: after } = await applyAndReopen(uri, TEXT, convert);
    assert.deepEqual(after, [], fixed);
    assert.match(fixed, /int ret = pin_user_pages\(start, mr->n, FOLL_WRITE \| FOLL_LONGTERM, mr->pages\);/);
    assert.match(fixed, /\tunpin_user_pages\(mr->pages, mr->n\);\n\}/);
  });

  it('applying the suppression asks for a reason (FS008 on the placeholder); writing one clears everything', async function () {
    const { uri, diags } = await openFresh(TEXT);
    const suppress = (await actions(uri, diags)).find((a) => a.title === SUPPRESS)!;
    const { fixed, diags: after } = await applyAndReopen(uri, TEXT, suppress);
    assert.equal(fixed.split('\n')[3], '\t// forksafe-ignore FS001: <reason: why fork() cannot break this pin>');
    assert.deepEqual(after.map((d) => [d.code, d.range.start.line]), [['FS008', 3], ['FS001', 4]], fixed);
    const reasoned = fixed.replace('<reason: why fork() cannot break this pin>', 'the MR is only registered by a daemon that never forks');
    const { diags: final } = await openFresh(reasoned);
    assert.deepEqual(final, []);
  });

  it('adds FOLL_LONGTERM to a long-lived pin_user_pages pin (FS005)', async function () {
    const text = 'struct b { struct page **pages; };\nint pin(struct b *b, unsigned long a)\n{\n\treturn pin_user_pages_fast(a, 1, FOLL_WRITE, b->pages);\n}\n';
    const { uri, diags } = await openFresh(text);
    assert.deepEqual(diags.map((d) => d.code), ['FS005']);
    const list = await actions(uri, diags);
    assert.deepEqual(list.map((a) => a.title).slice(0, 2), ['Add FOLL_LONGTERM to the flags', 'Suppress FS005 on this line (then replace <reason> with why fork() cannot break this pin)']);
    const { fixed, diags: after } = await applyAndReopen(uri, text, list[0]);
    assert.deepEqual(after, []);
    assert.match(fixed, /pin_user_pages_fast\(a, 1, FOLL_WRITE \| FOLL_LONGTERM, b->pages\)/);
  });

  it('fixes a release mismatch (FS006): put_page on pinned pages becomes unpin_user_page', async function () {
    const text = 'void f(unsigned long a)\n{\n\tstruct page *pg;\n\tif (pin_user_pages_fast(a, 1, 0, &pg) == 1)\n\t\tput_page(pg);\n}\n';
    const { uri, diags } = await openFresh(text);
    assert.deepEqual(diags.map((d) => d.code), ['FS006']);
    const list = await actions(uri, diags);
    assert.equal(list[0].title, 'Release with unpin_user_page*() (unpin_user_page())');
    const { fixed, diags: after } = await applyAndReopen(uri, text, list[0]);
    assert.deepEqual(after, []);
    assert.match(fixed, /\t\tunpin_user_page\(pg\);/);
  });

  it('shows the conversion disabled, with the reason, on a kernel without pin_user_pages (5.4)', async function () {
    server.configuration = { kernelVersion: '5.4' };
    await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    try {
      const { uri, diags } = await openFresh(TEXT);
      const list = await actions(uri, diags);
      const convert = list.find((a) => a.title === CONVERT)!;
      assert.equal(convert.edit, undefined);
      assert.match(convert.disabled?.reason ?? '', /pin_user_pages\*\(\) does not exist before 5\.6/);
    } finally {
      server.configuration = {};
      await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    }
  });

  it('refuses the fixes of a diagnostic published for a version the document has left', async function () {
    const { uri, diags } = await openFresh(TEXT);
    await server.change(uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '\n' }]);
    const list = await actions(uri, diags, ['quickfix']);
    assert.ok(list.length > 0 && list.every((a) => a.edit === undefined), JSON.stringify(list.map((a) => a.title)));
    assert.ok(list.some((a) => /document changed/.test(a.disabled?.reason ?? '')), JSON.stringify(list));
    // Once the new version is analysed, its own diagnostic gets the fix again, for version 2.
    const fresh = await server.diagnosticsForCurrentVersion(uri);
    const again = await actions(uri, fresh, ['quickfix']);
    assert.equal(again[0].title, CONVERT);
    assert.equal(editsOf(again[0].edit!).get(uri)!.version, 2);
  });

  it('after edits in an ordinary function (the moved report, no new analysis), the fixes equal those of a fresh open of the same text', async function () {
    const helper = 'static int helper(int x)\n{\n\treturn x + 1;\n}\n';
    const { uri } = await openFresh(helper + TEXT);
    // Code actions once, so the stored report carries fixes that the edits below must move.
    await actions(uri, await server.diagnosticsForCurrentVersion(uri));
    let text = helper + TEXT;
    for (const [line, character, typed] of [[2, 1, 'int y = x;\n\t'], [2, 0, '\n'], [3, 8, ' '], [1, 1, '\n']] as const) {
      await server.change(uri, [{ range: { start: { line, character }, end: { line, character } }, text: typed }]);
      const lines = text.split('\n');
      lines[line] = lines[line].slice(0, character) + typed + lines[line].slice(character);
      text = lines.join('\n');
    }
    const moved = await server.diagnosticsForCurrentVersion(uri);
    const fresh = await openFresh(text);
    assert.deepEqual(moved.map((d) => [d.code, d.range, d.message]), fresh.diags.map((d) => [d.code, d.range, d.message]));
    const strip = (list: CodeAction[], u: string) => list.map((a) => [a.title, a.edit ? editsOf(a.edit).get(u)!.edits : undefined]);
    assert.deepEqual(strip(await actions(uri, moved, ['quickfix']), uri), strip(await actions(fresh.uri, fresh.diags, ['quickfix']), fresh.uri));
    const [convert] = await actions(uri, moved, ['quickfix']);
    assert.deepEqual(editsOf(convert.edit!).get(uri)!.edits.map((e) => e.range.start.line), [10, 10, 16, 15], text);
  });

  it('source.fixAll.forksafe applies every safe fix of the file and is idempotent', async function () {
    const text = TEXT + 'struct buf { struct page **bufs; };\nint pin2(struct buf *b, unsigned long a)\n{\n\treturn pin_user_pages_fast(a, 1, FOLL_WRITE, b->bufs);\n}\n';
    const { uri, diags } = await openFresh(text);
    assert.deepEqual(diags.map((d) => d.code).sort(), ['FS001', 'FS005']);
    const [fixAll, ...rest] = await actions(uri, [], ['source.fixAll.forksafe']);
    assert.equal(rest.length, 0);
    assert.equal(fixAll.kind, 'source.fixAll.forksafe');
    const { fixed, diags: after } = await applyAndReopen(uri, text, fixAll);
    assert.deepEqual(after, [], fixed);
    const second = await actions(URI.replace('mr.c', `mr${n - 1}.c`), [], ['source.fixAll.forksafe']);
    assert.deepEqual(second, [], 'nothing left to fix: a second fix-all is a no-op');
  });
});

describe('protocol: the suppress fix as a snippet (issue 16)', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    await server.initialize({ ...EDITOR_CAPABILITIES, workspace: { ...EDITOR_CAPABILITIES.workspace, workspaceEdit: { documentChanges: true, snippetEditSupport: true } } });
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  it('selects the reason prompt for typing; left as is it is no reason, a typed one clears the finding', async function () {
    const uri = 'file:///virtual/fix/snippet.c';
    await server.open(uri, TEXT);
    const diags = await server.diagnosticsForCurrentVersion(uri);
    const list = await server.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diags[0].range, context: { diagnostics: diags } });
    const suppress = list.find((a) => a.title === SUPPRESS)!;
    const edit = (suppress.edit!.documentChanges![0] as { edits: Array<{ snippet?: { kind: string; value: string }; newText?: string }> }).edits[0];
    assert.deepEqual(edit.snippet, { kind: 'snippet', value: '\t// forksafe-ignore FS001: ${1:why fork() cannot break this pin}\n' });
    const lines = TEXT.split('\n');
    const untouched = [...lines.slice(0, 3), '\t// forksafe-ignore FS001: why fork() cannot break this pin', ...lines.slice(3)].join('\n');
    await server.open('file:///virtual/fix/snippet-untouched.c', untouched);
    const asIs = await server.diagnosticsForCurrentVersion('file:///virtual/fix/snippet-untouched.c');
    assert.deepEqual(asIs.map((d) => [d.code, d.range.start.line]), [['FS008', 3], ['FS001', 4]], 'the prompt is not a reason');
    await server.open('file:///virtual/fix/snippet-typed.c', untouched.replace('why fork() cannot break this pin', 'only a daemon that never forks registers MRs'));
    assert.deepEqual(await server.diagnosticsForCurrentVersion('file:///virtual/fix/snippet-typed.c'), []);
  });
});

describe('protocol: stating the userspace MADV_DONTFORK contract (issue 16)', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    await server.initialize(EDITOR_CAPABILITIES);
    server.configuration = { kernelVersion: '5.4' };
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  it('below 5.6, where nothing converts, the contract comment is offered and turns FS001 into FS003 (verify)', async function () {
    const uri = 'file:///virtual/fix/assume54.c';
    await server.open(uri, TEXT);
    const diags = await server.diagnosticsForCurrentVersion(uri);
    assert.deepEqual(diags.map((d) => d.code), ['FS001']);
    const list = await server.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: diags[0].range, context: { diagnostics: diags } });
    const assume = list.find((a) => /forksafe-assume dontfork/.test(a.title));
    assert.ok(assume?.edit, JSON.stringify(list.map((a) => a.title)));
    const fixed = applyLspEdits(TEXT, editsOf(assume.edit).get(uri)!.edits);
    assert.equal(fixed.split('\n')[3], '\t// forksafe-assume dontfork: userspace calls madvise(MADV_DONTFORK) on this buffer before registering it');
    const after = 'file:///virtual/fix/assume54-after.c';
    await server.open(after, fixed);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(after)).map((d) => d.code), ['FS003']);
  });
});
