// The first analysis of a file opened in the editor, without parsing all of it: split the text into top-level items with a small lexer, keep the items that can matter (analysis/inertEdits.ts) and every directive, and parse only those (tree-sitter's included ranges, positions stay the file's).
//
// The same reasoning as the editor's fast path: an item that names no pin, wrapper, release, protection, flag or
// annotation cannot change a report, so leaving it out of the parse cannot either. The split is a heuristic, so the
// engine checks the result (engine.ts, `analyzeFirstLook`): the partial tree must parse without errors, and every
// item left out must be inert under the watch names of the analysis made without it; otherwise the caller parses
// the whole file. test/unit/firstLook.test.ts compares the result with a full analysis.
import { countDefines, isInertText } from './inertEdits';

export interface TextItem { start: number; end: number; kind: 'code' | 'directive' | 'comment'; name?: string }

/**
 * Top-level items of C text: directives (a line from `#`, with continuations), comments outside items, and code
 * items (a function definition up to its closing brace, anything else up to its `;`). Undefined when the text does
 * not split cleanly (unbalanced braces, an unterminated comment or string, braces split across #if branches).
 */
export function splitTopLevel(text: string): TextItem[] | undefined {
  const items: TextItem[] = [];
  const n = text.length;
  let i = 0;
  let depth = 0;
  let itemStart = -1;
  let header = -1; // where the first top-level `{` of the current item is
  let lineStart = true;
  const skipLineComment = (): void => { while (i < n && text[i] !== '\n') i++; };
  const skipBlockComment = (): boolean => {
    const close = text.indexOf('*/', i + 2);
    if (close < 0) return false;
    i = close + 2;
    return true;
  };
  const skipQuoted = (q: string): boolean => {
    for (i++; i < n; i++) {
      const c = text[i];
      if (c === '\\') { i++; continue; }
      if (c === q) { i++; return true; }
      if (c === '\n') return false;
    }
    return false;
  };
  while (i < n) {
    const c = text[i];
    if (c === '\n') { lineStart = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '#' && lineStart) {
      const from = text.lastIndexOf('\n', i - 1) + 1;
      // To the end of the line, following backslash continuations and comments that span lines.
      while (i < n && text[i] !== '\n') {
        if (text[i] === '/' && text[i + 1] === '*') { if (!skipBlockComment()) return undefined; continue; }
        if (text[i] === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) { i += text[i + 1] === '\r' ? 3 : 2; continue; }
        i++;
      }
      if (i < n) i++;
      if (itemStart < 0) items.push({ start: from, end: i, kind: 'directive', name: /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)/.exec(text.slice(from, i))?.[1] });
      lineStart = true;
      continue;
    }
    lineStart = false;
    if (c === '/' && text[i + 1] === '/') {
      const from = i;
      skipLineComment();
      // With its newline: a line comment that ends a parsed range without one would run on into the next range.
      if (i < n) i++;
      lineStart = true;
      if (itemStart < 0) items.push({ start: from, end: i, kind: 'comment' });
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const from = i;
      if (!skipBlockComment()) return undefined;
      if (itemStart < 0) items.push({ start: from, end: i, kind: 'comment' });
      continue;
    }
    if (itemStart < 0) { itemStart = i; header = -1; }
    if (c === '"' || c === '\'') { if (!skipQuoted(c)) return undefined; continue; }
    if (c === '{') {
      if (depth === 0 && header < 0) header = i;
      depth++;
    } else if (c === '}') {
      if (--depth < 0) return undefined;
      if (depth === 0) {
        const head = text.slice(itemStart, header);
        // A function definition ends at its brace; a struct, enum or initialiser goes on to its `;`.
        if (head.includes(')') && !head.includes('=') && !/^\s*(?:typedef|struct|union|enum)\b/.test(head)) {
          items.push({ start: itemStart, end: i + 1, kind: 'code', name: functionName(head) });
          itemStart = -1;
        }
      }
    } else if (c === ';' && depth === 0) {
      items.push({ start: itemStart, end: i + 1, kind: 'code' });
      itemStart = -1;
    }
    i++;
  }
  return depth === 0 && itemStart < 0 ? items : undefined;
}

/** The name a function definition's header declares: the identifier right before its parameter list. */
function functionName(head: string): string | undefined {
  const paren = head.indexOf('(');
  return paren < 0 ? undefined : /([A-Za-z_]\w*)\s*$/.exec(head.slice(0, paren))?.[1];
}

export interface FirstLookPlan {
  /** What to parse: every directive and every item that can matter, in order. */
  included: TextItem[];
  /** Code items left out: each must be inert under the analysis's watch names for the result to stand. */
  excluded: TextItem[];
}

/**
 * Which items to parse: an item matters when it names something in `seed` (the pin, release and notifier APIs) or
 * text that always matters, and then the name it defines matters too (a wrapper, a caller of one, and so on up).
 * Undefined when the split fails. Comments between items are parsed too when the file holds forksafe annotations
 * (they apply by line adjacency, through runs of comments); an item holding one always matters (FS008).
 */
export function planFirstLook(text: string, seed: Iterable<string>): FirstLookPlan | undefined {
  const annotated = text.includes('forksafe');
  const items = splitTopLevel(text);
  if (!items) return undefined;
  const known = new Set(seed);
  const hot = new Set<TextItem>();
  const pending = items.filter((it) => it.kind !== 'comment');
  for (let grew = true; grew;) {
    grew = false;
    for (const it of pending) {
      if (hot.has(it)) continue;
      const body = text.slice(it.start, it.end);
      if (!isInertText(body, known) || (it.kind === 'code' && countDefines(body) > 0)) {
        hot.add(it);
        if (it.name && !known.has(it.name)) known.add(it.name);
        grew = true;
      }
    }
  }
  return {
    included: items.filter((it) => it.kind === 'directive' || hot.has(it) || (annotated && it.kind === 'comment')),
    excluded: items.filter((it) => it.kind === 'code' && !hot.has(it)),
  };
}
