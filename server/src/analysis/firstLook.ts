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
 * not split cleanly (unbalanced braces or parentheses, an unterminated comment or string, braces split across #if
 * branches): tree-sitter's error recovery could then join items the split separates.
 */
export function splitTopLevel(text: string): TextItem[] | undefined {
  const items: TextItem[] = [];
  const n = text.length;
  // Jumps from one character that matters to the next with a native regex: a character loop in JavaScript is slow
  // until the JIT warms up, and this runs once, cold, when a file is opened.
  const SPECIAL = /[\n#/"'{};()[\]]/g;
  let depth = 0;
  // Open ( and [: an item must not end inside them (tree-sitter's error recovery would join it to the next one).
  let parens = 0;
  let itemStart = -1;
  let header = -1; // where the first top-level `{` of the current item is
  let i = 0;
  const startItemIn = (from: number, to: number): void => {
    if (itemStart >= 0) return;
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c !== 32 && c !== 9 && c !== 13 && c !== 10 && c !== 12 && c !== 11) { itemStart = k; header = -1; return; }
    }
  };
  while (i < n) {
    SPECIAL.lastIndex = i;
    const m = SPECIAL.exec(text);
    if (!m) { startItemIn(i, n); break; }
    const at = m.index;
    startItemIn(i, at);
    const c = text[at];
    i = at + 1;
    if (c === '\n') continue;
    if (c === '#') {
      const from = text.lastIndexOf('\n', at - 1) + 1;
      if (!/^[ \t]*$/.test(text.slice(from, at))) { startItemIn(at, at + 1); continue; }
      // A directive: to the end of the line, following backslash continuations and comments that span lines.
      let k = at;
      while (k < n && text[k] !== '\n') {
        if (text[k] === '/' && text[k + 1] === '*') { const close = text.indexOf('*/', k + 2); if (close < 0) return undefined; k = close + 2; continue; }
        if (text[k] === '\\' && (text[k + 1] === '\n' || (text[k + 1] === '\r' && text[k + 2] === '\n'))) { k += text[k + 1] === '\r' ? 3 : 2; continue; }
        k++;
      }
      i = k < n ? k + 1 : k;
      if (itemStart < 0) items.push({ start: from, end: i, kind: 'directive', name: /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)/.exec(text.slice(from, i))?.[1] });
      continue;
    }
    if (c === '/') {
      if (text[at + 1] === '/') {
        const nl = text.indexOf('\n', at);
        // With its newline: a line comment that ends a parsed range without one would run on into the next range.
        i = nl < 0 ? n : nl + 1;
        if (itemStart < 0) items.push({ start: at, end: i, kind: 'comment' });
        continue;
      }
      if (text[at + 1] === '*') {
        const close = text.indexOf('*/', at + 2);
        if (close < 0) return undefined;
        i = close + 2;
        if (itemStart < 0) items.push({ start: at, end: i, kind: 'comment' });
        continue;
      }
      startItemIn(at, at + 1);
      continue;
    }
    startItemIn(at, at + 1);
    if (c === '"' || c === '\'') {
      let k = at + 1;
      for (; k < n; k++) {
        const q = text[k];
        if (q === '\\') { k++; continue; }
        if (q === c || q === '\n') break;
      }
      if (k >= n || text[k] !== c) return undefined;
      i = k + 1;
      continue;
    }
    if (c === '(' || c === '[') {
      parens++;
    } else if (c === ')' || c === ']') {
      if (--parens < 0) return undefined;
    } else if (c === '{') {
      if (depth === 0 && header < 0) header = at;
      depth++;
    } else if (c === '}') {
      if (--depth < 0) return undefined;
      if (depth === 0) {
        if (parens !== 0) return undefined;
        const head = text.slice(itemStart, header);
        // A function definition ends at its brace; a struct, enum or initialiser goes on to its `;`.
        if (head.includes(')') && !head.includes('=') && !/^\s*(?:typedef|struct|union|enum)\b/.test(head)) {
          items.push({ start: itemStart, end: at + 1, kind: 'code', name: functionName(head) });
          itemStart = -1;
        }
      }
    } else if (c === ';' && depth === 0) {
      if (parens !== 0) return undefined;
      items.push({ start: itemStart, end: at + 1, kind: 'code' });
      itemStart = -1;
    }
  }
  return depth === 0 && parens === 0 && itemStart < 0 ? items : undefined;
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
