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

export function spanContains(span: Span, pos: Position): boolean {
  return comparePositions(span.start, pos) <= 0 && comparePositions(pos, span.end) <= 0;
}
