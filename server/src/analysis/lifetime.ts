// Decides whether pinned pages outlive the call: stored, returned, mapped or kept (long-lived) versus released on the success path (short-lived).
import type { Node } from './parser';
import { findReleaseApi } from './pinApis';
import { descendants, namedChildren, statementIn, unwrapParens, isAncestor, declaredName } from './syntaxTools';
import type { Evidence, Scope } from './flags';
import type { Workspace } from './workspace';

export type LifetimeReason = 'longterm' | 'stored' | 'returned' | 'out-param' | 'mapped' | 'global' | 'caller-array' | 'kept' | 'released';

export interface Lifetime {
  longLived: boolean;
  reason: LifetimeReason;
  /** Where the pages are stored, mapped or released. */
  evidence: Evidence[];
  /** Release calls of these pages found in the pinning function (for FS006 and the quick fix). */
  releases: Array<{ uri: string; node: Node; api: string }>;
  /** The structure field the pages live in, when stored (`mr->pages` gives 'pages'): its release path may be elsewhere. */
  storedField?: string;
}

function fieldNameOf(node: Node): string | undefined {
  const base = pagesBase(node);
  return base.type === 'field_expression' ? base.childForFieldName('field')?.text : undefined;
}

/** Calls that map pages into something the device (or the kernel) keeps: a scatterlist, a DMA mapping, a vmap. */
const MAPPING_CALLS = new Set([
  'sg_alloc_table_from_pages', '__sg_alloc_table_from_pages', 'sg_alloc_append_table_from_pages', 'sg_alloc_table_from_pages_segment',
  'sg_set_page', 'dma_map_page', 'dma_map_page_attrs', 'vmap', 'vm_map_ram', 'ib_dma_map_page', 'kmap',
]);

const PAGE_RELEASES = new Set(['set_page_dirty_lock']);

/** The variable (or field) the pages expression is built on: `pages`, `&page`, `pages + i`, `mr->pages[n]`. */
export function pagesBase(node: Node): Node {
  let n = unwrapParens(node);
  for (;;) {
    if (n.type === 'pointer_expression' || n.type === 'cast_expression') {
      const next = n.childForFieldName('argument') ?? n.childForFieldName('value');
      if (!next) return n;
      n = unwrapParens(next);
    } else if (n.type === 'binary_expression') {
      const left = n.childForFieldName('left');
      if (!left) return n;
      n = unwrapParens(left);
    } else if (n.type === 'subscript_expression') {
      const arg = n.childForFieldName('argument');
      if (!arg) return n;
      n = unwrapParens(arg);
    } else return n;
  }
}

export function isNullPages(node: Node): boolean {
  const n = unwrapParens(node);
  return n.type === 'null' || n.text === 'NULL' || n.text === '0';
}

export class LifetimeAnalyzer {
  constructor(private readonly workspace: Workspace) {}

  analyze(pagesArg: Node, scope: Scope, pinCall: Node, longterm: 'always' | 'never' | 'conditional', longtermEvidence: Evidence | undefined): Lifetime {
    const result = this.follow(pagesArg, scope, pinCall, 0);
    if (longterm === 'always' && !result.longLived) {
      return { ...result, longLived: true, reason: 'longterm', evidence: longtermEvidence ? [longtermEvidence, ...result.evidence] : result.evidence };
    }
    if (longterm === 'always' && longtermEvidence) result.evidence.push(longtermEvidence);
    return result;
  }

  private follow(pagesArg: Node, scope: Scope, pinCall: Node, depth: number): Lifetime {
    const base = pagesBase(pagesArg);
    const ev = (node: Node, message: string): Evidence => ({ uri: scope.file.uri, node, message });
    if (base.type === 'field_expression') {
      return { longLived: true, reason: 'stored', evidence: [ev(pagesArg, `the pages go straight into ${clip(base.text)}, a structure that outlives the call`)], releases: [], storedField: fieldNameOf(base) };
    }
    if (base.type !== 'identifier') return { longLived: true, reason: 'kept', evidence: [ev(pagesArg, `the pages array ${clip(pagesArg.text)} could not be followed; assumed kept`)], releases: [] };
    const name = base.text;
    const paramIndex = scope.params.indexOf(name);
    const fn = scope.fn;
    const body = fn?.childForFieldName('body') ?? undefined;
    const declaredLocally = body ? this.isDeclaredIn(body, name) : false;
    if (paramIndex >= 0 && !declaredLocally) {
      const binding = scope.bindings?.[paramIndex];
      if (binding && depth < 8) {
        const inner = body ? this.usesIn(body, name, pinCall, scope) : undefined;
        if (inner?.longLived && inner.reason !== 'kept') return inner;
        // The wrapper's caller owns the array: decide there, where the pin site is.
        return this.follow(binding.node, binding.scope, enclosingCallOf(binding.node) ?? binding.node, depth + 1);
      }
      const own = body ? this.usesIn(body, name, pinCall, scope) : undefined;
      if (own && (own.longLived && own.reason !== 'kept' || own.reason === 'released')) return own;
      return { longLived: true, reason: 'caller-array', evidence: [ev(base, `the pages array '${name}' belongs to the caller of ${scope.name ?? 'this function'}() and is not released here`)], releases: own?.releases ?? [] };
    }
    if (!declaredLocally || !body) {
      return { longLived: true, reason: 'global', evidence: [ev(base, `'${name}' is not a local variable: the pages outlive the call`)], releases: [] };
    }
    return this.usesIn(body, name, pinCall, scope);
  }

  private isDeclaredIn(body: Node, name: string): boolean {
    for (const d of descendants(body)) {
      if (d.type === 'declaration' || d.type === 'init_declarator') {
        for (const c of namedChildren(d)) {
          if ((c.type === 'identifier' && c.text === name) || declaredName(c) === name && c.type !== 'primitive_type' && c.type !== 'type_identifier' && c.type !== 'struct_specifier') return true;
        }
      }
    }
    return false;
  }

  /** What the function does with the local pages variable after the pin. */
  private usesIn(body: Node, name: string, pinCall: Node, scope: Scope): Lifetime {
    const ev = (node: Node, message: string): Evidence => ({ uri: scope.file.uri, node, message });
    const escapes: Evidence[] = [];
    let reason: LifetimeReason | undefined;
    const releases: Lifetime['releases'] = [];
    let releasedOnSuccess = false;
    let storedField: string | undefined;
    for (const d of descendants(body)) {
      if (d.type !== 'identifier' || d.text !== name || isAncestor(pinCall, d)) continue;
      const parent = d.parent;
      if (!parent) continue;
      // obj->pages = pages; *out = pages; g = pages; obj->page = pages[0];
      const assign = ancestorOfType(d, 'assignment_expression', body);
      if (assign && assign.childForFieldName('right') && isAncestor(assign.childForFieldName('right')!, d)) {
        const left = unwrapParens(assign.childForFieldName('left')!);
        if (left.type === 'field_expression' || left.type === 'subscript_expression' && pagesBase(left).type === 'field_expression') {
          escapes.push(ev(assign, `the pages are stored in ${clip(left.text)}, which outlives the call`)); reason ??= 'stored'; storedField ??= fieldNameOf(left); continue;
        }
        if (left.type === 'pointer_expression') { escapes.push(ev(assign, `the pages are passed out through ${clip(left.text)}`)); reason ??= 'out-param'; continue;
        }
        if (left.type === 'identifier' && !this.isDeclaredIn(body, left.text) && !scope.params.includes(left.text)) {
          escapes.push(ev(assign, `the pages are stored in the global '${left.text}'`)); reason ??= 'global'; continue;
        }
      }
      const ret = ancestorOfType(d, 'return_statement', body);
      if (ret && !ancestorOfType(d, 'call_expression', ret)) { escapes.push(ev(ret, 'the pages are returned to the caller')); reason ??= 'returned'; continue; }
      const call = ancestorOfType(d, 'call_expression', body);
      const callee = call?.childForFieldName('function');
      if (call && callee?.type === 'identifier') {
        const fname = callee.text;
        if (MAPPING_CALLS.has(fname) && this.mappingOutlives(call, body, scope)) { escapes.push(ev(call, `the pages are mapped with ${fname}() into something that outlives the call`)); reason ??= 'mapped'; continue; }
        const rel = findReleaseApi(fname);
        const helper = !rel && !PAGE_RELEASES.has(fname) && this.releasesParam(fname);
        if (rel) releases.push({ uri: scope.file.uri, node: call, api: fname });
        if ((rel || helper) && call.startIndex > pinCall.startIndex && onSuccessPath(call, pinCall, body)) releasedOnSuccess = true;
      }
    }
    if (escapes.length > 0) return { longLived: true, reason: reason ?? 'stored', evidence: escapes, releases, storedField };
    if (releasedOnSuccess) return { longLived: false, reason: 'released', evidence: releases.map((r) => ev(r.node, `released here with ${r.api}()`)), releases };
    return { longLived: true, reason: 'kept', evidence: [ev(pinCall, `'${name}' is not released on the success path, so the pages stay pinned after the call returns`)], releases };
  }

  /**
   * A mapping outlives the call when its target is not a stack object: `sg_alloc_table_from_pages(&sgt, ...)` on a
   * local sg_table ends with the function, `...(&req->sgt, ...)` or a vmap stored in a field does not.
   */
  private mappingOutlives(call: Node, body: Node, scope: Scope): boolean {
    const args = namedChildren(call.childForFieldName('arguments')!).filter((a) => a.type !== 'comment');
    const fname = call.childForFieldName('function')?.text ?? '';
    if (fname.startsWith('sg_') || fname.startsWith('__sg_')) {
      const target = args[0] ? pagesBase(args[0]) : undefined;
      if (!target) return true;
      if (target.type === 'identifier') return !this.isDeclaredIn(body, target.text) || (scope.params.includes(target.text));
      return true;
    }
    // vmap/dma_map_page return the mapping: it outlives the call if it is stored beyond a local.
    const assign = call.parent?.type === 'assignment_expression' ? call.parent : undefined;
    const left = assign?.childForFieldName('left');
    if (!left) return false;
    const base = pagesBase(left);
    return base.type !== 'identifier' || !this.isDeclaredIn(body, base.text);
  }

  /** A workspace function that passes one of its parameters to a release API (a driver's own put-pages helper). */
  private releasesParam(fname: string): boolean {
    return this.workspace.functionsNamed(fname).some((f) => f.item.body !== undefined &&
      f.file.index.calls.some((c) => c.fn === f.item && findReleaseApi(c.name) !== undefined &&
        c.args.some((a) => { const b = pagesBase(a); return b.type === 'identifier' && f.item.params.includes(b.text); })));
  }
}

function ancestorOfType(node: Node, type: string, stop: Node): Node | undefined {
  for (let n: Node | null = node.parent; n && n.id !== stop.id; n = n.parent) if (n.type === type) return n;
  return undefined;
}

function enclosingCallOf(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) if (n.type === 'call_expression') return n;
  return undefined;
}

const BRANCHES = new Set(['if_statement', 'else_clause', 'switch_statement', 'case_statement', 'conditional_expression']);

/**
 * True when `release` runs on the path that returns success: it is not under a branch that the pin is not
 * also under, no top-level `return` lies between them, and it is not behind a label reached only by goto.
 */
export function onSuccessPath(release: Node, pin: Node, body: Node): boolean {
  for (let n: Node | null = release.parent; n && n.id !== body.id; n = n.parent) {
    if (BRANCHES.has(n.type) && !isAncestor(n, pin)) return false;
  }
  const releaseTop = statementIn(body, release);
  const pinTop = statementIn(body, pin);
  if (!releaseTop || !pinTop) return false;
  if (releaseTop.id === pinTop.id) return true;
  const statements = namedChildren(body);
  const from = statements.findIndex((s) => s.id === pinTop.id);
  const to = statements.findIndex((s) => s.id === releaseTop.id);
  if (from < 0 || to < 0 || to < from) return false;
  for (let i = from + 1; i < to; i++) if (statements[i].type === 'return_statement') return false;
  return true;
}

function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 40 ? t.slice(0, 37) + '...' : t;
}
