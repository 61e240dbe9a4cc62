// Preprocessor arms: which #if / #ifdef / #elif / #else arms hold a node, and whether a kernel compiles them.
//
// A condition is evaluated three-valued against the selected kernel: LINUX_VERSION_CODE against KERNEL_VERSION() (in
// either order, under &&, ||, !), `defined(FOLL_X)` from the flag table; anything the tree alone cannot decide (a
// conftest `*_PRESENT` or `HAVE_*` macro, a CONFIG_ option, RHEL_RELEASE_CODE, a patch level inside the selected series)
// is unknown, and an unknown arm stays feasible. docs/analysis.md, "Kernel eras and compat branches".
import type { Node } from './parser';
import type { IndexEdit } from './fileIndex';
import { compareKernelVersions, follFlagExistsOn, KERNEL_RELEASES, type KernelVersionLite } from './pinApis';

/** true / false, or undefined when only the build can tell. */
export type Truth = boolean | undefined;

export interface Arm {
  /** Which arm of which conditional: "<line of its #if>:<arm index>", equal for every node of one arm. */
  directive: string;
  /** The directive as written, for messages: `#ifdef HAVE_X`, `#elif LINUX_VERSION_CODE < ...`. */
  written: string;
  /** The condition (`defined(X)` for `#ifdef X`, `!defined(X)` for `#ifndef X`). */
  condition: string;
  /** True: the node is in this arm (its condition holds); false: in a later arm of the same #if (it failed). */
  holds: boolean;
}

/** Values assumed for macros the tree cannot evaluate (the ones the arm a site was judged on implies). */
export type Assumptions = ReadonlyMap<string, boolean>;
const NONE: Assumptions = new Map();

/** An arm's lines: after its directive's last line `from`, before the line `to` of the next directive (Infinity: to the end). */
interface ArmSpan { group: number; index: number; from: number; to: number; written: string; condition: string | undefined }

/**
 * The conditional structure of a file read from its directive lines, not from the syntax tree: tree-sitter keeps an
 * #if only where it encloses whole statements or declarations, and drivers split an `if (` header or a call across
 * arms (`#ifdef HAVE_X` `if (pin_user_pages_fast(...) < 0) {` `#else` ...). A directive inside a block comment is
 * skipped; whether it is, is the syntax tree's answer when the file has one (so the arms agree with the tree on broken
 * input, such as a `/*` typed at the end of an #include line), else read from the text.
 */
class Conditionals {
  private readonly spans: ArmSpan[] = [];

  /** These conditionals with every line from `fromRow` on moved by `rows` (an edit above them added or removed lines). */
  static shifted(c: Conditionals, fromRow: number, rows: number): Conditionals {
    if (rows === 0 || c.spans.length === 0) return c;
    const out = new Conditionals('');
    const move = (row: number): number => (row >= fromRow ? row + rows : row);
    for (const s of c.spans) out.spans.push({ ...s, from: move(s.from), to: move(s.to) });
    return out;
  }

  constructor(text: string, inComment?: (row: number, column: number) => boolean) {
    const lines = new LineReader(text);
    const open: Array<{ group: number; arms: ArmSpan[] }> = [];
    let commentOpen = false;
    let groups = 0;
    for (;;) {
      // With the tree to say what is a comment, a line without '#' needs no look (most lines of a file): the reader
      // moves to the next line holding one without splitting the text (an edit of a large file reads it again).
      if (inComment && !lines.skipTo('#')) break;
      const row = lines.row;
      const read = lines.take();
      if (read === undefined) break;
      let line = read.replace(/\r$/, '');
      const startsInComment = commentOpen;
      if (!inComment) commentOpen = updateComment(line, commentOpen);
      if (!inComment && startsInComment) continue;
      const m = /^\s*#\s*(ifdef|ifndef|if|elifdef|elifndef|elif|else|endif)\b(.*)$/.exec(line);
      if (!m) continue;
      if (inComment && inComment(row, line.indexOf('#'))) continue;
      while (line.endsWith('\\')) {
        const next = lines.take();
        if (next === undefined) break;
        line = `${line.slice(0, -1)} ${next.replace(/\r$/, '')}`;
      }
      // The directive's last line (after its continuations).
      const i = lines.row - 1;
      const kind = m[1];
      const rest = line.replace(/^\s*#\s*\w+/, '').replace(/\/\*.*?\*\/|\/\/.*$/g, '').trim();
      const condition = kind === 'ifdef' || kind === 'elifdef' ? `defined(${rest})` : kind === 'ifndef' || kind === 'elifndef' ? `!defined(${rest})` : kind === 'else' || kind === 'endif' ? undefined : rest;
      const written = `#${kind}${rest ? ` ${rest}` : ''}`;
      if (kind.startsWith('if')) {
        const g = { group: groups++, arms: [] as ArmSpan[] };
        g.arms.push({ group: g.group, index: 0, from: i, to: Infinity, written, condition });
        open.push(g);
        continue;
      }
      const g = open[open.length - 1];
      if (!g) continue; // an unmatched #else/#endif: broken input, nothing to hold
      const last = g.arms[g.arms.length - 1];
      last.to = row;
      if (kind === 'endif') { this.spans.push(...g.arms); open.pop(); continue; }
      g.arms.push({ group: g.group, index: g.arms.length, from: i, to: Infinity, written, condition });
    }
    for (const g of open) this.spans.push(...g.arms); // unterminated: each arm runs to the end (to: Infinity)
  }

  /** The arms holding a 0-based line, innermost first. */
  armsAt(row: number): Arm[] {
    const holding = this.spans.filter((s) => s.from < row && row < s.to).sort((a, b) => b.from - a.from);
    const out: Arm[] = [];
    for (const s of holding) {
      if (s.condition !== undefined) out.push({ directive: `${s.group}:${s.index}`, written: s.written, condition: s.condition, holds: true });
      // Every earlier arm of the same #if failed, the nearest first.
      const earlier = this.spans.filter((e) => e.group === s.group && e.index < s.index).sort((a, b) => b.index - a.index);
      for (const e of earlier) out.push({ directive: `${e.group}:${e.index}`, written: e.written, condition: e.condition ?? '1', holds: false });
    }
    return out;
  }
}

/** The lines of a text in order, as `text.split('\n')` would give them, read one at a time. */
class LineReader {
  /** The 0-based number of the line `take` returns next. */
  row = 0;
  private start = 0;
  constructor(private readonly text: string) {}

  /** The current line (without its '\n'), moving to the next; undefined past the last line. */
  take(): string | undefined {
    if (this.start > this.text.length) return undefined;
    let end = this.text.indexOf('\n', this.start);
    if (end < 0) end = this.text.length;
    const line = this.text.slice(this.start, end);
    this.start = end + 1;
    this.row++;
    return line;
  }

  /** Moves to the first line from the current one that holds `ch`; false (and stays) when no later text does. */
  skipTo(ch: string): boolean {
    const at = this.text.indexOf(ch, this.start);
    if (at < 0) return false;
    for (let nl = this.text.indexOf('\n', this.start); nl >= 0 && nl < at; nl = this.text.indexOf('\n', this.start)) {
      this.start = nl + 1;
      this.row++;
    }
    return true;
  }
}

function updateComment(line: string, inComment: boolean): boolean {
  let i = 0;
  let state = inComment;
  while (i < line.length) {
    if (state) {
      const end = line.indexOf('*/', i);
      if (end < 0) return true;
      state = false; i = end + 2;
    } else {
      const start = line.indexOf('/*', i);
      const lineComment = line.indexOf('//', i);
      if (start < 0 || (lineComment >= 0 && lineComment < start)) return false;
      state = true; i = start + 2;
    }
  }
  return state;
}

const conditionals = new WeakMap<object, Conditionals>();
const NO_CONDITIONALS = new Conditionals('');

/**
 * The editor re-parsed `oldTree` (of `previousText`) into `tree` (of `text`) after `edit`; `changedRanges` are where the
 * syntax changed, in the new text. When the conditionals of `oldTree` were read and no directive can have changed,
 * `tree` gets them with their lines moved, instead of reading every directive line (and asking the tree whether it is
 * in a comment) again on the next question. No directive can have changed when the whole lines of the edit and of the
 * syntax changes hold no '#' on either side of the edit and the line before them does not continue into them (a
 * directive's continuation): every directive line is then outside them, and outside the changed ranges the tree, so
 * what is a comment, is the same. Otherwise nothing is carried (read again when asked).
 */
export function carryConditionals(oldTree: object, previousText: string, tree: object, text: string, edit: IndexEdit, changedRanges: ReadonlyArray<{ startIndex: number; endIndex: number }>): void {
  const before = conditionals.get(oldTree);
  if (!before || conditionals.has(tree)) return;
  let start = edit.startIndex;
  let end = edit.newEndIndex;
  for (const r of changedRanges) { start = Math.min(start, r.startIndex); end = Math.max(end, r.endIndex); }
  const delta = edit.newEndIndex - edit.oldEndIndex;
  // Whole lines: [lineStart, lineEnd) of the new text, [lineStart, oldLineEnd) of the previous one (the same text
  // before the edit's start; after its old end the previous text is the new one moved by delta).
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = lineEndAt(text, end);
  const oldEnd = Math.max(edit.oldEndIndex, end - delta);
  const oldLineEnd = lineEndAt(previousText, oldEnd);
  if (hasHash(text, lineStart, lineEnd) || hasHash(previousText, lineStart, oldLineEnd)) return;
  // The line before: a directive continued with a backslash would run into the edited lines.
  if (lineStart > 0 && /\\\r?$/.test(text.slice(text.lastIndexOf('\n', lineStart - 2) + 1, lineStart - 1))) return;
  const firstRow = countLines(text, 0, lineStart);
  const rows = countLines(text, lineStart, lineEnd) - countLines(previousText, lineStart, oldLineEnd);
  conditionals.set(tree, Conditionals.shifted(before, firstRow, rows));
}

/** Whether the arms of `key` (a tree, or a file object without one) are known (read or carried): for tests. */
export function conditionalsKnown(key: object): boolean {
  return conditionals.has(key);
}

function lineEndAt(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl;
}

function hasHash(text: string, from: number, to: number): boolean {
  const at = text.indexOf('#', from);
  return at >= 0 && at < to;
}

/** The line breaks in text[from, to). */
function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let at = text.indexOf('\n', from); at >= 0 && at < to; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/** The #if / #ifdef / #elif / #else arms around `node` in `file`, innermost first. */
export function armsOf(file: { text: string; tree?: { rootNode: Node } }, node: Node): Arm[] {
  // Read once per tree (the host hands the same tree back until the text changes), else once per file object.
  const key: object = file.tree ?? file;
  let c = conditionals.get(key);
  if (!c && !/#\s*(if|elif)/.test(file.text)) {
    // No conditional at all (most files): nothing to read, and nothing to walk on the next question.
    c = NO_CONDITIONALS;
    conditionals.set(key, c);
  }
  if (!c) {
    const root = file.tree?.rootNode;
    // With a syntax tree, a directive line is in a comment when the tree says so (it agrees with the analysis then).
    const inComment = root ? (row: number, column: number): boolean => root.descendantForPosition({ row, column })?.type === 'comment' : undefined;
    c = new Conditionals(file.text, inComment);
    conditionals.set(key, c);
  }
  return c.armsAt(node.startPosition.row);
}

// ---- condition expressions ------------------------------------------------------------------------------------------

type Expr =
  | { k: 'num'; n: number }
  | { k: 'kernel' }
  | { k: 'kv'; v: [number, number, number] }
  | { k: 'defined'; name: string }
  | { k: 'ident'; name: string }
  | { k: 'unknown' }
  | { k: 'not'; e: Expr }
  | { k: 'and' | 'or'; a: Expr; b: Expr }
  | { k: 'cmp'; op: string; a: Expr; b: Expr }
  | { k: 'config'; fn: 'IS_ENABLED' | 'IS_BUILTIN' | 'IS_MODULE' | 'IS_REACHABLE'; name: string };

/**
 * Macros the build defines for a file (issue 13): `-D`/`-U` and `-include`d headers of its compile command, and the
 * kernel's `include/generated/autoconf.h`. `configComplete`: autoconf.h was read, so a CONFIG_ option it does not
 * define is off. Other names it does not mention stay unknown (a header the analysis does not read may define them).
 */
export interface BuildDefines {
  values: ReadonlyMap<string, string | null>;
  configComplete: boolean;
  /** How many came from where, for the kernel source line: "3 -D from compile_commands.json, CONFIG_* from autoconf.h". */
  summary: string;
}

/** The kernel an analysis is for, with the build's macros when they are known (a non-enumerable `defines`). */
export type Target = KernelVersionLite & { readonly defines?: BuildDefines };

function definedByBuild(name: string, d: BuildDefines | undefined): Truth {
  if (!d) return undefined;
  if (d.values.has(name)) return d.values.get(name) !== null;
  return d.configComplete && name.startsWith('CONFIG_') ? false : undefined;
}

function valueByBuild(name: string, d: BuildDefines | undefined): Value {
  if (!d) return UNKNOWN;
  if (d.values.has(name)) {
    const v = d.values.get(name) ?? null;
    if (v === null) return { t: 'num', n: 0 };
    // `-DX` alone defines X as 1.
    const n = /^\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*$/.exec(v === '' ? '1' : v);
    return n ? { t: 'num', n: Number(n[1]) } : UNKNOWN;
  }
  return d.configComplete && name.startsWith('CONFIG_') ? { t: 'num', n: 0 } : UNKNOWN;
}

const TOKEN = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|\\\n|(0[xX][0-9a-fA-F]+|\d+)[uUlL]*|([A-Za-z_]\w*)|(&&|\|\||==|!=|>=|<=|<<|>>|[!<>()+\-*/%,&|^~?:])/y;

function tokenize(text: string): string[] | undefined {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    const t = m[1] ?? m[2] ?? m[3];
    if (t !== undefined) out.push(m[1] !== undefined ? String(Number(m[1])) : t);
  }
  return out;
}

class ConditionParser {
  private i = 0;
  constructor(private readonly t: string[]) {}

  parse(): Expr {
    const e = this.ternary();
    return this.i === this.t.length ? e : { k: 'unknown' };
  }

  private peek(): string | undefined { return this.t[this.i]; }
  private eat(tok: string): boolean { if (this.t[this.i] === tok) { this.i++; return true; } return false; }

  private ternary(): Expr {
    const c = this.or();
    if (!this.eat('?')) return c;
    this.ternary(); this.eat(':'); this.ternary();
    return { k: 'unknown' };
  }
  private or(): Expr {
    let a = this.and();
    while (this.eat('||')) a = { k: 'or', a, b: this.and() };
    return a;
  }
  private and(): Expr {
    let a = this.cmp();
    while (this.eat('&&')) a = { k: 'and', a, b: this.cmp() };
    return a;
  }
  private cmp(): Expr {
    let a = this.arith();
    for (let op = this.peek(); op && ['==', '!=', '>=', '<=', '>', '<'].includes(op); op = this.peek()) {
      this.i++;
      a = { k: 'cmp', op, a, b: this.arith() };
    }
    return a;
  }
  private arith(): Expr {
    let a = this.unary();
    for (let op = this.peek(); op && ['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'].includes(op); op = this.peek()) {
      this.i++;
      this.unary();
      a = { k: 'unknown' };
    }
    return a;
  }
  private unary(): Expr {
    if (this.eat('!')) return { k: 'not', e: this.unary() };
    if (this.eat('-') || this.eat('~') || this.eat('+')) { this.unary(); return { k: 'unknown' }; }
    return this.primary();
  }
  private primary(): Expr {
    const tok = this.t[this.i++];
    if (tok === undefined) return { k: 'unknown' };
    if (tok === '(') { const e = this.ternary(); this.eat(')'); return e; }
    if (/^\d/.test(tok)) return { k: 'num', n: Number(tok) };
    if (tok === 'defined') {
      const paren = this.eat('(');
      const name = this.t[this.i++] ?? '';
      if (paren) this.eat(')');
      return { k: 'defined', name };
    }
    if (tok === 'LINUX_VERSION_CODE') return { k: 'kernel' };
    if (this.peek() === '(') {
      const args = this.args();
      if (tok === 'KERNEL_VERSION' && args.length === 3 && args.every((a) => a.k === 'num')) {
        return { k: 'kv', v: args.map((a) => (a as { n: number }).n) as [number, number, number] };
      }
      if ((tok === 'IS_ENABLED' || tok === 'IS_BUILTIN' || tok === 'IS_MODULE' || tok === 'IS_REACHABLE') && args.length === 1 && args[0].k === 'ident') {
        return { k: 'config', fn: tok, name: args[0].name };
      }
      return { k: 'unknown' }; // RHEL_RELEASE_VERSION(9, 6), __has_include(...)
    }
    return /^[A-Za-z_]/.test(tok) ? { k: 'ident', name: tok } : { k: 'unknown' };
  }
  private args(): Expr[] {
    const out: Expr[] = [];
    this.eat('(');
    if (this.eat(')')) return out;
    do out.push(this.ternary()); while (this.eat(','));
    this.eat(')');
    return out;
  }
}

const parsed = new Map<string, Expr>();

function parseCondition(text: string): Expr {
  let e = parsed.get(text);
  if (!e) {
    const tokens = tokenize(text);
    e = tokens ? new ConditionParser(tokens).parse() : { k: 'unknown' };
    if (parsed.size > 4096) parsed.clear();
    parsed.set(text, e);
  }
  return e;
}

type Value = { t: 'truth'; v: Truth } | { t: 'num'; n: number } | { t: 'kernel' } | { t: 'kv'; v: [number, number, number] };
const UNKNOWN: Value = { t: 'truth', v: undefined };

function truthOf(x: Value): Truth {
  if (x.t === 'truth') return x.v;
  if (x.t === 'num') return x.n !== 0;
  return true; // a version code is never 0
}

function not(t: Truth): Truth { return t === undefined ? undefined : !t; }
function and(a: Truth, b: Truth): Truth { return a === false || b === false ? false : a === true && b === true ? true : undefined; }
function or(a: Truth, b: Truth): Truth { return a === true || b === true ? true : a === false && b === false ? false : undefined; }

const FLIP: Record<string, string> = { '>=': '<=', '<=': '>=', '>': '<', '<': '>', '==': '==', '!=': '!=' };

/**
 * The selected kernel is a series (5.4 means some 5.4.y): against KERNEL_VERSION(5, 4, p) only `>= 5.4.0` and
 * `< 5.4.0` are decided; any other comparison inside the series depends on the patch level and is unknown.
 */
function compareKernel(kernel: KernelVersionLite, op: string, [a, b, c]: [number, number, number]): Truth {
  const d = compareKernelVersions(kernel, { major: a, minor: b });
  if (d !== 0) {
    switch (op) {
      case '>=': case '>': return d > 0;
      case '<=': case '<': return d < 0;
      case '==': return false;
      default: return true;
    }
  }
  if (op === '>=' && c === 0) return true;
  if (op === '<' && c === 0) return false;
  return undefined;
}

function evaluate(e: Expr, kernel: Target, assumed: Assumptions): Value {
  switch (e.k) {
    case 'num': return { t: 'num', n: e.n };
    case 'kernel': return { t: 'kernel' };
    case 'kv': return { t: 'kv', v: e.v };
    case 'unknown': return UNKNOWN;
    case 'defined': {
      if (assumed.has(e.name)) return { t: 'truth', v: assumed.get(e.name) };
      if (e.name === 'LINUX_VERSION_CODE' || e.name === 'KERNEL_VERSION') return { t: 'truth', v: true };
      if (e.name.startsWith('FOLL_')) return { t: 'truth', v: follFlagExistsOn(e.name, kernel) };
      return { t: 'truth', v: definedByBuild(e.name, kernel.defines) };
    }
    case 'ident': return assumed.has(e.name) ? { t: 'truth', v: assumed.get(e.name) } : valueByBuild(e.name, kernel.defines);
    case 'config': {
      // include/linux/kconfig.h: =y defines CONFIG_X, =m defines CONFIG_X_MODULE.
      const builtin = definedByBuild(e.name, kernel.defines);
      const module = definedByBuild(`${e.name}_MODULE`, kernel.defines);
      return { t: 'truth', v: e.fn === 'IS_BUILTIN' ? builtin : e.fn === 'IS_MODULE' ? module : or(builtin, module) };
    }
    case 'not': return { t: 'truth', v: not(truthOf(evaluate(e.e, kernel, assumed))) };
    case 'and': return { t: 'truth', v: and(truthOf(evaluate(e.a, kernel, assumed)), truthOf(evaluate(e.b, kernel, assumed))) };
    case 'or': return { t: 'truth', v: or(truthOf(evaluate(e.a, kernel, assumed)), truthOf(evaluate(e.b, kernel, assumed))) };
    case 'cmp': {
      const a = evaluate(e.a, kernel, assumed);
      const b = evaluate(e.b, kernel, assumed);
      if (a.t === 'kernel' && b.t === 'kv') return { t: 'truth', v: compareKernel(kernel, e.op, b.v) };
      if (a.t === 'kv' && b.t === 'kernel') return { t: 'truth', v: compareKernel(kernel, FLIP[e.op], a.v) };
      if (a.t === 'num' && b.t === 'num') {
        const r = { '==': a.n === b.n, '!=': a.n !== b.n, '>=': a.n >= b.n, '<=': a.n <= b.n, '>': a.n > b.n, '<': a.n < b.n }[e.op];
        return { t: 'truth', v: r };
      }
      return UNKNOWN;
    }
  }
}

/** Whether `kernel` compiles a #if condition (undefined: the tree alone cannot tell). */
export function conditionHolds(condition: string, kernel: Target, assumed: Assumptions = NONE): Truth {
  return truthOf(evaluate(parseCondition(condition), kernel, assumed));
}

/** Whether `kernel` compiles the code inside all of `arms`. */
export function armsCompile(arms: readonly Arm[], kernel: Target, assumed: Assumptions = NONE): Truth {
  let out: Truth = true;
  for (const a of arms) {
    const t = conditionHolds(a.condition, kernel, assumed);
    out = and(out, a.holds ? t : not(t));
    if (out === false) return false;
  }
  return out;
}

/**
 * The macro values an arm implies where the kernel leaves it open: being inside `#ifdef HAVE_X` assumes HAVE_X,
 * its #else assumes !HAVE_X. Only single-macro conditions imply anything.
 */
export function assumptionsOf(arms: readonly Arm[], kernel: Target): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const a of arms) {
    if (conditionHolds(a.condition, kernel) !== undefined) continue;
    let e = parseCondition(a.condition);
    let value = a.holds;
    while (e.k === 'not') { e = e.e; value = !value; }
    if (e.k === 'defined' || e.k === 'ident') out.set(e.name, value);
  }
  return out;
}

/** Two arm lists that sit in different arms of one directive: no build compiles both. */
export function exclusiveArms(a: readonly Arm[], b: readonly Arm[]): boolean {
  return a.some((x) => b.some((y) => x.directive === y.directive && x.holds !== y.holds));
}

/** "inside `#ifdef HAVE_X`", "in the #else of `#if LINUX_VERSION_CODE < ...`": the innermost arm. */
export function describeArm(arms: readonly Arm[]): string | undefined {
  const a = arms[0];
  if (!a) return undefined;
  return a.holds ? `inside \`${clip(a.written)}\`` : `in the #else of \`${clip(a.written)}\``;
}

function clip(text: string): string {
  const t = text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
  return t.length > 70 ? `${t.slice(0, 67)}...` : t;
}

/** The kernels (of KERNEL_RELEASES) a predicate holds on, worded as ranges: "kernels 5.6 and later", "4.9 to 6.4". */
export function describeKernels(holds: (k: KernelVersionLite) => boolean): string {
  const ranges: Array<[KernelVersionLite, KernelVersionLite]> = [];
  for (const k of KERNEL_RELEASES) {
    if (!holds(k)) continue;
    const last = ranges[ranges.length - 1];
    const prev = KERNEL_RELEASES[KERNEL_RELEASES.indexOf(k) - 1];
    if (last && prev && last[1] === prev) last[1] = k;
    else ranges.push([k, k]);
  }
  const f = (v: KernelVersionLite) => `${v.major}.${v.minor}`;
  const first = KERNEL_RELEASES[0];
  const newest = KERNEL_RELEASES[KERNEL_RELEASES.length - 1];
  if (ranges.length === 0) return 'no kernel';
  if (ranges.length === 1 && ranges[0][0] === first && ranges[0][1] === newest) return 'every kernel';
  return ranges.map(([a, b]) => (a === b ? f(a) : b === newest ? `${f(a)} and later` : a === first ? `before ${f(KERNEL_RELEASES[KERNEL_RELEASES.indexOf(b) + 1])}` : `${f(a)} to ${f(b)}`)).join(', ');
}
