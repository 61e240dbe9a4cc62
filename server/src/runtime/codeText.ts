// C text with its comments and string and character literals blanked: what the prefilter tests a name on when only code can make it matter (a pin API named in a comment pins nothing).

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
  const n = text.length;
  let out: string[] | undefined;
  let copied = 0;
  const blank = (from: number, to: number): void => {
    out ??= [];
    out.push(text.slice(copied, from), text.slice(from, to).replace(/[^\n]/g, ' '));
    copied = to;
  };
  // Jumps from one character that can open a comment or a literal to the next with a native regex (as splitTopLevel
  // does in analysis/firstLook.ts): a character loop in JavaScript is slow until the JIT warms up.
  const opener = /[/"']/g;
  let i = 0;
  while (i < n) {
    opener.lastIndex = i;
    const m = opener.exec(text);
    if (!m) break;
    i = m.index;
    const c = text.charCodeAt(i);
    if (c === SLASH) {
      const next = text.charCodeAt(i + 1);
      if (next === STAR) {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) break; // unterminated: the rest stays as it is
        blank(i, end + 2);
        i = end + 2;
        continue;
      }
      if (next === SLASH) {
        const end = lineCommentEnd(text, i + 2);
        blank(i, end);
        i = end;
        continue;
      }
    } else {
      const end = literalEnd(text, i, c);
      if (end > 0) {
        blank(i, end);
        i = end;
        continue;
      }
    }
    i++;
  }
  if (!out) return text;
  out.push(text.slice(copied));
  return out.join('');
}

const SLASH = 0x2f;
const STAR = 0x2a;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const CR = 0x0d;
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
      i += text.charCodeAt(i + 1) === CR && text.charCodeAt(i + 2) === NEWLINE ? 3 : 2;
      continue;
    }
    if (c === NEWLINE) return -1;
    i++;
  }
  return -1;
}
