// Packages the extension with vsce, checks what the .vsix contains, then runs the server from the unpacked .vsix.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yauzl from 'yauzl';
import { LspProcess, REPO_ROOT } from '../helpers/lspProcess';

function listZip(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => { names.push(e.fileName); zip.readEntry(); });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

function extractZip(file: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      zip.on('entry', (e: yauzl.Entry) => {
        const out = path.join(dest, e.fileName);
        if (e.fileName.endsWith('/')) { fs.mkdirSync(out, { recursive: true }); zip.readEntry(); return; }
        fs.mkdirSync(path.dirname(out), { recursive: true });
        zip.openReadStream(e, (err2, stream) => {
          if (err2 || !stream) return reject(err2);
          stream.pipe(fs.createWriteStream(out)).on('finish', () => zip.readEntry());
        });
      });
      zip.on('end', () => resolve());
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('package: the .vsix', function () {
  this.timeout(180000);
  let dir: string;
  let vsix: string;
  let entries: string[];

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-vsix-'));
    vsix = path.join(dir, 'forksafe.vsix');
    const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', vsix], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `vsce package failed:\n${r.stdout}\n${r.stderr}`);
    entries = (await listZip(vsix)).filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
  });
  after(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  it('contains the client, the server bundle, both wasm files and every query file', function () {
    const queries = fs.readdirSync(path.join(REPO_ROOT, 'grammars', 'queries', 'c')).filter((f) => f.endsWith('.scm'));
    assert.ok(queries.length >= 3);
    const required = ['package.json', 'readme.md', 'LICENSE.txt', 'client/dist/extension.js', 'server/dist/server.js', 'server/dist/cli.js',
      'server/dist/server.bundle.js', 'server/dist/cli.bundle.js', 'server/dist/scanWorker.js', 'server/dist/scanWorker.bundle.js',
      'server/dist/web-tree-sitter.wasm', 'grammars/tree-sitter-c.wasm', ...queries.map((q) => `grammars/queries/c/${q}`), 'docs/rules/README.md'];
    const missing = required.filter((r) => !entries.includes(r));
    assert.deepEqual(missing, [], `missing from the .vsix; it has:\n${entries.join('\n')}`);
  });

  it('leaks no node_modules, sources, tests, source maps or build output', function () {
    const leaks = entries.filter((e) => /(^|\/)node_modules\/|\.ts$|^test\/|^out\/|^client\/src\/|^server\/src\/|\.map$|^examples\/|^bench\/|^\.ci\//.test(e));
    assert.deepEqual(leaks, []);
  });

  it('the server inside the unpacked .vsix starts and publishes diagnostics', async function () {
    const unpacked = path.join(dir, 'unpacked');
    await extractZip(vsix, unpacked);
    const server = new LspProcess('stdio', path.join(unpacked, 'extension', 'server', 'dist', 'server.js'));
    try {
      await server.initialize();
      await server.open('file:///v/a.c', 'struct mr { struct page **pages; }; void f(struct mr *mr){ get_user_pages(0, 1, FOLL_WRITE, mr->pages); }\n');
      const diags = await server.diagnosticsForCurrentVersion('file:///v/a.c');
      assert.deepEqual(diags.map((d) => d.code), ['FS001']);
      assert.ok(diags[0].codeDescription?.href.includes(path.join('unpacked', 'extension', 'docs', 'rules')), diags[0].codeDescription?.href);
    } finally {
      assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    }
  });
});
