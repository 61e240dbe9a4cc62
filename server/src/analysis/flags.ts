// Resolves what a pin call's flags say: always / never / conditionally FOLL_WRITE (or the old int `write`), FOLL_LONGTERM, and where each came from.
import type { Node } from './parser';
import { conditionOf, descendantsOfType, enclosingCondition, namedChildren, unwrapParens, declaredName } from './syntaxTools';
import type { SourceFile, Workspace } from './workspace';
import { follFlagExistsOn, type KernelVersionLite } from './pinApis';
import { armsCompile, armsOf, describeArm } from './preprocessor';

/** Where a value came from: a node in a workspace file (macro-body values point at the #define). */
export interface Evidence { uri: string; node: Node; message: string }

/** The abstract value of a flags (or `write`) expression. */
export interface FlagValue {
  /** Flags set on every path. */
  always: Set<string>;
  /** Flags set on some path (a superset of always). */
  maybe: Set<string>;
  /** As an int `write` argument: definitely non-zero, definitely zero, or it depends. */
  truth: 'true' | 'false' | 'maybe';
  /** Expressions that could not be resolved. */
  unknown: string[];
  /** Conditions that decide a flag. */
  conditions: Evidence[];
  /** Where each flag was first seen. */
  origins: Map<string, Evidence>;
}

export type Tri = 'always' | 'never' | 'conditional';

/** A function or macro body being evaluated, and what its parameters are bound to (if a call site is known). */
export interface Scope {
  file: SourceFile;
  /** Function definition node, when evaluating inside a function (locals are looked up there). */
  fn?: Node;
  name?: string;
  params: string[];
  bindings?: Array<Binding | undefined>;
  /** Macro bodies are parsed out of context: evidence points here instead. */
  anchor?: Node;
}

export interface Binding { node: Node; scope: Scope }

const MAX_DEPTH = 12;

function empty(): FlagValue {
  return { always: new Set(), maybe: new Set(), truth: 'false', unknown: [], conditions: [], origins: new Map() };
}

/**
 * A number: its truth, and FOLL_WRITE when its lowest bit is set (FOLL_WRITE is 0x01 in every kernel), so a literal 1
 * passed as gup_flags asks for write access as it does as the old int `write` (docs/analysis.md, "Flags").
 */
function num(n: number, evidence?: Evidence): FlagValue {
  return n % 2 !== 0 ? writeBit('true', evidence) : { ...empty(), truth: n !== 0 ? 'true' : 'false' };
}

/** A 0-or-1 value (a comparison, `!x`, `!!write`, a literal): FOLL_WRITE exactly when it is 1. */
function writeBit(truth: 'true' | 'false' | 'maybe', evidence?: Evidence): FlagValue {
  const out: FlagValue = { ...empty(), truth };
  if (truth !== 'false') out.maybe.add('FOLL_WRITE');
  if (truth === 'true') out.always.add('FOLL_WRITE');
  if (truth !== 'false' && evidence) out.origins.set('FOLL_WRITE', evidence);
  return out;
}

function unknown(text: string): FlagValue {
  return { ...empty(), truth: 'maybe', unknown: [text.length > 60 ? text.slice(0, 57) + '...' : text] };
}

function mergeEvidence(into: FlagValue, from: FlagValue): void {
  for (const [k, v] of from.origins) if (!into.origins.has(k)) into.origins.set(k, v);
  into.conditions.push(...from.conditions);
  into.unknown.push(...from.unknown);
}

export function orValues(values: FlagValue[]): FlagValue {
  const out = empty();
  for (const v of values) {
    v.always.forEach((f) => out.always.add(f));
    v.maybe.forEach((f) => out.maybe.add(f));
    mergeEvidence(out, v);
  }
  out.truth = values.some((v) => v.truth === 'true' || v.always.size > 0) ? 'true' : values.every((v) => v.truth === 'false') ? 'false' : 'maybe';
  return out;
}

/** One of several values (ternary branches, callers that disagree, conditional assignments). */
export function choiceOf(values: FlagValue[], condition?: Evidence): FlagValue {
  if (values.length === 0) return unknown('(no value)');
  const out = empty();
  const [first, ...rest] = values;
  first.always.forEach((f) => { if (rest.every((v) => v.always.has(f))) out.always.add(f); });
  for (const v of values) {
    v.maybe.forEach((f) => out.maybe.add(f));
    v.always.forEach((f) => out.maybe.add(f));
    mergeEvidence(out, v);
  }
  const truths = new Set(values.map((v) => v.truth));
  out.truth = truths.size === 1 ? first.truth : 'maybe';
  if (condition && values.some((v) => !sameFlags(v, first) || v.truth !== first.truth)) out.conditions.push(condition);
  return out;
}

function sameFlags(a: FlagValue, b: FlagValue): boolean {
  return a.always.size === b.always.size && [...a.always].every((f) => b.always.has(f)) &&
    a.maybe.size === b.maybe.size && [...a.maybe].every((f) => b.maybe.has(f));
}

function withoutFlags(v: FlagValue, removed: string[], definitely: boolean): FlagValue {
  const out: FlagValue = { ...v, always: new Set(v.always), maybe: new Set(v.maybe), truth: 'maybe' };
  for (const r of removed) {
    out.always.delete(r);
    if (definitely) out.maybe.delete(r);
  }
  return out;
}

export function tri(v: FlagValue, flag: string): Tri {
  if (v.always.has(flag)) return 'always';
  if (v.maybe.has(flag) || v.unknown.length > 0) return 'conditional';
  return 'never';
}

export function truthTri(v: FlagValue): Tri {
  if (v.always.size > 0 || v.truth === 'true') return 'always';
  return v.truth === 'false' ? 'never' : 'conditional';
}

export class FlagResolver {
  private readonly locals = new Map<number, Map<string, Node[]>>();

  /** `kernel`: assignments in #if arms that kernel does not compile are skipped, arms only the build decides are conditional. */
  constructor(private readonly workspace: Workspace, private readonly kernel?: KernelVersionLite) {}

  evaluate(node: Node, scope: Scope, depth = 0): FlagValue {
    if (depth > MAX_DEPTH) return unknown(node.text);
    const n = unwrapParens(node);
    switch (n.type) {
      case 'number_literal': {
        const value = Number.parseInt(n.text.replace(/[uUlL]+$/, ''), n.text.startsWith('0x') || n.text.startsWith('0X') ? 16 : 10);
        return Number.isFinite(value) ? num(value, this.evidence(n, scope, `${n.text} asks for write access (as gup_flags its bit 0 is FOLL_WRITE; as the old int write it is non-zero)`)) : unknown(n.text);
      }
      case 'true': return num(1, this.evidence(n, scope, 'true asks for write access'));
      case 'false': return num(0);
      case 'null': return num(0);
      case 'identifier': return this.identifier(n, scope, depth);
      case 'cast_expression': {
        const value = n.childForFieldName('value');
        return value ? this.evaluate(value, scope, depth + 1) : unknown(n.text);
      }
      case 'binary_expression': return this.binary(n, scope, depth);
      case 'unary_expression': {
        const op = n.childForFieldName('operator')?.type;
        const arg = n.childForFieldName('argument');
        if (op === '!' && arg) {
          const inner = this.evaluate(arg, scope, depth + 1);
          const t = truthTri(inner);
          const out = writeBit(t === 'always' ? 'false' : t === 'never' ? 'true' : 'maybe', this.evidence(n, scope, `${clip(n.text)} can be 1: FOLL_WRITE as gup_flags`));
          out.conditions.push(...inner.conditions);
          out.unknown.push(...inner.unknown);
          return out;
        }
        return unknown(n.text);
      }
      case 'conditional_expression': {
        const cons = n.childForFieldName('consequence');
        const alt = n.childForFieldName('alternative');
        const cond = n.childForFieldName('condition');
        if (!cons || !alt) return unknown(n.text);
        return choiceOf([this.evaluate(cons, scope, depth + 1), this.evaluate(alt, scope, depth + 1)],
          cond ? this.evidence(cond, scope, `the condition ${clip(cond.text)} decides`) : undefined);
      }
      case 'call_expression': {
        const callee = n.childForFieldName('function');
        const args = n.childForFieldName('arguments');
        if (callee?.type === 'identifier' && args) {
          const macro = this.workspace.macroValuesNamed(callee.text).find((m) => m.item.params !== undefined);
          if (macro) {
            const body = this.workspace.macroExpression(macro.item);
            if (body) {
              const bindings = namedChildren(args).filter((a) => a.type !== 'comment').map((a) => ({ node: a, scope }));
              return this.evaluate(body, { file: macro.file, name: macro.item.name, params: macro.item.params ?? [], bindings, anchor: macro.item.node }, depth + 1);
            }
          }
        }
        return unknown(n.text);
      }
      default: return unknown(n.text);
    }
  }

  private binary(n: Node, scope: Scope, depth: number): FlagValue {
    const op = n.childForFieldName('operator')?.type;
    const left = n.childForFieldName('left');
    const right = n.childForFieldName('right');
    if (!left || !right) return unknown(n.text);
    if (op === '|' || op === '+' || op === '^') return orValues([this.evaluate(left, scope, depth + 1), this.evaluate(right, scope, depth + 1)]);
    if (op === '&') {
      const r = unwrapParens(right);
      if (r.type === 'unary_expression' && r.childForFieldName('operator')?.type === '~') {
        const removed = this.evaluate(r.childForFieldName('argument')!, scope, depth + 1);
        return withoutFlags(this.evaluate(left, scope, depth + 1), [...removed.always], true);
      }
    }
    if (op === '&') {
      // A mask keeps the flags both sides may have (`gup_flags & FOLL_WRITE`).
      const l = this.evaluate(left, scope, depth + 1);
      const r = this.evaluate(right, scope, depth + 1);
      const out = empty();
      out.truth = 'maybe';
      for (const f of l.maybe) if (r.maybe.has(f) || r.unknown.length > 0) out.maybe.add(f);
      for (const f of r.maybe) if (l.unknown.length > 0) out.maybe.add(f);
      mergeEvidence(out, l);
      out.conditions.push(this.evidence(n, scope, `${clip(n.text)} decides`));
      return out;
    }
    // Comparisons and logical operators give 0 or 1: a condition, and FOLL_WRITE when 1 is passed as gup_flags.
    const out = writeBit('maybe', this.evidence(n, scope, `${clip(n.text)} can be 1: FOLL_WRITE as gup_flags`));
    out.conditions.push(this.evidence(n, scope, `${clip(n.text)} decides`));
    return out;
  }

  private identifier(n: Node, scope: Scope, depth: number): FlagValue {
    const name = n.text;
    const paramIndex = scope.params.indexOf(name);
    if (paramIndex >= 0 && !this.isShadowed(name, n, scope)) {
      // A parameter the function assigns before this use: its writes apply over the value the caller passed.
      const written = scope.fn ? this.local(name, n, scope, depth, () => this.parameter(paramIndex, name, scope, depth)) : undefined;
      return written ?? this.parameter(paramIndex, name, scope, depth);
    }
    if (scope.fn) {
      const local = this.local(name, n, scope, depth);
      if (local) return local;
    }
    if (name.startsWith('FOLL_')) {
      const out = empty();
      out.always.add(name);
      out.maybe.add(name);
      out.truth = 'true';
      out.origins.set(name, this.evidence(n, scope, `${name} is set here`));
      return out;
    }
    const macros = this.workspace.macroValuesNamed(name).filter((m) => m.item.params === undefined);
    if (macros.length > 0) {
      const values = macros.map((m) => {
        const body = this.workspace.macroExpression(m.item);
        if (!body) return num(0);
        return this.evaluate(body, { file: m.file, name: m.item.name, params: [], anchor: m.item.node }, depth + 1);
      });
      return values.length === 1 ? values[0] : choiceOf(values, this.evidence(macros[0].item.node, { file: macros[0].file, params: [] }, `${name} is defined differently per configuration`));
    }
    return unknown(name);
  }

  /** A parameter: bound at a known call site, else every caller in the workspace (disagreeing callers give a conditional value). */
  private parameter(index: number, name: string, scope: Scope, depth: number): FlagValue {
    const binding = scope.bindings?.[index];
    if (binding) return this.evaluate(binding.node, binding.scope, depth + 1);
    if (scope.bindings || !scope.name) return unknown(name);
    const callers = this.workspace.callsTo(scope.name).filter((c) => c.item.args.length > index);
    if (callers.length === 0) return unknown(`parameter '${name}' of ${scope.name}() (no caller in the driver)`);
    const values = callers.map((c) => {
      const callerScope = scopeOfCall(c.file, c.item.fn);
      const value = this.evaluate(c.item.args[index], callerScope, depth + 1);
      // Point the origin at the caller's argument: that is where the user sees the flag being passed.
      for (const [flag, ev] of value.origins) {
        if (ev.uri !== c.file.uri || ev.node.startIndex < c.item.node.startIndex || ev.node.endIndex > c.item.node.endIndex) {
          value.origins.set(flag, { uri: c.file.uri, node: c.item.args[index], message: `${c.item.name}() is called with ${flag} here` });
        }
      }
      return value;
    });
    return values.length === 1 ? values[0] : choiceOf(values, { uri: callers[0].file.uri, node: callers[0].item.node, message: `callers of ${scope.name}() pass different flags` });
  }

  private isShadowed(name: string, at: Node, scope: Scope): boolean {
    if (!scope.fn) return false;
    return (this.localWrites(scope.fn).get(name) ?? []).some((w) => w.type === 'declaration' && w.startIndex < at.startIndex);
  }

  /** Declarations and assignments of each local name in a function, in source order. */
  private localWrites(fn: Node): Map<string, Node[]> {
    let map = this.locals.get(fn.id);
    if (map) return map;
    map = new Map();
    const body = fn.childForFieldName('body');
    if (body) {
      for (const d of descendantsOfType(body, ['init_declarator', 'declaration', 'assignment_expression'])) {
        if (d.type === 'init_declarator') {
          const name = declaredName(d.childForFieldName('declarator'));
          if (name) push(map, name, d);
        } else if (d.type === 'declaration') {
          for (const decl of namedChildren(d)) {
            if (decl.type === 'identifier') push(map, decl.text, d);
          }
        } else if (d.type === 'assignment_expression') {
          const left = d.childForFieldName('left');
          if (left?.type === 'identifier') push(map, left.text, d);
        }
      }
    }
    this.locals.set(fn.id, map);
    return map;
  }

  /**
   * The value of a local variable at `use`: its initialiser, then every assignment before `use` in source
   * order. Assignments under a condition make the result conditional (e.g. `if (write) flags |= FOLL_WRITE`).
   */
  private local(name: string, use: Node, scope: Scope, depth: number, initial?: () => FlagValue): FlagValue | undefined {
    const writes = (this.localWrites(scope.fn!).get(name) ?? []).filter((w) => w.startIndex < use.startIndex && !(w.startIndex <= use.startIndex && use.endIndex <= w.endIndex));
    if (writes.length === 0) return undefined;
    const body = scope.fn!.childForFieldName('body') ?? undefined;
    let value: FlagValue | undefined = initial?.();
    for (const w of writes) {
      if (w.type === 'init_declarator') {
        const init = w.childForFieldName('value');
        value = init ? this.evaluate(init, scope, depth + 1) : undefined;
        continue;
      }
      if (w.type === 'declaration') { value = undefined; continue; }
      const op = w.childForFieldName('operator')?.type;
      const right = w.childForFieldName('right');
      if (!right) continue;
      const rhs = this.evaluate(right, scope, depth + 1);
      const before = value;
      let next: FlagValue;
      if (op === '=') next = rhs;
      else if (op === '|=') next = orValues([value ?? num(0), rhs]);
      else if (op === '&=') {
        const r = unwrapParens(right);
        next = r.type === 'unary_expression' && r.childForFieldName('operator')?.type === '~'
          ? withoutFlags(value ?? num(0), [...this.evaluate(r.childForFieldName('argument')!, scope, depth + 1).always], true)
          : withoutFlags(value ?? num(0), [], false);
      } else next = unknown(w.text);
      const cond = enclosingCondition(w, body);
      // Name the flags this conditional assignment adds (issue 16: `if (!umem->writable) flags |= FOLL_FORCE` was shown
      // beside FOLL_WRITE as if it were about it).
      const added = op === '|=' || op === '=' ? [...rhs.maybe].filter((f) => /^FOLL_/.test(f)) : [];
      const what = added.length > 0 ? `${added.join(' | ')} ${op === '=' ? 'is the value' : 'is added'} only when` : 'set only when';
      value = cond ? choiceOf([value ?? num(0), next], this.evidence(conditionOf(cond), scope, `${what} ${clip(conditionOf(cond).text)}`)) : next;
      // An assignment in an #if arm: skipped where the kernel does not compile it (an arm only the build decides
      // counts only if the flags it sets exist on the kernel), conditional where only the build decides.
      const arm = this.kernel ? armsOf(scope.file, w) : [];
      if (arm.length > 0 && this.kernel) {
        const compiles = armsCompile(arm, this.kernel);
        const missing = [...rhs.maybe].some((f) => follFlagExistsOn(f, this.kernel!) === false);
        if (compiles === false || (compiles === undefined && missing)) { value = before; continue; }
        if (compiles === undefined) value = choiceOf([before ?? num(0), value], this.evidence(w, scope, `set only in the arm ${describeArm(arm) ?? ''}, which only the build decides`));
      }
    }
    return value ?? unknown(name);
  }

  private evidence(node: Node, scope: Scope, message: string): Evidence {
    return { uri: scope.file.uri, node: scope.anchor ?? node, message };
  }
}

export function scopeOfCall(file: SourceFile, fn: { node: Node; name: string; params: string[] } | undefined): Scope {
  return fn ? { file, fn: fn.node, name: fn.name, params: fn.params } : { file, params: [] };
}

function push(map: Map<string, Node[]>, key: string, node: Node): void {
  const list = map.get(key);
  if (list) list.push(node);
  else map.set(key, [node]);
}

function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 50 ? t.slice(0, 47) + '...' : t;
}
