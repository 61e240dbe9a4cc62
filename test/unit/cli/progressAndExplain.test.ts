// The progress bar (only on a terminal), the summary line, and what --explain derives from a finding.
import { strict as assert } from 'assert';
import { Writable } from 'stream';
import { createProgress, summaryLine } from '../../../server/src/cli/progress';
import { detailLinesOf, headlineOf, simulationLines } from '../../../server/src/cli/explainFinding';
import { makeLocator, ScanReport } from '../../../server/src/cli/scanReport';
import { resolveSettings } from '../../../server/src/settings';
import { analyzeDriver, listFixtureDrivers } from '../../helpers/fixtures';
import type { Finding } from '../../../server/src/analysis/finding';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: () => string } {
  let text = '';
  const w = new Writable({ write(chunk, _enc, cb) { text += String(chunk); cb(); } });
  return { stream: Object.assign(w, { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream, written: () => text };
}

describe('progress and summary', function () {
  it('draws a bar on a terminal and nothing when piped', function () {
    for (const tty of [true, false]) {
      const { stream, written } = fakeStream(tty);
      const p = createProgress(stream, true);
      p.phase('reading', 3);
      p.tick(); p.tick(); p.tick();
      p.stop();
      if (tty) assert.match(written(), /forksafe reading +\[.*\] \d\/3 files/);
      else assert.equal(written(), '');
    }
    const off = fakeStream(true);
    createProgress(off.stream, false).phase('reading', 3);
    assert.equal(off.written(), '', '--no-progress');
  });

  it('summarises files, findings by rule, unreadable files, the baseline and the time', function () {
    const locate = makeLocator('/t', '/t');
    const f = (code: Finding['code']): Finding => ({ code, severity: 'warning', uri: 'file:///t/a.c', span: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message: '', related: [], fixes: [], fingerprint: '' });
    const report: ScanReport = {
      tool: { name: 'forksafe', version: '0' }, root: '/t', findings: [f('FS007'), f('FS001'), f('FS007')].map((finding) => ({ finding, ...locate(finding.uri) })),
      errors: [{ ...locate('/t/b.c'), error: 'permission denied' }], files: { scanned: 12, analysed: 3 }, baselined: 4, baselineInUse: true,
      settings: resolveSettings({}), locate, explain: false,
    };
    assert.equal(summaryLine(report, 1234), 'forksafe: 12 files (3 analysed), 3 findings (FS001 1, FS007 2), 1 unreadable, 4 baselined, 1.23 s');
  });
});

describe('--explain', function () {
  it('splits a message into its one-line outcome and the why/fix lines', function () {
    const m = 'After fork(), a write moves the parent to 0x2 (v5.19 and later, e.g. here). Why: x() takes pins. Fix: Use y().';
    assert.equal(headlineOf(m), 'After fork(), a write moves the parent to 0x2 (v5.19 and later, e.g. here).');
    assert.deepEqual(detailLinesOf(m), ['Why: x() takes pins.', 'Fix: Use y().']);
    assert.equal(headlineOf('no sentence end'), 'no sentence end');
  });

  it('simulates the scenario the engine attached to the site, and the protected one when there is a protection', async function () {
    const driver = listFixtureDrivers().find((d) => d.name === 'multi_protection_elsewhere')!;
    const findings = [...(await analyzeDriver(driver)).values()].flatMap((r) => r.findings);
    // FS004 on the pin, holding the FS003 "verify the protection found elsewhere" note.
    const fs004 = findings.find((f) => f.code === 'FS004');
    assert.ok(fs004?.site, 'the engine attaches the site to FS004');
    const lines = simulationLines(fs004);
    assert.match(lines[0], /^simulated: kernel \d+\.\d+, FOLL_(GET|PIN), .*no protection .*worst of \d orders is .+: the device and the parent part$/);
    assert.ok(lines.some((l) => /^with the protection: .*protected by dontfork.*: the device stays with the parent$/.test(l)), lines.join('\n'));
    const fs008: Finding = { ...fs004, code: 'FS008', site: undefined };
    assert.deepEqual(simulationLines(fs008), []);
  });
});
