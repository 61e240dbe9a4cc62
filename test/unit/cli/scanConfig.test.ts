// forksafe.json / .forksaferc: found upwards from the inputs (else the current folder), merged under the flags.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BAD_DRIVER, runCli, scratchTree } from './runCli';
import { ConfigError, findConfigFile, locateConfigFile, readConfigFile } from '../../../server/src/runtime/scanConfig';
import { parseScanOptions } from '../../../server/src/cli/scanOptions';

describe('cli: configuration file', function () {
  let dir: string;
  let remove: () => void;
  beforeEach(function () {
    ({ dir, remove } = scratchTree({ 'tree/drv/bad.c': BAD_DRIVER, 'tree/drv/short.c': 'int x;\n', 'tree/vendor/bad.c': BAD_DRIVER, 'other/a.c': 'int a;\n' }));
  });
  afterEach(function () { remove(); });
  const write = (rel: string, data: unknown): void => fs.writeFileSync(path.join(dir, rel), typeof data === 'string' ? data : JSON.stringify(data));

  it('settings in forksafe.json apply (kernel, severity, exclude) and flags override them', function () {
    write('tree/forksafe.json', { kernelVersion: '5.4', severity: { FS001: 'warning' }, exclude: ['vendor/**'] });
    let r = runCli(['scan', '--format', 'gcc', 'tree'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^tree\/drv\/bad\.c:3:2: warning: .*kernel 5\.4 \(from settings\).*\[FS001\]\n$/);
    r = runCli(['scan', '--format', 'gcc', '--kernel', '6.1', '--severity', 'FS001=error', 'tree'], dir);
    assert.match(r.stdout, /^tree\/drv\/bad\.c:3:2: error: .*kernel 6\.1 .*\[FS001\]\n$/);
  });

  it('is found upwards from the input path, from any current folder; .forksaferc when there is no forksafe.json', function () {
    write('tree/.forksaferc', { severity: { FS001: 'off' } });
    assert.equal(runCli(['scan', path.join(dir, 'tree', 'drv')], path.join(dir, 'other')).code, 0);
    write('tree/forksafe.json', { severity: { FS001: 'hint' } });
    const r = runCli(['scan', '--format', 'gcc', path.join(dir, 'tree', 'drv')], path.join(dir, 'other'));
    assert.match(r.stdout, /: note: .*\[FS001\]/, 'forksafe.json wins over .forksaferc');
  });

  it('a failOn in the file sets the threshold; --fail-on overrides it', function () {
    write('tree/forksafe.json', { failOn: 'none' });
    assert.equal(runCli(['scan', 'tree'], dir).code, 0);
    assert.equal(runCli(['scan', '--fail-on', 'error', 'tree'], dir).code, 1);
  });

  it('include in the file replaces the default globs; --exclude adds to the excludes', function () {
    write('tree/forksafe.json', { include: ['drv/**/*.c'] });
    let r = runCli(['scan', '--format', 'gcc', 'tree'], dir);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(':')[0]), ['tree/drv/bad.c']);
    r = runCli(['scan', '--format', 'gcc', '--exclude', '**/bad.c', 'tree'], dir);
    assert.equal(r.stdout, '');
    assert.equal(r.code, 0);
  });

  it('inputs under different configuration files are a usage error', function () {
    write('tree/forksafe.json', {});
    write('other/forksafe.json', {});
    const r = runCli(['scan', 'tree', 'other'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /different configuration files/);
    assert.equal(runCli(['scan', '--config', path.join(dir, 'tree', 'forksafe.json'), 'tree', 'other'], dir).code, 1, '--config picks one');
  });

  it('unit: finds the nearest file, checks types, resolves the baseline path from the file', function () {
    write('tree/forksafe.json', { baseline: 'ci/base.json', gitignore: true, $schema: 'x' });
    assert.equal(findConfigFile(path.join(dir, 'tree', 'drv')), path.join(dir, 'tree', 'forksafe.json'));
    assert.equal(locateConfigFile(['drv/bad.c'], path.join(dir, 'tree')), path.join(dir, 'tree', 'forksafe.json'));
    const config = readConfigFile(path.join(dir, 'tree', 'forksafe.json'));
    assert.deepEqual([config.baseline, config.gitignore], [path.join(dir, 'tree', 'ci', 'base.json'), true]);
    write('tree/forksafe.json', { maxFileSizeKb: -1, gitignore: 'yes' });
    assert.throws(() => readConfigFile(path.join(dir, 'tree', 'forksafe.json')), (e: Error) => e instanceof ConfigError && /maxFileSizeKb must be a positive number; .*gitignore must be true or false/.test(e.message));
  });

  it('unit: flags merge over the file; the scan root is the file\'s folder', function () {
    write('tree/forksafe.json', { driverScope: 'file', severity: { FS007: 'off' }, exclude: ['a/**'] });
    const opts = parseScanOptions(['--severity', 'FS002=error', '--exclude', 'b/**', 'drv'], path.join(dir, 'tree'));
    assert.ok(opts !== 'help');
    assert.equal(opts.settings.driverScope, 'file');
    assert.deepEqual([opts.settings.severity.FS007, opts.settings.severity.FS002, opts.settings.severity.FS001], ['off', 'error', 'error']);
    assert.deepEqual(opts.settings.exclude.slice(-2), ['a/**', 'b/**']);
    assert.equal(opts.root, path.join(dir, 'tree'));
    assert.equal(opts.format, 'text');
  });
});
