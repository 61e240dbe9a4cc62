// The scan's result as every output format sees it: findings with their paths resolved once, input errors, totals.
import * as path from 'path';
import { fileURLToPath } from 'url';
import type { Finding } from '../analysis/finding';
import { comparePositions, compareText } from '../analysis/span';
import type { ForksafeSettings } from '../settings';

/** A path three ways: absolute, as printed for people (relative to the current folder) and relative to the scan root (SARIF, baselines). */
export interface Located { file: string; display: string; relPath: string }

export interface ReportedFinding extends Located { finding: Finding }

export interface ReportedError extends Located { error: string }

export interface ScanReport {
  tool: { name: 'forksafe'; version: string };
  /** The scan root: the configuration file's folder, else the current folder. */
  root: string;
  /** New findings (after the baseline), by path then position. */
  findings: ReportedFinding[];
  errors: ReportedError[];
  files: { scanned: number; analysed: number };
  /** Findings the baseline already held and that are not reported. */
  baselined: number;
  /** A baseline was given: reported findings are new ones. */
  baselineInUse: boolean;
  settings: ForksafeSettings;
  locate: (uriOrPath: string) => Located;
  /** Set by --explain. */
  explain: boolean;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Resolves engine URIs (file: URLs) and plain paths against the current folder and the scan root. */
export function makeLocator(cwd: string, root: string): (uriOrPath: string) => Located {
  const cache = new Map<string, Located>();
  return (uriOrPath: string): Located => {
    let hit = cache.get(uriOrPath);
    if (hit) return hit;
    let file = uriOrPath;
    if (uriOrPath.startsWith('file:')) {
      try { file = fileURLToPath(uriOrPath); } catch { file = uriOrPath; }
    }
    file = path.resolve(cwd, file);
    const inside = (base: string): string | undefined => {
      const rel = path.relative(base, file);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : undefined;
    };
    const display = inside(cwd) ?? file;
    hit = { file, display, relPath: toPosix(inside(root) ?? file) };
    cache.set(uriOrPath, hit);
    return hit;
  };
}

/** Findings in a deterministic order: path, then position, then rule, then fingerprint. */
export function compareReported(a: ReportedFinding, b: ReportedFinding): number {
  const fa = a.finding;
  const fb = b.finding;
  return compareText(a.file, b.file) || comparePositions(fa.span.start, fb.span.start) || compareText(fa.code, fb.code) ||
    compareText(fa.fingerprint, fb.fingerprint);
}
