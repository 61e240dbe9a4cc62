// The editor's fast path: after an edit that cannot change the report (analysis/inertEdits.ts), the previous report with every position in the edited file moved by the edit, instead of a new analysis.
import type { Tree } from './analysis/parser';
import type { Finding, Fix, RelatedLocation, SiteArg, SiteDetails, TextEditSpan } from './analysis/finding';
import { Position, positionAfter, Span } from './analysis/span';
import { countDefines, IndexRange, isInertText, touchedRegion, TouchedRegion } from './analysis/inertEdits';
import type { Report } from './engine';

/** Every change since the previous text as one replaced range, in UTF-16 offsets: previous[start, oldEnd) became text[start, newEnd). */
export interface EditSpan { startIndex: number; oldEndIndex: number; newEndIndex: number }

export interface ReuseInput {
  /** The report of `previousText`, made with `watchNames`. */
  previous: Report;
  previousText: string;
  text: string;
  /** The tree of `text`. */
  tree: Tree;
  edit: EditSpan;
  /** `oldTree.getChangedRanges(tree)`: where the syntax changed, in `text` offsets. */
  changedRanges: readonly IndexRange[];
  /** `touchedRegion` of `editedRange(edit, changedRanges)` in the old tree (edited, so in `text` offsets), or why it was refused. */
  oldRegion: TouchedRegion | string;
}

/**
 * The edit and every range whose syntax changed, as one range of the new text, widened to whole lines: code that
 * shares a line with an edit counts as touched (a suppression fix copies its line's indentation, a directive owns
 * its line).
 */
export function editedRange(edit: EditSpan, changedRanges: readonly IndexRange[], text: string): IndexRange {
  let startIndex = edit.startIndex;
  let endIndex = edit.newEndIndex;
  for (const r of changedRanges) {
    startIndex = Math.min(startIndex, r.startIndex);
    endIndex = Math.max(endIndex, r.endIndex);
  }
  const lineEnd = text.indexOf('\n', endIndex);
  return { startIndex: text.lastIndexOf('\n', startIndex - 1) + 1, endIndex: lineEnd < 0 ? text.length : lineEnd };
}

export type ReuseResult = { report: Report } | { reason: string };

/** The previous report moved by the edit when the edit cannot change it; otherwise why not (for the log and the tests). */
export function reuseReport(input: ReuseInput): ReuseResult {
  const { previous, previousText, text, edit } = input;
  const names = previous.watchNames;
  if (!names) return { reason: 'the previous report has no watch names' };
  if (previous.stats.budgetHit || previous.stats.skipped) return { reason: 'the previous analysis was cut short' };
  const range = editedRange(edit, input.changedRanges, text);
  const now = touchedRegion(input.tree, range.startIndex, range.endIndex);
  if (typeof now === 'string') return { reason: now };
  const old = input.oldRegion;
  if (typeof old === 'string') return { reason: old };
  // Both regions contain the edited range, so they start before the edit and end after it: map the old end back.
  // Whole lines: a finding's quick fix reads its whole line (the indentation of a suppression comment), so code sharing
  // a line with the edit counts as edited.
  const delta = edit.newEndIndex - edit.oldEndIndex;
  const nowText = wholeLines(text, now.startIndex, now.endIndex);
  const oldText = wholeLines(previousText, old.startIndex, old.endIndex - delta);
  if (!isInertText(nowText, names) || !isInertText(oldText, names)) {
    return { reason: 'the edited code names a pin, release, protection, wrapper, flag macro or annotation' };
  }
  // A #define inside a function body, or one more or fewer at top level, can give a name the analysis reads a value.
  if (countDefines(nowText) !== now.macroItems || countDefines(oldText) !== old.macroItems) return { reason: 'the edit adds or removes a #define' };
  const start = positionAfter(previousText, { line: 0, character: 0 }, 0, edit.startIndex);
  const shift = new Shift(start, positionAfter(previousText, start, edit.startIndex, edit.oldEndIndex), positionAfter(text, start, edit.startIndex, edit.newEndIndex));
  // forksafe comments apply to the line right below them: outside a function body, moving lines next to one matters.
  if (shift.movesLines && !(now.insideFunction && old.insideFunction) && (now.besideAnnotation || old.besideAnnotation)) {
    return { reason: 'the edit moves lines next to a forksafe comment' };
  }
  try {
    return { report: shiftReport(previous, shift, text.length) };
  } catch (err) {
    if (err instanceof NotShiftable) return { reason: err.message };
    throw err;
  }
}

function wholeLines(text: string, start: number, end: number): string {
  const from = text.lastIndexOf('\n', start - 1) + 1;
  // A directive's range ends after its newline: its line is already whole.
  const to = end > start && text[end - 1] === '\n' ? end : text.indexOf('\n', end);
  return text.slice(from, to < 0 ? text.length : to);
}


class NotShiftable extends Error {}

/** Moves positions of the edited file: unchanged before the edit, moved after it; a position inside the edit cannot be moved. */
class Shift {
  constructor(private readonly start: Position, private readonly oldEnd: Position, private readonly newEnd: Position) {}

  position(p: Position): Position {
    if (p.line < this.start.line || (p.line === this.start.line && p.character < this.start.character)) return p;
    if (p.line > this.oldEnd.line) return { line: p.line + this.newEnd.line - this.oldEnd.line, character: p.character };
    if (p.line === this.oldEnd.line && p.character >= this.oldEnd.character) {
      return { line: this.newEnd.line, character: this.newEnd.character + p.character - this.oldEnd.character };
    }
    throw new NotShiftable('a reported position lies inside the edit');
  }

  get movesLines(): boolean { return this.oldEnd.line !== this.newEnd.line; }

  /** Whether text on `line` may move to another line (a line shared with the edit may be before or after it: assume moved). */
  movesLine(line: number): boolean {
    return line >= this.start.line && this.oldEnd.line !== this.newEnd.line;
  }

  span(s: Span): Span {
    return { start: this.position(s.start), end: this.position(s.end) };
  }
}

/** A copy of `report` with every position in its own file moved; shared site objects stay shared. */
function shiftReport(report: Report, shift: Shift, bytes: number): Report {
  const uri = report.uri;
  const spanIn = (u: string | undefined, s: Span): Span => (u === uri ? shift.span(s) : s);
  const sites = new Map<SiteDetails, SiteDetails>();
  const site = (d: SiteDetails): SiteDetails => {
    let moved = sites.get(d);
    if (moved) return moved;
    for (const p of d.protections) {
      // The message prints this line ("drv.c:120"): moving it would change the text, so analyse again.
      if (p.at?.uri === uri && shift.movesLine(p.at.line)) throw new NotShiftable('a message names a line the edit moves');
    }
    // A message names the caller that keeps the pages by its line too (facts.keptBy is the site's own outermost call).
    if (d.callers.some((c) => c.uri === uri && shift.movesLine(c.span.start.line))) throw new NotShiftable('a message names a caller line the edit moves');
    if (d.facts.keptBy && d.from.uri === uri && shift.movesLine(d.from.span.start.line)) throw new NotShiftable('a message names this caller\'s line, which the edit moves');
    const arg = (a: SiteArg | undefined): SiteArg | undefined => (a && a.span ? { ...a, span: spanIn(a.uri, a.span) } : a);
    moved = {
      ...d,
      call: spanIn(d.uri, d.call),
      calleeSpan: spanIn(d.uri, d.calleeSpan),
      apiCall: { uri: d.apiCall.uri, span: spanIn(d.apiCall.uri, d.apiCall.span) },
      chain: d.chain.map((c) => ({ ...c, span: spanIn(c.uri, c.span) })),
      callers: d.callers.map((c) => ({ ...c, span: spanIn(c.uri, c.span) })),
      from: { ...d.from, span: spanIn(d.from.uri, d.from.span), calleeSpan: spanIn(d.from.uri, d.from.calleeSpan), chain: d.from.chain.map((c) => ({ ...c, span: spanIn(c.uri, c.span) })) },
      start: arg(d.start), pages: arg(d.pages), flags: arg(d.flags),
      releases: d.releases.map((r) => ({ ...r, span: spanIn(r.uri, r.span) })),
    };
    sites.set(d, moved);
    return moved;
  };
  const related = (r: RelatedLocation): RelatedLocation => ({ ...r, span: spanIn(r.uri, r.span) });
  const edit = (e: TextEditSpan): TextEditSpan => ({ ...e, span: spanIn(e.uri, e.span) });
  const fix = (f: Fix): Fix => ({ ...f, edits: f.edits.map(edit) });
  const finding = (f: Finding): Finding => {
    const moved: Finding = { ...f, span: spanIn(f.uri, f.span), related: f.related.map(related), fixes: f.fixes.map(fix) };
    if (f.site) moved.site = site(f.site);
    return moved;
  };
  const findings = report.findings.map(finding);
  return {
    ...report,
    findings,
    notes: [...report.notes],
    sites: report.sites?.map(site),
    stats: { ...report.stats, bytes, parseMs: 0, analyzeMs: 0 },
  };
}
