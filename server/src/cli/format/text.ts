// The default output: findings grouped by file, one line each with the simulated outcome, coloured on a terminal; --explain adds the simulation and the why/fix.
import type { Severity } from '../../analysis/rules';
import { explainLines, headlineOf } from '../explainFinding';
import type { ReportedFinding, ScanReport } from '../scanReport';

const ANSI = { reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m', underline: '\x1b[4m', red: '\x1b[31m', yellow: '\x1b[33m', blue: '\x1b[34m', cyan: '\x1b[36m' };
const SEVERITY_COLOUR: Record<Severity, string> = { error: ANSI.red, warning: ANSI.yellow, information: ANSI.blue, hint: ANSI.dim };

export function formatText(report: ScanReport, color: boolean): string {
  const paint = (code: string, s: string): string => (color ? `${code}${s}${ANSI.reset}` : s);
  const byFile = new Map<string, ReportedFinding[]>();
  for (const r of report.findings) {
    const list = byFile.get(r.display);
    if (list) list.push(r); else byFile.set(r.display, [r]);
  }
  const blocks: string[] = [];
  for (const [display, list] of byFile) {
    const positions = list.map((r) => `${r.finding.span.start.line + 1}:${r.finding.span.start.character + 1}`);
    const posWidth = Math.max(...positions.map((p) => p.length));
    const sevWidth = Math.max(...list.map((r) => r.finding.severity.length));
    const lines = [paint(ANSI.bold + ANSI.underline, display)];
    list.forEach((r, i) => {
      const f = r.finding;
      const lead = `  ${positions[i].padEnd(posWidth)}  `;
      lines.push(`${lead}${paint(SEVERITY_COLOUR[f.severity], f.severity.padEnd(sevWidth))}  ${paint(ANSI.dim, f.code)}  ${headlineOf(f.message)}`);
      if (report.explain) {
        const indent = ' '.repeat(lead.length + sevWidth + 2 + f.code.length + 2);
        for (const line of explainLines(f, (uri) => report.locate(uri).display)) lines.push(`${indent}${paint(ANSI.cyan, line)}`);
      }
    });
    blocks.push(lines.join('\n'));
  }
  return blocks.length > 0 ? blocks.join('\n\n') + '\n' : '';
}
