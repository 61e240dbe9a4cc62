// One parsed tree per open document, kept in step with edits so each re-parse is incremental.
import { TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { applyEdit, CSyntax, Tree } from '../analysis/parser';
import { IndexRange, touchedRegion, TouchedRegion } from '../analysis/inertEdits';
import { EditSpan, editedRange } from '../incremental';
import { carryIndex, mergeEdits } from '../analysis/workspace';
import { carryConditionals } from '../analysis/preprocessor';

/** What changed between two parses of a document: enough to tell whether the previous report still holds (incremental.ts). */
export interface DocumentChange {
  fromVersion: number;
  toVersion: number;
  /** The text of `fromVersion`. */
  previousText: string;
  /** All edits since `fromVersion` as one replaced range. */
  edit: EditSpan;
  /** Where the syntax changed (`oldTree.getChangedRanges(newTree)`), in the new text's offsets. */
  changedRanges: IndexRange[];
  /** The items the edited range touched in the old tree (in the new text's offsets), or why that was refused. */
  oldRegion: TouchedRegion | string;
}

interface Entry {
  tree: Tree | undefined;
  version: number;
  /** The text `tree` was parsed from. */
  text: string;
  /** Edits applied to `tree` since it was parsed, merged into one range; 'whole' after a full replacement. */
  pending?: EditSpan | 'whole';
  /** The change the last re-parse went through, kept until the next one. */
  lastChange?: DocumentChange;
}

/** Merges an edit of the current text (offsets a..b replaced by `length` units) into the range edited since the last parse. */
function mergeEdit(pending: EditSpan | undefined, a: number, b: number, length: number): EditSpan {
  const edit = { startIndex: a, oldEndIndex: b, newEndIndex: a + length };
  return pending ? mergeEdits(pending, edit) : edit;
}

/** Position after inserting `text` at (line, character), in UTF-16 units. */
function endOfInsert(start: { line: number; character: number }, text: string): { row: number; column: number } {
  const lastBreak = text.lastIndexOf('\n');
  if (lastBreak < 0) return { row: start.line, column: start.character + text.length };
  let lines = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  return { row: start.line + lines, column: text.length - lastBreak - 1 };
}

/** What the re-parse from `old` to `tree` changed; undefined (the caller analyses afresh) if tree-sitter cannot tell. */
function describeChange(old: Tree, tree: Tree, entry: Entry, edit: EditSpan, toVersion: number, text: string): DocumentChange | undefined {
  try {
    const changedRanges = old.getChangedRanges(tree).map((r) => ({ startIndex: r.startIndex, endIndex: r.endIndex }));
    const range = editedRange(edit, changedRanges, text);
    return { fromVersion: entry.version, toVersion, previousText: entry.text, edit, changedRanges, oldRegion: touchedRegion(old, range.startIndex, range.endIndex) };
  } catch {
    return undefined;
  }
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
        if (entry.pending !== 'whole') entry.pending = mergeEdit(entry.pending, startIndex, oldEndIndex, change.text.length);
        applyEdit(entry.tree, {
          startIndex, oldEndIndex, newEndIndex: startIndex + change.text.length,
          startPosition: { row: change.range.start.line, column: change.range.start.character },
          oldEndPosition: { row: change.range.end.line, column: change.range.end.character },
          newEndPosition: endOfInsert(change.range.start, change.text),
        });
      } else if (entry) {
        entry.tree?.delete();
        entry.tree = undefined;
        entry.pending = 'whole';
      }
      current = TextDocument.update(current, [change], version);
    }
    return current;
  }

  /** The tree for the document's current text, re-parsed incrementally when edits arrived since the last call. */
  treeFor(document: TextDocument, budgetMs: number): { tree: Tree | undefined; budgetHit: boolean; parseMs: number; depthLimitHit?: boolean } {
    let entry = this.entries.get(document.uri);
    if (entry?.tree && entry.version === document.version) return { tree: entry.tree, budgetHit: false, parseMs: 0 };
    const text = document.getText();
    const old = entry?.tree;
    const parsed = this.syntax.parse(text, old, budgetMs);
    let lastChange: DocumentChange | undefined;
    if (entry && old && parsed.tree && entry.pending && entry.pending !== 'whole') {
      lastChange = describeChange(old, parsed.tree, entry, entry.pending, document.version, text);
      // The old tree's index carried over to the new one when asked (only the items the edits touched are indexed again),
      // and its #if arms when no directive line can have changed.
      if (lastChange) {
        carryIndex(old, entry.text, parsed.tree, lastChange.edit, lastChange.changedRanges);
        carryConditionals(old, entry.text, parsed.tree, text, lastChange.edit, lastChange.changedRanges);
      }
    }
    old?.delete();
    entry = { tree: parsed.tree, version: document.version, text, lastChange };
    this.entries.set(document.uri, entry);
    return { tree: parsed.tree, budgetHit: parsed.budgetHit, parseMs: parsed.elapsedMs, depthLimitHit: parsed.depthLimitHit };
  }

  /** The change the document's tree went through to reach `version`, when its last re-parse was from a tree of an earlier version. */
  changeTo(uri: string, version: number): DocumentChange | undefined {
    const c = this.entries.get(uri)?.lastChange;
    return c && c.toVersion === version ? c : undefined;
  }

  /**
   * Starts `document` from `tree`, a tree of its current text made elsewhere (a copy of another DocumentTrees' tree:
   * tree-sitter copies share nodes and are edited independently) that this set now owns: the next parse after an edit
   * is incremental from it, as from a tree parsed here; `close` frees it.
   */
  adopt(document: TextDocument, tree: Tree): void {
    this.entries.get(document.uri)?.tree?.delete();
    this.entries.set(document.uri, { tree, version: document.version, text: document.getText() });
  }

  /** Whether the document has been parsed since it was opened. */
  has(uri: string): boolean {
    return this.entries.has(uri);
  }

  close(uri: string): void {
    this.entries.get(uri)?.tree?.delete();
    this.entries.delete(uri);
  }

  get size(): number {
    return this.entries.size;
  }
}
