// The set of parsed files the analysis may look across (the driver scope), with lookups by name.
import type { CSyntax, Node, Tree } from './parser';
import { FileIndex, FunctionInfo, CallInfo, MacroInfo, IndexEdit, forgetNodes, indexFile, reindexFile } from './fileIndex';
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

/** The by-name lookups of a list of files, in file order. */
class NameIndex {
  readonly functions = new Map<string, Located<FunctionInfo>[]>();
  readonly macros = new Map<string, Located<MacroInfo>[]>();
  readonly calls = new Map<string, Located<CallInfo>[]>();

  constructor(files: readonly SourceFile[]) {
    for (const file of files) {
      for (const fn of file.index.functions) push(this.functions, fn.name, { file, item: fn });
      for (const m of file.index.macros) push(this.macros, m.name, { file, item: m });
      for (const c of file.index.calls) push(this.calls, c.name, { file, item: c });
    }
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
  private lookup<T>(name: string, own: Map<string, Located<T>[]>, pick: (n: NameIndex) => Map<string, Located<T>[]>, memo?: Map<string, Located<T>[]>): Located<T>[] {
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

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
