// Our own position type: zero-based line and UTF-16 character, as tree-sitter gives them. Only lsp/convert.ts and the SARIF formatter translate it.
import type { Node } from './parser';

export interface Position { line: number; character: number }
export interface Span { start: Position; end: Position }

export function spanOf(node: Node): Span {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

/** Orders strings by UTF-16 code unit: the same order on every machine (not the locale's), and no collation cost. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function spanContains(span: Span, pos: Position): boolean {
  return comparePositions(span.start, pos) <= 0 && comparePositions(pos, span.end) <= 0;
}

/**
 * The position of `offset` in `text`, counted on from a known position `from` at `fromOffset` (0 and the start for
 * the whole text): tree-sitter's convention, only \n ends a line, columns in UTF-16 units. Walking ascending
 * offsets one after the other costs one pass over the text.
 */
export function positionAfter(text: string, from: Position, fromOffset: number, offset: number): Position {
  let line = from.line;
  let lineStart = fromOffset - from.character;
  for (let i = text.indexOf('\n', fromOffset); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}
