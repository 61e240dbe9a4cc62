// Text edits in our own span coordinates: apply them to a text, detect overlaps, and merge several fixes into one non-overlapping set.
import type { Fix, TextEditSpan } from '../analysis/finding';
import { comparePositions, Position, Span } from '../analysis/span';

/** Offset of a (line, character) position in `text`; lines end at '\n' as tree-sitter counts them. */
export function offsetAt(text: string, pos: Position): number {
  let offset = 0;
  for (let line = 0; line < pos.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(text.length, offset + pos.character);
}

/** Applies edits of one file (all for the same text) from the end backwards, so earlier offsets stay valid. */
export function applyTextEdits(text: string, edits: ReadonlyArray<{ span: Span; newText: string }>): string {
  const resolved = edits.map((e) => ({ start: offsetAt(text, e.span.start), end: offsetAt(text, e.span.end), newText: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const e of resolved) {
    if (e.end > limit) throw new Error('overlapping text edits');
    out = out.slice(0, e.start) + e.newText + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

/** The same replacement of the same text in the same file. */
export function sameEdit(a: TextEditSpan, b: TextEditSpan): boolean {
  return a.uri === b.uri && a.newText === b.newText && comparePositions(a.span.start, b.span.start) === 0 && comparePositions(a.span.end, b.span.end) === 0;
}

/** Two edits of one file touch the same text (an insertion at the same point counts as touching). */
export function editsOverlap(a: TextEditSpan, b: TextEditSpan): boolean {
  if (a.uri !== b.uri) return false;
  return comparePositions(a.span.start, b.span.end) < 0 && comparePositions(b.span.start, a.span.end) < 0 ||
    comparePositions(a.span.start, b.span.start) === 0;
}

/**
 * Merges the edits of several fixes: identical edits (two sites sharing one release loop) are kept once, and a
 * fix whose edits would overlap edits already taken is left out whole (the next fix-all run picks it up).
 */
export function combineFixes(fixes: readonly Fix[]): TextEditSpan[] {
  return selectFixes(fixes).edits;
}

/** combineFixes, also saying which fixes were taken (whole) and which were left for a later run. */
export function selectFixes<F extends Fix>(fixes: readonly F[]): { edits: TextEditSpan[]; taken: F[]; left: F[] } {
  const edits: TextEditSpan[] = [];
  const taken: F[] = [];
  const left: F[] = [];
  for (const fix of fixes) {
    const fresh = fix.edits.filter((e) => !edits.some((t) => sameEdit(t, e)));
    if (fresh.some((e) => edits.some((t) => editsOverlap(t, e)))) { left.push(fix); continue; }
    edits.push(...fresh);
    taken.push(fix);
  }
  return { edits, taken, left };
}

/** Groups edits by file, in first-seen order. */
export function editsByUri(edits: readonly TextEditSpan[]): Map<string, TextEditSpan[]> {
  const out = new Map<string, TextEditSpan[]>();
  for (const e of edits) {
    const list = out.get(e.uri);
    if (list) list.push(e);
    else out.set(e.uri, [e]);
  }
  return out;
}
