// Hostile documents over LSP: binary, invalid UTF-8, 20 MB, half-typed C. Each yields diagnostics or a logged message, and the server keeps answering.
import { strict as assert } from 'assert';
import { LspProcess } from '../helpers/lspProcess';

// The pages stay in the MR (a caller's bare array would be its callers' to judge, issue 28).
const GOOD = 'struct mr { struct page **pages; }; void f(struct mr *mr){ get_user_pages(0, 1, FOLL_WRITE, mr->pages); }\n';

describe('protocol: bad input never kills the server', function () {
  let server: LspProcess;

  before(async function () {
    server = new LspProcess();
    await server.initialize();
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  async function stillAnswers(tag: string): Promise<void> {
    const uri = `file:///virtual/alive-${tag}.c`;
    await server.open(uri, GOOD);
    const diags = await server.diagnosticsForCurrentVersion(uri);
    assert.deepEqual(diags.map((d) => d.code), ['FS001'], `server answers after ${tag}`);
    await server.close(uri);
    assert.ok(server.alive, `alive after ${tag}`);
  }

  it('binary content (NUL bytes, control characters)', async function () {
    const bytes = Array.from({ length: 64 * 1024 }, (_, i) => String.fromCharCode((i * 7919) % 256)).join('');
    await server.open('file:///virtual/blob.c', bytes);
    const diags = await server.diagnosticsForCurrentVersion('file:///virtual/blob.c');
    assert.ok(Array.isArray(diags));
    await stillAnswers('binary');
  });

  it('invalid UTF-8 decoded by the client (replacement characters, lone surrogates)', async function () {
    const text = `/* caf\uFFFD \uD800 */\n${GOOD}`;
    await server.open('file:///virtual/latin1.c', text);
    const diags = await server.diagnosticsForCurrentVersion('file:///virtual/latin1.c');
    assert.deepEqual(diags.map((d) => [d.code, d.range.start.line]), [['FS001', 1]]);
    await stillAnswers('utf8');
  });

  it('a 20 MB file gets FS009 and a log line, not a crash', async function () {
    const big = '/* filler */ int x;\n'.repeat(Math.ceil((20 * 1024 * 1024) / 20));
    const logged = server.logs.length;
    await server.open('file:///virtual/huge.c', big);
    const diags = await server.diagnosticsForCurrentVersion('file:///virtual/huge.c', 60000);
    assert.deepEqual(diags.map((d) => d.code), ['FS009']);
    assert.match(diags[0].message as string, /over the 8192 KB limit/);
    assert.ok(server.logs.slice(logged).some((l) => /huge\.c: not analysed/.test(l)), server.logs.slice(logged).join('\n'));
    await server.close('file:///virtual/huge.c');
    await stillAnswers('huge');
  });

  it('half-typed C while the user is still typing the call', async function () {
    const uri = 'file:///virtual/typing.c';
    let line = '\tget_user_pages(0, 1, FOLL_WR';
    await server.open(uri, `void f(struct mr *mr){\n${line}`);
    await server.diagnosticsForCurrentVersion(uri);
    for (const typed of ['ITE, mr->pages', ');\n}\n']) {
      const at = { line: 1, character: line.length };
      await server.change(uri, [{ range: { start: at, end: at }, text: typed }]);
      line += typed;
      await server.diagnosticsForCurrentVersion(uri);
    }
    const diags = await server.diagnosticsForCurrentVersion(uri);
    assert.deepEqual(diags.map((d) => d.code), ['FS001']);
    await stillAnswers('typing');
  });

  it('a file that hits the time budget reports FS009 instead of hanging', async function () {
    server.configuration = { timeBudgetMs: 1 };
    await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    const uri = 'file:///virtual/slow.c';
    await server.open(uri, 'int a[] = {' + '(((1+2)*3),'.repeat(200000) + '};\n');
    const diags = await server.diagnosticsForCurrentVersion(uri, 60000);
    assert.deepEqual(diags.map((d) => d.code), ['FS009']);
    assert.match(diags[0].message as string, /time budget 1 ms/);
    server.configuration = {};
    await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    await server.close(uri);
    await stillAnswers('budget');
  });
});
