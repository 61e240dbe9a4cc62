// A file's syntax tree that may be let go between analyses and parsed again when asked: what bounds a scan's memory by the trees in use rather than by every file of a folder.
import type { CSyntax, Tree } from './parser';

/**
 * Where an index's entries find their nodes: a tree, and its generation, which changes whenever the tree is let go or
 * parsed again (a node, or a cache of nodes, from another generation is stale).
 */
export interface TreeRef {
  readonly tree: Tree;
  readonly generation: number;
}

/**
 * A tree that is never let go (the editor's documents, a scan's small files). The editor moves it on to the tree of
 * the next text (`moveTo`): an index carried over an edit keeps its entries, which find their nodes in the new tree.
 */
export class FixedTree implements TreeRef {
  private current: Tree;
  private moves = 0;

  constructor(tree: Tree) {
    this.current = tree;
  }

  get tree(): Tree {
    return this.current;
  }

  get generation(): number {
    return this.moves;
  }

  /** The next text's tree (this one was re-parsed into it): every node read from the old one is stale. */
  moveTo(tree: Tree): void {
    this.current = tree;
    this.moves++;
  }
}

export function fixedTree(tree: Tree): FixedTree {
  return new FixedTree(tree);
}

let clock = 0;

/** The text length of the trees a set of sources holds, kept as they are parsed and let go (the host's budget). */
export interface HeldChars { chars: number }

/**
 * A file's text and, while held, its tree. `tree` parses the text again after `release()` (a new generation); the
 * host lets trees go only between analyses, never while one holds nodes of them.
 */
export class TreeSource implements TreeRef {
  private current: Tree | undefined;
  private changes = 0;
  /** When `tree` was last asked for, on a counter shared by every source: the host lets the least recently used go first. */
  lastUse = 0;

  constructor(private readonly syntax: CSyntax, readonly text: string, private readonly budgetMs: number, tree?: Tree,
    private readonly holding?: HeldChars) {
    this.current = tree;
    if (tree && holding) holding.chars += text.length;
  }

  get generation(): number {
    return this.changes;
  }

  get held(): boolean {
    return this.current !== undefined;
  }

  get tree(): Tree {
    this.lastUse = ++clock;
    if (!this.current) {
      const parsed = this.syntax.parse(this.text, undefined, this.budgetMs);
      // The text parsed within the budget before (an index exists only for a parsed tree); a second parse that does
      // not is an error the caller reports for its target, not a silent gap in the context.
      if (!parsed.tree) throw new Error(`parsing a context file again stopped after ${Math.round(parsed.elapsedMs)} ms`);
      this.current = parsed.tree;
      this.changes++;
      if (this.holding) this.holding.chars += this.text.length;
    }
    return this.current;
  }

  /** Deletes the tree (its nodes become stale); the next `tree` parses the text again. */
  release(): void {
    if (!this.current) return;
    this.current.delete();
    this.current = undefined;
    this.changes++;
    if (this.holding) this.holding.chars -= this.text.length;
  }
}
