// A statement-level control-flow graph of one function body, and the one question the lifetime layer asks of it:
// does every path from a point to the function's exit pass a release? (A release on every path before the syscall
// returns is what makes a pin short-lived; event loops such as `while (1) { wait; switch (event) { ... return; } }`
// release on each of their exits, not before one exit the straight-line check can see.)
import type { Node } from '../parser';
import { isAncestor, namedChildren, unwrapParens } from '../syntaxTools';

interface CfgNode {
  /** The statement (or the condition of a branch or loop) this node stands for; none for the exit and labels. */
  syntax?: Node;
  succ: number[];
}

const EXIT = 0;
/** Bodies larger than this are not analysed (the answer is "not shown"): the check runs inside the editor's budget. */
const MAX_NODES = 5000;

class Graph {
  readonly nodes: CfgNode[] = [{ succ: [] }];
  private readonly labels = new Map<string, number>();

  add(syntax: Node | undefined, succ: number[]): number {
    this.nodes.push({ syntax, succ });
    if (this.nodes.length > MAX_NODES) throw new TooLarge();
    return this.nodes.length - 1;
  }

  label(name: string): number {
    let id = this.labels.get(name);
    if (id === undefined) { id = this.add(undefined, []); this.labels.set(name, id); }
    return id;
  }
}

class TooLarge extends Error {}

interface Jumps { brk?: number; cont?: number }

function statements(block: Node): Node[] {
  return namedChildren(block).filter((c) => c.type !== 'comment');
}

/** `while (1)`, `for (;;)`, `while (true)`: a loop only a jump leaves. */
function alwaysTrue(cond: Node | null): boolean {
  if (!cond) return true;
  const c = unwrapParens(cond);
  return c.type === 'number_literal' ? c.text !== '0' : c.type === 'true';
}

/** Builds the nodes of `s`, whose normal end continues at `next`; returns the node where `s` starts. */
function build(g: Graph, s: Node | null, next: number, jumps: Jumps): number {
  if (!s) return next;
  switch (s.type) {
    case 'compound_statement': {
      let at = next;
      for (const c of statements(s).reverse()) at = build(g, c, at, jumps);
      return at;
    }
    case 'if_statement': {
      const cons = build(g, s.childForFieldName('consequence'), next, jumps);
      const alt = s.childForFieldName('alternative');
      const other = alt ? build(g, statements(alt)[0] ?? null, next, jumps) : next;
      return g.add(s.childForFieldName('condition') ?? s, [cons, other]);
    }
    case 'while_statement': {
      const cond = s.childForFieldName('condition');
      const head = g.add(cond ?? s, []);
      const body = build(g, s.childForFieldName('body'), head, { brk: next, cont: head });
      g.nodes[head].succ = alwaysTrue(cond) ? [body] : [body, next];
      return head;
    }
    case 'for_statement': {
      const cond = s.childForFieldName('condition');
      const head = g.add(cond ?? s, []);
      const update = s.childForFieldName('update');
      const step = update ? g.add(update, [head]) : head;
      const body = build(g, s.childForFieldName('body'), step, { brk: next, cont: step });
      g.nodes[head].succ = alwaysTrue(cond) ? [body] : [body, next];
      const init = s.childForFieldName('initializer');
      return init ? g.add(init, [head]) : head;
    }
    case 'do_statement': {
      const cond = s.childForFieldName('condition');
      const test = g.add(cond ?? s, []);
      const body = build(g, s.childForFieldName('body'), test, { brk: next, cont: test });
      g.nodes[test].succ = alwaysTrue(cond) ? [body] : [body, next];
      return body;
    }
    case 'switch_statement': {
      const body = s.childForFieldName('body');
      const cases = body ? statements(body).filter((c) => c.type === 'case_statement') : [];
      const entries: number[] = [];
      let fall = next;
      for (let i = cases.length - 1; i >= 0; i--) {
        const value = cases[i].childForFieldName('value');
        let at = fall;
        for (const c of statements(cases[i]).filter((x) => x.id !== value?.id).reverse()) at = build(g, c, at, { brk: next, cont: jumps.cont });
        entries.unshift(at);
        fall = at;
      }
      const hasDefault = cases.some((c) => !c.childForFieldName('value'));
      return g.add(s.childForFieldName('condition') ?? s, hasDefault ? entries : [...entries, next]);
    }
    case 'break_statement': return g.add(s, [jumps.brk ?? EXIT]);
    case 'continue_statement': return g.add(s, [jumps.cont ?? EXIT]);
    case 'return_statement': return g.add(s, [EXIT]);
    case 'goto_statement': {
      const label = s.childForFieldName('label')?.text;
      return g.add(s, [label ? g.label(label) : EXIT]);
    }
    case 'labeled_statement': {
      const label = s.childForFieldName('label')?.text;
      const inner = build(g, statements(s).find((c) => c.type !== 'statement_identifier') ?? null, next, jumps);
      if (!label) return inner;
      const id = g.label(label);
      g.nodes[id].succ = [inner];
      return id;
    }
    case 'preproc_if': case 'preproc_ifdef': case 'preproc_else': case 'preproc_elif': case 'preproc_elifdef': {
      // One arm or the other is compiled: a branch over the arms (none taken when there is no #else).
      const alt = s.childForFieldName('alternative');
      const own = statements(s).filter((c) => c.id !== alt?.id && c.id !== s.childForFieldName('condition')?.id && c.id !== s.childForFieldName('name')?.id);
      let at = next;
      for (const c of own.reverse()) at = build(g, c, at, jumps);
      const other = alt ? build(g, alt, next, jumps) : next;
      return g.add(undefined, [at, other]);
    }
    default:
      return g.add(s, [next]);
  }
}

/** The graph of one function body, built once; `releasedOnEveryExit` asks it about one point and one set of releases. */
export class FlowGraph {
  private readonly graph: Graph | undefined;

  constructor(body: Node) {
    const g = new Graph();
    try { build(g, body, EXIT, {}); this.graph = g; } catch (e) { if (!(e instanceof TooLarge)) throw e; }
  }

  /**
   * True when every path from the statement holding `from` to the end of the body passes a node that `releases`
   * accepts, or leaves through a node that `failureExit` accepts (the pin's own failure check returning early). An
   * infinite loop that never exits counts as covered. False when `from` is not in the body or the body is too large.
   */
  releasedOnEveryExit(from: Node, releases: (n: Node) => boolean, failureExit: (n: Node) => boolean): boolean {
    const g = this.graph;
    if (!g) return false;
    // The innermost node holding `from`: paths start at its successors.
    let start = -1;
    for (let i = 1; i < g.nodes.length; i++) {
      const syn = g.nodes[i].syntax;
      if (syn && isAncestor(syn, from) && (start < 0 || isAncestor(g.nodes[start].syntax!, syn))) start = i;
    }
    if (start < 0) return false;
    // Greatest fixpoint: covered unless some path reaches the exit without a release.
    const covered = g.nodes.map((_, i) => i !== EXIT);
    const own = g.nodes.map((n, i) => i !== EXIT && !!n.syntax && !isAncestor(n.syntax, from) && (releases(n.syntax) || failureExit(n.syntax)));
    for (let changed = true; changed;) {
      changed = false;
      for (let i = 1; i < g.nodes.length; i++) {
        if (!covered[i] || own[i]) continue;
        const n = g.nodes[i];
        if (n.succ.length === 0 || n.succ.some((x) => !covered[x])) { covered[i] = false; changed = true; }
      }
    }
    const first = g.nodes[start];
    return first.succ.length > 0 && first.succ.every((x) => covered[x]);
  }
}
