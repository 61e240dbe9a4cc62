// The workspace scan over stdio: work-done progress begin/report/end, diagnostics for unopened files chosen by the include/exclude globs, and the status notification.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { EDITOR_CAPABILITIES, LspProcess } from '../helpers/lspProcess';
import type { ScanWorkspaceResult, StatusParams } from '../../server/src/lsp/protocol';

const WRITABLE_KEPT = 'struct r { struct page **pages; };\nint reg(struct r *r, unsigned long a)\n{\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, r->pages);\n}\n';
const SAFE_PIN = 'struct r { struct page **pages; };\nint reg(struct r *r, unsigned long a)\n{\n\treturn pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, r->pages);\n}\n';

interface Progress { token: string | number; value: { kind: 'begin' | 'report' | 'end'; title?: string; percentage?: number; message?: string } }

async function waitFor(ok: () => boolean, what: () => string, timeoutMs = 10000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) assert.fail(`timed out; ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('protocol: workspace scan and status', function () {
  let dir: string;
  let server: LspProcess;
  const uriOf = (rel: string): string => pathToFileURL(path.join(dir, rel)).toString();

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-scan-'));
    const write = (rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    };
    write('Makefile', 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n');
    write('drv/a.c', WRITABLE_KEPT);
    write('drv/sub/b.c', SAFE_PIN);
    write('drv/generated/c.c', WRITABLE_KEPT);
    write('node_modules/pkg/d.c', WRITABLE_KEPT);
    write('notes.txt', WRITABLE_KEPT);
    server = new LspProcess();
    server.configuration = { exclude: ['**/node_modules/**', '**/generated/**'] };
    const init = await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(dir).toString(), name: 'drivers' }]);
    assert.deepEqual((init.capabilities.executeCommandProvider as { commands: string[] }).commands, ['forksafe.scanWorkspace']);
  });

  after(async function () {
    assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('indexes the workspace in the background at start, with progress: the files the globs select, those naming a pin kept parsed', async function () {
    const end = await server.notification<Progress>('$/progress', (p) => p.value.kind === 'end');
    const created = await server.notification<{ token: string | number }>('window/workDoneProgress/create');
    assert.equal(end.token, created.token, 'the first progress the server starts is the index');
    const values = server.notifications.filter((n) => n.method === '$/progress').map((n) => n.params as Progress).filter((p) => p.token === created.token).map((p) => p.value);
    assert.equal(values[0].kind, 'begin');
    assert.equal(values[0].title, 'forksafe: indexing the workspace');
    assert.deepEqual(values.filter((v) => v.kind === 'report').map((v) => v.percentage), [0, 50]);
    // drv/a.c and drv/sub/b.c pass the globs (generated/ and node_modules/ are excluded) and both name a pin API.
    await waitFor(() => server.logs.some((l) => /workspace index: 2 of 2 files read, 2 kept parsed/.test(l)), () => server.logs.join('\n'));
  });

  it('reports progress and fills diagnostics for the files the globs select, none for excluded ones', async function () {
    const from = server.notifications.length;
    const result = await server.request<ScanWorkspaceResult>('workspace/executeCommand', { command: 'forksafe.scanWorkspace', arguments: [] });
    assert.deepEqual(result, { files: 2, findings: 1, skipped: 0, cancelled: false });

    const created = await server.notification<{ token: string | number }>('window/workDoneProgress/create', () => true, from);
    const progress = server.notifications.slice(from).filter((n) => n.method === '$/progress').map((n) => n.params as Progress)
      .filter((p) => p.token === created.token).map((p) => p.value);
    assert.equal(progress[0].kind, 'begin');
    assert.equal(progress[0].title, 'forksafe: scanning the workspace');
    assert.equal(progress[progress.length - 1].kind, 'end');
    const reports = progress.filter((p) => p.kind === 'report');
    assert.deepEqual(reports.map((p) => p.percentage), [0, 50, 100]);
    assert.match(reports[0].message ?? '', /^1\/2 a\.c$/);

    const a = await server.diagnostics(uriOf('drv/a.c'));
    assert.deepEqual(a.diagnostics.map((d) => [d.code, d.range.start.line]), [['FS001', 3]]);
    assert.match(a.diagnostics[0].message as string, /kernel 6\.1 \(from .*Makefile\)/);
    const b = await server.diagnostics(uriOf('drv/sub/b.c'));
    assert.deepEqual(b.diagnostics, []);
    for (const excluded of ['drv/generated/c.c', 'node_modules/pkg/d.c', 'notes.txt']) {
      assert.ok(!server.notifications.some((n) => n.method === 'textDocument/publishDiagnostics' && (n.params as { uri: string }).uri === uriOf(excluded)), excluded);
    }
    const status = await server.notification<StatusParams>('forksafe/status', (s) => s.uri === undefined && !s.scanning, from);
    assert.equal(status.totalFindings, 1);
  });

  it('an opened file reports its detected kernel and finding count in forksafe/status', async function () {
    const from = server.notifications.length;
    const uri = uriOf('drv/a.c');
    await server.open(uri, WRITABLE_KEPT);
    await server.diagnosticsForCurrentVersion(uri);
    const status = await server.notification<StatusParams>('forksafe/status', (s) => s.uri === uri, from);
    assert.equal(status.kernel, '6.1');
    assert.match(status.kernelSource, /^from .*Makefile$/);
    assert.equal(status.fileFindings, 1);
    assert.equal(status.totalFindings, 1, 'the open document replaces its scanned result in the total');
    assert.equal(status.scanning, false);
  });

  it('after a workspace scan, closing a file keeps its findings in Problems as the file on disk has them (issue 16)', async function () {
    const uri = uriOf('drv/a.c');
    // The buffer was edited without saving (the pin made safe): closing discards that; the disk still has the pin.
    await server.change(uri, [{ text: SAFE_PIN }]);
    assert.deepEqual((await server.diagnosticsForCurrentVersion(uri)), []);
    const from = server.notifications.length;
    await server.close(uri);
    const after = await server.diagnostics(uri);
    assert.deepEqual(after.diagnostics.map((d) => [d.code, d.range.start.line]), [['FS001', 3]]);
    const status = await server.notification<StatusParams>('forksafe/status', (s) => s.uri === undefined, from);
    assert.equal(status.totalFindings, 1);
    // A file outside the scan's selection (excluded) is cleared on close, as before.
    const excluded = uriOf('drv/generated/c.c');
    await server.open(excluded, WRITABLE_KEPT);
    assert.equal((await server.diagnosticsForCurrentVersion(excluded)).length, 1);
    await server.close(excluded);
    assert.deepEqual((await server.diagnostics(excluded)).diagnostics, []);
  });
});
