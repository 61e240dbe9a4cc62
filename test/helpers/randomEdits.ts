// Random didChanges of a C document, aimed at function bodies: what the editor's incremental paths are tested with.
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import type { Node, Tree } from '../../server/src/analysis/parser';
import type { Random } from './random';

/** What gets typed: harmless code, and everything that must force a new analysis (names, braces, comments, directives). */
const TYPED = [
  ' ', ' ', '\t', '\n', 'x', 'i', 'tmp', 'int y = 0;', 'y++;', 'foo(1);', 'return 0;', 'return -EINVAL;', 'goto out;', 'out:',
  '{', '}', '(', ')', ';', '/*', '*/', '// note\n', '"', '\'', '#if 0\n', '#endif\n', '#ifdef CONFIG_PM\n', '#else\n', 'get_user_pages', 'pin_user_pages_fast',
  'FOLL_WRITE', '| FOLL_LONGTERM', 'put_page(p);', 'unpin_user_pages(p, n);', 'mr->pages = p;', 'kfree(p);',
  '// forksafe-ignore FS001: reviewed\n', 'vm_flags_set(vma, VM_DONTCOPY);', 'mmu_interval_notifier_insert', '\u00e9',
];

export function functionBodies(tree: Tree): Node[] {
  const out: Node[] = [];
  const walk = (n: Node, depth: number): void => {
    if (depth > 4) return;
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'function_definition') { const b = c.childForFieldName('body'); if (b) out.push(b); } else walk(c, depth + 1);
    }
  };
  walk(tree.rootNode, 0);
  return out;
}

/** One didChange: 1-3 edits, most inside a function body, some typed names of the file itself (a wrapper's, a field's). */
export function randomChanges(doc: TextDocument, tree: Tree | undefined, rng: Random): TextDocumentContentChangeEvent[] {
  const changes: TextDocumentContentChangeEvent[] = [];
  let text = doc.getText();
  let current = TextDocument.create(doc.uri, 'c', doc.version, text);
  const n = rng.chance(0.2) ? rng.int(2, 3) : 1;
  const bodies = tree ? functionBodies(tree) : [];
  const names = text.match(/[A-Za-z_]\w{3,}/g) ?? ['x'];
  for (let i = 0; i < n; i++) {
    let a: number;
    const where = rng.next();
    if (bodies.length > 0 && i === 0 && where < 0.6) {
      const body = rng.pick(bodies);
      a = rng.int(body.startIndex + 1, Math.max(body.startIndex + 1, body.endIndex - 1));
    } else if (where < 0.85) {
      // The start of a line: between items, before a comment, a directive or a function header.
      const line = rng.int(0, current.lineCount - 1);
      a = current.offsetAt({ line, character: 0 });
    } else {
      a = rng.int(0, text.length);
    }
    a = Math.min(a, text.length);
    const roll = rng.next();
    const len = roll < 0.6 ? 0 : roll < 0.9 ? rng.int(1, 6) : rng.int(1, 80);
    const b = Math.min(text.length, a + len);
    // A name of the file itself: a wrapper's, a field's, or a flag macro's (redefined inside a function body).
    const own = rng.chance(0.2) ? `\n#define ${rng.pick(names)} 0\n` : rng.pick(names);
    const inserted = roll < 0.75 ? (rng.chance(0.15) ? own : rng.pick(TYPED)) : '';
    const change = { range: { start: current.positionAt(a), end: current.positionAt(b) }, text: inserted };
    changes.push(change);
    current = TextDocument.update(current, [change], doc.version + 1);
    text = current.getText();
  }
  return changes;
}

