// gcc-style lines (path:line:col: severity: message [FS###]) for editors' quickfix lists and compilation buffers; --explain adds the simulation as note lines.
import type { Finding } from '../../analysis/finding';
import { simulationLines } from '../explainFinding';
import type { ScanReport } from '../scanReport';

export function formatGccLine(displayPath: string, f: Finding): string {
  const severity = f.severity === 'information' || f.severity === 'hint' ? 'note' : f.severity;
  return `${displayPath}:${f.span.start.line + 1}:${f.span.start.character + 1}: ${severity}: ${f.message} [${f.code}]`;
}

export function formatGcc(report: ScanReport): string {
  const lines: string[] = [];
  for (const r of report.findings) {
    lines.push(formatGccLine(r.display, r.finding));
    if (report.explain) {
      const at = `${r.display}:${r.finding.span.start.line + 1}:${r.finding.span.start.character + 1}`;
      for (const line of simulationLines(r.finding)) lines.push(`${at}: note: ${line}`);
      // Each caller as a note at its own location, the way compilers point at a related declaration.
      for (const c of r.finding.site?.callers ?? []) lines.push(`${report.locate(c.uri).display}:${c.span.start.line + 1}:${c.span.start.character + 1}: note: ${c.message}`);
    }
  }
  return lines.map((l) => l + '\n').join('');
}
