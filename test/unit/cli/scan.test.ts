// The CLI bundle as a user runs it: default text output, gcc lines, exit codes 0/1/2, unreadable files named while the rest is scanned.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BAD_DRIVER, runCli, scratchTree } from './runCli';

describe('cli: forksafe scan', function () {
  let dir: string;
  let remove: () => void;
  before(function () {
    ({ dir, remove } = scratchTree({
      'drv/bad.c': BAD_DRIVER,
      'drv/clean.c': 'void g(void) { }\n',
      'drv/notes.txt': 'get_user_pages(0, 1, FOLL_WRITE, p);\n',
    }));
    fs.symlinkSync('loop_b.c', path.join(dir, 'loop_a.c'));
    fs.symlinkSync('loop_a.c', path.join(dir, 'loop_b.c'));
  });
  after(function () { remove(); });

  it('prints findings grouped by file with the one-line outcome by default, and exits 1', function () {
    const r = runCli(['scan', 'drv'], dir);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'drv/bad.c');
    // The headline names the call and the buffer (issue 16); the simulated outcome follows it.
    assert.match(lines[1], /^ {2}3:2 {2}error {2}FS001 {2}get_user_pages\(\) pins mr->pages writable past the call: after fork\(\) .*\.$/);
    assert.doesNotMatch(lines[1], /Why:|Fix:/, 'only the outcome sentence');
    assert.equal(lines.length, 2, r.stdout);
  });

  it('--format gcc prints path:line:col: severity: message [FS001]', function () {
    const r = runCli(['scan', '--format', 'gcc', 'drv'], dir);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /^drv\/bad\.c:3:2: error: get_user_pages\(\) pins mr->pages writable past the call: .+ After fork\(\).+ Why: .+ Fix: .+ \[FS001\]$/);
  });

  it('exits 0 on a clean file and prints nothing on stdout', function () {
    const r = runCli(['scan', 'drv/clean.c'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('exits 2 on usage errors with a message', function () {
    for (const args of [['scan'], ['scan', '--format', 'xml', 'drv'], ['frobnicate'], ['scan', '--bogus', 'drv'],
      ['scan', '--fail-on', 'loud', 'drv'], ['scan', '--severity', 'FS999=off', 'drv'], ['scan', '--jobs', '0', 'drv'],
      ['scan', '--update-baseline', 'drv'], ['scan', '--kernel', 'banana', 'drv']]) {
      const r = runCli(args, dir);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /forksafe/);
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  it('names an unreadable file, still scans the rest, and exits 2 even though findings exist', function () {
    const r = runCli(['scan', '--format', 'gcc', 'loop_a.c', 'missing.c', 'drv'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loop_a\.c: too many levels of symbolic links/);
    assert.match(r.stderr, /missing\.c: no such file or directory/);
    assert.match(r.stdout, /drv\/bad\.c:3:2: error: .*\[FS001\]/);
  });

  it('--gitignore leaves out what .gitignore ignores', function () {
    fs.writeFileSync(path.join(dir, 'drv', '.gitignore'), 'bad.c\n');
    try {
      assert.equal(runCli(['scan', 'drv'], dir).code, 1);
      const r = runCli(['scan', '--gitignore', 'drv'], dir);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stderr, /^forksafe: 1 file \(0 analysed\), no findings/m);
    } finally {
      fs.rmSync(path.join(dir, 'drv', '.gitignore'));
    }
  });

  it('--format json is machine-readable', function () {
    const r = runCli(['scan', '--format', 'json', 'drv'], dir);
    assert.equal(r.code, 1);
    const json = JSON.parse(r.stdout);
    assert.equal(json.schemaVersion, 1);
    assert.deepEqual(json.findings.map((f: { path: string; code: string; line: number }) => [f.path, f.code, f.line]), [['drv/bad.c', 'FS001', 3]]);
  });

  it('always ends with a summary line on stderr: files, findings by rule, time', function () {
    const r = runCli(['scan', 'drv'], dir);
    const last = r.stderr.trimEnd().split('\n').pop() ?? '';
    assert.match(last, /^forksafe: 2 files \(1 analysed\), 1 finding \(FS001 1\), \d+\.\d\d s/);
  });

  it('draws no progress bar when stderr is piped', function () {
    const r = runCli(['scan', '--progress', 'drv'], dir);
    assert.doesNotMatch(r.stderr, /\r|\x1b\[|\[[=#\u2588\u2591 -]{10,}\]/, 'no carriage returns, escapes or bars');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
