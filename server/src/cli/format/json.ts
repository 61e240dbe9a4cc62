// The JSON output: a stable, documented schema (docs/cli.md) over the engine's findings; fields are only ever added.
import type { Finding } from '../../analysis/finding';
import { RULES } from '../../analysis/rules';
import type { Located, ScanReport } from '../scanReport';
import { portableFingerprint } from '../baseline';

export const JSON_SCHEMA_VERSION = 1;

export interface JsonPosition { path: string; line: number; column: number; endLine: number; endColumn: number }

export interface JsonReport {
  schemaVersion: number;
  tool: { name: 'forksafe'; version: string };
  /** Files scanned (after include/exclude). */
  files: number;
  /** Files the prefilter selected and the engine analysed. */
  filesAnalysed: number;
  findings: JsonFinding[];
  errors: { path: string; error: string }[];
  /** Findings per rule, and how many the baseline hid. */
  summary: { findings: number; byRule: Record<string, number>; bySeverity: Record<string, number>; baselined: number };
}

export interface JsonFinding {
  path: string; code: string; rule: string; severity: string; message: string;
  /** One-based, as editors and compilers print them; columns count UTF-16 code units. */
  line: number; column: number; endLine: number; endColumn: number;
  /** Stable across line moves (and, unlike the engine's, across checkouts): what --baseline matches. */
  fingerprint: string;
  related: { path: string; line: number; column: number; message: string }[];
  fixes: { title: string; safe: boolean; edits: (JsonPosition & { newText: string })[] }[];
}

export function toJsonFinding(locate: (uri: string) => Located, f: Finding): JsonFinding {
  const here = locate(f.uri);
  return {
    path: here.display, code: f.code, rule: RULES[f.code].name, severity: f.severity, message: f.message,
    line: f.span.start.line + 1, column: f.span.start.character + 1,
    endLine: f.span.end.line + 1, endColumn: f.span.end.character + 1,
    fingerprint: portableFingerprint(f, here.relPath),
    related: f.related.map((r) => ({ path: locate(r.uri).display, line: r.span.start.line + 1, column: r.span.start.character + 1, message: r.message })),
    fixes: f.fixes.filter((x) => x.edits.length > 0).map((x) => ({
      title: x.title, safe: x.safe,
      edits: x.edits.map((e) => ({
        path: locate(e.uri).display, line: e.span.start.line + 1, column: e.span.start.character + 1,
        endLine: e.span.end.line + 1, endColumn: e.span.end.character + 1, newText: e.newText,
      })),
    })),
  };
}

export function formatJson(report: ScanReport): string {
  const byRule: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  for (const r of report.findings) {
    byRule[r.finding.code] = (byRule[r.finding.code] ?? 0) + 1;
    bySeverity[r.finding.severity] = (bySeverity[r.finding.severity] ?? 0) + 1;
  }
  const out: JsonReport = {
    schemaVersion: JSON_SCHEMA_VERSION, tool: report.tool, files: report.files.scanned, filesAnalysed: report.files.analysed,
    findings: report.findings.map((r) => toJsonFinding(report.locate, r.finding)),
    errors: report.errors.map((e) => ({ path: e.display, error: e.error })),
    summary: { findings: report.findings.length, byRule, bySeverity, baselined: report.baselined },
  };
  return JSON.stringify(out, null, 2) + '\n';
}
