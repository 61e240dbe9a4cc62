// package.json's contributed settings and the server's defaults must stay identical, and bad values must not crash.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_SETTINGS, resolveSettings } from '../../server/src/settings';
import { RULE_CODES, RULES } from '../../server/src/analysis/rules';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const props: Record<string, { default: unknown }> = manifest.contributes.configuration.properties;

describe('settings', function () {
  it('every server setting is contributed in package.json with the same default', function () {
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      assert.ok(props[`forksafe.${key}`], `package.json lacks forksafe.${key}`);
      assert.deepEqual(props[`forksafe.${key}`].default, value, `default of forksafe.${key}`);
    }
  });

  it('package.json contributes no forksafe setting the server does not know (besides trace.server)', function () {
    const known = new Set([...Object.keys(DEFAULT_SETTINGS).map((k) => `forksafe.${k}`), 'forksafe.trace.server']);
    assert.deepEqual(Object.keys(props).filter((k) => !known.has(k)), []);
  });

  it('the severity setting lists every rule', function () {
    const severity = props['forksafe.severity'] as unknown as { properties: Record<string, unknown> };
    assert.deepEqual(Object.keys(severity.properties).sort(), [...RULE_CODES].sort());
  });

  it('each rule in the severity setting is named by its title, not only its code (issue 16)', function () {
    const severity = props['forksafe.severity'] as unknown as { properties: Record<string, { markdownDescription?: string }> };
    for (const code of RULE_CODES) assert.equal(severity.properties[code].markdownDescription, `${code}: ${RULES[code].title}`);
  });

  it('invalid values fall back to defaults with a message', function () {
    const problems: string[] = [];
    const s = resolveSettings({ kernelVersion: 'banana', severity: { FS001: 'loud', FS999: 'off', FS002: 'off' }, driverScope: 'galaxy', maxFileSizeKb: -3 }, problems);
    assert.equal(s.kernelVersion, 'auto');
    assert.equal(s.severity.FS001, 'error');
    assert.equal(s.severity.FS002, 'off');
    assert.equal(s.driverScope, 'directory');
    assert.equal(s.maxFileSizeKb, DEFAULT_SETTINGS.maxFileSizeKb);
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});
