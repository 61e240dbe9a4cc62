// Counts tree-sitter ERROR and MISSING nodes in a text, so fix tests can prove an edit adds no syntax error.
import type { CSyntax, Node } from '../../server/src/analysis/parser';

export function countSyntaxErrors(syntax: CSyntax, text: string): number {
  const tree = syntax.parse(text).tree;
  if (!tree) throw new Error('parse failed');
  try {
    let n = 0;
    const walk = (node: Node): void => {
      if (node.type === 'ERROR' || node.isMissing) n++;
      if (!node.hasError && !node.isMissing) return;
      for (const c of node.children) if (c) walk(c);
    };
    walk(tree.rootNode);
    return n;
  } finally {
    tree.delete();
  }
}
