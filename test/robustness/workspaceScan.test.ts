// A workspace scan over a hostile tree (oversize, unreadable, symlink loops, binary and non-C files): each problem reported once, clearly, and the scan goes on; CLI and forksafe.scanWorkspace.
import { strict as assert } from 'assert';
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { EDITOR_CAPABILITIES, LspProcess, REPO_ROOT } from '../helpers/lspProcess';

const LIMIT_KB = 4;
/** Hang detector for one scan (a FIFO named .c would block a reader forever); not a performance bound. */
const SCAN_MS = 120_000;
/** Root reads everything whatever the mode bits; tests of unreadable files run the scanner as this user instead. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

const PIN = 'static int reg(struct ctx *c, unsigned long a, struct page **p)\n{\n\tget_user_pages(a, 1, FOLL_WRITE, p);\n\tc->pages = p;\n\treturn 0;\n}\n';

/**
 * The shipped files (bundles, runtime wasm, grammar, queries) copied to a world-readable folder, as a package install
 * would lay them out, so the scanner can run as `nobody` even when the checkout itself is private (a CI clone in /root).
 */
function installShipped(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-install-'));
  const copy = (rel: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, rel), path.join(dir, rel));
  };
  for (const f of ['cli.js', 'cli.bundle.js', 'server.js', 'server.bundle.js', 'web-tree-sitter.wasm']) copy(path.join('server', 'dist', f));
  copy(path.join('grammars', 'tree-sitter-c.wasm'));
  for (const q of fs.readdirSync(path.join(REPO_ROOT, 'grammars', 'queries', 'c'))) copy(path.join('grammars', 'queries', 'c', q));
  copy('package.json');
  const openUp = (d: string): void => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) openUp(path.join(d, e.name));
      else fs.chmodSync(path.join(d, e.name), 0o644);
    }
  };
  openUp(dir);
  if (asRoot) {
    const probe = spawnSync(process.execPath, ['-e', 'process.exit(0)'], { uid: NOBODY, gid: NOBODY, cwd: dir });
    assert.equal(probe.status, 0, `cannot run ${process.execPath} as uid ${NOBODY} (needed because root reads unreadable files): ${probe.error?.message ?? probe.stderr}`);
  }
  return dir;
}

/** A problem the scan must report exactly once, on the line that names the file. */
interface Expected { file: string; says: RegExp }

const PROBLEMS: Expected[] = [
  { file: 'big.c', says: new RegExp(`over the ${LIMIT_KB} KB limit`) },
  { file: 'binary.c', says: /binary file/ },
  { file: 'secret.c', says: /permission denied/ },
  { file: 'locked', says: /permission denied/ },
  { file: 'loop_a.c', says: /symbolic links \(a symlink loop\)/ },
  { file: 'loop_b.c', says: /symbolic links \(a symlink loop\)/ },
  { file: 'dangling.c', says: /no such file or directory/ },
  { file: 'latin1.c', says: /not valid UTF-8/ },
];
/** Present in the tree, skipped without a word: not C by name, a FIFO, a directory cycle, clean files. */
const QUIET = ['notes.txt', 'README.md', 'Makefile', 'module.ko', 'pipe.c', 'cycle', 'clean.c'];

/** Builds the hostile tree; returns its root. Everything is world-readable except what must not be. */
function buildTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-scan-'));
  fs.chmodSync(root, 0o755);
  const write = (rel: string, data: string | Uint8Array): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  };
  write('drv/bad.c', `struct ctx { struct page **pages; };\n${PIN}`);
  write('drv/clean.c', 'int clean(void) { return 0; }\n');
  write('drv/latin1.c', Buffer.concat([Buffer.from('/* caf'), Buffer.from([0xe9, 0xff]), Buffer.from(` */\nstruct ctx { struct page **pages; };\n${PIN}`)]));
  write('big.c', `/* ${'x'.repeat(2 * LIMIT_KB * 1024)} */\nstruct ctx { struct page **pages; };\n${PIN}`);
  write('binary.c', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]), Buffer.from(PIN)]));
  write('secret.c', `struct ctx { struct page **pages; };\n${PIN}`);
  fs.chmodSync(path.join(root, 'secret.c'), 0o000);
  write('locked/inner.c', `struct ctx { struct page **pages; };\n${PIN}`);
  fs.chmodSync(path.join(root, 'locked'), 0o000);
  fs.symlinkSync('loop_b.c', path.join(root, 'loop_a.c'));
  fs.symlinkSync('loop_a.c', path.join(root, 'loop_b.c'));
  fs.symlinkSync('nowhere.c', path.join(root, 'dangling.c'));
  fs.mkdirSync(path.join(root, 'cycle'));
  fs.symlinkSync('..', path.join(root, 'cycle', 'up'));
  for (const f of ['notes.txt', 'README.md', 'Makefile']) write(f, `get_user_pages(0, 1, FOLL_WRITE, p);\n`);
  write('module.ko', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]));
  const fifo = spawnSync('mkfifo', [path.join(root, 'pipe.c')]);
  assert.equal(fifo.status, 0, `mkfifo: ${fifo.stderr}`);
  return root;
}

function removeTree(root: string): void {
  fs.chmodSync(path.join(root, 'locked'), 0o755);
  fs.rmSync(root, { recursive: true, force: true });
}

/** The lines of `lines` that name `file` as a path component. */
function naming(lines: string[], file: string): string[] {
  const re = new RegExp(`(^|[/\\s])${file.replace(/\./g, '\\.')}(:|\\s|$)`);
  return lines.filter((l) => re.test(l));
}

/** Each problem named exactly once, in words that say what is wrong; nothing said about the quiet entries. */
function assertReportedOnce(lines: string[], where: string, problems: Expected[] = PROBLEMS): void {
  const wrong: string[] = [];
  for (const p of problems) {
    const said = naming(lines, p.file);
    if (said.length !== 1) wrong.push(`${p.file}: named ${said.length} times in ${where}${said.length ? `: ${said.join(' | ')}` : ''}`);
    else if (!p.says.test(said[0])) wrong.push(`${p.file}: "${said[0]}" does not say ${p.says}`);
  }
  for (const q of QUIET) {
    const said = naming(lines, q);
    if (said.length > 0) wrong.push(`${q} should be skipped quietly, but ${where} says: ${said.join(' | ')}`);
  }
  assert.deepEqual(wrong, [], `${where}:\n${lines.join('\n')}`);
}

describe('robustness: a workspace scan over a hostile tree', function () {
  this.timeout(0); // each scan has its own hang detector
  let root: string;
  let install: string;
  before(function () {
    root = buildTree();
    install = installShipped();
  });
  after(function () {
    if (root) removeTree(root);
    if (install) fs.rmSync(install, { recursive: true, force: true });
  });

  describe('forksafe scan (CLI)', function () {
    function scan(args: string[]): { code: number | null; stdout: string; stderr: string } {
      const opts: SpawnSyncOptions = { cwd: root, encoding: 'utf8', timeout: SCAN_MS, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) };
      const r = spawnSync(process.execPath, [path.join(install, 'server', 'dist', 'cli.js'), 'scan', '--max-file-size-kb', String(LIMIT_KB), ...args, '.'], opts);
      assert.ok(!r.error, `the scan ran: ${r.error?.message}`);
      assert.notEqual(r.signal, 'SIGTERM', `the scan did not finish within ${SCAN_MS / 1000} s (hang)`);
      return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
    }

    /** stderr without the closing summary line ("forksafe: 6 files (3 analysed), ..."). */
    function problemLines(stderr: string): string[] {
      return stderr.split('\n').filter((l) => l && !/^forksafe: \d+ files\b/.test(l));
    }

    it('names each problem once on stderr, skips the rest quietly, still reports the readable files, exits 2', function () {
      const r = scan(['--format', 'gcc']);
      const errLines = problemLines(r.stderr);
      assertReportedOnce(errLines, 'stderr');
      assert.equal(errLines.length, PROBLEMS.length, `one stderr line per problem:\n${r.stderr}`);
      const found = r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/: (error|warning|note|information|hint): .*\[/, ' ['));
      // The oversize file may be listed as FS009 (analysis not done) as well as named on stderr; nothing else is.
      assert.deepEqual(found.filter((l) => !/^big\.c:1:1 \[FS009\]$/.test(l)), ['drv/bad.c:4:2 [FS001]', 'drv/latin1.c:5:2 [FS001]'], r.stdout);
      assert.equal(r.code, 2, 'exit 2: some files could not be analysed');
    });

    it('--format json lists each unreadable file once under errors, the oversize file once (error or FS009)', function () {
      const r = scan(['--format', 'json']);
      const json = JSON.parse(r.stdout) as { files: number; findings: Array<{ path: string; code: string }>; errors: Array<{ path: string; error: string }> };
      const errors = json.errors.map((e) => `${e.path}: ${e.error}`);
      assert.equal(new Set(errors).size, errors.length, `no duplicates: ${errors.join(' | ')}`);
      const bigAsFinding = json.findings.filter((f) => f.path === 'big.c');
      assert.ok(bigAsFinding.every((f) => f.code === 'FS009'), JSON.stringify(bigAsFinding));
      // The UTF-8 note is not an error: the file is analysed and the note goes to stderr.
      const unreadable = PROBLEMS.filter((p) => p.file !== 'latin1.c' && !(p.file === 'big.c' && bigAsFinding.length === 1));
      assertReportedOnce(errors, 'errors[]', unreadable);
      assert.equal(errors.length, unreadable.length, errors.join('\n'));
      assert.deepEqual(json.findings.filter((f) => f.path !== 'big.c').map((f) => `${f.path} ${f.code}`), ['drv/bad.c FS001', 'drv/latin1.c FS001']);
      assertReportedOnce(problemLines(r.stderr), 'stderr');
    });
  });

  describe('forksafe.scanWorkspace (LSP)', function () {
    let server: LspProcess;
    let wrapper: string;

    before(async function () {
      // The server as the scanner's user: a wrapper drops root, then loads the shipped bundle as its own module.
      wrapper = path.join(root, '..', `${path.basename(root)}-server.js`);
      fs.writeFileSync(wrapper, `if (${asRoot} && process.getuid() === 0) { process.setgid(${NOBODY}); process.setuid(${NOBODY}); }\nrequire(${JSON.stringify(path.join(install, 'server', 'dist', 'server.js'))});\n`);
      fs.chmodSync(wrapper, 0o644);
      server = new LspProcess('stdio', wrapper);
      server.configuration = { maxFileSizeKb: LIMIT_KB };
      const init = await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(root).toString(), name: 'hostile' }]);
      const commands = init.capabilities.executeCommandProvider?.commands ?? [];
      assert.ok(commands.includes('forksafe.scanWorkspace'), `the server offers forksafe.scanWorkspace: ${JSON.stringify(commands)}`);
    });

    after(async function () {
      if (server) assert.equal(await server.shutdown(), 0, server.stderr.join(''));
      if (wrapper) fs.rmSync(wrapper, { force: true });
    });

    it('logs each problem once, skips the rest quietly, publishes the readable files, and still answers', async function () {
      const logged = server.logs.length;
      const result = await Promise.race([
        server.request<{ files: number; findings: number; skipped: number; cancelled: boolean }>('workspace/executeCommand', { command: 'forksafe.scanWorkspace', arguments: [] }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the scan did not answer within ${SCAN_MS / 1000} s (hang)`)), SCAN_MS).unref()),
      ]);
      const lines = server.logs.slice(logged).flatMap((l) => l.split('\n')).filter((l) => !/workspace scan: \d+ files analysed/.test(l));
      assertReportedOnce(lines, 'the server log');
      for (const f of ['drv/bad.c', 'drv/latin1.c']) {
        const p = await server.diagnostics(pathToFileURL(path.join(root, f)).toString());
        assert.deepEqual(p.diagnostics.map((d) => [d.code, d.range.start.line]), [['FS001', 3 + (f.includes('latin1') ? 1 : 0)]], f);
      }
      const published = server.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics').map((n) => (n.params as { uri: string }).uri);
      for (const quiet of ['big.c', 'binary.c', 'secret.c', 'notes.txt', 'locked/inner.c', 'pipe.c']) {
        assert.ok(!published.includes(pathToFileURL(path.join(root, quiet)).toString()), `nothing published for ${quiet}`);
      }
      assert.equal(result.cancelled, false);
      assert.equal(result.files, 3, `bad.c, clean.c and latin1.c analysed: ${JSON.stringify(result)}`);
      const uri = pathToFileURL(path.join(root, 'drv', 'typed.c')).toString();
      await server.open(uri, `struct ctx { struct page **pages; };\n${PIN}`);
      assert.deepEqual((await server.diagnosticsForCurrentVersion(uri)).map((d) => d.code), ['FS001'], 'the server still answers after the scan');
    });
  });
});
