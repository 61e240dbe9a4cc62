// descendantsOfType (analysis/syntaxTools.ts) gives exactly the nodes `descendants` visits that have one of the types,
// in the same order: on every subtree the analysis asks it of (function bodies, conditions, declarations, whole files),
// on every fixture file, on the same texts broken by random edits (ERROR and MISSING nodes), and on a file whose first
// node is empty (tree-sitter's own walk passes over nodes that end at the point (0, 0)), and with ERROR among the types
// (web-tree-sitter's call then returns the ERROR nodes only).
import { strict as assert } from 'assert';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CSyntax, Node } from '../../../server/src/analysis/parser';
import { descendants, descendantsOfType, identifiersIn } from '../../../server/src/analysis/syntaxTools';
import { listFixtureDrivers } from '../../helpers/fixtures';
import { Random, seedFromEnv } from '../../helpers/random';
import { randomChanges } from '../../helpers/randomEdits';
import { syntax } from '../../helpers/syntax';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0x5eed7);

/** The type lists the analysis asks for, and a few more (ERROR, a type that never occurs). */
const TYPE_SETS: ReadonlyArray<readonly string[]> = [
  ['identifier'], ['field_expression'], ['assignment_expression'], ['declaration'], ['field_designator'], ['initializer_pair'],
  ['init_declarator', 'assignment_expression'], ['return_statement', 'assignment_expression', 'init_declarator'],
  ['init_declarator', 'declaration', 'assignment_expression'], ['return_statement'], ['return_statement', 'goto_statement'],
  ['identifier', 'field_expression', 'call_expression'], ['ERROR'], ['ERROR', 'identifier', 'expression_statement'], ['no_such_type'],
];

/** The subtrees to ask about: the root, every function definition, body, condition and declaration. */
function subtrees(root: Node): Node[] {
  const wanted = new Set(['function_definition', 'compound_statement', 'parenthesized_expression', 'condition_clause', 'declaration', 'ERROR']);
  return [root, ...[...descendants(root)].filter((n) => wanted.has(n.type))];
}

const ids = (nodes: Node[]): string[] => nodes.map((n) => `${n.type}@${n.startIndex}-${n.endIndex}#${n.id}`);

/** Checks every subtree and type set of `text`; returns how many subtrees were compared. */
function check(s: CSyntax, text: string, label: string): number {
  const tree = s.parse(text).tree;
  assert.ok(tree, `${label}: parsed`);
  try {
    const nodes = subtrees(tree.rootNode);
    for (const node of nodes) {
      const all = [...descendants(node)];
      for (const types of TYPE_SETS) {
        const expected = all.filter((n) => types.includes(n.type));
        assert.deepEqual(ids(descendantsOfType(node, types)), ids(expected), `${label}: ${types.join('|')} under ${node.type}@${node.startIndex}`);
      }
      assert.deepEqual(ids(identifiersIn(node)), ids(all.filter((n) => n.type === 'identifier')), `${label}: identifiers under ${node.type}@${node.startIndex}`);
    }
    return nodes.length;
  } finally {
    tree.delete();
  }
}

describe('syntaxTools: descendantsOfType', () => {
  let s: CSyntax;
  before(async () => { s = await syntax(); });

  it('equals the filtered walk on every fixture file, on every subtree the analysis asks about', () => {
    let compared = 0;
    for (const driver of listFixtureDrivers()) for (const file of driver.files) compared += check(s, file.text, file.name);
    assert.ok(compared > 500, `compared ${compared} subtrees`);
  });

  it('equals the filtered walk on fixture texts broken by random edits', () => {
    const rng = new Random(SEED);
    let broken = 0;
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        let doc = TextDocument.create('file:///t/x.c', 'c', 1, file.text);
        for (let i = 0; i < 4; i++) doc = TextDocument.update(doc, randomChanges(doc, undefined, rng), doc.version + 1);
        const text = doc.getText();
        const tree = s.parse(text).tree!;
        if (tree.rootNode.hasError) broken++;
        tree.delete();
        check(s, text, `${file.name} (edited, seed ${SEED})`);
      }
    }
    assert.ok(broken > 10, `${broken} edited texts with syntax errors`);
  });

  it('finds an empty node at the very start of a file, and ERROR nodes among other types', () => {
    // An empty file's root, and `[1];`, where error recovery inserts a MISSING identifier at (0, 0); ERROR nodes first.
    for (const text of ['', '[1];', '[1];\nint y;\n', '= 1;\nint y;\n', '\n= 1;', ') x;', '"\n']) {
      const tree = s.parse(text).tree!;
      try {
        const all = [...descendants(tree.rootNode)];
        for (const types of [['identifier'], ['ERROR'], [...new Set(all.map((n) => n.type))]]) {
          assert.deepEqual(ids(descendantsOfType(tree.rootNode, types)), ids(all.filter((n) => types.includes(n.type))), JSON.stringify(text));
        }
      } finally {
        tree.delete();
      }
    }
    const tree = s.parse('[1];').tree!;
    try {
      const empty = [...descendants(tree.rootNode)].filter((n) => n.startIndex === 0 && n.endIndex === 0);
      assert.ok(empty.length > 0, 'the text has an empty node at offset 0 (else this case tests nothing)');
    } finally {
      tree.delete();
    }
  });
});
