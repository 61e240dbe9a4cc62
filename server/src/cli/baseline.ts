// Baselines: record today's findings in a JSON file and later report only new ones, matched by rule, path and fingerprint (never by line number).
import * as fs from 'fs';
import * as path from 'path';
import type { Finding } from '../analysis/finding';
import { fingerprintOf } from '../analysis/fingerprint';

export const BASELINE_VERSION = 1;

export interface BaselineEntry {
  rule: string;
  /** Relative to the scan root, with forward slashes. */
  path: string;
  fingerprint: string;
  /** For people reading the file; not used to match. */
  line: number;
  message: string;
}

export interface BaselineFile { version: number; tool: 'forksafe'; findings: BaselineEntry[] }

export class BaselineError extends Error {}

/**
 * The engine's fingerprint, made independent of where the tree is checked out: FS009 (file not analysed) is
 * fingerprinted by its file's URI, which is replaced here by the path relative to the scan root.
 */
export function portableFingerprint(f: Finding, relPath: string): string {
  return f.code === 'FS009' ? fingerprintOf('FS009', relPath) : f.fingerprint;
}

function keyOf(rule: string, relPath: string, fingerprint: string): string {
  return `${rule}\u0000${relPath}\u0000${fingerprint}`;
}

export function baselineEntries(findings: Array<{ finding: Finding; relPath: string }>): BaselineEntry[] {
  return findings.map(({ finding, relPath }) => ({
    rule: finding.code, path: relPath, fingerprint: portableFingerprint(finding, relPath),
    line: finding.span.start.line + 1, message: finding.message.split(/(?<=\.)\s/)[0] ?? finding.message,
  }));
}

export function writeBaseline(file: string, entries: BaselineEntry[]): void {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
  const data: BaselineFile = { version: BASELINE_VERSION, tool: 'forksafe', findings: sorted };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

export function readBaseline(file: string): BaselineFile {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BaselineError(missing ? `baseline ${file} does not exist; create it with --update-baseline` : `cannot read baseline ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { throw new BaselineError(`baseline ${file} is not valid JSON: ${(err as Error).message}`); }
  const obj = raw as Partial<BaselineFile> | null;
  if (!obj || typeof obj !== 'object' || obj.version !== BASELINE_VERSION || !Array.isArray(obj.findings) ||
    !obj.findings.every((e) => e && typeof e.rule === 'string' && typeof e.path === 'string' && typeof e.fingerprint === 'string')) {
    throw new BaselineError(`baseline ${file} is not a forksafe baseline (version ${BASELINE_VERSION} with findings of rule, path and fingerprint)`);
  }
  return obj as BaselineFile;
}

/**
 * Splits findings into new ones and ones the baseline already holds. Each baseline entry absorbs one finding
 * with the same rule, path and fingerprint, so a second identical pin added to a function is still new.
 */
export function matchBaseline<T extends { finding: Finding; relPath: string }>(findings: T[], baseline: BaselineFile): { fresh: T[]; known: T[] } {
  const counts = new Map<string, number>();
  for (const e of baseline.findings) {
    const k = keyOf(e.rule, e.path, e.fingerprint);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const fresh: T[] = [];
  const known: T[] = [];
  for (const item of findings) {
    const k = keyOf(item.finding.code, item.relPath, portableFingerprint(item.finding, item.relPath));
    const left = counts.get(k) ?? 0;
    if (left > 0) { counts.set(k, left - 1); known.push(item); } else fresh.push(item);
  }
  return { fresh, known };
}
