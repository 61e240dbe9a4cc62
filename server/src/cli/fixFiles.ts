// Quick fixes from the command line: which safe fixes of a scan to apply together, the changed file texts, writing them, and a git-style unified diff of them.
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { formatPatch, structuredPatch } from 'diff';
import type { Finding, Fix } from '../analysis/finding';
import { applyTextEdits, editsByUri, selectFixes } from '../explain/textEdits';

/** One file a set of fixes changes: its text before and after (without a BOM; `bom` says whether to write one back). */
export interface FileChange {
  file: string;
  before: string;
  after: string;
  bom: boolean;
}

/** A fix taken, with the finding it was offered on. */
export interface AppliedFix { finding: Finding; fix: Fix }

export interface FixPlan {
  changes: FileChange[];
  applied: AppliedFix[];
  /** Safe fixes not taken this round: their edits overlap one taken (a second round takes them, on the new text). */
  deferred: AppliedFix[];
  /** Files a fix would edit but that are left alone, with why (not valid UTF-8, changed since the scan, unreadable). */
  skipped: Array<{ file: string; why: string }>;
}

/** The fixes a command-line fix run applies: the safe ones (source.fixAll's set), enabled, with edits. */
export function safeFixes(findings: readonly Finding[]): AppliedFix[] {
  return findings.flatMap((finding) => finding.fixes
    .filter((fix) => fix.safe && !fix.disabledReason && fix.edits.length > 0)
    .map((fix) => ({ finding, fix })));
}

function readExact(file: string): { text: string; bom: boolean } | { why: string } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    return { why: `cannot read: ${(err as Error).message}` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // The analysis saw U+FFFD where the bytes are invalid: writing its text back would change bytes nobody asked to change.
    return { why: 'not valid UTF-8, so it is not rewritten (fix it by hand or convert the file)' };
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  return { text: bom ? text.slice(1) : text, bom };
}

/**
 * Chooses the fixes to apply together (overlapping ones wait for the next round) and computes the new texts, reading
 * each file once. `analysedText` is what the engine saw for a file, when known: a file changed since then is skipped.
 */
export function planFixes(candidates: readonly AppliedFix[], analysedText?: (file: string) => string | undefined): FixPlan {
  const skipped: FixPlan['skipped'] = [];
  const texts = new Map<string, { text: string; bom: boolean } | undefined>();
  const readable = (uri: string): boolean => {
    if (!texts.has(uri)) {
      let file: string;
      try { file = fileURLToPath(uri); } catch { texts.set(uri, undefined); skipped.push({ file: uri, why: 'not a file' }); return false; }
      const read = readExact(file);
      const seen = analysedText?.(file);
      if ('why' in read) { texts.set(uri, undefined); skipped.push({ file, why: read.why }); }
      else if (seen !== undefined && seen !== read.text) { texts.set(uri, undefined); skipped.push({ file, why: 'changed since it was analysed' }); }
      else texts.set(uri, read);
    }
    return texts.get(uri) !== undefined;
  };
  const usable = candidates.filter((c) => c.fix.edits.every((e) => readable(e.uri)));
  const picked = selectFixes(usable.map((c) => ({ ...c.fix, from: c })));
  const changes: FileChange[] = [];
  for (const [uri, edits] of editsByUri(picked.edits)) {
    const read = texts.get(uri)!;
    const after = applyTextEdits(read.text, edits);
    if (after !== read.text) changes.push({ file: fileURLToPath(uri), before: read.text, after, bom: read.bom });
  }
  return { changes, applied: picked.taken.map((f) => f.from), deferred: picked.left.map((f) => f.from), skipped };
}

/** Writes the new texts (with the BOM a file had). */
export function writeChanges(changes: readonly FileChange[]): void {
  for (const c of changes) fs.writeFileSync(c.file, (c.bom ? '\ufeff' : '') + c.after);
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}

/** A path for a diff header: relative to `base` when inside it, else absolute. */
export function diffPath(file: string, base: string): string {
  const rel = path.relative(base, file);
  return posix(rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file);
}

/** Git-style unified diff (`diff --git a/P b/P`, three lines of context) of the changes, paths relative to `base`: `git apply` / `patch -p1` take it from there. */
export function unifiedDiff(changes: readonly FileChange[], base: string): string {
  return [...changes].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)).map((c) => {
    const p = diffPath(c.file, base);
    const patch = structuredPatch(`a/${p}`, `b/${p}`, c.before, c.after, undefined, undefined, { context: 3 });
    patch.isGit = true;
    return formatPatch(patch).replace(/\n?$/, '\n');
  }).join('');
}

/** Lines added and removed per file, for a patch's diffstat. */
export function lineCounts(change: FileChange): { added: number; removed: number } {
  const patch = structuredPatch('a', 'b', change.before, change.after, undefined, undefined, { context: 0 });
  let added = 0;
  let removed = 0;
  for (const h of patch.hunks) for (const l of h.lines) { if (l.startsWith('+')) added++; else if (l.startsWith('-')) removed++; }
  return { added, removed };
}
