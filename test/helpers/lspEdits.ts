// Applies an LSP WorkspaceEdit to in-memory texts the way an editor would, so protocol tests can check what a code action does.
import type { TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { applyTextEdits } from '../../server/src/explain/textEdits';

/** The edits of `edit` grouped by uri, with the document version each TextDocumentEdit was made for (null: unversioned). */
export function editsOf(edit: WorkspaceEdit): Map<string, { version: number | null; edits: TextEdit[] }> {
  const out = new Map<string, { version: number | null; edits: TextEdit[] }>();
  for (const change of edit.documentChanges ?? []) {
    if (!('textDocument' in change)) throw new Error('unexpected resource operation');
    out.set(change.textDocument.uri, { version: change.textDocument.version, edits: change.edits as TextEdit[] });
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) out.set(uri, { version: null, edits });
  return out;
}

export function applyLspEdits(text: string, edits: TextEdit[]): string {
  return applyTextEdits(text, edits.map((e) => ({ span: e.range, newText: e.newText })));
}
