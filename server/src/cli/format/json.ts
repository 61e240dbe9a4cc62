// The JSON output: a stable, documented schema (docs/cli.md) over the engine's findings.
import type { Finding } from '../../analysis/finding';

export const JSON_SCHEMA_VERSION = 1;

export interface JsonReport {
  schemaVersion: number;
  tool: { name: 'forksafe'; version: string };
  files: number;
  findings: JsonFinding[];
  errors: { path: string; error: string }[];
}

export interface JsonFinding {
  path: string; code: string; severity: string; message: string;
  /** One-based, as editors and compilers print them. */
  line: number; column: number; endLine: number; endColumn: number;
  fingerprint: string;
  related: { path: string; line: number; column: number; message: string }[];
}

export function toJsonFinding(displayPath: (uri: string) => string, f: Finding): JsonFinding {
  return {
    path: displayPath(f.uri), code: f.code, severity: f.severity, message: f.message,
    line: f.span.start.line + 1, column: f.span.start.character + 1,
    endLine: f.span.end.line + 1, endColumn: f.span.end.character + 1,
    fingerprint: f.fingerprint,
    related: f.related.map((r) => ({ path: displayPath(r.uri), line: r.span.start.line + 1, column: r.span.start.character + 1, message: r.message })),
  };
}
