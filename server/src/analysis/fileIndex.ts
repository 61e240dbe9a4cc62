// One pass over a file's tree: its functions, calls, macros, comments and protection evidence, with nodes kept for the analysis.
import type { CSyntax, Node, Tree } from './parser';
import { functionBody, functionNameNode, functionParams, namedChildren } from './syntaxTools';

export interface FunctionInfo { name: string; node: Node; nameNode: Node; params: string[]; body: Node | undefined }
export interface CallInfo { name: string; node: Node; nameNode: Node; args: Node[]; fn: FunctionInfo | undefined }
export interface MacroInfo {
  name: string; node: Node; nameNode: Node;
  /** Undefined for object-like macros. */
  params: string[] | undefined;
  body: string;
}
export interface CommentInfo { node: Node; text: string; startLine: number; endLine: number }
/** An identifier the protection search cares about (VM_DONTCOPY, MADV_DONTFORK, notifier ops types, ...). */
export interface MarkerInfo { name: string; node: Node; fn: FunctionInfo | undefined }

export interface FileIndex {
  functions: FunctionInfo[];
  calls: CallInfo[];
  macros: MacroInfo[];
  comments: CommentInfo[];
  markers: MarkerInfo[];
  hasErrors: boolean;
}

/** Names the protections query can match, and the comment prefix annotations use: absent from the text, the query can only find nothing. */
const PROTECTION_TEXT = /VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier_ops|mmu_interval_notifier_ops/;
const ANNOTATION_TEXT = /forksafe-/;

/**
 * `text` (the tree's source), when given, lets whole-file queries that cannot match be skipped: on a 10,000-line file
 * the protections and comments queries cost about a quarter of the index time on every keystroke.
 */
export function indexFile(syntax: CSyntax, tree: Tree, text?: string): FileIndex {
  const functions: FunctionInfo[] = [];
  const macros: MacroInfo[] = [];
  const byNode = new Map<number, FunctionInfo>();
  const wantComments = text === undefined || ANNOTATION_TEXT.test(text);
  const wantMarkers = text === undefined || PROTECTION_TEXT.test(text);
  const names = ['definitions', 'calls', ...(wantComments ? ['comments'] : []), ...(wantMarkers ? ['protections'] : [])];
  const rawCalls: Array<{ node: Node; nameNode: Node; argList: Node }> = [];
  const commentNodes: Node[] = [];
  const markerNodes: Node[] = [];
  // One walk of the tree for every query file the index needs (CSyntax.queriesTogether); each match is one pattern's.
  for (const match of syntax.queriesTogether(names).matches(tree.rootNode)) {
    const get = (name: string): Node | undefined => match.captures.find((c) => c.name === name)?.node;
    const first = match.captures[0];
    if (!first) continue;
    if (first.name === 'comment') { commentNodes.push(first.node); continue; }
    if (first.name.startsWith('protection.')) { markerNodes.push(first.node); continue; }
    const call = get('call');
    if (call) {
      const nameNode = get('call.name');
      const argList = get('call.args');
      if (nameNode && argList) rawCalls.push({ node: call, nameNode, argList });
      continue;
    }
    const fnNode = get('function');
    if (fnNode) {
      const nameNode = functionNameNode(fnNode);
      if (!nameNode || byNode.has(fnNode.id)) continue;
      const info: FunctionInfo = { name: nameNode.text, node: fnNode, nameNode, params: functionParams(fnNode), body: functionBody(fnNode) };
      functions.push(info);
      byNode.set(fnNode.id, info);
      continue;
    }
    const macroNode = get('macro.function') ?? get('macro.object');
    const nameNode = get('macro.name');
    if (macroNode && nameNode) {
      const paramsNode = get('macro.params');
      macros.push({
        name: nameNode.text, node: macroNode, nameNode,
        params: paramsNode ? namedChildren(paramsNode).filter((p) => p.type === 'identifier' || p.type === '...').map((p) => p.text) : undefined,
        body: get('macro.body')?.text ?? '',
      });
    }
  }
  const fnOf = functionLocator(functions);
  const calls = rawCalls.map((c) => callInfo(c.nameNode.text, c.node, c.nameNode, c.argList, fnOf(c.node)));
  const comments: CommentInfo[] = commentNodes.map((node) => ({ node, text: node.text, startLine: node.startPosition.row, endLine: node.endPosition.row }));
  const markers: MarkerInfo[] = markerNodes.map((node) => ({ name: node.text, node, fn: fnOf(node) }));
  return { functions, calls, macros, comments, markers, hasErrors: tree.rootNode.hasError };
}

const callsByFunction = new WeakMap<FileIndex, Map<FunctionInfo, CallInfo[]>>();

/** The calls whose innermost function is `fn`, in the index's order: grouped once per index, not filtered per question. */
export function callsIn(index: FileIndex, fn: FunctionInfo): readonly CallInfo[] {
  let byFn = callsByFunction.get(index);
  if (!byFn) {
    byFn = new Map();
    for (const c of index.calls) {
      if (!c.fn) continue;
      const list = byFn.get(c.fn);
      if (list) list.push(c); else byFn.set(c.fn, [c]);
    }
    callsByFunction.set(index, byFn);
  }
  return byFn.get(fn) ?? [];
}

/**
 * A call, its arguments listed only when asked: most calls of a file are never looked at beyond their name, and
 * listing every call's arguments was a third of indexing a 10,000-line file, on every keystroke (issue 14).
 */
function callInfo(name: string, node: Node, nameNode: Node, argList: Node, fn: FunctionInfo | undefined): CallInfo {
  let args: Node[] | undefined;
  return {
    name, node, nameNode, fn,
    get args(): Node[] {
      args ??= namedChildren(argList).filter((a) => a.type !== 'comment');
      return args;
    },
  };
}

/**
 * The innermost indexed function containing a node, found by byte range (the ranges of a tree nest) in O(log n).
 * Walking `node.parent` instead costs O(depth) per step, because tree-sitter finds a parent by descending from the
 * root: for every call of a 10,000-deep nested call expression that was O(depth³) and never finished.
 */
function functionLocator(functions: FunctionInfo[]): (node: Node) => FunctionInfo | undefined {
  const sorted = [...functions].sort((a, b) => a.node.startIndex - b.node.startIndex);
  // reach[i]: the furthest end of sorted[0..i]; once it is short of the node's end, no earlier function contains it.
  const reach: number[] = [];
  sorted.forEach((f, i) => { reach.push(Math.max(f.node.endIndex, i > 0 ? reach[i - 1] : 0)); });
  return (node) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].node.startIndex <= node.startIndex) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = at; i >= 0 && reach[i] >= node.endIndex; i--) {
      const f = sorted[i];
      if (f.node.endIndex >= node.endIndex && f.node.id !== node.id) return f;
    }
    return undefined;
  };
}
