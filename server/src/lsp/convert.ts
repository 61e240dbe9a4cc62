// Translates our own spans, severities and findings into LSP types (the only place besides SARIF that does).
import { Diagnostic, DiagnosticSeverity, Range } from 'vscode-languageserver';
import type { Finding } from '../analysis/finding';
import type { Severity } from '../analysis/rules';
import type { Span } from '../analysis/span';

export function toRange(span: Span): Range {
  return { start: { ...span.start }, end: { ...span.end } };
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** `version` is the document version the finding was computed for: code actions refuse fixes of an older one. */
export function toDiagnostic(f: Finding, docsUri: (code: string) => string | undefined, version?: number): Diagnostic {
  const href = docsUri(f.code);
  const d: Diagnostic = {
    range: toRange(f.span),
    severity: SEVERITY[f.severity],
    source: 'forksafe',
    code: f.code,
    message: f.message,
    data: version === undefined ? { fingerprint: f.fingerprint } : { fingerprint: f.fingerprint, version },
  };
  if (href) d.codeDescription = { href };
  if (f.related.length > 0) {
    d.relatedInformation = f.related.map((r) => ({ location: { uri: r.uri, range: toRange(r.span) }, message: r.message }));
  }
  return d;
}
