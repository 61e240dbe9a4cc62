// The tree-sitter façade: one initialised C grammar, parsing with a time budget, compiled queries.
// Pure: it is handed the wasm paths/bytes and query texts; it never reads files itself.
import { Parser, Language, Query, Tree, Node, Edit, Point, Range } from 'web-tree-sitter';
import { positionAfter } from './span';

export type { Tree, Node, Query, Point, Range };

export interface GrammarAssets {
  /** Absolute path of web-tree-sitter.wasm (the runtime), handed to Parser.init's locateFile. */
  runtimeWasmPath: string;
  /** Bytes of tree-sitter-c.wasm. */
  grammarWasm: Uint8Array;
  /** Query sources by name (file name without .scm), e.g. { pinCalls: '...' }. */
  queries: Record<string, string>;
}

export interface ParseResult {
  /** Undefined when the time budget was hit before the parser finished, or the tree is deeper than MAX_TREE_DEPTH. */
  tree: Tree | undefined;
  elapsedMs: number;
  budgetHit: boolean;
  /** The text parsed, but nests deeper than MAX_TREE_DEPTH: it is not analysed. */
  depthLimitHit?: boolean;
}

/**
 * Trees deeper than this are refused. tree-sitter's query cursor keeps depths in 16 bits: past 65,535 levels it loses
 * matches and matching turns quadratic (minutes for a 5 MB `a+a+…` line), and finding a node's parent descends from
 * the root, so walks up a deep tree are quadratic too. Real C nests a few hundred levels at most.
 */
export const MAX_TREE_DEPTH = 10_000;

/**
 * True when some node of `tree` is more than `limit` levels deep. Skips subtrees too small to reach the limit: the
 * root's children are sized from their descendant indexes (where the next one starts), so no node is made for each
 * top-level item of a file on every re-parse; only a child large enough to matter is walked.
 */
export function deeperThan(tree: Tree, limit: number): boolean {
  const total = tree.rootNode.descendantCount;
  // A subtree of n nodes is at most n - 1 levels deep below its root.
  if (total - 1 <= limit) return false;
  const cursor = tree.walk();
  try {
    if (!cursor.gotoFirstChild()) return false;
    const large: number[] = [];
    let at = cursor.currentDescendantIndex;
    for (;;) {
      const more = cursor.gotoNextSibling();
      const next = more ? cursor.currentDescendantIndex : total;
      // A child at depth 1 of n nodes reaches depth n.
      if (next - at > limit) large.push(at);
      if (!more) break;
      at = next;
    }
    for (const index of large) {
      cursor.gotoDescendant(index);
      if (deeperBelow(cursor, 1, limit)) return true;
    }
    return false;
  } finally {
    cursor.delete();
  }
}

/** The walk of deeperThan inside the subtree at the cursor (at `top` levels deep): descends only where the limit can be reached. */
function deeperBelow(cursor: ReturnType<Tree['walk']>, top: number, limit: number): boolean {
  let depth = top;
  for (;;) {
    if (depth > limit) return true;
    if (depth + cursor.currentNode.descendantCount - 1 > limit && cursor.gotoFirstChild()) { depth++; continue; }
    for (;;) {
      if (depth === top) return false;
      if (cursor.gotoNextSibling()) break;
      cursor.gotoParent();
      depth--;
    }
  }
}

/** Characters handed to tree-sitter per read during a re-parse (CSyntax.parse). */
const REPARSE_PIECE = 1024;

let runtimeReady: Promise<void> | undefined;

/** A loaded C grammar with its compiled queries; create once per process and share. */
export class CSyntax {
  private readonly parser: Parser;
  /**
   * Query files compiled one by one, when first asked for: the analysis asks only for files compiled together
   * (queriesTogether). Compiling each alone at load took the grammar's load from about 23 to 54-62 ms; the first joined
   * query then costs about 22 ms instead of 5 (web-tree-sitter's query code runs cold), so each process and worker
   * reaches its first index 15-20 ms sooner.
   */
  private readonly compiled = new Map<string, Query>();
  /** Several query files as one query: one walk of the tree instead of one per file (queriesTogether). */
  private readonly joined = new Map<string, Query>();

  private constructor(readonly language: Language, private readonly sources: Record<string, string>) {
    this.parser = new Parser();
    this.parser.setLanguage(language);
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
  parse(text: string, oldTree?: Tree, budgetMs = 5000, includedRanges?: Range[]): ParseResult {
    const started = performance.now();
    let budgetHit = false;
    // An edit's re-parse reads the text in short pieces: web-tree-sitter copies up to 5,120 characters into wasm memory
    // for every read tree-sitter makes, and a re-parse makes a score of reads at scattered places, using little of each
    // (92,000 characters copied per edit of the 10,000-line bench file; 23,000 in pieces of 1,024). A whole parse reads
    // the text in order, so the long pieces serve it best.
    const input = oldTree ? (index: number): string => text.slice(index, index + REPARSE_PIECE) : text;
    const tree = this.parser.parse(input, oldTree ?? null, {
      ...(includedRanges ? { includedRanges } : {}),
      progressCallback: () => {
        // web-tree-sitter cancels the parse when this callback returns true.
        if (performance.now() - started > budgetMs) budgetHit = true;
        return budgetHit as unknown as void;
      },
    });
    if (!tree) this.parser.reset();
    if (tree && deeperThan(tree, MAX_TREE_DEPTH)) {
      tree.delete();
      return { tree: undefined, elapsedMs: performance.now() - started, budgetHit: false, depthLimitHit: true };
    }
    return { tree: tree ?? undefined, elapsedMs: performance.now() - started, budgetHit };
  }

  /**
   * Parses only the given [start, end) offset ranges of `text` (tree-sitter's included ranges): the tree's nodes keep
   * the whole text's offsets and positions, everything outside is as if absent. Ranges ascending, not overlapping.
   */
  parseRanges(text: string, ranges: Array<{ start: number; end: number }>, budgetMs = 5000): ParseResult {
    // The ranges ascend: each position is counted on from the one before, one pass over the text in all.
    let at = { line: 0, character: 0 };
    let atOffset = 0;
    const point = (offset: number): Point => {
      at = positionAfter(text, at, atOffset, offset);
      atOffset = offset;
      return { row: at.line, column: at.character };
    };
    const included = ranges.map((r) => {
      const startPosition = point(r.start);
      return { startIndex: r.start, endIndex: r.end, startPosition, endPosition: point(r.end) };
    });
    return this.parse(text, undefined, budgetMs, included);
  }

  query(name: string): Query {
    let q = this.compiled.get(name);
    if (!q) {
      if (!Object.hasOwn(this.sources, name)) throw new Error(`forksafe: query '${name}' is not loaded`);
      q = new Query(this.language, this.sources[name]!);
      this.compiled.set(name, q);
    }
    return q;
  }

  /**
   * The named query files compiled as one query (their capture names must not clash): a query walks the whole tree
   * whatever it matches, so on a 10,000-line file one walk for definitions and calls instead of two saves about 15 ms
   * of every keystroke's index (issue 14). Matches come in the order each file's own query would give them.
   */
  queriesTogether(names: readonly string[]): Query {
    const key = names.join('+');
    let q = this.joined.get(key);
    if (!q) {
      const missing = names.find((n) => !Object.hasOwn(this.sources, n));
      if (missing !== undefined) throw new Error(`forksafe: query '${missing}' is not loaded`);
      q = new Query(this.language, names.map((n) => this.sources[n]).join('\n'));
      this.joined.set(key, q);
    }
    return q;
  }

  queryNames(): string[] {
    return Object.keys(this.sources);
  }

  dispose(): void {
    for (const q of [...this.compiled.values(), ...this.joined.values()]) q.delete();
    this.compiled.clear();
    this.joined.clear();
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
