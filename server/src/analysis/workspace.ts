// The set of parsed files the analysis may look across (the driver scope), with lookups by name.
import type { CSyntax, Node, Tree } from './parser';
import { FileIndex, FunctionInfo, CallInfo, MacroInfo, IndexEdit, indexFile, reindexFile } from './fileIndex';

export interface SourceFile {
  uri: string;
  text: string;
  tree: Tree;
  index: FileIndex;
}

/**
 * The index is a pure function of the tree, and hosts hand the same Tree object back until the text changes
 * (open documents, cached driver files): index each tree once instead of once per keystroke in a sibling.
 */
const indexes = new WeakMap<Tree, FileIndex>();

export function makeSourceFile(syntax: CSyntax, uri: string, text: string, tree: Tree): SourceFile {
  let index = indexes.get(tree);
  if (!index) {
    index = indexFile(syntax, tree, text);
    indexes.set(tree, index);
  }
  return { uri, text, tree, index };
}

/**
 * The editor re-parsed `oldTree` (its text `previousText`) into `tree` after `edit`: when `oldTree` was indexed, index
 * `tree` from it (reindexFile: only the items the edit touched are queried again) before `oldTree` is deleted.
 */
export function carryIndex(syntax: CSyntax, oldTree: Tree, previousText: string, tree: Tree, text: string, edit: IndexEdit, changedRanges: ReadonlyArray<{ startIndex: number; endIndex: number }>): void {
  const previous = indexes.get(oldTree);
  if (!previous || indexes.has(tree)) return;
  indexes.set(tree, reindexFile(syntax, previous, tree, text, previousText, edit, changedRanges));
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
