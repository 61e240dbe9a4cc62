// Compares what forksafe and spatch reported on the corpus with the manifest of planted pin sites.
import type { Manifest, ManifestSite } from '../generateCorpus';

export interface ForksafeFinding { path: string; line: number; code: string }

export interface ForksafeComparison {
  findings: number;
  /** Sites whose reported codes equal the manifest's expectation (including sites expected to be clean). */
  asExpected: number;
  /** Sites with an expected finding that got none or other codes. */
  wrong: Array<{ site: ManifestSite; got: string[] }>;
  /** Findings on no planted site's line. */
  extra: ForksafeFinding[];
  /** Sites with an expected finding that forksafe reported. */
  reportedSites: number;
}

export function compareForksafe(manifest: Manifest, findings: ForksafeFinding[]): ForksafeComparison {
  const byLine = new Map<string, string[]>();
  for (const f of findings) {
    const key = `${f.path.replace(/\\/g, '/')}:${f.line}`;
    byLine.set(key, [...(byLine.get(key) ?? []), f.code]);
  }
  const wrong: ForksafeComparison['wrong'] = [];
  let asExpected = 0;
  let reportedSites = 0;
  for (const s of manifest.sites) {
    const key = `${s.file}:${s.line}`;
    const got = (byLine.get(key) ?? []).sort();
    byLine.delete(key);
    if (got.join() === [...s.expect].sort().join()) asExpected++;
    else wrong.push({ site: s, got });
    if (s.expect.length > 0 && got.length > 0) reportedSites++;
  }
  const extra: ForksafeFinding[] = [];
  for (const [key, codes] of byLine) {
    const at = key.lastIndexOf(':');
    for (const code of codes) extra.push({ path: key.slice(0, at), line: Number(key.slice(at + 1)), code });
  }
  return { findings: findings.length, asExpected, wrong, extra, reportedSites };
}

export interface SpatchComparison {
  matches: number;
  /** Planted sites spatch matched, at the pin call itself. */
  atSite: string[];
  /** Planted sites spatch matched only inside a macro definition (not where the driver pins). */
  atDefinition: string[];
  /** Matches on no planted site. */
  extra: string[];
  /** Sites with an expected forksafe finding that spatch did not see at all. */
  missedWithFinding: ManifestSite[];
  /** Sites spatch reports that forksafe, by design, does not report as fork-broken (safe era, protected, short-lived). */
  notForkBroken: ManifestSite[];
}

/** Parses `file:line:col: ...` lines printed by bench/literalRule.cocci and matches them to the manifest's literal positions. */
export function compareSpatch(manifest: Manifest, stdout: string): SpatchComparison {
  const hits = new Set<string>();
  for (const line of stdout.split('\n')) {
    const m = /^(.+?):(\d+):\d+: /.exec(line);
    if (m) hits.add(`${m[1].replace(/^\.\//, '')}:${m[2]}`);
  }
  const atSite: string[] = [];
  const atDefinition: string[] = [];
  const seen = new Set<string>();
  const saw = new Set<string>();
  for (const s of manifest.sites) {
    if (!s.literal) continue;
    const key = `${s.literal.file}:${s.literal.line}`;
    if (!hits.has(key)) continue;
    seen.add(key);
    saw.add(s.id);
    if (s.literal.file === s.file && s.literal.line === s.line) atSite.push(s.id);
    else atDefinition.push(s.id);
  }
  return {
    matches: hits.size, atSite, atDefinition, extra: [...hits].filter((h) => !seen.has(h)),
    missedWithFinding: manifest.sites.filter((s) => s.expect.length > 0 && !saw.has(s.id)),
    notForkBroken: manifest.sites.filter((s) => saw.has(s.id) && !s.expect.some((c) => c === 'FS001' || c === 'FS002')),
  };
}
