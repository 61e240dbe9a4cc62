// The shipped server bundle over stdio: diagnostics appear, follow edits, disappear, and clear on close.
import { strict as assert } from 'assert';
import { LspProcess } from '../helpers/lspProcess';

const URI = 'file:///virtual/drv/mr.c';
const PIN_LINE = '\tret = get_user_pages(start, npages, FOLL_WRITE, pages);';
const TEXT = [
  '#include <linux/mm.h>',
  'static int reg_mr(struct mr *mr, unsigned long start, int npages, struct page **pages)',
  '{',
  '\tint ret;',
  PIN_LINE,
  '\tmr->pages = pages;',
  '\treturn ret;',
  '}',
  '',
].join('\n');

describe('protocol: diagnostics over stdio', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    const init = await server.initialize();
    assert.equal(init.serverInfo?.name, 'forksafe');
    assert.equal((init.capabilities.textDocumentSync as { change: number }).change, 2, 'incremental sync');
  });

  after(async function () {
    const code = await server.shutdown();
    assert.equal(code, 0, `server exit code; stderr: ${server.stderr.join('')}`);
  });

  it('publishes FS001 on the pin call when the document opens', async function () {
    await server.open(URI, TEXT);
    const diags = await server.diagnosticsForCurrentVersion(URI);
    assert.equal(diags.length, 1, JSON.stringify(diags));
    const [d] = diags;
    assert.equal(d.code, 'FS001');
    assert.equal(d.source, 'forksafe');
    const col = PIN_LINE.indexOf('get_user_pages');
    assert.deepEqual(d.range, { start: { line: 4, character: col }, end: { line: 4, character: PIN_LINE.length - 1 } });
    assert.match(d.message as string, /fork\(\)/);
    assert.ok(d.codeDescription?.href.endsWith('/docs/rules/FS001.md'), d.codeDescription?.href);
  });

  it('follows the flags as they are edited: read-only gives FS002, typing FOLL_WRITE back gives FS001', async function () {
    const col = PIN_LINE.indexOf('FOLL_WRITE');
    await server.change(URI, [{ range: { start: { line: 4, character: col }, end: { line: 4, character: col + 'FOLL_WRITE'.length } }, text: '0' }]);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(URI)).map((d) => d.code), ['FS002']);
    // Retype it one character at a time, as a user would.
    let at = col;
    await server.change(URI, [{ range: { start: { line: 4, character: col }, end: { line: 4, character: col + 1 } }, text: '' }]);
    for (const ch of 'FOLL_WRITE') {
      await server.change(URI, [{ range: { start: { line: 4, character: at }, end: { line: 4, character: at } }, text: ch }]);
      at++;
    }
    const diags = await server.diagnosticsForCurrentVersion(URI);
    assert.deepEqual(diags.map((d) => [d.code, d.range.start.line, d.range.start.character]), [['FS001', 4, PIN_LINE.indexOf('get_user_pages')]]);
  });

  it('drops the diagnostic when the pin is made fork-safe, and brings it back when undone', async function () {
    const fixed = '\tret = pin_user_pages(start, npages, FOLL_WRITE | FOLL_LONGTERM, pages);';
    const whole = { start: { line: 4, character: 0 }, end: { line: 4, character: PIN_LINE.length } };
    await server.change(URI, [{ range: whole, text: fixed }]);
    assert.deepEqual(await server.diagnosticsForCurrentVersion(URI), []);
    await server.change(URI, [{ range: { start: { line: 4, character: 0 }, end: { line: 4, character: fixed.length } }, text: PIN_LINE }]);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(URI)).map((d) => d.code), ['FS001']);
  });

  it('moves the diagnostic with inserted lines (incremental re-parse keeps positions right)', async function () {
    await server.change(URI, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: '/* one */\n/* two */\n' }]);
    const diags = await server.diagnosticsForCurrentVersion(URI);
    assert.deepEqual(diags.map((d) => d.range.start.line), [6]);
  });

  it('clears diagnostics when the document closes', async function () {
    const cleared = server.diagnostics(URI, (p) => p.diagnostics.length === 0 && p.version === undefined);
    await server.close(URI);
    assert.deepEqual((await cleared).diagnostics, []);
  });
});

describe('protocol: node IPC transport (as VS Code starts the server)', function () {
  it('publishes the same diagnostic over --node-ipc', async function () {
    const server = new LspProcess('ipc');
    try {
      await server.initialize();
      await server.open(URI, TEXT);
      const diags = await server.diagnosticsForCurrentVersion(URI);
      assert.deepEqual(diags.map((d) => [d.code, d.range.start.line]), [['FS001', 4]]);
    } finally {
      assert.equal(await server.shutdown(), 0);
    }
  });
});
