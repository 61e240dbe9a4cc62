// Small questions about C syntax trees: enclosing function, parameter names, conditional nesting, identifiers.
import type { Node } from './parser';

/** Nodes that hold top-level items: functions, declarations and comments are found inside these and nowhere else in C. */
export const ITEM_CONTAINERS: ReadonlySet<string> = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef']);

/** [A-Za-z0-9_] by character (or byte) code: what a C identifier, and a regular expression's `\w` and `\b`, count as a word character. */
export function isWordCode(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

export function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((n): n is Node => n !== null);
}

export function unwrapParens(node: Node): Node {
  let n = node;
  while (n.type === 'parenthesized_expression' && n.namedChildCount > 0) {
    const inner = namedChildren(n).find((c) => c.type !== 'comment');
    if (!inner) break;
    n = inner;
  }
  return n;
}

export function enclosingFunction(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) if (n.type === 'function_definition') return n;
  return undefined;
}

/** The identifier naming a function definition, through pointer declarators (`struct page **get_pages(...)`). */
export function functionDeclarator(fn: Node): Node | undefined {
  let d = fn.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  return d ?? undefined;
}

export function functionNameNode(fn: Node): Node | undefined {
  const d = functionDeclarator(fn)?.childForFieldName('declarator');
  return d && d.type === 'identifier' ? d : undefined;
}

/** Parameter names in order; unnamed or variadic parameters get '' so indices stay right. */
export function functionParams(fn: Node): string[] {
  const list = functionDeclarator(fn)?.childForFieldName('parameters');
  if (!list) return [];
  return namedChildren(list).filter((p) => p.type === 'parameter_declaration' || p.type === 'variadic_parameter')
    .map((p) => (p.type === 'parameter_declaration' ? declaredName(p.childForFieldName('declarator')) ?? '' : ''));
}

/** The identifier a declarator declares, through pointers, arrays, parentheses and init. */
export function declaredName(decl: Node | null): string | undefined {
  let d: Node | null = decl;
  while (d && d.type !== 'identifier') {
    if (d.type === 'field_identifier') return d.text;
    d = d.childForFieldName('declarator') ?? namedChildren(d).find((c) => c.type !== 'comment') ?? null;
  }
  return d?.text;
}

export function functionBody(fn: Node): Node | undefined {
  return fn.childForFieldName('body') ?? undefined;
}

const CONDITIONAL_PARENTS = new Set(['if_statement', 'else_clause', 'switch_statement', 'case_statement', 'while_statement', 'for_statement', 'do_statement', 'conditional_expression']);

/** The nearest conditional construct between `node` and `stop` (exclusive): if/switch/loop/ternary. */
export function enclosingCondition(node: Node, stop: Node | undefined): Node | undefined {
  for (let n: Node | null = node.parent; n && n.id !== stop?.id; n = n.parent) {
    if (CONDITIONAL_PARENTS.has(n.type)) return n;
  }
  return undefined;
}

/** The part of a conditional that decides it: the if/while condition, or the ternary's condition. */
export function conditionOf(cond: Node): Node {
  const c = cond.childForFieldName('condition');
  if (!c) return cond;
  // `if (x)` wraps x in parentheses (or a condition_clause): the user thinks of x.
  const inner = c.type === 'condition_clause' ? namedChildren(c).find((n) => n.type !== 'comment') : undefined;
  return unwrapParens(inner ?? c);
}

export function* descendants(node: Node): Generator<Node> {
  const cursor = node.walk();
  try {
    let reached = false;
    while (!reached) {
      yield cursor.currentNode;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent() || cursor.currentNode.id === node.id) { reached = true; break; }
      }
    }
  } finally {
    cursor.delete();
  }
}

/**
 * The nodes of `types` in `node`'s subtree (itself included), in the order `descendants` visits them. tree-sitter walks
 * the subtree in one call and only the matches become nodes, where `descendants` crosses into wasm and makes a node
 * at every step: a function body's thousands of nodes, for each question asked of it on every edit (issue 14).
 */
export function descendantsOfType(node: Node, types: readonly string[]): Node[] {
  // tree-sitter's walk passes over nodes that end at or before the point (0, 0), so an empty node at the very start of
  // a file would be missed, and web-tree-sitter 0.27 asked for ERROR among other types returns the ERROR nodes only:
  // those are walked here instead.
  if (node.startIndex === 0 || types.includes('ERROR')) return [...descendants(node)].filter((n) => types.includes(n.type));
  return node.descendantsOfType([...types]);
}

export function identifiersIn(node: Node): Node[] {
  return descendantsOfType(node, IDENTIFIER);
}

const IDENTIFIER = ['identifier'];

export function isAncestor(ancestor: Node, node: Node): boolean {
  if (ancestor.id === node.id) return true;
  // The ranges of a tree nest, so the range decides in O(1). Walking up costs O(depth) per step, because tree-sitter
  // finds a parent by descending from the root: O(depth²) per call, minutes on 10,000-deep nesting.
  if (ancestor.startIndex > node.startIndex || ancestor.endIndex < node.endIndex) return false;
  const larger = ancestor.startIndex < node.startIndex || ancestor.endIndex > node.endIndex;
  if (larger && node.startIndex < node.endIndex) return true;
  // Equal ranges or an empty node: only the tree can tell.
  for (let n: Node | null = node; n; n = n.parent) if (n.id === ancestor.id) return true;
  return false;
}

/** The statement directly inside `block` that contains `node`. */
export function statementIn(block: Node, node: Node): Node | undefined {
  for (let n: Node | null = node; n; n = n.parent) if (n.parent?.id === block.id) return n;
  return undefined;
}
