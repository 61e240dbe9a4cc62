// The set of parsed files the analysis may look across (the driver scope), with lookups by name.
import type { CSyntax, Node, Tree } from './parser';
import { FileIndex, FunctionInfo, CallInfo, MacroInfo, indexFile } from './fileIndex';

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

export interface Located<T> { file: SourceFile; item: T }

/** Parsed macro bodies: tree-sitter sees a #define's body as opaque text, so we parse it on demand. */
interface ParsedMacro { tree: Tree; expr: Node | undefined }

export class Workspace {
  private readonly functionsByName = new Map<string, Located<FunctionInfo>[]>();
  private readonly macrosByName = new Map<string, Located<MacroInfo>[]>();
  private readonly callsByName = new Map<string, Located<CallInfo>[]>();
  private readonly macroTrees = new Map<MacroInfo, ParsedMacro>();

  constructor(readonly syntax: CSyntax, readonly files: SourceFile[]) {
    for (const file of files) {
      for (const fn of file.index.functions) push(this.functionsByName, fn.name, { file, item: fn });
      for (const m of file.index.macros) push(this.macrosByName, m.name, { file, item: m });
      for (const c of file.index.calls) push(this.callsByName, c.name, { file, item: c });
    }
  }

  fileFor(uri: string): SourceFile | undefined {
    return this.files.find((f) => f.uri === uri);
  }

  functionsNamed(name: string): Located<FunctionInfo>[] {
    return this.functionsByName.get(name) ?? [];
  }

  macrosNamed(name: string): Located<MacroInfo>[] {
    return this.macrosByName.get(name) ?? [];
  }

  /** Names whose macro definitions were read for their value (flag evaluation): defining one anywhere may change a verdict. */
  readonly macroValuesRead = new Set<string>();

  /** `macrosNamed`, for reading a macro's value: the name is remembered in `macroValuesRead`. */
  macroValuesNamed(name: string): Located<MacroInfo>[] {
    this.macroValuesRead.add(name);
    return this.macrosNamed(name);
  }

  callsTo(name: string): Located<CallInfo>[] {
    return this.callsByName.get(name) ?? [];
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
