// The launchers' code cache (server/src/launch/compileCache.ts): a bundle run twice compiles from the cache the second
// time with the same behaviour; a damaged, foreign or stale cache is never run; the shipped entries go through it.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI, ROOT } from '../cli/runCli';

const LAUNCH = path.join(ROOT, 'out', 'server', 'src', 'launch', 'compileCache.js');

/** A bundle that prints what a CommonJS main module sees, and runs a larger function only when asked ('long'). */
function bundleText(marker: string): string {
  const big = Array.from({ length: 400 }, (_, i) => `  total += (n * ${i + 1}) % ${i + 7};`).join('\n');
  return [
    "'use strict';",
    "const path = require('path');",
    `function long(n) {\n  let total = 0;\n${big}\n  return total;\n}`,
    `const out = ['${marker}', require.main === module, path.basename(__filename), typeof exports, module.exports === exports];`,
    "if (process.argv[2] === 'long') out.push(long(3));",
    "console.log(JSON.stringify(out));",
    '',
  ].join('\n');
}

interface Run { stdout: string; states: string[]; written: boolean }

describe('launch: the code cache the shipped entries start through', function () {
  this.timeout(60000);
  let dir: string;
  let cache: string;
  let bundle: string;
  let launcher: string;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-cc-'));
    cache = path.join(dir, 'xdg');
    bundle = path.join(dir, 'app.bundle.js');
    launcher = path.join(dir, 'app.js');
    fs.writeFileSync(bundle, bundleText('one'));
    fs.writeFileSync(launcher, `require(${JSON.stringify(LAUNCH)}).runBundle(${JSON.stringify(bundle)}, module);\n`);
  });
  afterEach(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  const run = (args: string[] = [], env: NodeJS.ProcessEnv = {}): Run => {
    const r = spawnSync(process.execPath, [launcher, ...args], {
      encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache, FORKSAFE_COMPILE_CACHE_DEBUG: '1', FORKSAFE_NO_COMPILE_CACHE: '', ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('forksafe compile cache: '));
    return {
      stdout: r.stdout,
      states: lines.map((l) => /app\.bundle\.js: (\w+)/.exec(l)?.[1]).filter((s): s is string => !!s),
      written: lines.some((l) => / written \(\d+ bytes\)$/.test(l)),
    };
  };
  const cacheDir = (): string => path.join(cache, 'forksafe', 'v8');
  const cacheFiles = (): string[] => (fs.existsSync(cacheDir()) ? fs.readdirSync(cacheDir()).filter((f) => f.endsWith('.v8')) : []);

  it('compiles from the cache on the second run, and the bundle sees what a main module sees either way', function () {
    const first = run();
    assert.deepEqual(first.states, ['miss']);
    assert.ok(first.written, 'the first run writes the cache');
    assert.deepEqual(JSON.parse(first.stdout), ['one', true, 'app.bundle.js', 'object', true]);
    const second = run();
    assert.deepEqual(second.states, ['hit']);
    assert.equal(second.written, false, 'a cache that did not grow is not written again');
    assert.equal(second.stdout, first.stdout);
    assert.equal(cacheFiles().length, 1);
    if (typeof process.getuid === 'function') {
      assert.equal(fs.statSync(cacheDir()).mode & 0o777, 0o700, 'the folder is the user\'s alone');
      assert.equal(fs.statSync(path.join(cacheDir(), cacheFiles()[0]!)).mode & 0o777, 0o600);
    }
  });

  it('writes the cache again when a run compiled more than it held, and then no more', function () {
    assert.ok(run().written);
    const before = fs.statSync(path.join(cacheDir(), cacheFiles()[0]!)).size;
    const longer = run(['long']);
    assert.deepEqual(longer.states, ['hit']);
    assert.ok(longer.written, 'the larger function compiled this time is kept');
    assert.ok(fs.statSync(path.join(cacheDir(), cacheFiles()[0]!)).size > before);
    assert.equal(run(['long']).written, false);
  });

  it('never runs a damaged cache: V8 rejects it, the bundle runs as compiled from source, and the cache is written anew', function () {
    const first = run();
    const file = path.join(cacheDir(), cacheFiles()[0]!);
    const size = fs.statSync(file).size;
    fs.writeFileSync(file, Buffer.alloc(size, 0x5a), { mode: 0o600 });
    const damaged = run();
    assert.deepEqual(damaged.states, ['rejected']);
    assert.equal(damaged.stdout, first.stdout);
    assert.ok(damaged.written);
    assert.deepEqual(run().states, ['hit']);
  });

  it('a changed bundle of the same length meets no old cache; of the older versions\' caches the three most recent are kept', function () {
    const first = run();
    fs.writeFileSync(bundle, bundleText('two'));
    assert.equal(fs.statSync(bundle).size, Buffer.byteLength(bundleText('one')));
    const changed = run();
    assert.deepEqual(changed.states, ['miss']);
    assert.deepEqual(JSON.parse(changed.stdout)[0], 'two');
    assert.notEqual(changed.stdout, first.stdout);
    assert.equal(cacheFiles().length, 2, 'two versions run in turn keep a cache each');
    fs.writeFileSync(bundle, bundleText('one'));
    assert.deepEqual(run().states, ['hit'], 'back to the first version: its cache is still there');
    for (const marker of ['abc', 'def', 'ghi', 'jkl']) {
      fs.writeFileSync(bundle, bundleText(marker));
      assert.deepEqual(run().states, ['miss']);
    }
    assert.equal(cacheFiles().length, 4, 'the current version and the three written before it');
    fs.writeFileSync(bundle, bundleText('one'));
    assert.deepEqual(run().states, ['miss'], 'the oldest versions\' caches were removed');
  });

  it('uses no cache in a folder others may write, nor a cache file others may write, nor with FORKSAFE_NO_COMPILE_CACHE', function () {
    if (typeof process.getuid !== 'function') this.skip();
    run();
    const file = path.join(cacheDir(), cacheFiles()[0]!);
    fs.chmodSync(file, 0o666);
    assert.deepEqual(run().states, ['miss'], 'a cache file others may write is not read');
    fs.chmodSync(cacheDir(), 0o777);
    const open = run();
    assert.deepEqual(open.states, ['unsafe']);
    assert.deepEqual(JSON.parse(open.stdout)[0], 'one');
    fs.chmodSync(cacheDir(), 0o700);
    fs.rmSync(cacheDir(), { recursive: true });
    const off = run([], { FORKSAFE_NO_COMPILE_CACHE: '1' });
    assert.deepEqual(off.states, ['off']);
    assert.equal(off.written, false);
    assert.deepEqual(cacheFiles(), []);
  });

  it('the shipped CLI starts through it: the same report with the cache written, read and off', function () {
    const env = { ...process.env, XDG_CACHE_HOME: cache, FORKSAFE_COMPILE_CACHE_DEBUG: '1', FORKSAFE_NO_COMPILE_CACHE: '' };
    const scan = (extra: NodeJS.ProcessEnv): { stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, [CLI, 'scan', '--format', 'json', '--fail-on', 'none', '--no-progress', 'examples'], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extra } });
      assert.equal(r.status, 0, r.stderr);
      return { stdout: r.stdout, stderr: r.stderr };
    };
    const first = scan({});
    assert.match(first.stderr, /cli\.bundle\.js: miss/);
    const second = scan({});
    assert.match(second.stderr, /cli\.bundle\.js: hit/);
    const off = scan({ FORKSAFE_NO_COMPILE_CACHE: '1' });
    assert.match(off.stderr, /cli\.bundle\.js: off/);
    const findings = (s: string): unknown => JSON.parse(s).findings;
    assert.ok((findings(first.stdout) as unknown[]).length >= 3);
    assert.deepEqual(findings(second.stdout), findings(first.stdout));
    assert.deepEqual(findings(off.stdout), findings(first.stdout));
  });

  it('the shipped bundles import() nothing (a launcher runs them as scripts, where import() has no loader)', function () {
    for (const name of ['cli', 'server', 'scanWorker']) {
      const text = fs.readFileSync(path.join(ROOT, 'server', 'dist', `${name}.bundle.js`), 'utf8');
      assert.equal(/\bimport\s*\(\s*["'`]/.exec(text), null, `${name}.bundle.js`);
      assert.match(fs.readFileSync(path.join(ROOT, 'server', 'dist', `${name}.js`), 'utf8'), new RegExp(`${name}\\.bundle\\.js`));
    }
  });
});
