// One parsed tree per open document, kept in step with edits so each re-parse is incremental.
import { TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { applyEdit, CSyntax, Tree } from '../analysis/parser';

interface Entry { tree: Tree | undefined; version: number }

/** Position after inserting `text` at (line, character), in UTF-16 units. */
function endOfInsert(start: { line: number; character: number }, text: string): { row: number; column: number } {
  const lastBreak = text.lastIndexOf('\n');
  if (lastBreak < 0) return { row: start.line, column: start.character + text.length };
  let lines = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  return { row: start.line + lines, column: text.length - lastBreak - 1 };
}

export class DocumentTrees {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly syntax: CSyntax) {}

  /**
   * The TextDocuments `update` hook: applies content changes one by one, telling the old tree about each
   * edit in the coordinates of the text it applies to, so the next parse reuses unchanged subtrees.
   */
  update(document: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    const entry = this.entries.get(document.uri);
    let current = document;
    for (const change of changes) {
      if (entry?.tree && 'range' in change) {
        const startIndex = current.offsetAt(change.range.start);
        const oldEndIndex = current.offsetAt(change.range.end);
        applyEdit(entry.tree, {
          startIndex, oldEndIndex, newEndIndex: startIndex + change.text.length,
          startPosition: { row: change.range.start.line, column: change.range.start.character },
          oldEndPosition: { row: change.range.end.line, column: change.range.end.character },
          newEndPosition: endOfInsert(change.range.start, change.text),
        });
      } else if (entry) {
        entry.tree?.delete();
        entry.tree = undefined;
      }
      current = TextDocument.update(current, [change], version);
    }
    return current;
  }

  /** The tree for the document's current text, re-parsed incrementally when edits arrived since the last call. */
  treeFor(document: TextDocument, budgetMs: number): { tree: Tree | undefined; budgetHit: boolean; parseMs: number; depthLimitHit?: boolean } {
    let entry = this.entries.get(document.uri);
    if (entry?.tree && entry.version === document.version) return { tree: entry.tree, budgetHit: false, parseMs: 0 };
    const parsed = this.syntax.parse(document.getText(), entry?.tree, budgetMs);
    entry?.tree?.delete();
    entry = { tree: parsed.tree, version: document.version };
    this.entries.set(document.uri, entry);
    return { tree: parsed.tree, budgetHit: parsed.budgetHit, parseMs: parsed.elapsedMs, depthLimitHit: parsed.depthLimitHit };
  }

  close(uri: string): void {
    this.entries.get(uri)?.tree?.delete();
    this.entries.delete(uri);
  }

  get size(): number {
    return this.entries.size;
  }
}
