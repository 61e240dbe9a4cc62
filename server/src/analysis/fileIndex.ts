// One pass over a file's tree: its functions, calls, macros, comments and protection evidence, with nodes kept for the analysis.
import type { CSyntax, Node, Tree } from './parser';
import { findReleaseApi } from './pinApis';
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
    // Each capture read once (a keystroke on a 10,000-line file indexes some 4,000 matches).
    const c: Record<string, Node | undefined> = {};
    for (const capture of match.captures) c[capture.name] ??= capture.node;
    if (c.comment) { commentNodes.push(c.comment); continue; }
    const marker = c['protection.flag'] ?? c['protection.notifierOps'];
    if (marker) { markerNodes.push(marker); continue; }
    if (c.call) {
      const nameNode = c['call.name'];
      const argList = c['call.args'];
      if (nameNode && argList) rawCalls.push({ node: c.call, nameNode, argList });
      continue;
    }
    const fnNode = c.function;
    if (fnNode) {
      const nameNode = functionNameNode(fnNode);
      if (!nameNode || byNode.has(fnNode.id)) continue;
      const info: FunctionInfo = { name: nameNode.text, node: fnNode, nameNode, params: functionParams(fnNode), body: functionBody(fnNode) };
      functions.push(info);
      byNode.set(fnNode.id, info);
      continue;
    }
    const macroNode = c['macro.function'] ?? c['macro.object'];
    const nameNode = c['macro.name'];
    if (macroNode && nameNode) {
      const paramsNode = c['macro.params'];
      macros.push({
        name: nameNode.text, node: macroNode, nameNode,
        params: paramsNode ? namedChildren(paramsNode).filter((p) => p.type === 'identifier' || p.type === '...').map((p) => p.text) : undefined,
        body: c['macro.body']?.text ?? '',
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
const releaseCalls = new WeakMap<FileIndex, CallInfo[]>();

/** The calls of a page-release API (put_page, unpin_user_pages, ...), in the index's order, listed once per index. */
export function releaseCallsIn(index: FileIndex): readonly CallInfo[] {
  let list = releaseCalls.get(index);
  if (!list) {
    list = index.calls.filter((c) => findReleaseApi(c.name) !== undefined);
    releaseCalls.set(index, list);
  }
  return list;
}

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
  return new IndexedCall(name, node, nameNode, argList, fn);
}

class IndexedCall implements CallInfo {
  private listed: Node[] | undefined;
  constructor(readonly name: string, readonly node: Node, readonly nameNode: Node, private readonly argList: Node, readonly fn: FunctionInfo | undefined) {}
  get args(): Node[] {
    this.listed ??= namedChildren(this.argList).filter((a) => a.type !== 'comment');
    return this.listed;
  }
}

/**
 * The innermost indexed function containing a node, found by byte range (the ranges of a tree nest) in O(log n).
 * Walking `node.parent` instead costs O(depth) per step, because tree-sitter finds a parent by descending from the
 * root: for every call of a 10,000-deep nested call expression that was O(depth³) and never finished.
 */
function functionLocator(functions: FunctionInfo[]): (node: Node) => FunctionInfo | undefined {
  // Node ranges are read from wasm on every access: each function's read once here. A node is located by its start
  // alone: tree nodes nest, so a node that starts inside a function's range (and is not the function) lies within it.
  const sorted = functions.map((f) => ({ f, start: f.node.startIndex, end: f.node.endIndex })).sort((a, b) => a.start - b.start);
  // reach[i]: the furthest end of sorted[0..i]; once it is not past the node's start, no earlier function contains it.
  const reach: number[] = [];
  sorted.forEach((x, i) => { reach.push(Math.max(x.end, i > 0 ? reach[i - 1] : 0)); });
  return (node) => {
    const start = node.startIndex;
    let lo = 0;
    let hi = sorted.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start <= start) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = at; i >= 0 && reach[i] > start; i--) {
      const x = sorted[i];
      if (x.end > start && x.f.node.id !== node.id) return x.f;
    }
    return undefined;
  };
}
