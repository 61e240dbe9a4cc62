// The CLI bundle as a user runs it: output format, exit codes 0/1/2, unreadable files named while the rest is scanned.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'server', 'dist', 'cli.js');

function run(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: forksafe scan', function () {
  let dir: string;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-cli-'));
    fs.mkdirSync(path.join(dir, 'drv'));
    fs.writeFileSync(path.join(dir, 'drv', 'bad.c'), 'void f(struct page **p)\n{\n\tget_user_pages(0, 1, FOLL_WRITE, p);\n}\n');
    fs.writeFileSync(path.join(dir, 'drv', 'clean.c'), 'void g(void) { }\n');
    fs.writeFileSync(path.join(dir, 'drv', 'notes.txt'), 'get_user_pages(0, 1, FOLL_WRITE, p);\n');
    fs.symlinkSync('loop_b.c', path.join(dir, 'loop_a.c'));
    fs.symlinkSync('loop_a.c', path.join(dir, 'loop_b.c'));
  });
  after(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  it('prints path:line:col: severity: message [FS001] and exits 1 on findings', function () {
    const r = run(['scan', 'drv'], dir);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /^drv\/bad\.c:3:2: error: .+ \[FS001\]$/);
  });

  it('exits 0 on a clean file', function () {
    const r = run(['scan', 'drv/clean.c'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('exits 2 on usage errors with a message', function () {
    for (const args of [['scan'], ['scan', '--format', 'xml', 'drv'], ['frobnicate'], ['scan', '--bogus', 'drv']]) {
      const r = run(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /forksafe/);
    }
  });

  it('names an unreadable file, still scans the rest, and exits 2', function () {
    const r = run(['scan', 'loop_a.c', 'missing.c', 'drv'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loop_a\.c: too many levels of symbolic links/);
    assert.match(r.stderr, /missing\.c: no such file or directory/);
    assert.match(r.stdout, /drv\/bad\.c:3:2: error: .*\[FS001\]/);
  });

  it('--format json is machine-readable', function () {
    const r = run(['scan', '--format', 'json', 'drv'], dir);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    assert.equal(json.schemaVersion, 1);
    assert.deepEqual(json.findings.map((f: { path: string; code: string; line: number }) => [f.path, f.code, f.line]), [['drv/bad.c', 'FS001', 3]]);
  });
});
