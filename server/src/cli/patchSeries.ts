// `forksafe fix --format-patch DIR`: the safe fixes of a scan as one git am-able mail per driver folder, with a kernel-style subject and a body worded from the findings.
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { fileURLToPath } from 'url';
import type { FixKind, TextEditSpan } from '../analysis/finding';
import { applyTextEdits, sameEdit } from '../explain/textEdits';
import { AppliedFix, FileChange, lineCounts, unifiedDiff, diffPath } from './fixFiles';

/** The kernel commits a fix relies on, cited the way kernel changelogs cite them. */
const COMMITS = {
  pin: 'commit eddb1c228f79 ("mm/gup: introduce pin_user_pages*() and FOLL_PIN") (v5.6)',
  forkCopy: 'commit 70e806e4e645 ("mm: Do early cow for pinned pages during fork() for ptes") (v5.9)',
  longterm: 'commit 932f4a630a69 ("mm/gup: replace get_user_pages_longterm() with FOLL_LONGTERM") (v5.2)',
} as const;

export interface PatchOptions {
  dir: string;
  version: string;
  /** "Name <email>"; undefined: git's author identity, else a placeholder. */
  author: string | undefined;
  /** The analysed texts, by absolute path: each driver's diff starts where the previous driver's left the file. */
  original: (file: string) => string | undefined;
  /** Fixed mail date (tests); default now. */
  date?: Date;
}

export interface WrittenPatch { file: string; driver: string; subject: string; fixes: number; files: number }

/** The folder holding a `.git` (directory, or file for worktrees) at or above `from`; undefined outside a git work tree. */
export function gitTopLevel(from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The author for the mails: --author, else git's identity (`git var GIT_AUTHOR_IDENT`), else a placeholder to replace. */
export function patchAuthor(given: string | undefined, cwd: string): { author: string; placeholder: boolean } {
  if (given) return { author: given, placeholder: false };
  try {
    const ident = execFileSync('git', ['var', 'GIT_AUTHOR_IDENT'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const m = /^(.*<[^>]*>)/.exec(ident.trim());
    if (m) return { author: m[1], placeholder: false };
  } catch {
    // No git, or no identity configured: fall through.
  }
  return { author: 'forksafe user <you@example.invalid>', placeholder: true };
}

/** Wraps prose at 72 columns, as kernel changelogs are; lines starting with spaces (lists, citations) are kept. */
function wrap(text: string, width = 72): string {
  return text.split('\n').map((line) => {
    if (line.startsWith(' ') || line.length <= width) return line;
    const out: string[] = [];
    let cur = '';
    for (const word of line.split(' ')) {
      if (cur !== '' && cur.length + 1 + word.length > width) { out.push(cur); cur = word; } else cur = cur === '' ? word : `${cur} ${word}`;
    }
    if (cur !== '') out.push(cur);
    return out.join('\n');
  }).join('\n');
}

const SUBJECTS: Array<[FixKind, string]> = [
  ['convertToPin', 'pin long-lived DMA pages with FOLL_LONGTERM'],
  ['addLongterm', 'pass FOLL_LONGTERM for long-lived pins'],
  ['fixRelease', 'release pinned pages with the matching unpin call'],
];

function subjectFor(driver: string, fixes: readonly AppliedFix[], kinds: ReadonlySet<FixKind>): string {
  const targets = [...new Set(fixes.filter((a) => a.fix.kind === 'convertToPin').map((a) => a.finding.site?.facts.pinEquivalent).filter((n) => n !== undefined))];
  const summary = targets.length === 1 ? `use ${targets[0]}() for long-lived DMA pins` : SUBJECTS.find(([k]) => kinds.has(k))?.[1] ?? 'apply forksafe fixes';
  return `${driver}: ${summary}`;
}

function siteLine(a: AppliedFix, base: string): string {
  const file = diffPath(fileURLToPath(a.finding.uri), base);
  const line = a.finding.span.start.line + 1;
  const site = a.finding.site;
  const what = a.fix.kind === 'convertToPin' && site
    ? `${site.api}() -> ${site.facts.pinEquivalent ?? 'pin_user_pages*'}() with FOLL_LONGTERM${site.releases.length > 0 ? `, ${site.releases.length} release${site.releases.length === 1 ? '' : 's'} converted` : ''}`
    : a.fix.kind === 'addLongterm' ? `${site?.api ?? 'pin'}(): FOLL_LONGTERM added`
    : a.fix.title;
  return `  ${file}:${line} (${a.finding.code}): ${what}`;
}

function bodyFor(fixes: readonly AppliedFix[], kinds: ReadonlySet<FixKind>, base: string, opts: PatchOptions): string {
  const paras: string[] = [];
  const converted = fixes.filter((a) => a.fix.kind === 'convertToPin' && a.finding.site);
  if (converted.length > 0) {
    const apis = [...new Set(converted.map((a) => `${a.finding.site!.api}()`))].join(', ');
    const outcome = converted[0].finding.site!.outcome;
    paras.push(`The driver takes user pages with ${apis} and keeps the references after the system call returns, for the device to DMA to or from. Those are plain page references: fork() does not treat the pages as pinned, makes them copy-on-write, and whichever process writes first moves to a new page while the device keeps the old one. ${outcome}`);
    paras.push('Take the pages with the pin_user_pages*() counterpart and FOLL_LONGTERM, and release them with unpin_user_page*() wherever they were put. Since 5.9 fork() copies pages that hold a FOLL_PIN reference for the child at fork time, so the parent and the device keep the same page; FOLL_LONGTERM tells the kernel the pin is long-lived, so the pages are not left in movable or CMA memory.');
  } else if (kinds.has('addLongterm')) {
    paras.push('The driver pins user pages with pin_user_pages*() and keeps them after the system call returns, without FOLL_LONGTERM. A long-lived pin without it can sit in movable or CMA memory and block migration and memory hot-unplug; pass FOLL_LONGTERM for pins that outlive the call.');
  } else if (kinds.has('fixRelease')) {
    paras.push('Pages taken with pin_user_pages*() must be released with unpin_user_page*(), and pages taken with get_user_pages*() with put_page(): the other release leaves the pin count wrong.');
  }
  const k = fixes.find((a) => a.finding.site)?.finding.site?.facts.kernel;
  paras.push(`Sites (forksafe ${opts.version}${k ? `, kernel ${k.major}.${k.minor}` : ''}):\n${fixes.map((a) => siteLine(a, base)).join('\n')}`);
  const cites = [
    ...(converted.length > 0 ? [COMMITS.pin, COMMITS.forkCopy] : []),
    ...(converted.length > 0 || kinds.has('addLongterm') ? [COMMITS.longterm] : []),
    ...(kinds.has('fixRelease') && converted.length === 0 ? [COMMITS.pin] : []),
  ];
  if (cites.length > 0) paras.push(`This relies on:\n${[...new Set(cites)].map((c) => `  ${c}`).join('\n')}`);
  return paras.map((p) => wrap(p)).join('\n\n');
}

function slug(subject: string): string {
  return subject.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 52).replace(/-+$/, '');
}

function mailDate(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * Writes one patch per driver folder (the folder of the file a fixed finding is in), in path order. Each patch is
 * against the tree as the patches before it left it, so the series applies in order with `git am`.
 */
export function writePatchSeries(applied: readonly AppliedFix[], opts: PatchOptions, cwd: string): { patches: WrittenPatch[]; authorPlaceholder: boolean } {
  const byDriver = new Map<string, AppliedFix[]>();
  for (const a of applied) {
    const dir = path.dirname(fileURLToPath(a.finding.uri));
    const list = byDriver.get(dir);
    if (list) list.push(a); else byDriver.set(dir, [a]);
  }
  const drivers = [...byDriver.keys()].sort();
  const { author, placeholder } = patchAuthor(opts.author, cwd);
  const date = mailDate(opts.date ?? new Date());
  fs.mkdirSync(opts.dir, { recursive: true });
  const done: TextEditSpan[] = [];
  const series: Array<{ driver: string; subject: string; fixes: AppliedFix[]; changes: FileChange[]; base: string; kinds: Set<FixKind> }> = [];
  for (const driver of drivers) {
    const fixes = byDriver.get(driver)!;
    const fresh = fixes.flatMap((a) => a.fix.edits).filter((e, k, all) => all.findIndex((x) => sameEdit(x, e)) === k && !done.some((d) => sameEdit(d, e)));
    const changes: FileChange[] = [];
    for (const uri of new Set(fresh.map((e) => e.uri))) {
      const file = fileURLToPath(uri);
      const original = opts.original(file);
      if (original === undefined) continue;
      const before = applyTextEdits(original, done.filter((e) => e.uri === uri));
      const after = applyTextEdits(original, [...done, ...fresh].filter((e) => e.uri === uri));
      if (before !== after) changes.push({ file, before, after, bom: false });
    }
    done.push(...fresh);
    if (changes.length === 0) continue;
    const kinds = new Set(fixes.map((a) => a.fix.kind));
    series.push({ driver, subject: subjectFor(path.basename(driver), fixes, kinds), fixes, changes, base: gitTopLevel(driver) ?? cwd, kinds });
  }
  const patches: WrittenPatch[] = [];
  for (const [i, { driver, subject, fixes, changes, base, kinds }] of series.entries()) {
    const counts = changes.map((c) => ({ p: diffPath(c.file, base), ...lineCounts(c) }));
    const width = Math.max(...counts.map((c) => c.p.length));
    const added = counts.reduce((n, c) => n + c.added, 0);
    const removed = counts.reduce((n, c) => n + c.removed, 0);
    const stat = [
      ...counts.map((c) => ` ${c.p.padEnd(width)} | ${String(c.added + c.removed).padStart(3)} ${'+'.repeat(Math.min(c.added, 30))}${'-'.repeat(Math.min(c.removed, 30))}`),
      ` ${changes.length} file${changes.length === 1 ? '' : 's'} changed, ${added} insertion${added === 1 ? '' : 's'}(+), ${removed} deletion${removed === 1 ? '' : 's'}(-)`,
    ].join('\n');
    const numbered = series.length === 1 ? '[PATCH]' : `[PATCH ${i + 1}/${series.length}]`;
    const mail = [
      'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
      `From: ${author}`,
      `Date: ${date}`,
      `Subject: ${numbered} ${subject}`,
      '',
      bodyFor(fixes, kinds, base, opts),
      '---',
      stat,
      '',
      unifiedDiff(changes, base).replace(/\n$/, ''),
      '-- ',
      `forksafe ${opts.version}`,
      '',
    ].join('\n');
    const file = path.join(opts.dir, `${String(i + 1).padStart(4, '0')}-${slug(subject)}.patch`);
    fs.writeFileSync(file, mail);
    patches.push({ file, driver, subject, fixes: fixes.length, files: changes.length });
  }
  return { patches, authorPlaceholder: placeholder };
}
