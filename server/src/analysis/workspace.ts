// The set of parsed files the analysis may look across (the driver scope), with lookups by name.
import type { CSyntax, Node, Tree } from './parser';
import { FileIndex, FunctionInfo, CallInfo, MacroInfo, IndexEdit, forgetNodes, hashName, indexFile, reindexFile } from './fileIndex';
import { TreeSource } from './treeSource';

export interface SourceFile {
  uri: string;
  text: string;
  /** For a file given as a TreeSource, parsed again when it was let go: read it only where its nodes are needed. */
  readonly tree: Tree;
  index: FileIndex;
}

/**
 * The index is a pure function of the tree, and hosts hand the same Tree object back until the text changes
 * (open documents, cached driver files): index each tree once instead of once per keystroke in a sibling.
 */
const indexes = new WeakMap<Tree, FileIndex>();

type Ranges = ReadonlyArray<{ startIndex: number; endIndex: number }>;

/**
 * A tree the editor re-parsed from an indexed tree, not indexed yet: the index it will be made from (reindexFile) and
 * every edit since, as one span from `previousText` to the tree's text. Carried on to the next tree while nothing asks
 * for the index (an edit whose report is reused needs none), so typing costs nothing here until an analysis runs.
 */
interface PendingIndex { previous: FileIndex; previousText: string; edit: IndexEdit; changedRanges: Ranges }
const pending = new WeakMap<Tree, PendingIndex>();

/** The index of a TreeSource's text, kept while its tree comes and goes. */
const sourceIndexes = new WeakMap<TreeSource, FileIndex>();

export function makeSourceFile(syntax: CSyntax, uri: string, text: string, tree: Tree | TreeSource): SourceFile {
  if (tree instanceof TreeSource) {
    const source = tree;
    let index = sourceIndexes.get(source);
    if (!index) {
      index = indexFile(syntax, source, text);
      sourceIndexes.set(source, index);
    }
    const file: SourceFile = { uri, text, get tree() { return source.tree; }, index };
    return file;
  }
  let index = indexes.get(tree);
  if (!index) {
    const carried = pending.get(tree);
    index = carried ? reindexFile(syntax, carried.previous, tree, text, carried.previousText, carried.edit, carried.changedRanges) : indexFile(syntax, tree, text);
    indexes.set(tree, index);
    pending.delete(tree);
  }
  return { uri, text, tree, index };
}

/** Drops the index kept for `tree` (and any carried one waiting): the next makeSourceFile indexes it from scratch. */
export function forgetIndex(tree: Tree): void {
  indexes.delete(tree);
  pending.delete(tree);
}

/** Lets a TreeSource's tree go, with the nodes its index's entries hold (they are found again when asked). */
export function releaseTree(source: TreeSource): void {
  if (!source.held) return;
  source.release();
  const index = sourceIndexes.get(source);
  if (index) forgetNodes(index);
}

/**
 * The editor re-parsed `oldTree` (its text `previousText`) into `tree` after `edit` (`changedRanges`: where the syntax
 * changed, in the new text): when `oldTree` was indexed, or was itself waiting for its index, `tree` will be indexed
 * from that index when first asked (only the items the edits touched are queried again), after `oldTree` is deleted.
 */
export function carryIndex(oldTree: Tree, previousText: string, tree: Tree, edit: IndexEdit, changedRanges: Ranges): void {
  if (indexes.has(tree) || pending.has(tree)) return;
  const previous = indexes.get(oldTree);
  if (previous) {
    pending.set(tree, { previous, previousText, edit, changedRanges });
    return;
  }
  const before = pending.get(oldTree);
  // The earlier span, widened over the syntax changes of its own re-parse, then merged with this edit.
  if (before) pending.set(tree, { ...before, edit: mergeEdits(widen(before.edit, before.changedRanges), edit), changedRanges });
}

/** `edit` grown to cover `ranges` of its new text: text outside an edit is the same on both sides, so it may be included. */
export function widen(edit: IndexEdit, ranges: Ranges): IndexEdit {
  let { startIndex, oldEndIndex, newEndIndex } = edit;
  for (const r of ranges) {
    if (r.startIndex < startIndex) startIndex = r.startIndex;
    if (r.endIndex > newEndIndex) { oldEndIndex += r.endIndex - newEndIndex; newEndIndex = r.endIndex; }
  }
  return { startIndex, oldEndIndex, newEndIndex };
}

/** Two edits one after the other (`second` in the offsets of `first`'s new text) as one span of the first's old text. */
export function mergeEdits(first: IndexEdit, second: IndexEdit): IndexEdit {
  const startIndex = Math.min(first.startIndex, second.startIndex);
  // The later of the two ends, in the final text, mapped back through each edit.
  const end = Math.max(first.newEndIndex, second.oldEndIndex);
  const oldEndIndex = end === first.newEndIndex ? first.oldEndIndex : end - first.newEndIndex + first.oldEndIndex;
  return { startIndex, oldEndIndex, newEndIndex: end + (second.newEndIndex - second.oldEndIndex) };
}

export interface Located<T> { file: SourceFile; item: T }

/** Parsed macro bodies: tree-sitter sees a #define's body as opaque text, so we parse it on demand. */
interface ParsedMacro { tree: Tree; expr: Node | undefined }

/**
 * The functions or the calls of a list of files by name, in file order. An entry is kept as one number (its file's
 * position times `span`, plus its position in that file's list: a small integer V8 stores without allocating) and
 * made into a Located only when its name is asked for, instead of an object and a one-element array per entry
 * (issue 14: a few large folders index hundreds of thousands of entries, of which an analysis asks for a few names).
 */
class NameTable<T> {
  private readonly entries = new Map<string, number | number[]>();
  private readonly located = new Map<string, Located<T>[]>();
  private readonly span: number;

  constructor(private readonly files: readonly SourceFile[], private readonly list: (file: SourceFile) => readonly { name: string }[]) {
    let longest = 1;
    for (const file of files) longest = Math.max(longest, list(file).length);
    this.span = longest;
    files.forEach((file, f) => {
      const items = list(file);
      for (let i = 0; i < items.length; i++) {
        const key = items[i]!.name;
        const at = f * this.span + i;
        const was = this.entries.get(key);
        if (was === undefined) this.entries.set(key, at);
        else if (typeof was === 'number') this.entries.set(key, [was, at]);
        else was.push(at);
      }
    });
  }

  /** The entries named `name`, in file order (the same array each time it is asked). */
  get(name: string): Located<T>[] | undefined {
    const done = this.located.get(name);
    if (done) return done;
    const at = this.entries.get(name);
    if (at === undefined) return undefined;
    const out = (typeof at === 'number' ? [at] : at).map((n) => {
      const file = this.files[Math.floor(n / this.span)]!;
      return { file, item: this.list(file)[n % this.span] as T };
    });
    this.located.set(name, out);
    return out;
  }
}

/**
 * The macros of a list of files by name, in file order, without a string or an object per macro (MacroTable): an open
 * addressing table of name hashes over typed arrays, each slot the first macro of one name, the others chained
 * behind it. About 30 bytes a macro where a Map of names held about 100 (issue 14); entries are made when asked for.
 */
class MacroNameTable {
  /** Per macro, in file order: its file's position, its position in that file's MacroTable, the next of its name (-1). */
  private readonly fileOf: Int32Array;
  private readonly indexOf: Int32Array;
  private readonly next: Int32Array;
  /** Per slot: 1 + the first macro of a name (0: empty), and that name's hash. */
  private readonly slots: Int32Array;
  private readonly hashes: Uint32Array;
  private readonly mask: number;
  private readonly located = new Map<string, Located<MacroInfo>[]>();

  constructor(private readonly files: readonly SourceFile[]) {
    let count = 0;
    for (const file of files) count += file.index.macros.length;
    this.fileOf = new Int32Array(count);
    this.indexOf = new Int32Array(count);
    this.next = new Int32Array(count).fill(-1);
    let size = 16;
    while (size < 2 * count) size *= 2;
    this.slots = new Int32Array(size);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
    const last = new Int32Array(count);
    let m = 0;
    files.forEach((file, f) => {
      const table = file.index.macros;
      for (let i = 0; i < table.length; i++, m++) {
        this.fileOf[m] = f;
        this.indexOf[m] = i;
        const hash = table.hashAt(i);
        for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
          const head = this.slots[slot]! - 1;
          if (head < 0) {
            this.slots[slot] = m + 1;
            this.hashes[slot] = hash;
            last[m] = m;
            break;
          }
          if (this.hashes[slot] === hash && this.nameOf(head) === table.nameAt(i)) {
            this.next[last[head]!] = m;
            last[head] = m;
            break;
          }
        }
      }
    });
  }

  private nameOf(m: number): string {
    return this.files[this.fileOf[m]!]!.index.macros.nameAt(this.indexOf[m]!);
  }

  /** The macros named `name`, in file order (the same array each time it is asked). */
  get(name: string): Located<MacroInfo>[] | undefined {
    const done = this.located.get(name);
    if (done) return done;
    const hash = hashName(name);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const head = this.slots[slot]! - 1;
      if (head < 0) return undefined;
      if (this.hashes[slot] !== hash || !this.files[this.fileOf[head]!]!.index.macros.nameIs(this.indexOf[head]!, name)) continue;
      const out: Located<MacroInfo>[] = [];
      for (let m = head; m >= 0; m = this.next[m]!) {
        const file = this.files[this.fileOf[m]!]!;
        out.push({ file, item: file.index.macros.at(this.indexOf[m]!) });
      }
      this.located.set(name, out);
      return out;
    }
  }
}

/** A by-name lookup of one kind of entry: the Located entries of a name, in file order, or undefined. */
interface NameLookup<T> { get(name: string): Located<T>[] | undefined }

/** The by-name lookups of a list of files, in file order. */
class NameIndex {
  readonly functions: NameTable<FunctionInfo>;
  readonly macros: MacroNameTable;
  readonly calls: NameTable<CallInfo>;

  constructor(files: readonly SourceFile[]) {
    this.functions = new NameTable(files, (f) => f.index.functions);
    this.macros = new MacroNameTable(files);
    this.calls = new NameTable(files, (f) => f.index.calls);
  }
}

/**
 * A driver's files with their lookups by name, built once and shared by the workspaces of every target analysed
 * against them (Workspace.over): the CLI analyses each target of a folder against the same context, and rebuilding the
 * lookups of a few hundred files for each target cost as much as analysing it (quadratic without the prefilter).
 */
export class WorkspaceBase {
  readonly names: NameIndex;

  constructor(readonly files: readonly SourceFile[]) {
    this.names = new NameIndex(files);
  }
}

export class Workspace {
  private readonly own: NameIndex;
  /** Lookups of the shared files other than `files[0]`, merged after its own on first use. */
  private readonly merged?: { base: WorkspaceBase; functions: Map<string, Located<FunctionInfo>[]>; macros: Map<string, Located<MacroInfo>[]>; calls: Map<string, Located<CallInfo>[]> };
  private readonly macroTrees = new Map<MacroInfo, ParsedMacro>();

  constructor(readonly syntax: CSyntax, readonly files: SourceFile[], base?: WorkspaceBase) {
    if (base) {
      this.own = new NameIndex(files.slice(0, 1));
      this.merged = { base, functions: new Map(), macros: new Map(), calls: new Map() };
    } else {
      this.own = new NameIndex(files);
    }
  }

  /**
   * `file` and every file of `base` but the one with its uri, in that order: the same files, lookups and order as
   * `new Workspace(syntax, [file, ...others])`, without building the shared files' lookups again.
   */
  static over(syntax: CSyntax, file: SourceFile, base: WorkspaceBase): Workspace {
    return new Workspace(syntax, [file, ...base.files.filter((f) => f.uri !== file.uri)], base);
  }

  /** A name's entries: this workspace's first file's, then the shared files' (but that file's own copy there). */
  private lookup<T>(name: string, own: NameLookup<T>, pick: (n: NameIndex) => NameLookup<T>, memo?: Map<string, Located<T>[]>): Located<T>[] {
    if (!memo || !this.merged) return own.get(name) ?? [];
    let found = memo.get(name);
    if (!found) {
      const mine = own.get(name) ?? [];
      const uri = this.files[0]!.uri;
      const shared = pick(this.merged.base.names).get(name)?.filter((l) => l.file.uri !== uri) ?? [];
      found = mine.length === 0 ? shared : shared.length === 0 ? mine : [...mine, ...shared];
      memo.set(name, found);
    }
    return found;
  }

  fileFor(uri: string): SourceFile | undefined {
    return this.files.find((f) => f.uri === uri);
  }

  functionsNamed(name: string): Located<FunctionInfo>[] {
    return this.lookup(name, this.own.functions, (n) => n.functions, this.merged?.functions);
  }

  macrosNamed(name: string): Located<MacroInfo>[] {
    return this.lookup(name, this.own.macros, (n) => n.macros, this.merged?.macros);
  }

  /** Names whose macro definitions were read for their value (flag evaluation): defining one anywhere may change a verdict. */
  readonly macroValuesRead = new Set<string>();

  /** `macrosNamed`, for reading a macro's value: the name is remembered in `macroValuesRead`. */
  macroValuesNamed(name: string): Located<MacroInfo>[] {
    this.macroValuesRead.add(name);
    return this.macrosNamed(name);
  }

  callsTo(name: string): Located<CallInfo>[] {
    return this.lookup(name, this.own.calls, (n) => n.calls, this.merged?.calls);
  }

  /** The expression a macro body stands for (a call for function-like wrappers, a value for flag macros). */
  macroExpression(macro: MacroInfo): Node | undefined {
    let parsed = this.macroTrees.get(macro);
    if (!parsed) {
      const body = macro.body.replace(/\\\r?\n/g, ' ');
      const result = this.syntax.parse(`void __forksafe_macro(void) {\n${body}\n;}\n`, undefined, 200);
      let expr: Node | undefined;
      if (result.tree) {
        const fn = result.tree.rootNode.namedChildren.find((n) => n?.type === 'function_definition');
        const stmt = fn?.childForFieldName('body')?.namedChildren.find((n) => n?.type === 'expression_statement');
        expr = stmt?.namedChildren.find((n) => n !== null && n.type !== 'comment') ?? undefined;
      }
      parsed = { tree: result.tree!, expr };
      this.macroTrees.set(macro, parsed);
    }
    return parsed.expr;
  }

  dispose(): void {
    for (const p of this.macroTrees.values()) p.tree?.delete();
    this.macroTrees.clear();
  }
}
