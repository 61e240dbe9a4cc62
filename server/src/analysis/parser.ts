// The tree-sitter façade: one initialised C grammar, parsing with a time budget, compiled queries.
// Pure: it is handed the wasm paths/bytes and query texts; it never reads files itself.
import { Parser, Language, Query, Tree, Node, Edit, Point } from 'web-tree-sitter';

export type { Tree, Node, Query, Point };

export interface GrammarAssets {
  /** Absolute path of web-tree-sitter.wasm (the runtime), handed to Parser.init's locateFile. */
  runtimeWasmPath: string;
  /** Bytes of tree-sitter-c.wasm. */
  grammarWasm: Uint8Array;
  /** Query sources by name (file name without .scm), e.g. { pinCalls: '...' }. */
  queries: Record<string, string>;
}

export interface ParseResult {
  /** Undefined when the time budget was hit before the parser finished. */
  tree: Tree | undefined;
  elapsedMs: number;
  budgetHit: boolean;
}

let runtimeReady: Promise<void> | undefined;

/** A loaded C grammar with its compiled queries; create once per process and share. */
export class CSyntax {
  private readonly parser: Parser;
  private readonly compiled = new Map<string, Query>();

  private constructor(readonly language: Language, queries: Record<string, string>) {
    this.parser = new Parser();
    this.parser.setLanguage(language);
    for (const [name, source] of Object.entries(queries)) {
      this.compiled.set(name, new Query(language, source));
    }
  }

  static async load(assets: GrammarAssets): Promise<CSyntax> {
    runtimeReady ??= Parser.init({ locateFile: () => assets.runtimeWasmPath });
    await runtimeReady;
    const language = await Language.load(assets.grammarWasm);
    return new CSyntax(language, assets.queries);
  }

  /**
   * Parses `text`, reusing `oldTree` (already edited with `applyEdit`) when given.
   * Gives up after `budgetMs` so a pathological file cannot hang the server.
   */
  parse(text: string, oldTree?: Tree, budgetMs = 5000): ParseResult {
    const started = performance.now();
    let budgetHit = false;
    const tree = this.parser.parse(text, oldTree ?? null, {
      progressCallback: () => {
        // web-tree-sitter cancels the parse when this callback returns true.
        if (performance.now() - started > budgetMs) budgetHit = true;
        return budgetHit as unknown as void;
      },
    });
    if (!tree) this.parser.reset();
    return { tree: tree ?? undefined, elapsedMs: performance.now() - started, budgetHit };
  }

  query(name: string): Query {
    const q = this.compiled.get(name);
    if (!q) throw new Error(`forksafe: query '${name}' is not loaded`);
    return q;
  }

  queryNames(): string[] {
    return [...this.compiled.keys()];
  }

  dispose(): void {
    for (const q of this.compiled.values()) q.delete();
    this.compiled.clear();
    this.parser.delete();
  }
}

/** Describes a text change for incremental re-parsing; offsets are UTF-16 code units. */
export interface TextChange {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: Point;
  oldEndPosition: Point;
  newEndPosition: Point;
}

/** Tells the old tree about an edit so the next parse can reuse unchanged subtrees. */
export function applyEdit(tree: Tree, change: TextChange): void {
  tree.edit(new Edit(change));
}
