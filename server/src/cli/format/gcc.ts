// gcc-style lines (path:line:col: severity: message [FS###]) for quickfix lists, compilation buffers and the default text output.
import type { Finding } from '../../analysis/finding';

export function formatGccLine(displayPath: string, f: Finding): string {
  const severity = f.severity === 'information' ? 'note' : f.severity === 'hint' ? 'note' : f.severity;
  return `${displayPath}:${f.span.start.line + 1}:${f.span.start.character + 1}: ${severity}: ${f.message} [${f.code}]`;
}
