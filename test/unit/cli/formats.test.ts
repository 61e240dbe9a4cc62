// Every output format of `forksafe scan` on one scratch tree: text (grouped, colour, --explain), gcc, json, sarif, and --output.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { BAD_DRIVER, runCli, scratchTree } from './runCli';
import { formatText } from '../../../server/src/cli/format/text';
import { makeLocator, ScanReport } from '../../../server/src/cli/scanReport';
import { resolveSettings } from '../../../server/src/settings';
import type { Finding } from '../../../server/src/analysis/finding';

const TREE = {
  'drv/bad.c': BAD_DRIVER,
  'drv/quirk.c': '/* forksafe-ignore FS001 */\nint quirk;\n',
  'odp/pages.c': 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a)\n{ // forksafe-assume notifier: the ODP path registers an interval notifier on this range\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, mr->pages);\n}\n',
  'odp/notifier.c': 'static const struct mmu_interval_notifier_ops ops = {\n\t.invalidate = inval,\n};\n',
  // A 5.4 tree: no pin_user_pages*() yet, so the assumed-protected pin is FS003 alone (from 5.6 FS004 wins and holds it).
  'odp/Makefile': 'VERSION = 5\nPATCHLEVEL = 4\n',
};

describe('cli: output formats', function () {
  let dir: string;
  let remove: () => void;
  before(function () { ({ dir, remove } = scratchTree(TREE)); });
  after(function () { remove(); });

  it('text groups findings under their file, files in path order, findings in position order', function () {
    const r = runCli(['scan', '.'], dir);
    assert.equal(r.code, 1, r.stderr);
    const blocks = r.stdout.trimEnd().split('\n\n');
    assert.deepEqual(blocks.map((b) => b.split('\n')[0]), ['drv/bad.c', 'drv/quirk.c', 'odp/pages.c']);
    assert.match(blocks[1], /\n {2}1:1 {2}warning {2}FS008 {2}forksafe-ignore FS001 has no reason, so it is not applied\.$/);
    // The headline names the call and the buffer (issue 16).
    assert.match(blocks[2], /\n {2}4:9 {2}information {2}FS003 {2}get_user_pages_fast\(\) on mr->pages relies on a protection forksafe cannot see in this code: verify it\./);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when stdout is piped');
  });

  it('text is coloured with --color and plain with --no-color', function () {
    assert.match(runCli(['scan', '--color', 'drv'], dir).stdout, /\x1b\[31merror\x1b\[0m/);
    assert.doesNotMatch(runCli(['scan', '--no-color', 'drv'], dir).stdout, /\x1b\[/);
  });

  it('text colours by severity and uses no escape codes without colour (unit)', function () {
    const finding: Finding = {
      code: 'FS002', severity: 'warning', uri: 'file:///t/a.c', span: { start: { line: 9, character: 3 }, end: { line: 9, character: 9 } },
      message: 'After fork(), the device reads stale data. Why: because. Fix: do this.', related: [], fixes: [], fingerprint: '0',
    };
    const locate = makeLocator('/t', '/t');
    const report: ScanReport = {
      tool: { name: 'forksafe', version: '0' }, root: '/t', findings: [{ finding, ...locate(finding.uri) }], errors: [],
      files: { scanned: 1, analysed: 1 }, baselined: 0, baselineInUse: false, settings: resolveSettings({}), locate, explain: true,
    };
    assert.equal(formatText(report, false), `a.c\n  10:4  warning  FS002  After fork(), the device reads stale data.\n${' '.repeat(24)}Why: because.\n${' '.repeat(24)}Fix: do this.\n`);
    assert.match(formatText(report, true), /\x1b\[33mwarning\x1b\[0m/);
  });

  it('--explain prints the simulated outcome and the why/fix under each pin finding (text)', function () {
    const r = runCli(['scan', '--explain', 'drv'], dir);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes('FS001'));
    assert.match(lines[at + 1], /^ +simulated: kernel \d+\.\d+, FOLL_GET, device writes, long-lived, no protection \(.+\); worst of \d orders is .+: the device and the parent part$/);
    // After the headline: what fork() does (the simulated outcome), then why and the fix.
    assert.match(lines[at + 2], /^ +After fork\(\), /);
    assert.match(lines[at + 3], /^ +Why: get_user_pages\(\) takes FOLL_GET/);
    assert.match(lines[at + 4], /^ +Fix: /);
    const quirk = lines.findIndex((l) => l.includes('FS008'));
    assert.doesNotMatch(lines[quirk + 1] ?? '', /simulated/, 'FS008 is not about a pin: nothing to simulate');
  });

  it('--explain adds the simulation as note lines in gcc format', function () {
    const r = runCli(['scan', '--format', 'gcc', '--explain', 'odp'], dir);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^odp\/pages\.c:4:9: note: get_user_pages_fast\(\) on mr->pages relies on a protection .+ Verify the fork protection: .+ \[FS003\]$/);
    assert.match(lines[1], /^odp\/pages\.c:4:9: note: simulated: kernel .+ no protection/);
    assert.ok(lines.some((l) => /^odp\/pages\.c:4:9: note: with the protection: .+protected by notifier/.test(l)), r.stdout);
  });

  it('json has the documented fields: rule, one-based positions, related locations, fixes, summary', function () {
    const r = runCli(['scan', '--format', 'json', '.'], dir);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(json), ['schemaVersion', 'tool', 'files', 'filesAnalysed', 'findings', 'errors', 'summary']);
    assert.equal(json.files, 4);
    const fs001 = json.findings.find((f: { code: string }) => f.code === 'FS001');
    assert.deepEqual([fs001.path, fs001.rule, fs001.severity, fs001.line, fs001.column, fs001.endLine, fs001.endColumn],
      ['drv/bad.c', 'LongLivedWritablePinUnprotected', 'error', 3, 2, 3, 45]);
    assert.match(fs001.fingerprint, /^[0-9a-f]{16}$/);
    assert.ok(fs001.related.some((x: { path: string; message: string }) => x.path === 'drv/bad.c' && /FOLL_WRITE/.test(x.message)));
    const convert = fs001.fixes.find((x: { title: string }) => /pin_user_pages/.test(x.title));
    assert.ok(convert, JSON.stringify(fs001.fixes));
    assert.deepEqual(convert.edits[0], { path: 'drv/bad.c', line: 3, column: 2, endLine: 3, endColumn: 16, newText: 'pin_user_pages' });
    const fs003 = json.findings.find((f: { code: string }) => f.code === 'FS003');
    assert.ok(fs003.related.some((x: { path: string; message: string }) => x.path === 'odp/pages.c' && /^assumed: /.test(x.message)), JSON.stringify(fs003.related));
    assert.deepEqual(json.summary.byRule, { FS001: 1, FS008: 1, FS003: 1 });
    assert.equal(json.summary.findings, json.findings.length);
  });

  it('sarif has rules with help, results with locations, related locations, fixes and fingerprints', function () {
    const r = runCli(['scan', '--format', 'sarif', '.'], dir);
    assert.equal(r.code, 1);
    const log = JSON.parse(r.stdout);
    assert.equal(log.version, '2.1.0');
    const run = log.runs[0];
    assert.deepEqual(run.tool.driver.rules.map((x: { id: string }) => x.id), ['FS001', 'FS002', 'FS003', 'FS004', 'FS005', 'FS006', 'FS007', 'FS008', 'FS009', 'FS010', 'FS011']);
    for (const rule of run.tool.driver.rules) {
      assert.match(rule.helpUri, new RegExp(`/docs/rules/${rule.id}\\.md$`));
      assert.match(rule.help.markdown, new RegExp(`^# ${rule.id}`), 'the rule page is the help text');
    }
    assert.equal(run.originalUriBaseIds['%SRCROOT%'].uri, `file://${dir}/`);
    const result = run.results.find((x: { ruleId: string }) => x.ruleId === 'FS001');
    assert.equal(run.tool.driver.rules[result.ruleIndex].id, 'FS001');
    assert.equal(result.level, 'error');
    assert.deepEqual(result.locations[0].physicalLocation, {
      artifactLocation: { uri: 'drv/bad.c', uriBaseId: '%SRCROOT%' }, region: { startLine: 3, startColumn: 2, endLine: 3, endColumn: 45 },
    });
    assert.match(result.partialFingerprints['forksafe/v1'], /^[0-9a-f]{16}$/);
    assert.ok(result.relatedLocations.length > 0 && result.relatedLocations.every((x: { id: number; message: { text: string } }) => x.id > 0 && x.message.text));
    const change = result.fixes.find((x: { description: { text: string } }) => /pin_user_pages/.test(x.description.text)).artifactChanges[0];
    assert.deepEqual(change.artifactLocation, { uri: 'drv/bad.c', uriBaseId: '%SRCROOT%' });
    assert.deepEqual(change.replacements[0], { deletedRegion: { startLine: 3, startColumn: 2, endLine: 3, endColumn: 16 }, insertedContent: { text: 'pin_user_pages' } });
    assert.equal(run.results.find((x: { ruleId: string }) => x.ruleId === 'FS008').level, 'warning');
    assert.equal(run.results.find((x: { ruleId: string }) => x.ruleId === 'FS003').level, 'note');
    assert.deepEqual(run.invocations[0], { executionSuccessful: true, toolExecutionNotifications: [] });
  });

  it('sarif reports unreadable inputs as tool notifications and an unsuccessful execution', function () {
    const r = runCli(['scan', '--format', 'sarif', 'drv', 'missing.c'], dir);
    assert.equal(r.code, 2);
    const inv = JSON.parse(r.stdout).runs[0].invocations[0];
    assert.equal(inv.executionSuccessful, false);
    assert.equal(inv.toolExecutionNotifications[0].level, 'error');
    assert.match(inv.toolExecutionNotifications[0].message.text, /missing\.c: no such file or directory/);
  });

  it('--output writes the report to a file and nothing to stdout', function () {
    const out = path.join(dir, 'report.sarif');
    const r = runCli(['scan', '--format', 'sarif', '--output', out, 'drv'], dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(JSON.parse(fs.readFileSync(out, 'utf8')).runs[0].results.length, 2);
  });
});

describe('cli: a pin inside a helper, with --explain', function () {
  const HELPER_TREE = {
    'drv/pin.c': 'int pin_buf(unsigned long a, int n, struct page **pages)\n{\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, pages);\n}\n',
    'drv/mr.c': 'int reg(struct mr *mr, unsigned long a, int n)\n{\n\treturn pin_buf(a, n, mr->pages);\n}\n',
  };
  let dir: string;
  let remove: () => void;
  before(function () { ({ dir, remove } = scratchTree(HELPER_TREE)); });
  after(function () { remove(); });

  it('text: the finding on the pin, and a caller line naming where the pages are kept', function () {
    const r = runCli(['scan', '--explain', 'drv'], dir);
    assert.match(r.stdout, /^drv\/pin\.c\n {2}3:9 {2}error {2}FS001 /m);
    assert.doesNotMatch(r.stdout, /^drv\/mr\.c$/m, 'nothing reported at the caller');
    assert.match(r.stdout, /caller drv\/mr\.c:3: reg\(\) calls pin_buf\(\) and keeps the pages/);
  });

  it('gcc: the caller as a note at its own location', function () {
    const r = runCli(['scan', '--format', 'gcc', '--explain', 'drv'], dir);
    assert.match(r.stdout, /^drv\/pin\.c:3:9: error: .+ \[FS001\]$/m);
    assert.match(r.stdout, /^drv\/mr\.c:3:9: note: reg\(\) calls pin_buf\(\) and keeps the pages/m);
  });
});
