// C text with its comments and string and character literals blanked: what the prefilter tests a name on when only code can make it matter (a pin API named in a comment pins nothing).
import { BACKSLASH, CR, LF, SLASH, SQUOTE, STAR } from './charCodes';

/**
 * `text` with every comment and every string or character literal replaced by spaces (line breaks kept, so offsets and
 * lines stay). Only well-formed ones are blanked: a block comment without its end, or a quote that does not close on
 * its line (a line continuation aside), is left as it is, so what this gets wrong can only keep a name, never hide one
 * the grammar would read as code. Escapes in literals and continued line comments follow C. A character literal is
 * blanked only when it closes within a few ASCII characters ('a', '\n', '\x41', 'abcd'): an apostrophe in prose
 * inside `#if 0` or an `#error` line is not one. Every delimiter is ASCII, so the bytes of a UTF-8 file read as Latin-1
 * give the same answer as its decoded text, strict or lossy (fileRelevance.ts, namesPinApiInCodeBytes).
 */
export function codeOnly(text: string): string {
  let out: string[] | undefined;
  let copied = 0;
  for (let at = 0, r = nextRegion(text, 0); r; at = r.end, r = nextRegion(text, at)) {
    out ??= [];
    out.push(text.slice(copied, r.start), text.slice(r.start, r.end).replace(/[^\n]/g, ' '));
    copied = r.end;
  }
  if (!out) return text;
  out.push(text.slice(copied));
  return out.join('');
}

/**
 * Whether `pattern` matches `text`'s code: the same answer as `pattern.test(codeOnly(text))` for a pattern that matches
 * whole identifiers only (wordsPattern in fileRelevance.ts), without building the blanked text. Such a match in the
 * blanked text is a match of the text lying outside every blanked region, and the reverse holds too: a region starts
 * with '/' or a quote and ends with '/', a quote or before a line break, so `\b` reads the same either side of it. The
 * regions are found from the start only as far as the matches need (`regions`: kept by callers asking several patterns
 * of one text); a name in code early in a large file is answered after a short scan.
 */
export function namesInCode(text: string, pattern: RegExp, regions: CodeRegions = new CodeRegions(text)): boolean {
  const g = globalOf(pattern);
  g.lastIndex = 0;
  for (let m = g.exec(text); m; m = g.exec(text)) {
    if (regions.keeps(m.index, m.index + m[0].length)) return true;
    if (m[0].length === 0) g.lastIndex = m.index + 1;
  }
  return false;
}

/** The comments and literals of a text (codeOnly's blanked regions), listed from the start as far as they are asked for. */
export class CodeRegions {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** Every region starting before this offset is listed (the text's length once none is left). */
  private scanned = 0;

  constructor(private readonly text: string) {}

  /** Whether [from, to) lies outside every region: what codeOnly leaves as it is. */
  keeps(from: number, to: number): boolean {
    while (this.scanned < to) {
      const r = nextRegion(this.text, this.scanned);
      if (!r) { this.scanned = this.text.length; break; }
      this.starts.push(r.start);
      this.ends.push(r.end);
      this.scanned = r.end;
    }
    // The last region starting before `to` is the only one that can reach into [from, to): regions do not overlap.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! < to) lo = mid + 1; else hi = mid;
    }
    return lo === 0 || this.ends[lo - 1]! <= from;
  }
}

const globals = new Map<string, RegExp>();

/** A global copy of `pattern` (kept per source; the callers' patterns are few and reused). */
function globalOf(pattern: RegExp): RegExp {
  const key = `${pattern.flags}/${pattern.source}`;
  let g = globals.get(key);
  if (!g) {
    if (globals.size >= 256) globals.clear();
    // Global, not sticky: every match in the text is visited in turn.
    g = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}g`);
    globals.set(key, g);
  }
  return g;
}

/**
 * The first region (a well-formed comment or string or character literal) starting at or after `from`, scanning as C
 * would from a point outside any region; undefined when none is left, which includes every region after a block comment
 * that never ends (the rest of the text then stays as it is).
 */
function nextRegion(text: string, from: number): { start: number; end: number } | undefined {
  const n = text.length;
  // Jumps from one character that can open a comment or a literal to the next with a native regex (as splitTopLevel
  // does in analysis/firstLook.ts): a character loop in JavaScript is slow until the JIT warms up.
  const opener = OPENER;
  let i = from;
  while (i < n) {
    opener.lastIndex = i;
    const m = opener.exec(text);
    if (!m) return undefined;
    i = m.index;
    const c = text.charCodeAt(i);
    if (c === SLASH) {
      const next = text.charCodeAt(i + 1);
      if (next === STAR) {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) return undefined; // unterminated: the rest stays as it is
        return { start: i, end: end + 2 };
      }
      if (next === SLASH) return { start: i, end: lineCommentEnd(text, i + 2) };
    } else {
      const end = literalEnd(text, i, c);
      if (end > 0) return { start: i, end };
    }
    i++;
  }
  return undefined;
}

const OPENER = /[/"']/g;
/**
 * The longest character literal blanked, quotes included ('\x41', '\0377', multi-character constants of four); one
 * holding a character past ASCII is never blanked, so the bytes of a file read as Latin-1 and its decoded text give
 * the same answer (such a character is one or two UTF-16 units decoded, two to four bytes).
 */
const MAX_CHAR_LITERAL = 10;

function asciiOnly(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (text.charCodeAt(k) > 0x7f) return false;
  return true;
}

/** The end of a line comment starting before `from`: the line break that is not continued by a backslash (or the end). */
function lineCommentEnd(text: string, from: number): number {
  let i = from;
  for (;;) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return text.length;
    let k = nl - 1;
    if (k >= from && text.charCodeAt(k) === CR) k--;
    if (k >= from && text.charCodeAt(k) === BACKSLASH) { i = nl + 1; continue; }
    return nl;
  }
}

/** The index after the literal opened by the quote at `start`, or -1 when it does not close as C would close it. */
function literalEnd(text: string, start: number, quote: number): number {
  const limit = quote === SQUOTE ? Math.min(text.length, start + MAX_CHAR_LITERAL) : text.length;
  let i = start + 1;
  while (i < limit) {
    const c = text.charCodeAt(i);
    if (c === quote) return quote === SQUOTE && !asciiOnly(text, start, i) ? -1 : i + 1;
    if (c === BACKSLASH) {
      // An escape, or a line continuation (backslash, optional CR, line break).
      i += text.charCodeAt(i + 1) === CR && text.charCodeAt(i + 2) === LF ? 3 : 2;
      continue;
    }
    if (c === LF) return -1;
    i++;
  }
  return -1;
}
