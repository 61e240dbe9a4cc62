// Progress on stderr for long scans: a cli-progress bar when stderr is a terminal, nothing when it is piped; and the summary line, always.
import { SingleBar } from 'cli-progress';
import type { ScanReport } from './scanReport';

export interface Progress {
  /** Starts (or restarts) the bar for a phase of `total` files, `done` of them already done. */
  phase(name: string, total: number, done?: number): void;
  tick(): void;
  stop(): void;
}

const SILENT: Progress = { phase: () => undefined, tick: () => undefined, stop: () => undefined };

/** A bar on `stream` when it is a terminal and `enabled`; otherwise a progress that prints nothing. */
export function createProgress(stream: NodeJS.WriteStream, enabled: boolean): Progress {
  if (!enabled || !stream.isTTY) return SILENT;
  const bar = new SingleBar({
    stream, format: 'forksafe {phase} [{bar}] {value}/{total} files', barsize: 30,
    hideCursor: true, clearOnComplete: true, etaBuffer: 50, fps: 10,
  });
  let running = false;
  return {
    phase(name, total, done = 0) {
      if (running) bar.stop();
      bar.start(total, done, { phase: name.padEnd(8) });
      running = true;
    },
    tick() { if (running) bar.increment(); },
    stop() { if (running) { bar.stop(); running = false; } },
  };
}

/** `forksafe: 120 files (14 analysed), 5 findings (FS001 2, FS007 3), 1 unreadable, 2 baselined, 0.84 s` */
export function summaryLine(report: ScanReport, elapsedMs: number): string {
  const byRule = new Map<string, number>();
  for (const r of report.findings) byRule.set(r.finding.code, (byRule.get(r.finding.code) ?? 0) + 1);
  const rules = [...byRule.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, n]) => `${c} ${n}`).join(', ');
  const n = report.findings.length;
  const parts = [
    `${report.files.scanned} file${report.files.scanned === 1 ? '' : 's'} (${report.files.analysed} analysed)`,
    `${n === 0 ? 'no' : n} finding${n === 1 ? '' : 's'}${rules ? ` (${rules})` : ''}`,
  ];
  if (report.errors.length > 0) parts.push(`${report.errors.length} unreadable`);
  if (report.baselineInUse) parts.push(`${report.baselined} baselined`);
  parts.push(`${(elapsedMs / 1000).toFixed(2)} s`);
  return `forksafe: ${parts.join(', ')}`;
}
