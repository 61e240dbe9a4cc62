// Exit codes of `forksafe scan`: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration or input errors (2 wins over 1).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BAD_DRIVER, runCli, scratchTree } from './runCli';

const SHORT_PIN = 'int io(unsigned long a)\n{\n\tstruct page *p[1];\n\tint n = get_user_pages_fast(a, 1, FOLL_WRITE, p);\n\n\tput_page(p[0]);\n\treturn n;\n}\n';

describe('cli: exit codes', function () {
  let dir: string;
  let remove: () => void;
  before(function () {
    ({ dir, remove } = scratchTree({ 'bad/a.c': BAD_DRIVER, 'short/io.c': SHORT_PIN, 'clean/c.c': 'int c;\n', 'bin/blob.c': 'x\0y' }));
  });
  after(function () { remove(); });

  const code = (...args: string[]): number | null => runCli(['scan', ...args], dir).code;

  it('0 when nothing is found, 1 when a finding is at or above --fail-on (default: any)', function () {
    assert.equal(code('clean'), 0);
    assert.equal(code('bad'), 1);
    assert.equal(code('short'), 1, 'FS007 is a hint; the default --fail-on hint counts it');
  });

  it('--fail-on sets the threshold; none never fails on findings', function () {
    assert.equal(code('--fail-on', 'warning', 'short'), 0, 'a hint is below warning');
    assert.equal(code('--fail-on', 'hint', 'short'), 1);
    assert.equal(code('--fail-on', 'error', 'bad'), 1);
    assert.equal(code('--fail-on', 'error', '--severity', 'FS001=warning', 'bad'), 0);
    assert.equal(code('--fail-on', 'none', 'bad'), 0);
  });

  it('a rule turned off does not count', function () {
    assert.equal(code('--severity', 'FS001=off', 'bad'), 0);
  });

  it('2 for an unreadable input even when findings exist, and the findings are still printed', function () {
    const r = runCli(['scan', '--format', 'gcc', 'bad', 'bin', 'nowhere'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /bad\/a\.c:3:2: error/);
    assert.match(r.stderr, /bin\/blob\.c: binary file/);
    assert.match(r.stderr, /nowhere: no such file or directory/);
    assert.equal(code('--fail-on', 'none', 'bad', 'nowhere'), 2, 'input errors are not findings: --fail-on does not hide them');
  });

  it('2 for an unreadable file inside a folder, with the rest of the folder scanned', function () {
    if (process.getuid?.() === 0) {
      // root reads any file: use a dangling symlink to make one unreadable instead of chmod.
      fs.symlinkSync(path.join(dir, 'gone.c'), path.join(dir, 'bad', 'dangling.c'));
    } else {
      fs.writeFileSync(path.join(dir, 'bad', 'locked.c'), BAD_DRIVER);
      fs.chmodSync(path.join(dir, 'bad', 'locked.c'), 0);
    }
    try {
      const r = runCli(['scan', '--format', 'gcc', 'bad'], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /bad\/(dangling|locked)\.c: (no such file or directory|permission denied)/);
      assert.match(r.stdout, /bad\/a\.c:3:2: error/);
    } finally {
      for (const f of ['dangling.c', 'locked.c']) fs.rmSync(path.join(dir, 'bad', f), { force: true });
    }
  });

  it('a file over --max-file-size-kb is an FS009 finding (as in the editor), not an input error', function () {
    const r = runCli(['scan', '--format', 'gcc', '--max-file-size-kb', '0.05', 'bad'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^bad\/a\.c:1:1: note: forksafe did not analyse this file: .*\[FS009\]\n$/);
    assert.equal(runCli(['scan', '--fail-on', 'warning', '--max-file-size-kb', '0.05', 'bad'], dir).code, 0, 'FS009 is information');
  });

  it('folder workers (-j 2) report what one thread reports: findings, unreadable and binary files, FS009, exit code', function () {
    const { dir: tree, remove: removeTree } = scratchTree({
      'drv/a.c': BAD_DRIVER, 'drv/short.c': SHORT_PIN, 'drv/blob.c': 'x\0y', 'other/big.h': `/* ${'z'.repeat(3000)} */\n`,
      'other/ok.c': '/* forksafe-ignore FS001 */\nint ok;\n', 'third/pin.c': BAD_DRIVER,
    });
    try {
      fs.symlinkSync(path.join(tree, 'gone.c'), path.join(tree, 'drv', 'dangling.c'));
      fs.writeFileSync(path.join(tree, 'third', 'broken.c'), Buffer.from([0x69, 0x6e, 0x74, 0x20, 0xff, 0xfe, 0x3b, 0x0a]));
      const run = (jobs: string): ReturnType<typeof runCli> => runCli(['scan', '--format', 'gcc', '--max-file-size-kb', '2', '-j', jobs, '.'], tree);
      const one = run('1');
      const two = run('2');
      assert.equal(one.code, 2, one.stderr);
      assert.equal(two.code, one.code);
      assert.equal(two.stdout, one.stdout);
      assert.match(one.stdout, /drv\/a\.c:3:2: error/);
      assert.match(one.stdout, /other\/big\.h:1:1: note: forksafe did not analyse this file/);
      const lines = (r: ReturnType<typeof runCli>): string[] => r.stderr.split('\n').filter((l) => !/^forksafe: \d+ files/.test(l)).sort();
      assert.deepEqual(lines(two), lines(one));
      assert.ok(lines(one).some((l) => /drv\/blob\.c: binary file/.test(l)) && lines(one).some((l) => /drv\/dangling\.c: no such file/.test(l)), one.stderr);
    } finally { removeTree(); }
  });

  it('2 for an invalid configuration file, naming it and the problem, before scanning', function () {
    const cases: Array<[string, RegExp]> = [
      ['{ "kernelVersion": ', /forksafe\.json: not valid JSON/],
      ['{ "kernelVersoin": "5.4" }', /unknown key 'kernelVersoin'/],
      ['{ "include": "**/*.c" }', /include must be an array of glob strings/],
      ['{ "severity": { "FS001": "loud" } }', /severity\.FS001: 'loud' is not one of/],
      ['{ "failOn": "sometimes" }', /failOn must be one of/],
      ['[1, 2]', /must hold a JSON object/],
    ];
    for (const [text, message] of cases) {
      fs.writeFileSync(path.join(dir, 'forksafe.json'), text);
      const r = runCli(['scan', 'bad'], dir);
      assert.equal(r.code, 2, text);
      assert.match(r.stderr, message, text);
      assert.equal(r.stdout, '', text);
    }
    fs.rmSync(path.join(dir, 'forksafe.json'));
  });
});
