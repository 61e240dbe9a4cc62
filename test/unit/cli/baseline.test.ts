// Baselines: --update-baseline records today's findings; later scans report only new ones, matched by fingerprint so moved lines still match.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, scratchTree } from './runCli';
import { baselineEntries, matchBaseline, portableFingerprint } from '../../../server/src/cli/baseline';
import type { Finding } from '../../../server/src/analysis/finding';
import { fingerprintOf } from '../../../server/src/analysis/fingerprint';

const MR = [
  'struct mr { struct page **pages; };',
  'int reg_mr(struct mr *mr, unsigned long addr, int n)',
  '{',
  '\treturn get_user_pages_fast(addr, n, FOLL_WRITE, mr->pages);',
  '}',
  '',
].join('\n');
const SECOND_PIN = [
  'int reg_mr2(struct mr *mr, unsigned long addr, int n)',
  '{',
  '\treturn get_user_pages_fast(addr, n, FOLL_WRITE, mr->pages);',
  '}',
  '',
].join('\n');

interface JsonOut { findings: Array<{ code: string; line: number; path: string }>; summary: { baselined: number } }

describe('cli: --baseline', function () {
  let dir: string;
  let remove: () => void;
  const file = (): string => path.join(dir, 'drv', 'mr.c');
  const scan = (...args: string[]): { code: number | null; json: JsonOut; stderr: string } => {
    const r = runCli(['scan', '--format', 'json', ...args, 'drv'], dir);
    return { code: r.code, json: JSON.parse(r.stdout) as JsonOut, stderr: r.stderr };
  };
  beforeEach(function () { ({ dir, remove } = scratchTree({ 'drv/mr.c': MR })); });
  afterEach(function () { remove(); });

  it('--update-baseline writes every finding (rule, root-relative path, fingerprint) and exits 0', function () {
    const r = scan('--baseline', 'fs-baseline.json', '--update-baseline');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /baseline fs-baseline\.json written with 1 finding/);
    const data = JSON.parse(fs.readFileSync(path.join(dir, 'fs-baseline.json'), 'utf8'));
    assert.equal(data.version, 1);
    assert.deepEqual(data.findings.map((e: { rule: string; path: string; line: number }) => [e.rule, e.path, e.line]), [['FS001', 'drv/mr.c', 4]]);
    assert.match(data.findings[0].fingerprint, /^[0-9a-f]{16}$/);
  });

  it('a later scan reports nothing new and exits 0; the summary counts the baselined finding', function () {
    scan('--baseline', 'b.json', '--update-baseline');
    const r = scan('--baseline', 'b.json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.findings, []);
    assert.equal(r.json.summary.baselined, 1);
    assert.match(r.stderr, /no findings, 1 baselined/);
  });

  it('still matches after lines are inserted above the finding (fingerprints ignore line numbers)', function () {
    scan('--baseline', 'b.json', '--update-baseline');
    fs.writeFileSync(file(), '#include <linux/mm.h>\n\n/* the memory region code */\nstatic int unused;\n\n' + MR);
    const moved = scan();
    assert.equal(moved.json.findings[0].line, 9, 'the finding did move');
    const r = scan('--baseline', 'b.json');
    assert.equal(r.code, 0);
    assert.deepEqual(r.json.findings, []);
  });

  it('reports only the new finding when a second pin is added, and exits 1', function () {
    scan('--baseline', 'b.json', '--update-baseline');
    fs.appendFileSync(file(), SECOND_PIN);
    const r = scan('--baseline', 'b.json');
    assert.equal(r.code, 1);
    assert.deepEqual(r.json.findings.map((f) => [f.code, f.line]), [['FS001', 8]]);
    assert.equal(r.json.summary.baselined, 1);
  });

  it('an identical copy of a baselined pin in the same function is new: each entry absorbs one finding', function () {
    scan('--baseline', 'b.json', '--update-baseline');
    fs.writeFileSync(file(), MR.replace('\treturn get_user_pages_fast(addr, n, FOLL_WRITE, mr->pages);',
      '\tget_user_pages_fast(addr, n, FOLL_WRITE, mr->pages);\n\treturn get_user_pages_fast(addr, n, FOLL_WRITE, mr->pages);'));
    const r = scan('--baseline', 'b.json');
    assert.deepEqual(r.json.findings.map((f) => f.line), [5]);
  });

  it('a baseline named in forksafe.json is used (its path taken from the configuration folder)', function () {
    fs.writeFileSync(path.join(dir, 'forksafe.json'), JSON.stringify({ baseline: 'ci/forksafe-baseline.json' }));
    assert.equal(scan('--update-baseline').code, 0);
    assert.ok(fs.existsSync(path.join(dir, 'ci', 'forksafe-baseline.json')));
    assert.equal(scan().code, 0);
  });

  it('exits 2 when the baseline is missing or is not a baseline', function () {
    let r = runCli(['scan', '--baseline', 'nope.json', 'drv'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.json does not exist; create it with --update-baseline/);
    fs.writeFileSync(path.join(dir, 'junk.json'), '{"findings": 3}');
    r = runCli(['scan', '--baseline', 'junk.json', 'drv'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a forksafe baseline/);
  });
});

describe('baseline matching (unit)', function () {
  const finding = (code: Finding['code'], fingerprint: string, line = 0): Finding => ({
    code, severity: 'error', uri: 'file:///somewhere/drv/a.c', span: { start: { line, character: 0 }, end: { line, character: 1 } },
    message: 'm.', related: [], fixes: [], fingerprint,
  });

  it('FS009 fingerprints do not depend on where the tree is checked out', function () {
    const a = { ...finding('FS009', fingerprintOf('FS009', 'file:///home/a/linux/drv/a.c')) };
    const b = { ...finding('FS009', fingerprintOf('FS009', 'file:///ci/build/linux/drv/a.c')) };
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.equal(portableFingerprint(a, 'drv/a.c'), portableFingerprint(b, 'drv/a.c'));
  });

  it('matches by rule, path and fingerprint, never by line, one finding per entry', function () {
    const baseline = { version: 1, tool: 'forksafe' as const, findings: baselineEntries([{ finding: finding('FS001', 'aa', 3), relPath: 'drv/a.c' }]) };
    const now = [
      { finding: finding('FS001', 'aa', 40), relPath: 'drv/a.c' },
      { finding: finding('FS001', 'aa', 41), relPath: 'drv/a.c' },
      { finding: finding('FS001', 'aa', 3), relPath: 'drv/b.c' },
      { finding: finding('FS004', 'aa', 3), relPath: 'drv/a.c' },
    ];
    const { fresh, known } = matchBaseline(now, baseline);
    assert.deepEqual(known.map((x) => x.finding.span.start.line), [40]);
    assert.deepEqual(fresh.map((x) => [x.finding.code, x.relPath, x.finding.span.start.line]), [['FS001', 'drv/a.c', 41], ['FS001', 'drv/b.c', 3], ['FS004', 'drv/a.c', 3]]);
  });
});
