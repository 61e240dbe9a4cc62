// What must hold for any Report, whatever the input: known codes, spans inside the text, FS009 exactly when the analysis was cut short.
import type { Report } from '../../server/src/engine';
import type { ForksafeSettings } from '../../server/src/settings';
import { RULE_CODES } from '../../server/src/analysis/rules';

const SEVERITIES = new Set(['error', 'warning', 'information', 'hint']);

/** Lines as tree-sitter counts them (LF only); our spans use these rows. */
export function treeSitterLineLengths(text: string): number[] {
  return text.split('\n').map((l) => l.length);
}

interface SpanLike { start: { line: number; character: number }; end: { line: number; character: number } }

function checkSpan(span: SpanLike, lines: number[], what: string, problems: string[]): void {
  const ok = (p: { line: number; character: number }): boolean =>
    Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0 &&
    p.line < lines.length && p.character <= lines[p.line];
  if (!ok(span.start) || !ok(span.end)) problems.push(`${what}: span ${JSON.stringify(span)} is outside the text (${lines.length} lines)`);
  else if (span.start.line > span.end.line || (span.start.line === span.end.line && span.start.character > span.end.character)) {
    problems.push(`${what}: span ${JSON.stringify(span)} ends before it starts`);
  }
}

/** Every broken invariant of `report` for `text`, as readable strings; empty when the report is sound. */
export function reportProblems(report: Report, text: string, uri: string, settings: ForksafeSettings, contextUris: string[] = []): string[] {
  const problems: string[] = [];
  if (report.uri !== uri) problems.push(`report.uri ${report.uri} is not ${uri}`);
  if (!Array.isArray(report.findings)) return [...problems, 'findings is not an array'];
  const lines = treeSitterLineLengths(text);
  const oversize = text.length > settings.maxFileSizeKb * 1024;
  if (oversize !== report.stats.skipped) problems.push(`stats.skipped is ${report.stats.skipped} for a ${text.length}-character text (limit ${settings.maxFileSizeKb} KB)`);
  const cutShort = report.stats.skipped || report.stats.budgetHit;
  const fs009 = report.findings.filter((f) => f.code === 'FS009');
  if (cutShort && settings.severity.FS009 !== 'off' && fs009.length !== 1) problems.push(`analysis was cut short (skipped=${report.stats.skipped}, budgetHit=${report.stats.budgetHit}) but ${fs009.length} FS009 findings`);
  if (cutShort && report.notes.length === 0) problems.push('analysis was cut short but no note explains it');
  if (!cutShort && fs009.length > 0) problems.push('FS009 reported although neither the size limit nor the time budget was hit');
  if (report.stats.skipped && report.findings.length !== fs009.length) problems.push('a skipped file has findings other than FS009');
  report.findings.forEach((f, i) => {
    const what = `finding ${i} (${f.code})`;
    if (!(RULE_CODES as readonly string[]).includes(f.code)) problems.push(`${what}: unknown code`);
    if (!SEVERITIES.has(f.severity)) problems.push(`${what}: unknown severity ${f.severity}`);
    if (f.uri !== uri) problems.push(`${what}: uri ${f.uri} is not the analysed file`);
    checkSpan(f.span, lines, what, problems);
    if (typeof f.message !== 'string' || f.message.length === 0) problems.push(`${what}: empty message`);
    if (typeof f.fingerprint !== 'string' || f.fingerprint.length === 0) problems.push(`${what}: empty fingerprint`);
    for (const r of f.related) {
      if (r.uri !== uri && !contextUris.includes(r.uri)) problems.push(`${what}: related location in unknown file ${r.uri}`);
      else if (r.uri === uri) checkSpan(r.span, lines, `${what} related`, problems);
    }
    for (const fix of f.fixes) {
      for (const e of fix.edits) {
        if (e.uri === uri) checkSpan(e.span, lines, `${what} fix '${fix.title}'`, problems);
        else if (!contextUris.includes(e.uri)) problems.push(`${what}: fix edits unknown file ${e.uri}`);
      }
    }
    if (i > 0) {
      const p = report.findings[i - 1].span.start;
      if (p.line > f.span.start.line || (p.line === f.span.start.line && p.character > f.span.start.character)) problems.push(`${what}: findings are not sorted by position`);
    }
  });
  return problems;
}
