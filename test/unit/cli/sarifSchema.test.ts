// The SARIF output validated with ajv against the SARIF 2.1.0 JSON schema that ships in npm (@microsoft/jest-sarif).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import Ajv04 from 'ajv-draft-04';
import Ajv2019 from 'ajv/dist/2019';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { BAD_DRIVER, FIXTURES, ROOT, runCli, scratchTree } from './runCli';

/** Microsoft's SARIF SDK publishes the 2.1.0 schema (rtm.5, JSON Schema draft-04) in this package; see docs/cli.md. */
const NPM_SCHEMA = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');

function compile(file: string): ValidateFunction {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
  // The schema's patterns are ECMA-262 without the u flag (one has a lone ']'), hence unicodeRegExp: false.
  const options = { allErrors: true, strict: false, unicodeRegExp: false };
  const ajv = /draft-04/.test(String(schema.$schema)) ? new Ajv04(options) : new Ajv2019(options);
  addFormats(ajv);
  return ajv.compile(schema);
}

function errorsOf(validate: ValidateFunction, log: unknown): string {
  return validate(log) ? '' : JSON.stringify(validate.errors?.slice(0, 5), null, 1);
}

describe('cli: SARIF output against the SARIF 2.1.0 JSON schema', function () {
  let validate: ValidateFunction;
  let tree: { dir: string; remove: () => void };
  before(function () {
    validate = compile(NPM_SCHEMA);
    tree = scratchTree({ 'drv/bad.c': BAD_DRIVER, 'drv/quirk.c': '/* forksafe-ignore FS001 */\nint q;\n', 'drv/name with space.c': BAD_DRIVER });
  });
  after(function () { tree.remove(); });

  it('the validator rejects a broken log (so the checks below can fail)', function () {
    const log = JSON.parse(runCli(['scan', '--format', 'sarif', 'drv'], tree.dir).stdout);
    assert.equal(errorsOf(validate, log), '');
    log.runs[0].results[0].level = 'fatal';
    log.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0;
    assert.notEqual(errorsOf(validate, log), '');
  });

  it('validates the scan of every fixture driver (fixes, related locations, FS003-FS009)', function () {
    const r = runCli(['scan', '--format', 'sarif', FIXTURES], ROOT);
    const log = JSON.parse(r.stdout);
    assert.ok(log.runs[0].results.length > 50, 'a real amount of results');
    assert.ok(log.runs[0].results.some((x: { fixes?: unknown[] }) => (x.fixes?.length ?? 0) > 0), 'some results carry fixes');
    assert.equal(errorsOf(validate, log), '');
  });

  it('validates a log with input errors, a baseline state and a file name that needs escaping', function () {
    const baseline = path.join(tree.dir, 'baseline.json');
    fs.writeFileSync(baseline, JSON.stringify({ version: 1, tool: 'forksafe', findings: [] }));
    const r = runCli(['scan', '--format', 'sarif', '--baseline', baseline, 'drv', 'missing.c'], tree.dir);
    assert.equal(r.code, 2);
    const log = JSON.parse(r.stdout);
    assert.ok(log.runs[0].results.some((x: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) =>
      x.locations[0].physicalLocation.artifactLocation.uri === 'drv/name%20with%20space.c'));
    assert.ok(log.runs[0].results.every((x: { baselineState: string }) => x.baselineState === 'new'));
    assert.equal(errorsOf(validate, log), '');
  });

  it('validates a clean scan (no results)', function () {
    const log = JSON.parse(runCli(['scan', '--format', 'sarif', '--severity', 'FS001=off,FS008=off', 'drv'], tree.dir).stdout);
    assert.deepEqual(log.runs[0].results, []);
    assert.equal(errorsOf(validate, log), '');
  });

});
