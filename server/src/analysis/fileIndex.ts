// One pass over a file's tree: its functions, calls, macros, comments and protection evidence. Entries carry their name and byte range as data; their nodes are kept when indexed and found again from the range when an edit carried them over (reindexFile). Macros are columns of offsets (MacroTable), made into entries only when asked for.
import type { CSyntax, Node, Tree } from './parser';
import { findReleaseApi } from './pinApis';
import { functionBody, functionNameNode, functionParams, isAncestor, isWordCode, ITEM_CONTAINERS, namedChildren } from './syntaxTools';
import { positionAfter } from './span';
import { FixedTree, fixedTree, TreeRef } from './treeSource';

/** Offsets are the tree's (UTF-16 units of the text): `start` inclusive, `end` exclusive. */
interface Ranged { readonly start: number; readonly end: number; readonly type: string; readonly node: Node }

export interface FunctionInfo extends Ranged { name: string; nameNode: Node; params: string[]; body: Node | undefined }
export interface CallInfo extends Ranged { name: string; nameNode: Node; args: Node[]; fn: FunctionInfo | undefined }
export interface MacroInfo extends Ranged {
  name: string; nameNode: Node;
  /** Undefined for object-like macros. */
  params: string[] | undefined;
  body: string;
}
export interface CommentInfo extends Ranged { text: string; startLine: number; endLine: number }
/** An identifier the protection search cares about (VM_DONTCOPY, MADV_DONTFORK, notifier ops types, ...). */
export interface MarkerInfo extends Ranged { name: string; fn: FunctionInfo | undefined }

export interface FileIndex {
  functions: FunctionInfo[];
  calls: CallInfo[];
  /** The #defines, as columns: an entry is made only when asked for (MacroTable). */
  macros: MacroTable;
  comments: CommentInfo[];
  markers: MarkerInfo[];
  hasErrors: boolean;
  /** Which optional queries ran (a text that cannot match skips them): an index carried over an edit needs the same. */
  queried: { comments: boolean; markers: boolean };
  /** Set by reindexFile: how many entries were carried over from the previous index rather than queried again. */
  carried?: number;
  /** Set by reindexFile on the previous index, whose entries it kept and moved: that index is not carried again. */
  consumed?: boolean;
  /** The tree the entries find their nodes in (a TreeSource may let it go and parse it again: a new generation). */
  source: TreeRef;
}

/** Names the protections query can match, and the comment prefix annotations use: absent from the text, the query can only find nothing. */
const PROTECTION_TEXT = /VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier_ops|mmu_interval_notifier_ops/;
const ANNOTATION_TEXT = /forksafe-/;

function queriesFor(text: string | undefined): FileIndex['queried'] {
  return { comments: text === undefined || ANNOTATION_TEXT.test(text), markers: text === undefined || PROTECTION_TEXT.test(text) };
}

/** Longer than any word the two tests above look for. */
const LONGEST_QUERY_WORD = 32;

/**
 * queriesFor(text) after `edit`, from what the previous text gave: a word the previous text did not hold can only be
 * one the edit wrote, so within the edited span widened by the longest word; only an answer that was yes is asked of
 * the whole text again (the edit may have taken the word out).
 */
function queriesAfter(previous: FileIndex['queried'], text: string, edit: IndexEdit): FileIndex['queried'] {
  const near = previous.comments && previous.markers ? '' : text.slice(Math.max(0, edit.startIndex - LONGEST_QUERY_WORD), edit.newEndIndex + LONGEST_QUERY_WORD);
  return {
    comments: ANNOTATION_TEXT.test(previous.comments ? text : near),
    markers: PROTECTION_TEXT.test(previous.markers ? text : near),
  };
}

/**
 * `text` (the tree's source), when given, lets whole-file queries that cannot match be skipped: on a 10,000-line file
 * the protections and comments queries cost about a quarter of the index time on every keystroke.
 */
export function indexFile(syntax: CSyntax, from: Tree | TreeRef, text?: string): FileIndex {
  const source = isTreeRef(from) ? from : fixedTree(from);
  const root = source.tree.rootNode;
  const queried = queriesFor(text);
  const found = indexNodes(syntax, source, [root], queried, text);
  return { ...found, hasErrors: root.hasError, queried, source };
}

function isTreeRef(x: Tree | TreeRef): x is TreeRef {
  return typeof (x as TreeRef).generation === 'number';
}

type Entries = Pick<FileIndex, 'functions' | 'calls' | 'macros' | 'comments' | 'markers'>;

/** The lists of entries made as objects (the macros are columns: MacroTable), for what is asked of every entry alike. */
function entryLists(e: Entries): ReadonlyArray<readonly Ranged[]> {
  return [e.functions, e.calls, e.comments, e.markers];
}

/** How many entries an index holds, of every kind. */
function entryCount(e: Entries): number {
  return entryLists(e).reduce((n, list) => n + list.length, 0) + e.macros.length;
}

/** The entries of the given subtrees (whole items of the file: a call's function is within the same item). */
function indexNodes(syntax: CSyntax, tree: TreeRef, roots: readonly Node[], queried: FileIndex['queried'], text: string | undefined): Entries {
  const functions: FunctionInfo[] = [];
  const macros = new MacroColumns(text);
  const seen = new Set<number>();
  const names = ['definitions', 'calls', ...(queried.comments ? ['comments'] : []), ...(queried.markers ? ['protections'] : [])];
  const query = syntax.queriesTogether(names);
  const rawCalls: Array<{ node: Node; nameNode: Node; argList: Node }> = [];
  const commentNodes: Node[] = [];
  const markerNodes: Node[] = [];
  // One walk of each subtree for every query file the index needs (CSyntax.queriesTogether); each match is one pattern's.
  for (const root of roots) {
    for (const match of query.matches(root)) {
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
        if (!nameNode || seen.has(fnNode.id)) continue;
        seen.add(fnNode.id);
        functions.push(new IndexedFunction(tree, fnNode.startIndex, fnNode.endIndex, nameNode.text, functionParams(fnNode), fnNode, nameNode));
        continue;
      }
      const macroNode = c['macro.function'] ?? c['macro.object'];
      const nameNode = c['macro.name'];
      if (macroNode && nameNode) {
        const paramsNode = c['macro.params'];
        const params = paramsNode ? namedChildren(paramsNode).filter((p) => p.type === 'identifier' || p.type === '...').map((p) => p.text) : undefined;
        macros.add(macroNode, nameNode, params, c['macro.body']);
      }
    }
  }
  const fnOf = functionLocator(functions);
  const calls: CallInfo[] = rawCalls.map((c) => {
    const start = c.node.startIndex;
    return new IndexedCall(tree, start, c.node.endIndex, c.nameNode.text, fnOf(start, c.node.id), c.node, c.nameNode, c.argList);
  });
  const comments: CommentInfo[] = commentNodes.map((node) => new IndexedComment(tree, node.startIndex, node.endIndex, node.text, node.startPosition.row, node.endPosition.row, node));
  const markers: MarkerInfo[] = markerNodes.map((node) => {
    const start = node.startIndex;
    return new IndexedMarker(tree, start, node.endIndex, node.type, node.text, fnOf(start, node.id), node);
  });
  return { functions, calls, macros: macros.table(tree), comments, markers };
}

/** An edit between two parses, in UTF-16 offsets: previous[startIndex, oldEndIndex) became text[startIndex, newEndIndex). */
export interface IndexEdit { startIndex: number; oldEndIndex: number; newEndIndex: number }

/**
 * The index of `tree` (parsed from `text` after `edit`, with `changedRanges` from tree-sitter), made from `previous`
 * (the index of the tree before the edit): only the items (top-level definitions, declarations, directives, comments)
 * that the edit or a syntax change touched are queried again; every other entry is carried over, its offsets (and
 * lines) moved by the edit, its node found again from its range when asked. Equal to `indexFile` of the new tree
 * (tests: random edits); it falls back to that whenever an entry would straddle the re-queried region.
 */
export function reindexFile(syntax: CSyntax, previous: FileIndex, tree: Tree, text: string, previousText: string, edit: IndexEdit, changedRanges: ReadonlyArray<{ startIndex: number; endIndex: number }>): FileIndex {
  const queried = queriesAfter(previous.queried, text, edit);
  if (queried.comments !== previous.queried.comments || queried.markers !== previous.queried.markers) return indexFile(syntax, tree, text);
  let from = edit.startIndex;
  let to = edit.newEndIndex;
  for (const r of changedRanges) { from = Math.min(from, r.startIndex); to = Math.max(to, r.endIndex); }
  const items: Node[] = [];
  touchedItems(tree.rootNode, from, to, items);
  for (const item of items) { from = Math.min(from, item.startIndex); to = Math.max(to, item.endIndex); }
  // The re-queried region: [from, to) in the new text, [from, oldTo) in the previous one.
  const delta = edit.newEndIndex - edit.oldEndIndex;
  const oldTo = to - delta;
  if (from > edit.startIndex || oldTo < edit.oldEndIndex) return indexFile(syntax, tree, text);
  const straddles = (e: { start: number; end: number }): boolean => (e.start < from && e.end > from) || (e.start < oldTo && e.end > oldTo);
  if (entryLists(previous).some((list) => list.some(straddles)) || previous.macros.some(straddles)) return indexFile(syntax, tree, text);
  const lineBreaks = (t: string, end: number): number => positionAfter(t, { line: 0, character: 0 }, edit.startIndex, end).line;
  const rows = lineBreaks(text, edit.newEndIndex) - lineBreaks(previousText, edit.oldEndIndex);
  // The entries outside the region are kept, not copied: the previous index's tree slot moves on to the new tree (the
  // old tree is deleted once re-parsed, so the previous index is not asked again), and the entries after the region
  // move by the edit in place. Their cached nodes belong to the old tree's generation and are found again when asked.
  const source = previous.source;
  if (!(source instanceof FixedTree) || previous.consumed) return indexFile(syntax, tree, text);
  previous.consumed = true;
  source.moveTo(tree);
  // The kept entries' nodes belong to the old tree: dropped now, not when next asked (which may be never). A node of
  // a deleted tree keeps that tree's wrapper, and with it the text it was parsed from, alive.
  forgetNodes(previous);
  const fresh = indexNodes(syntax, source, items, queried, text);
  const keep = <T extends IndexedEntry>(list: readonly T[], again: readonly T[]): T[] => {
    const out: T[] = [];
    const after: T[] = [];
    for (const e of list) {
      if (e.end <= from) out.push(e);
      else if (e.start >= oldTo) after.push(e);
    }
    for (const e of again) out.push(e);
    for (const e of after) { e.move(delta, rows); out.push(e); }
    return out;
  };
  const out: FileIndex = {
    functions: keep(previous.functions as IndexedFunction[], fresh.functions as IndexedFunction[]),
    calls: keep(previous.calls as IndexedCall[], fresh.calls as IndexedCall[]),
    macros: previous.macros.carried(from, oldTo, delta, rows, fresh.macros, text),
    comments: keep(previous.comments as IndexedComment[], fresh.comments as IndexedComment[]),
    markers: keep(previous.markers as IndexedMarker[], fresh.markers as IndexedMarker[]),
    hasErrors: tree.rootNode.hasError,
    queried,
    source,
  };
  out.carried = entryCount(out) - entryCount(fresh);
  carryWords(previous, out, text, from, to, oldTo, delta);
  return out;
}

/**
 * The items of `container` that meet [from, to] (touching counts), descending into preprocessor conditionals. Starts
 * at the first child that reaches `from` (tree-sitter finds it from the byte offset): no node is made for the items
 * before it, and the walk stops after `to`. Each step to a next sibling costs tree-sitter a walk of the parent's
 * children, so a region of many items lists the children once instead.
 */
function touchedItems(container: Node, from: number, to: number, out: Node[]): void {
  // A child ending exactly at `from` touches the range: ask for the first child ending after from - 1.
  let child = from > 0 ? container.firstNamedChildForIndex(from - 1) : container.firstNamedChild;
  for (let steps = 0; child && child.startIndex <= to; steps++) {
    if (steps === MAX_SIBLING_STEPS) {
      for (const rest of namedChildren(container)) if (rest.startIndex >= child.startIndex) touchedItem(rest, from, to, out);
      return;
    }
    touchedItem(child, from, to, out);
    child = child.nextNamedSibling;
  }
}

const MAX_SIBLING_STEPS = 64;

function touchedItem(child: Node, from: number, to: number, out: Node[]): void {
  if (child.endIndex < from || child.startIndex > to) return;
  if (ITEM_CONTAINERS.has(child.type)) touchedItems(child, from, to, out);
  else out.push(child);
}

/**
 * An entry carried over an edit does not match the tree it is asked in (the edit's changed ranges missed a change):
 * the engine indexes the file again and analyses it once more (engine.ts).
 */
export class StaleIndexEntry extends Error {
  constructor(readonly tree: Tree, detail: string) {
    super(`forksafe: a carried index entry is stale: ${detail}`);
  }
}

/** The node of `type` with exactly the range [start, end) in `tree`. */
function nodeAt(tree: Tree, start: number, end: number, type: string): Node {
  let n: Node | null = tree.rootNode.descendantForIndex(start, end);
  while (n && n.startIndex === start && n.endIndex === end && n.type !== type) n = n.parent;
  if (!n || n.type !== type || n.startIndex !== start || n.endIndex !== end) throw new StaleIndexEntry(tree, `no ${type} at ${start}-${end} in the tree`);
  return n;
}

/**
 * An entry's node: the one it was indexed with, or the one found again from its range (after an edit carried it over,
 * or after its tree was let go and parsed again). Nodes derived from it (name, body, arguments) go with it.
 */
abstract class IndexedEntry {
  private found: Node | undefined;
  /** The generation of the tree `found` belongs to. */
  private foundIn: number;
  constructor(protected readonly ref: TreeRef, public start: number, public end: number, readonly type: string, node?: Node) {
    this.found = node;
    this.foundIn = ref.generation;
  }

  /** Moved by an edit before it (`rows` lines added or removed there): reindexFile keeps the entry. */
  move(delta: number, rows: number): void {
    void rows;
    this.start += delta;
    this.end += delta;
  }
  get node(): Node {
    if (!this.found || this.foundIn !== this.ref.generation) {
      this.forget();
      const tree = this.ref.tree;
      this.found = nodeAt(tree, this.start, this.end, this.type);
      this.foundIn = this.ref.generation;
    }
    return this.found;
  }
  /** Drops the nodes held (their tree was let go): they are found again when asked. */
  forget(): void {
    this.found = undefined;
  }

  get holdsNode(): boolean {
    return this.found !== undefined;
  }
}

class IndexedFunction extends IndexedEntry implements FunctionInfo {
  private named: Node | undefined;
  private bodyNode: Node | undefined | null = null;
  constructor(ref: TreeRef, start: number, end: number, readonly name: string, readonly params: string[], node?: Node, nameNode?: Node) {
    super(ref, start, end, 'function_definition', node);
    this.named = nameNode;
  }
  get nameNode(): Node {
    const node = this.node;
    this.named ??= functionNameNode(node)!;
    return this.named;
  }
  get body(): Node | undefined {
    const node = this.node;
    if (this.bodyNode === null) this.bodyNode = functionBody(node);
    return this.bodyNode;
  }
  override forget(): void {
    super.forget();
    this.named = undefined;
    this.bodyNode = null;
  }
}

/**
 * A call, its arguments listed only when asked: most calls of a file are never looked at beyond their name, and
 * listing every call's arguments was a third of indexing a 10,000-line file, on every keystroke (issue 14).
 */
class IndexedCall extends IndexedEntry implements CallInfo {
  private listed: Node[] | undefined;
  constructor(ref: TreeRef, start: number, end: number, readonly name: string, readonly fn: FunctionInfo | undefined, node?: Node, private named?: Node, private argList?: Node) {
    super(ref, start, end, 'call_expression', node);
  }
  get nameNode(): Node {
    const node = this.node;
    this.named ??= node.childForFieldName('function')!;
    return this.named;
  }
  get args(): Node[] {
    const node = this.node;
    this.argList ??= node.childForFieldName('arguments')!;
    this.listed ??= namedChildren(this.argList).filter((a) => a.type !== 'comment');
    return this.listed;
  }
  override forget(): void {
    super.forget();
    this.named = undefined;
    this.argList = undefined;
    this.listed = undefined;
  }
}

class IndexedMacro extends IndexedEntry implements MacroInfo {
  private named: Node | undefined;
  constructor(ref: TreeRef, start: number, end: number, type: string, readonly name: string, readonly params: string[] | undefined, readonly body: string) {
    super(ref, start, end, type);
  }
  get nameNode(): Node {
    const node = this.node;
    this.named ??= node.childForFieldName('name')!;
    return this.named;
  }
  override forget(): void {
    super.forget();
    this.named = undefined;
  }
}

class IndexedComment extends IndexedEntry implements CommentInfo {
  constructor(ref: TreeRef, start: number, end: number, readonly text: string, public startLine: number, public endLine: number, node?: Node) {
    super(ref, start, end, 'comment', node);
  }

  override move(delta: number, rows: number): void {
    super.move(delta, rows);
    this.startLine += rows;
    this.endLine += rows;
  }
}

class IndexedMarker extends IndexedEntry implements MarkerInfo {
  constructor(ref: TreeRef, start: number, end: number, type: string, readonly name: string, readonly fn: FunctionInfo | undefined, node?: Node) {
    super(ref, start, end, type, node);
  }
}

/** How many of an index's entries hold a node (for tests: an index carried over an edit holds only its new entries'). */
export function entriesHoldingNodes(index: FileIndex): number {
  let n = 0;
  for (const list of [...entryLists(index), index.macros.made()]) for (const e of list) if ((e as IndexedEntry).holdsNode) n++;
  return n;
}

/** Drops every node an index's entries hold (their tree was let go): the memory they pin goes, and they are found again when asked. */
export function forgetNodes(index: FileIndex): void {
  for (const list of [...entryLists(index), index.macros.made()]) for (const e of list) (e as IndexedEntry).forget();
}

/** A hash of text[start, end) (FNV-1a over UTF-16 units), the same for a name and for a range of text spelling it. */
export function hashName(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Columns per macro in MacroTable: the directive's range, its name's, its body's (-1 for none). */
const MACRO_COLUMNS = 6;

/** Collects a file's #defines while the index query runs (indexNodes); `table` gives them as a MacroTable. */
class MacroColumns {
  private readonly cols: number[] = [];
  private readonly kinds: number[] = [];
  private readonly types: string[] = [];
  private readonly params = new Map<number, string[]>();
  /** Name and body of each macro when there is no text to read them from. */
  private readonly strings: string[] | undefined;

  constructor(private readonly text: string | undefined) {
    this.strings = text === undefined ? [] : undefined;
  }

  /** Whether names and bodies are kept as strings (there is no text to read them from): `push` then needs them. */
  get keepsStrings(): boolean {
    return this.strings !== undefined;
  }

  add(node: Node, nameNode: Node, params: string[] | undefined, body: Node | undefined): void {
    this.push(node.startIndex, node.endIndex, nameNode.startIndex, nameNode.endIndex, body ? body.startIndex : -1, body ? body.endIndex : -1,
      node.type, params, this.strings && nameNode.text, this.strings && (body?.text ?? ''));
  }

  /** A macro from its offsets (-1: no body); its name and body are given only when kept as strings. */
  push(start: number, end: number, nameStart: number, nameEnd: number, bodyStart: number, bodyEnd: number,
    type: string, params: string[] | undefined, name: string | undefined, body: string | undefined): void {
    const i = this.kinds.length;
    this.cols.push(start, end, nameStart, nameEnd, bodyStart, bodyEnd);
    let kind = this.types.indexOf(type);
    if (kind < 0) kind = this.types.push(type) - 1;
    this.kinds.push(kind);
    if (params) this.params.set(i, params);
    this.strings?.push(name!, body!);
  }

  table(ref: TreeRef): MacroTable {
    return new MacroTable(ref, this.text, Int32Array.from(this.cols), Uint8Array.from(this.kinds), this.types, this.params, this.strings);
  }
}

/**
 * A file's #defines as columns of offsets into its text (the directive, its name, its body) instead of an object and
 * two strings each: a folder of generated register headers defines some 800,000 macros and an analysis asks for a
 * handful of them by name, so the others cost 25 bytes each here rather than about 200 (issue 14). `at` makes a
 * macro's entry (its node found in the tree from its range when asked) and keeps it: asked twice, the same object.
 */
export class MacroTable {
  private readonly entries = new Map<number, IndexedMacro>();
  private listed: MacroInfo[] | undefined;
  readonly length: number;

  constructor(private readonly ref: TreeRef, private readonly text: string | undefined, private readonly cols: Int32Array,
    private readonly kinds: Uint8Array, private readonly types: readonly string[], private readonly params: ReadonlyMap<number, string[]>,
    private readonly strings: readonly string[] | undefined) {
    this.length = kinds.length;
  }

  startAt(i: number): number {
    return this.cols[i * MACRO_COLUMNS]!;
  }

  endAt(i: number): number {
    return this.cols[i * MACRO_COLUMNS + 1]!;
  }

  nameAt(i: number): string {
    if (this.strings) return this.strings[2 * i]!;
    const c = i * MACRO_COLUMNS;
    return this.text!.slice(this.cols[c + 2], this.cols[c + 3]);
  }

  bodyAt(i: number): string {
    if (this.strings) return this.strings[2 * i + 1]!;
    const c = i * MACRO_COLUMNS;
    return this.cols[c + 4]! < 0 ? '' : this.text!.slice(this.cols[c + 4], this.cols[c + 5]);
  }

  /** nameAt(i) === name, without making the name. */
  nameIs(i: number, name: string): boolean {
    if (this.strings) return this.strings[2 * i] === name;
    const c = i * MACRO_COLUMNS;
    return this.cols[c + 3]! - this.cols[c + 2]! === name.length && this.text!.startsWith(name, this.cols[c + 2]);
  }

  /** hashName(nameAt(i)), without making the name. */
  hashAt(i: number): number {
    if (this.strings) return hashName(this.strings[2 * i]!);
    const c = i * MACRO_COLUMNS;
    return hashName(this.text!, this.cols[c + 2], this.cols[c + 3]);
  }

  /** The i-th macro's entry, made on first ask. */
  at(i: number): MacroInfo {
    let e = this.entries.get(i);
    if (!e) {
      e = new IndexedMacro(this.ref, this.startAt(i), this.endAt(i), this.types[this.kinds[i]!]!, this.nameAt(i), this.params.get(i), this.bodyAt(i));
      this.entries.set(i, e);
    }
    return e;
  }

  /** Every macro's entry, in file order. */
  all(): readonly MacroInfo[] {
    this.listed ??= Array.from({ length: this.length }, (_, i) => this.at(i));
    return this.listed;
  }

  /** The entries made so far (what holds nodes). */
  made(): IndexedEntry[] {
    return [...this.entries.values()];
  }

  /** Whether some macro's range [start, end) satisfies `test`. */
  some(test: (range: { start: number; end: number }) => boolean): boolean {
    const range = { start: 0, end: 0 };
    for (let i = 0; i < this.length; i++) {
      range.start = this.startAt(i);
      range.end = this.endAt(i);
      if (test(range)) return true;
    }
    return false;
  }

  /**
   * The table after an edit (reindexFile): the macros ending at or before `from` as they are, then `fresh` (those of the
   * re-queried region, already in the new text's offsets), then those starting at or after `oldTo` moved by `delta`
   * (and `rows` lines). Entries already made are kept, moved with their macro.
   */
  carried(from: number, oldTo: number, delta: number, rows: number, fresh: MacroTable, text: string): MacroTable {
    const columns = new MacroColumns(this.strings || fresh.strings ? undefined : text);
    const made: Array<[number, IndexedMacro]> = [];
    let at = 0;
    const take = (t: MacroTable, i: number, shift: number): void => {
      const c = i * MACRO_COLUMNS;
      const bodied = t.cols[c + 4]! >= 0;
      columns.push(t.cols[c]! + shift, t.cols[c + 1]! + shift, t.cols[c + 2]! + shift, t.cols[c + 3]! + shift,
        bodied ? t.cols[c + 4]! + shift : -1, bodied ? t.cols[c + 5]! + shift : -1,
        t.types[t.kinds[i]!]!, t.params.get(i), columns.keepsStrings ? t.nameAt(i) : undefined, columns.keepsStrings ? t.bodyAt(i) : undefined);
      const e = t.entries.get(i);
      if (e) {
        if (shift !== 0) e.move(shift, rows);
        made.push([at, e]);
      }
      at++;
    };
    for (let i = 0; i < this.length; i++) if (this.endAt(i) <= from) take(this, i, 0);
    for (let i = 0; i < fresh.length; i++) take(fresh, i, 0);
    for (let i = 0; i < this.length; i++) if (this.startAt(i) >= oldTo) take(this, i, delta);
    const out = columns.table(fresh.ref);
    for (const [i, e] of made) out.entries.set(i, e);
    return out;
  }
}

const wordsByIndex = new WeakMap<FileIndex, Map<string, number[]>>();

/**
 * Where `name` starts as a whole word (no letter, digit or `_` on either side) in text[from, to), in order. A part of
 * the text is searched as a slice of it (V8 makes one without copying): `indexOf` from `from` would otherwise read on
 * to the end of the text for a name the part does not hold (every name an index was asked for, on every edit).
 */
function scanWord(text: string, name: string, from: number, to: number, out: number[]): void {
  const lo = Math.max(0, from);
  // A start before `to` ends before `to + name.length`.
  const hi = Math.min(text.length, to + name.length - 1);
  if (hi - lo < name.length) return;
  const part = lo === 0 && hi === text.length ? text : text.slice(lo, hi);
  for (let at = part.indexOf(name); at >= 0; at = part.indexOf(name, at + name.length)) {
    const start = lo + at;
    if (!isWordCode(text.charCodeAt(start - 1)) && !isWordCode(text.charCodeAt(start + name.length))) out.push(start);
  }
}

/**
 * Where `name` is written as a whole word in `text` (the index's text), asked by name and kept per index; an index
 * carried over an edit (reindexFile) keeps the offsets outside the re-queried region, moved, and searches that region
 * alone again, so the searches of the edited file's text are not redone on every keystroke.
 */
export function wordOffsets(index: FileIndex, text: string, name: string): readonly number[] {
  let byName = wordsByIndex.get(index);
  if (!byName) { byName = new Map(); wordsByIndex.set(index, byName); }
  let at = byName.get(name);
  if (!at) {
    at = [];
    if (name.length > 0) scanWord(text, name, 0, text.length, at);
    byName.set(name, at);
  }
  return at;
}

/**
 * Whether `name` is written as a whole word inside [start, end) of the index's text: a question asked of a call's range
 * before its arguments are read (the release calls of a driver whose argument may name a field), answered from the
 * word offsets kept per index, so the nodes of calls that cannot name it are never looked at. An empty name (a MISSING
 * node's text in broken code) cannot be searched for: the answer is yes, and the caller reads the nodes.
 */
export function writesWordIn(index: FileIndex, text: string, name: string, start: number, end: number): boolean {
  if (name === '') return true;
  const at = wordOffsets(index, text, name);
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (at[mid]! < start) lo = mid + 1; else hi = mid;
  }
  return lo < at.length && at[lo]! + name.length <= end;
}

/** The word offsets `previous` knew, carried to `next` (re-queried region [from, to) of `text`, [from, oldTo) before). */
function carryWords(previous: FileIndex, next: FileIndex, text: string, from: number, to: number, oldTo: number, delta: number): void {
  const before = wordsByIndex.get(previous);
  if (!before) return;
  const after = new Map<string, number[]>();
  for (const [name, offsets] of before) {
    const len = name.length;
    const out: number[] = [];
    // Kept: a word whose next character is before the region, or whose previous one is at or after its old end: both
    // sides unchanged. Searched again: every start that could touch the region, [from - len, to].
    for (const o of offsets) if (o + len < from) out.push(o);
    scanWord(text, name, from - len, to + 1, out);
    for (const o of offsets) if (o - 1 >= oldTo) out.push(o + delta);
    after.set(name, out);
  }
  wordsByIndex.set(next, after);
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

/** The indexed function holding `node` (or being it), ranges first: only a candidate's node is read. */
export function functionContaining(index: FileIndex, node: Node): FunctionInfo | undefined {
  const start = node.startIndex;
  const end = node.endIndex;
  return index.functions.find((f) => f.start <= start && end <= f.end && isAncestor(f.node, node));
}

/** The index's entry for a function_definition node, found by its range: no other function's node is read. */
export function functionOfNode(index: FileIndex, fnNode: Node): FunctionInfo | undefined {
  const start = fnNode.startIndex;
  const end = fnNode.endIndex;
  return index.functions.find((f) => f.start === start && f.end === end && f.node.id === fnNode.id);
}

/**
 * The innermost indexed function containing a node (by its start; the node itself excluded), found by byte range (the
 * ranges of a tree nest) in O(log n). Walking `node.parent` instead costs O(depth) per step, because tree-sitter finds a
 * parent by descending from the root: for every call of a 10,000-deep nested call expression that was O(depth³) and
 * never finished.
 */
function functionLocator(functions: FunctionInfo[]): (start: number, id: number) => FunctionInfo | undefined {
  // A node is located by its start alone: tree nodes nest, so a node that starts inside a function's range (and is
  // not the function) lies within it.
  const sorted = functions.map((f) => ({ f, start: f.start, end: f.end, id: f.node.id })).sort((a, b) => a.start - b.start);
  // reach[i]: the furthest end of sorted[0..i]; once it is not past the node's start, no earlier function contains it.
  const reach: number[] = [];
  sorted.forEach((x, i) => { reach.push(Math.max(x.end, i > 0 ? reach[i - 1] : 0)); });
  return (start, id) => {
    let lo = 0;
    let hi = sorted.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start <= start) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    for (let i = at; i >= 0 && reach[i] > start; i--) {
      const x = sorted[i];
      if (x.end > start && x.id !== id) return x.f;
    }
    return undefined;
  };
}
