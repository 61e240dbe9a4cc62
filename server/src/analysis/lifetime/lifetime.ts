// Decides how long pinned pages stay pinned, as a driver-scope ownership analysis: the pages array is followed into
// the object that owns it (a local, a struct on the stack, a heap object, the caller's object, a global) and that
// object to where its pages are released, across the driver's functions and files (docs/analysis.md, "Lifetime").
import type { Node } from '../parser';
import { findReleaseApi } from '../pinApis';
import { descendantsOfType, functionNameNode, identifiersIn, namedChildren, unwrapParens, isAncestor } from '../syntaxTools';
import type { Evidence, Scope } from '../flags';
import { callsIn, functionOfNode, releaseCallsIn, writesWordIn, type CallInfo, type FileIndex, type FunctionInfo } from '../fileIndex';
import type { Located, SourceFile, Workspace } from '../workspace';
import { declarationOf, fieldOf, isWriteOperation, rootIdentifier, returnsQueued, runsAtCompletion, runsOnDeviceEvent, runsOnResultRead } from './ownership';
import { failureExitOf, onSuccessPath } from './successPath';
import { FlowGraph } from './controlFlow';

export type LifetimeReason = 'longterm' | 'stored' | 'returned' | 'out-param' | 'mapped' | 'global' | 'caller-array' | 'kept'
  | 'released' | 'io-bounded' | 'handed-back';

export interface Lifetime {
  longLived: boolean;
  reason: LifetimeReason;
  /** Where the pages are stored, mapped or released. */
  evidence: Evidence[];
  /** Release calls of these pages found on the way (for FS006 and the quick fix). */
  releases: Array<{ uri: string; node: Node; api: string }>;
  /** The structure field the pages live in, when stored (`mr->pages` gives 'pages'): its release path may be elsewhere. */
  storedField?: string;
  /** The functions the pages were followed through (the pin's own, the callers that own them): the pin's path. */
  path: Node[];
  /** Struct types of the objects that own the pages (`struct my_mr`), for protections registered on the owner. */
  ownerTypes: string[];
}

/** Calls that map pages into something the device (or the kernel) keeps: a scatterlist, a DMA mapping, a vmap. */
const MAPPING_CALLS = new Set([
  'sg_alloc_table_from_pages', '__sg_alloc_table_from_pages', 'sg_alloc_append_table_from_pages', 'sg_alloc_table_from_pages_segment',
  'sg_set_page', 'dma_map_page', 'dma_map_page_attrs', 'vmap', 'vm_map_ram', 'ib_dma_map_page', 'kmap',
]);

const PAGE_RELEASES = new Set(['set_page_dirty_lock']);
/** Calls that publish an object in a container another object owns (an idr, an xarray, a list): it outlives the call. */
const PUBLISH_CALLS = new Set(['idr_alloc', 'idr_alloc_cyclic', 'idr_alloc_u32', 'idr_replace', 'xa_store', 'xa_insert', 'xa_alloc', 'xa_alloc_cyclic',
  '__xa_store', '__xa_insert', 'list_add', 'list_add_tail', 'list_add_rcu', 'list_add_tail_rcu', 'hlist_add_head', 'hlist_add_head_rcu']);
/** Values that stand for a page (its kernel address, pfn, physical address): handing one back hands the page back. */
const PAGE_HANDLES = new Set(['page_address', 'lowmem_page_address', 'page_to_virt', 'page_to_pfn', 'page_to_phys', 'kmap', 'kmap_local_page']);
/** The way back from a handle to the page: `put_page(virt_to_page(va))` releases the page `va` stands for. */
const PAGE_OF_HANDLE = new Set(['virt_to_page', 'pfn_to_page', 'pfn_to_online_page', 'phys_to_page', 'kmap_to_page', 'compound_head']);
/** Calls that build a scatterlist table from a pages array (first argument: the table). */
const TABLE_BUILDERS = new Set(['sg_alloc_table_from_pages', '__sg_alloc_table_from_pages', 'sg_alloc_append_table_from_pages', 'sg_alloc_table_from_pages_segment']);
/** A page taken back out of a scatterlist. */
const SG_PAGE = /\bsg_page(?:_iter_page)?\s*\(/;

const fieldReleaseCalls = new WeakMap<FileIndex, Map<string, readonly CallInfo[]>>();

/**
 * The page-release calls of an index whose pages are `x->field` (`x->field[i]`, `&x->field[n]`, `(void *)x->field`), in
 * the index's order: listed once per index and field. The driver-wide scans for the release of a stored field ask it of
 * every file for every pin on every edit, and all but the edited file keep their index between edits. A call whose text
 * does not name the field cannot release it: that is asked before its arguments are read.
 */
export function releasesOfField(index: FileIndex, text: string, field: string): readonly CallInfo[] {
  let byField = fieldReleaseCalls.get(index);
  if (!byField) { byField = new Map(); fieldReleaseCalls.set(index, byField); }
  let list = byField.get(field);
  if (!list) {
    list = releaseCallsIn(index).filter((c) => {
      if (!writesWordIn(index, text, field, c.start, c.end) || c.args.length === 0) return false;
      const base = pagesBase(c.args[0]);
      return base.type === 'field_expression' && fieldOf(base) === field;
    });
    byField.set(field, list);
  }
  return list;
}

/** What the first argument of a call is built on: `&sgt` gives the identifier sgt, `&req->sgt` the field req->sgt. */
function firstArgBase(call: Node): Node | undefined {
  const args = call.childForFieldName('arguments');
  const first = args ? namedChildren(args).find((a) => a.type !== 'comment') : undefined;
  return first ? pagesBase(first) : undefined;
}
const MAX_DEPTH = 6;

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

/** Where the pages are followed: a function of a file, with what its parameters are bound to when known. */
interface Place { file: SourceFile; fn: FunctionInfo | undefined; scope: Scope }

/** What a driver function does with the pages of one of its parameters: releases them (directly or in a field). */
interface ReleaseSummary { direct: boolean; fields: Set<string> }

/**
 * Release summaries across analyses, per file index and function, with the names of the functions they read. Per
 * index: an edited file's index keeps the entries of the functions the edit did not touch (fileIndex.ts reindexFile),
 * but a summary may read more of its file than its own body and the names in `deps`, so the next index starts afresh;
 * and the cache holds neither, so a kept function does not keep each edit's index (and its lookups) alive.
 */
const summaryCache = new WeakMap<object, WeakMap<FunctionInfo, { summary: ReleaseSummary[]; deps: Map<string, FunctionInfo[]> }>>();
/** How many summaries were computed and reused since the process started (for tests and the benchmark). */
export const summaryCacheStats = { computed: 0, reused: 0 };
const MAX_SUMMARY_DEPTH = 16;

export class LifetimeAnalyzer {
  private readonly releaseMemo = new Map<FunctionInfo, ReleaseSummary[]>();
  private readonly summariesInProgress = new Set<FunctionInfo>();
  /** The summaries being computed, innermost last: the names each one reads, and whether it may be cached. */
  private readonly summaryFrames: Array<{ deps: Map<string, FunctionInfo[]>; cacheable: boolean }> = [];
  private readonly factsMemo = new Map<number, BodyFacts>();
  private readonly callsMemo = new Map<number, CallInfo[]>();
  private readonly flowMemo = new Map<number, FlowGraph>();
  /** For the pin being analysed: the struct type of the object whose field first holds the pages (null: unknown; undefined: not reached yet). */
  private pinOwnerType: string | null | undefined;
  /**
   * For the site being analysed: the call through which it reaches each function of its chain (a wrapper's caller, a
   * hand-back helper's caller). Pages handed back by such a function are followed into that call only, so each caller
   * is judged on what it does itself, not on the worst of all callers (issue 28).
   */
  private route: ReadonlyMap<string, { file: SourceFile; item: CallInfo }> | undefined;

  constructor(private readonly workspace: Workspace) {}

  /** The calls of a file inside `body`, in text order: found once per analysis (each node access costs a crossing into the parser). */
  private callsIn(file: SourceFile, body: Node): CallInfo[] {
    let calls = this.callsMemo.get(body.id);
    if (!calls) {
      const from = body.startIndex;
      const to = body.endIndex;
      // A call that starts inside the body's range lies in it (ranges nest): only one at its very start needs its node.
      calls = file.index.calls.filter((c) => { const at = c.start; return at >= from && at < to && (at > from || isAncestor(body, c.node)); });
      this.callsMemo.set(body.id, calls);
    }
    return calls;
  }

  private factsOf(body: Node): BodyFacts {
    let facts = this.factsMemo.get(body.id);
    if (!facts) { facts = bodyFactsOf(body); this.factsMemo.set(body.id, facts); }
    return facts;
  }

  /** Every path from `from` to the end of `body` passes one of `releases` (or the pin's own failure exit): the body's graph is built once per analysis. */
  private everyExitReleases(body: Node, from: Node, releases: Node[]): boolean {
    let graph = this.flowMemo.get(body.id);
    if (!graph) { graph = new FlowGraph(body); this.flowMemo.set(body.id, graph); }
    return graph.releasedOnEveryExit(from, (n) => releases.some((r) => isAncestor(n, r)), failureExitOf(from, body, this.factsOf(body).assignments));
  }

  /** The names aliasing `root` in `body`; the body's assignments are walked once per analysis (a tree walk is the cost). */
  private aliasesOf(body: Node, root: string): Set<string> {
    const pairs = this.factsOf(body).pairs;
    return aliasesIn(pairs, root);
  }

  analyze(pagesArg: Node, scope: Scope, pinCall: Node, longterm: 'always' | 'never' | 'conditional', longtermEvidence: Evidence | undefined,
    route?: ReadonlyMap<string, { file: SourceFile; item: CallInfo }>): Lifetime {
    this.pinOwnerType = undefined;
    this.route = route;
    const result = this.follow(pagesArg, scope, pinCall, 0);
    this.route = undefined;
    // FOLL_LONGTERM states the intent when the pages could not be followed to a release: trust it then.
    if (longterm === 'always' && (result.reason === 'kept' || result.reason === 'caller-array')) {
      return { ...result, longLived: true, reason: 'longterm', evidence: longtermEvidence ? [longtermEvidence, ...result.evidence] : result.evidence };
    }
    if (longterm === 'always' && longtermEvidence && result.longLived) result.evidence.push(longtermEvidence);
    return result;
  }

  private place(scope: Scope): Place {
    const fn = scope.fn ? functionOfNode(scope.file.index, scope.fn) : undefined;
    return { file: scope.file, fn, scope };
  }

  private follow(pagesArg: Node, scope: Scope, pinCall: Node, depth: number): Lifetime {
    const base = pagesBase(pagesArg);
    const at = this.place(scope);
    // Inside a macro body (its own small tree) evidence points at the macro's definition, a node of the file.
    const ev = (node: Node, message: string): Evidence => ({ uri: scope.file.uri, node: scope.anchor ?? node, message });
    const path = scope.fn ? [scope.fn] : [];
    if (base.type === 'field_expression') return this.owned(base, at, pinCall, depth);
    if (base.type !== 'identifier') {
      return { longLived: true, reason: 'kept', evidence: [ev(pagesArg, `the pages array ${clip(pagesArg.text)} could not be followed; assumed kept`)], releases: [], path, ownerTypes: [] };
    }
    const name = base.text;
    // A macro parameter: the pages are the argument the macro's call passes.
    const macroParam = !scope.fn ? scope.params.indexOf(name) : -1;
    const macroBinding = macroParam >= 0 ? scope.bindings?.[macroParam] : undefined;
    if (macroBinding && depth < MAX_DEPTH) return this.follow(macroBinding.node, macroBinding.scope, enclosingCallOf(macroBinding.node) ?? macroBinding.node, depth + 1);
    const body = scope.fn?.childForFieldName('body') ?? undefined;
    const decl = scope.fn ? declarationOf(scope.fn, name) : undefined;
    if (decl?.kind === 'param') {
      const paramIndex = scope.params.indexOf(name);
      const binding = paramIndex >= 0 ? scope.bindings?.[paramIndex] : undefined;
      const own = body ? this.usesIn(body, name, pinCall, at, depth) : undefined;
      if (own && own.reason === 'released') return own;
      if (own && own.longLived && own.reason !== 'kept') return own;
      // The caller owns the array: decide there, with its own array or object.
      if (binding && depth < MAX_DEPTH) return this.withPath(this.follow(binding.node, binding.scope, enclosingCallOf(binding.node) ?? binding.node, depth + 1), path);
      if (at.fn && paramIndex >= 0) {
        const viaCallers = this.atCallers(at.fn, paramIndex, 'argument', depth);
        if (viaCallers) return this.withPath(viaCallers, path);
      }
      // No caller in the analysed code: the pages belong to callers elsewhere, which decide (issue 28, docs/analysis.md).
      return handedBack(scope.file.uri, base, scope.name ?? 'this function', path, own?.releases ?? []);
    }
    if (!decl || !body) {
      return { longLived: true, reason: 'global', evidence: [ev(base, `'${name}' is not a local variable: the pages outlive the call`)], releases: [], path, ownerTypes: [] };
    }
    return this.usesIn(body, name, pinCall, at, depth);
  }

  /** `name` and the locals it is copied to as a whole (`cur = page;`), not an element or a field of it. */
  private copiesOf(body: Node, name: string, scope: Scope): Set<string> {
    const pairs = this.factsOf(body).pairs;
    const names = new Set([name]);
    for (let round = 0; round < 2; round++) {
      for (const { l, r, plain } of pairs) if (plain && names.has(r) && scope.fn && declarationOf(scope.fn, l)?.kind === 'local') names.add(l);
    }
    return names;
  }

  private withPath(l: Lifetime, path: Node[]): Lifetime {
    return { ...l, path: [...path, ...l.path.filter((p) => !path.some((q) => q.id === p.id))] };
  }

  /** What the function does with the local pages variable after the pin. */
  private usesIn(body: Node, name: string, pinCall: Node, at: Place, depth: number): Lifetime {
    const scope = at.scope;
    // Inside a macro body (its own small tree) evidence points at the macro's definition, a node of the file.
    const ev = (node: Node, message: string): Evidence => ({ uri: scope.file.uri, node: scope.anchor ?? node, message });
    const path = scope.fn ? [scope.fn] : [];
    const releases: Lifetime['releases'] = [];
    let releasedOnSuccess = false;
    const releaseCalls: Node[] = [];
    /** Local scatterlist tables built from the pages (`sg_alloc_table_from_pages(&sgt, pages, ...)`). */
    const tables = new Set<string>();
    /** An object's table the pages were built into (`sg_alloc_table_from_pages(&req->sgt, pages, ...)`). */
    let mappedInto: { field: Node; evidence: Evidence } | undefined;
    let stored: Node | undefined;
    let storeEvidence: Evidence | undefined;
    let returned: Node | undefined;
    let outParam: { node: Node; param: number } | undefined;
    const escapes: Evidence[] = [];
    let reason: LifetimeReason | undefined;
    // Locals the array is copied to (`kmapped_page = page;`) hold the same pages: a release through them counts.
    const names = this.copiesOf(body, name, scope);
    // Locals holding one element (`page = pages[0];`): where they escape (returned, stored, passed out) that page
    // escapes; their release is not the array's, so they count for escapes only.
    const elements = new Set(this.factsOf(body).pairs.filter((p) => !p.plain && names.has(p.r) && !names.has(p.l) && !p.field &&
      scope.fn && declarationOf(scope.fn, p.l)?.kind === 'local').map((p) => p.l));
    for (const d of identifiersIn(body)) {
      if ((!names.has(d.text) && !elements.has(d.text)) || isAncestor(pinCall, d)) continue;
      const element = !names.has(d.text);
      const assign = ancestorOfType(d, 'assignment_expression', body);
      const right = assign?.childForFieldName('right');
      if (assign && right && isAncestor(right, d) && isValueOf(right, d)) {
        const left = unwrapParens(assign.childForFieldName('left')!);
        if (left.type === 'field_expression' || left.type === 'subscript_expression' && pagesBase(left).type === 'field_expression') {
          stored ??= pagesBase(left);
          storeEvidence ??= ev(assign, `the pages are stored in ${clip(left.text)}`);
          continue;
        }
        if (left.type === 'pointer_expression') {
          const target = rootIdentifier(left);
          const param = target ? scope.params.indexOf(target) : -1;
          if (param >= 0) outParam ??= { node: assign, param };
          else { escapes.push(ev(assign, `the pages are passed out through ${clip(left.text)}`)); reason ??= 'out-param'; }
          continue;
        }
        if (left.type === 'identifier' && scope.fn && !declarationOf(scope.fn, left.text)) {
          escapes.push(ev(assign, `the pages are stored in the global '${left.text}'`)); reason ??= 'global'; continue;
        }
      }
      const ret = ancestorOfType(d, 'return_statement', body);
      const retValue = ret ? namedChildren(ret).find((c) => c.type !== 'comment') : undefined;
      if (ret && (!ancestorOfType(d, 'call_expression', ret) || (retValue && isValueOf(retValue, d)))) { returned ??= ret; continue; }
      if (element) continue;
      let call = ancestorOfType(d, 'call_expression', body);
      // `put_page(pfn_to_page(pfn))`: the call that receives the page is the one around the way back from its handle.
      while (call && PAGE_OF_HANDLE.has(call.childForFieldName('function')?.text ?? '')) call = ancestorOfType(call, 'call_expression', body) ?? undefined;
      const callee = call?.childForFieldName('function');
      if (call && callee?.type === 'identifier') {
        const fname = callee.text;
        if (TABLE_BUILDERS.has(fname) && call.startIndex > pinCall.startIndex) {
          const table = firstArgBase(call);
          // Built into an object's table (`&req->sgt`): the pages live as long as that object, followed like a store.
          if (table?.type === 'field_expression') { mappedInto ??= { field: table, evidence: ev(call, `the pages are built into ${clip(table.text)} with ${fname}()`) }; continue; }
          // Built into a table on the stack: the pages are now the table's, and may be released through it.
          if (table?.type === 'identifier' && scope.fn && declarationOf(scope.fn, table.text)?.kind === 'local') { tables.add(table.text); continue; }
        }
        if (MAPPING_CALLS.has(fname) && this.mappingOutlives(call, scope)) { escapes.push(ev(call, `the pages are mapped with ${fname}() into something that outlives the call`)); reason ??= 'mapped'; continue; }
        const rel = findReleaseApi(fname);
        const argIndex = argumentIndexOf(call, d);
        const helper = !rel && !PAGE_RELEASES.has(fname) && argIndex >= 0 && this.helperReleases(fname, argIndex, undefined);
        if (rel) releases.push({ uri: scope.file.uri, node: call, api: fname });
        if (rel || helper) releaseCalls.push(call);
        if ((rel || helper) && call.startIndex > pinCall.startIndex && onSuccessPath(call, pinCall, body)) releasedOnSuccess = true;
      }
    }
    // No single release on the straight success path, but one on every way out (an event loop's exits).
    if (!releasedOnSuccess && releaseCalls.length > 0 && this.everyExitReleases(body, pinCall, releaseCalls)) releasedOnSuccess = true;
    const viaTable = !releasedOnSuccess && tables.size > 0 ? this.tableRelease(body, tables, pinCall, scope) : undefined;
    if (viaTable) return { longLived: false, reason: 'released', evidence: [ev(viaTable, 'the table built from the pages is walked and its pages released here before the function returns')], releases, path, ownerTypes: [] };
    // Released on the success path: any pointer kept to them afterwards holds no reference.
    if (releasedOnSuccess) return { longLived: false, reason: 'released', evidence: releases.map((r) => ev(r.node, `released here with ${r.api}()`)), releases, path, ownerTypes: [] };
    if (escapes.length > 0) return { longLived: true, reason: reason ?? 'stored', evidence: escapes, releases, path, ownerTypes: [] };
    // Stored in an object's field, or built into an object's table: the object decides.
    const owner = stored ? { field: stored, evidence: storeEvidence! } : mappedInto;
    if (owner && depth < MAX_DEPTH) {
      const inner = this.owned(owner.field, at, owner.field, depth + 1);
      // Kept in an object's table: the pages are mapped (scatterlist) beyond the call, as the message says.
      const reason = !stored && inner.longLived && inner.reason === 'stored' ? 'mapped' : inner.reason;
      return { ...inner, reason, evidence: [owner.evidence, ...inner.evidence], releases: [...releases, ...inner.releases] };
    }
    if (returned && at.fn) {
      const viaCallers = depth < MAX_DEPTH ? this.atCallers(at.fn, -1, 'return', depth) : undefined;
      if (viaCallers) return this.withPath(viaCallers, path);
      return handedBack(scope.file.uri, returned, at.fn.name, path, releases);
    }
    if (outParam && at.fn) {
      const viaCallers = depth < MAX_DEPTH ? this.atCallers(at.fn, outParam.param, 'out', depth) : undefined;
      if (viaCallers) return this.withPath(viaCallers, path);
      return handedBack(scope.file.uri, outParam.node, at.fn.name, path, releases);
    }
    return { longLived: true, reason: 'kept', evidence: [ev(pinCall, `'${name}' is not released on the success path, so the pages stay pinned after the call returns`)], releases, path, ownerTypes: [] };
  }

  /**
   * The pages live in a field of an object (`obj->pages`, `req.pages`, `ctx->sg.pages`): follow the object. Released
   * (directly, or by a helper given the object) on the success path = short-lived; released in an asynchronous
   * completion = I/O-bounded; otherwise the object, and the pages, outlive the call.
   */
  private owned(fieldExpr: Node, at: Place, after: Node, depth: number): Lifetime {
    const field = fieldOf(fieldExpr);
    const root = rootIdentifier(fieldExpr);
    const decl = root && at.scope.fn ? declarationOf(at.scope.fn, root) : undefined;
    // The struct the pinned pages' field belongs to, when the field is directly on a declared object (`req->pages`).
    const holder = fieldExpr.childForFieldName('argument');
    if (this.pinOwnerType === undefined) this.pinOwnerType = (holder && unwrapParens(holder).type === 'identifier' ? decl?.structType : undefined) ?? null;
    const ev = (node: Node, message: string): Evidence => ({ uri: at.scope.file.uri, node: at.scope.anchor ?? node, message });
    if (!root || !field) {
      return { longLived: true, reason: 'stored', evidence: [ev(fieldExpr, `the pages stay in ${clip(fieldExpr.text)}, an object that outlives the call`)], releases: [], storedField: field, path: at.scope.fn ? [at.scope.fn] : [], ownerTypes: [] };
    }
    return this.ownedRoot(fieldExpr, root, field, at, after, depth);
  }

  /** At a caller: the object passed for the callee's object parameter (`&req`, `req`, `&ctx->io`). */
  private ownedAtCaller(arg: Node, scope: Scope, call: Node, field: string | undefined, depth: number): Lifetime | undefined {
    const at = this.place(scope);
    const body = scope.fn?.childForFieldName('body') ?? undefined;
    const root = rootIdentifier(arg);
    if (!body || !root || !field) return undefined;
    const target = unwrapParens(arg);
    // `&obj->sub` passes a sub-object: its field is still the one the callee pins into.
    const synthetic = target.type === 'pointer_expression' ? target.childForFieldName('argument') ?? target : target;
    return this.ownedRoot(synthetic, root, field, at, call, depth);
  }

  /**
   * The pages live in `<root>...->field`, seen in the function of `at` after `after`: released here, or by the
   * callers that pass the object (a parameter, or a local that points into one: `dma = &itv->udma`), or by the
   * callers the object is returned to, or in a completion; else kept.
   */
  private ownedRoot(node: Node, root: string, field: string, at: Place, after: Node, depth: number): Lifetime {
    const scope = at.scope;
    const ev = (n: Node, message: string): Evidence => ({ uri: scope.file.uri, node: scope.anchor ?? n, message });
    const path = scope.fn ? [scope.fn] : [];
    const body = scope.fn?.childForFieldName('body') ?? undefined;
    const decl = scope.fn ? declarationOf(scope.fn, root) : undefined;
    const ownerTypes = decl?.structType ? [decl.structType] : [];
    const found = body ? this.fieldReleaseIn(body, this.aliasesOf(body, root), field, after, scope) : { releases: [], onSuccess: undefined };
    if (found.onSuccess) return { longLived: false, reason: 'released', evidence: [ev(found.onSuccess, `the pages of ${clip(node.text)} are released here before ${scope.name ?? 'the function'}() returns`)], releases: found.releases, storedField: field, path, ownerTypes };
    const withReleases = (inner: Lifetime): Lifetime => this.withPath({ ...inner, releases: [...found.releases, ...inner.releases], ownerTypes: [...ownerTypes, ...inner.ownerTypes] }, path);
    // A local object stored into another object's field (`sc->chan->map = obj;`): that object now holds the pages.
    const holder = decl?.kind === 'local' && body && depth < MAX_DEPTH ? this.factsOf(body).stores.find((st) => st.name === root && st.assign.startIndex >= after.endIndex) : undefined;
    if (holder) {
      const holderRoot = rootIdentifier(holder.left);
      if (holderRoot && holderRoot !== root) return withReleases(this.ownedRoot(holder.left, holderRoot, field, at, holder.assign, depth + 1));
    }
    // The object is the caller's (a parameter, or a local pointing into one): its release (or its keeping) is decided there.
    const param = this.objectParam(scope, body, root);
    if (param && depth < MAX_DEPTH) {
      const binding = scope.bindings?.[param.index];
      const inner = binding ? this.ownedAtCaller(binding.node, binding.scope, enclosingCallOf(binding.node) ?? binding.node, field, depth + 1)
        : at.fn ? this.atCallers(at.fn, param.index, 'object', depth, field) : undefined;
      if (inner) return withReleases(inner);
    }
    // A local object published in a container (`idr_replace(&dev->idr, shm, id)`): whatever its callers do with their
    // copy, the container keeps it, unless a completion releases it (a request queued on a list until it is done).
    const published = decl?.kind === 'local' && body ? this.callsIn(scope.file, body).find((c) => PUBLISH_CALLS.has(c.name) &&
      c.start >= after.endIndex && c.args.some((a) => rootIdentifier(a) === root)) : undefined;
    if (published) {
      const done = this.completionRelease(field, path);
      if (done) return { longLived: false, reason: 'io-bounded', evidence: [ev(node, `the pages stay in ${clip(node.text)} until the request completes`), done], releases: found.releases, storedField: field, path, ownerTypes };
      return { longLived: true, reason: 'stored', evidence: [ev(published.node, `${clip(node.text)} is published with ${published.name}() in a container that outlives the call`)], releases: found.releases, storedField: field, path, ownerTypes };
    }
    // A local object returned to the callers (`return bitmap;`): they decide.
    if (!param && decl?.kind === 'local' && body && at.fn && depth < MAX_DEPTH && this.factsOf(body).returned.has(root)) {
      const inner = this.atCallers(at.fn, -1, 'return', depth, field);
      if (inner) return withReleases(inner);
    }
    const asyncRelease = this.completionRelease(field, path);
    if (asyncRelease) return { longLived: false, reason: 'io-bounded', evidence: [ev(node, `the pages stay in ${clip(node.text)} until the request completes`), asyncRelease], releases: found.releases, storedField: field, path, ownerTypes };
    const kept = decl?.storage === 'stack' ? `${clip(node.text)} is in a stack object that is not released here` : `the pages stay in ${clip(node.text)}, an object that outlives the call`;
    return { longLived: true, reason: 'stored', evidence: [ev(node, kept)], releases: found.releases, storedField: field, path, ownerTypes };
  }

  /**
   * The parameter whose object `name` stands for: the parameter itself, or a local that only ever points into it
   * (`dma = &itv->udma`, `STbp = STp->buffer`), with the field it was loaded from when it is a pointer field's value.
   */
  private objectParam(scope: Scope, body: Node | undefined, name: string, hops = 0): { index: number; field?: string } | undefined {
    const direct = scope.params.indexOf(name);
    if (direct >= 0) return { index: direct };
    if (!scope.fn || !body || hops > 2 || declarationOf(scope.fn, name)?.kind !== 'local') return undefined;
    const pairs = this.factsOf(body).pairs;
    const sources = pairs.filter((p) => p.l === name);
    if (sources.length === 0 || sources.some((p) => p.r !== sources[0].r || p.r === name)) return undefined;
    const outer = this.objectParam(scope, body, sources[0].r, hops + 1);
    return outer ? { index: outer.index, field: sources[0].plain ? outer.field : sources[0].field } : undefined;
  }

  /**
   * Follows the pages into every caller of `fn` in the driver: through a returned value, an out-parameter, the caller's
   * array, or the caller's object. Undefined when `fn` has no caller in scope. The longest lifetime among the callers wins.
   */
  private atCallers(fn: FunctionInfo, param: number, mode: 'return' | 'out' | 'argument' | 'object', depth: number, field?: string): Lifetime | undefined {
    const routed = this.route?.get(fn.name);
    const all = routed ? [routed] : this.workspace.callsTo(fn.name);
    const calls = all.filter((c) => c.item.fn && c.item.fn !== fn).slice(0, 8);
    if (calls.length === 0) {
      // Called, but from code that does not parse as a function (a signature split by #if): the caller is in the
      // analysed code and cannot be followed, so nothing shows the pages released (quieting needs evidence).
      const unread = all.find((c) => !c.item.fn);
      if (unread) return { longLived: true, reason: 'kept', evidence: [{ uri: unread.file.uri, node: unread.item.node, message: `${fn.name}() is called here, in code that could not be read as a function: the pages are taken as kept` }], releases: [], path: [], ownerTypes: [] };
      return undefined;
    }
    const results: Lifetime[] = [];
    for (const c of calls) {
      const callerFn = c.item.fn!;
      const scope: Scope = { file: c.file, fn: callerFn.node, name: callerFn.name, params: callerFn.params };
      const at: Place = { file: c.file, fn: callerFn, scope };
      const body = callerFn.body;
      if (!body) continue;
      const call = c.item.node;
      if (mode === 'return') {
        const parent = valueParent(call);
        // With `field`, an object is returned whose `field` holds the pages: the caller's variable is that object.
        const receive = (id: string, node: Node): Lifetime => field ? this.ownedRoot(node, id, field, at, call, depth + 1) : this.usesIn(body, id, call, at, depth + 1);
        if (parent?.type === 'assignment_expression') {
          const left = unwrapParens(parent.childForFieldName('left')!);
          if (left.type === 'identifier') results.push(receive(left.text, left));
          else if (field) results.push(this.keptAt(c.file.uri, call, callerFn));
          else if (pagesBase(left).type === 'field_expression') results.push(this.owned(pagesBase(left), at, call, depth + 1));
        } else if (parent?.type === 'init_declarator') {
          const name = parent.childForFieldName('declarator');
          const id = name ? rootIdentifier(name) : undefined;
          if (id && name) results.push(receive(id, name));
        } else if (parent?.type === 'return_statement') {
          results.push(this.atCallers(callerFn, -1, 'return', depth + 1, field) ?? handedBack(c.file.uri, call, callerFn.name, [callerFn.node]));
        } else if (parent?.type === 'argument_list' && field) {
          results.push(this.keptAt(c.file.uri, call, callerFn));
        } else if (parent?.type === 'argument_list') {
          const outer = parent.parent!;
          const name = outer.childForFieldName('function')?.text ?? '';
          const released = !!findReleaseApi(name) || this.helperReleases(name, argumentIndexOf(outer, call), undefined);
          results.push(released ? { longLived: false, reason: 'released', evidence: [{ uri: c.file.uri, node: outer, message: `released at once with ${name}()` }], releases: [], path: [callerFn.node], ownerTypes: [] } : this.keptAt(c.file.uri, call, callerFn));
        }
        continue;
      }
      const arg = c.item.args[param];
      if (!arg) continue;
      if (mode === 'object') {
        const inner = field ? this.ownedAtCaller(arg, scope, call, field, depth + 1) : undefined;
        if (inner) results.push(inner);
        continue;
      }
      // 'out' passes `&v` (or `&obj->pages`); 'argument' passes the caller's own array.
      const target = unwrapParens(arg);
      const inner = mode === 'out' && target.type === 'pointer_expression' ? target.childForFieldName('argument') ?? target : target;
      const base = pagesBase(inner);
      if (base.type === 'field_expression') results.push(this.owned(base, at, call, depth + 1));
      else if (base.type === 'identifier') {
        const decl = declarationOf(callerFn.node, base.text);
        if (decl?.kind === 'param') results.push(this.atCallers(callerFn, callerFn.params.indexOf(base.text), mode, depth + 1) ?? handedBack(c.file.uri, call, callerFn.name, [callerFn.node]));
        else if (decl) results.push(this.usesIn(body, base.text, call, at, depth + 1));
        else results.push({ longLived: true, reason: 'global', evidence: [{ uri: c.file.uri, node: base, message: `'${base.text}' is not a local variable: the pages outlive the call` }], releases: [], path: [callerFn.node], ownerTypes: [] });
      }
    }
    if (results.length === 0) return undefined;
    const worst = results.find((r) => r.longLived) ?? results.find((r) => r.reason === 'io-bounded') ?? results.find((r) => r.reason === 'handed-back') ?? results[0];
    return { ...worst, releases: results.flatMap((r) => r.releases), path: results.flatMap((r) => r.path), ownerTypes: results.flatMap((r) => r.ownerTypes) };
  }

  private keptAt(uri: string, call: Node, fn: FunctionInfo): Lifetime {
    return { longLived: true, reason: 'kept', evidence: [{ uri, node: call, message: `the pages returned here are not released in ${fn.name}()` }], releases: [], path: [fn.node], ownerTypes: [] };
  }

  /**
   * A release of the pages of a local table built from the pinned pages, on the success path: a release API given
   * `sg_page(...)`/`sg_page_iter_page(...)` in this function, or a driver helper given the table whose body does that.
   */
  private tableRelease(body: Node, tables: Set<string>, pinCall: Node, scope: Scope): Node | undefined {
    for (const c of this.callsIn(scope.file, body)) {
      if (c.start < pinCall.endIndex) continue;
      const direct = (findReleaseApi(c.name) || PAGE_RELEASES.has(c.name)) && c.args.some((a) => SG_PAGE.test(a.text));
      const helper = !direct && c.args.some((a) => tables.has(rootIdentifier(a) ?? '')) && this.releasesTablePages(c.name);
      if ((direct || helper) && onSuccessPath(c.node, pinCall, body)) return c.node;
    }
    return undefined;
  }

  /** A driver function that walks a table and releases its pages (`put_page(sg_page_iter_page(&it))`), e.g. a clear_sg_table(). */
  private releasesTablePages(name: string): boolean {
    for (const f of this.workspace.functionsNamed(name)) {
      if (f.file.index.calls.some((c) => c.fn === f.item && (findReleaseApi(c.name) || PAGE_RELEASES.has(c.name)) && c.args.some((a) => SG_PAGE.test(a.text)))) return true;
    }
    return false;
  }

  /** Release calls of `<alias>->field` in `body` after `after`, directly or through a driver helper given the object. */
  private fieldReleaseIn(body: Node, aliases: Set<string>, field: string, after: Node, scope: Scope): { releases: Lifetime['releases']; onSuccess: Node | undefined } {
    const releases: Lifetime['releases'] = [];
    let onSuccess: Node | undefined;
    const hits: Node[] = [];
    for (const c of this.callsIn(scope.file, body)) {
      // A release written before `after` is reached only around a loop: it counts for the every-exit check alone.
      const before = c.start < after.endIndex;
      const rel = findReleaseApi(c.name);
      let hit = false;
      if (rel || PAGE_RELEASES.has(c.name)) {
        const arg = c.args[0];
        const base = arg ? pagesBase(arg) : undefined;
        hit = !!base && base.type === 'field_expression' && fieldOf(base) === field && aliases.has(rootIdentifier(base) ?? '');
        if (hit && rel && !before) releases.push({ uri: scope.file.uri, node: c.node, api: c.name });
      } else if (this.workspace.functionsNamed(c.name).length > 0) {
        hit = c.args.some((a, i) => aliases.has(rootIdentifier(a) ?? '') && this.helperReleases(c.name, i, field));
      }
      if (hit && (rel || !PAGE_RELEASES.has(c.name))) hits.push(c.node);
      if (hit && !before && !onSuccess && (rel || !PAGE_RELEASES.has(c.name)) && onSuccessPath(c.node, after, body, aliases)) onSuccess = c.node;
    }
    // No single release on the straight success path, but one on every way out (an event loop's exits).
    if (!onSuccess && hits.length > 0 && this.everyExitReleases(body, after, hits)) onSuccess = hits.find((h) => h.startIndex > after.endIndex) ?? hits[0];
    return { releases, onSuccess };
  }

  /**
   * True when the driver function `name` releases the pages of its parameter `index` (`field` undefined: the
   * parameter is the pages array; else the pages in `param->field`), directly or through a helper it calls.
   */
  private helperReleases(name: string, index: number, field: string | undefined, depth = 0): boolean {
    if (index < 0 || depth > 3) return false;
    for (const f of this.workspace.functionsNamed(name)) {
      const summary = this.releaseSummary(f.file, f.item, depth);
      const s = summary[index];
      if (s && (field === undefined ? s.direct : s.fields.has(field))) return true;
    }
    return false;
  }

  /** The driver functions named `name`, remembered as a dependency of every summary being computed. */
  private named(name: string): Located<FunctionInfo>[] {
    const found = this.workspace.functionsNamed(name);
    for (const frame of this.summaryFrames) frame.deps.set(name, found.map((l) => l.item));
    return found;
  }

  /** A cached summary still holds when every name it read resolves to the very same functions (none edited or added). */
  private stillValid(deps: Map<string, FunctionInfo[]>): boolean {
    for (const [name, items] of deps) {
      const now = this.workspace.functionsNamed(name);
      if (now.length !== items.length || now.some((l, i) => l.item !== items[i])) return false;
    }
    return true;
  }

  /**
   * What `fn` releases of each parameter, bottom-up over the helpers it calls. Kept across analyses on the function
   * (whose identity lasts as long as its file's tree): an edit recomputes the edited functions and, through their
   * names, the summaries that read them; every other summary is reused.
   */
  private releaseSummary(file: SourceFile, fn: FunctionInfo, depth: number): ReleaseSummary[] {
    const memo = this.releaseMemo.get(fn);
    if (memo) {
      // A cycle back into a summary still being computed: whatever reads the partial answer is not cached.
      if (this.summariesInProgress.has(fn)) for (const frame of this.summaryFrames) frame.cacheable = false;
      return memo;
    }
    const cached = summaryCache.get(file.index)?.get(fn);
    if (cached && this.stillValid(cached.deps)) {
      summaryCacheStats.reused++;
      for (const frame of this.summaryFrames) for (const [name, items] of cached.deps) frame.deps.set(name, items);
      this.releaseMemo.set(fn, cached.summary);
      return cached.summary;
    }
    summaryCacheStats.computed++;
    const out: ReleaseSummary[] = fn.params.map(() => ({ direct: false, fields: new Set<string>() }));
    this.releaseMemo.set(fn, out);
    const frame = { deps: new Map<string, FunctionInfo[]>(), cacheable: true };
    this.summaryFrames.push(frame);
    this.summariesInProgress.add(fn);
    try {
      this.summarise(file, fn, depth, out);
    } finally {
      this.summaryFrames.pop();
      this.summariesInProgress.delete(fn);
    }
    if (frame.cacheable) {
      let cache = summaryCache.get(file.index);
      if (!cache) { cache = new WeakMap(); summaryCache.set(file.index, cache); }
      cache.set(fn, { summary: out, deps: frame.deps });
    }
    else for (const outer of this.summaryFrames) outer.cacheable = false;
    return out;
  }

  private summarise(file: SourceFile, fn: FunctionInfo, depth: number, out: ReleaseSummary[]): void {
    if (!fn.body) return;
    const scope: Scope = { file, fn: fn.node, name: fn.name, params: fn.params };
    // Which parameter's object an argument stands for: the parameter, or a local pointing into it (`dma = &itv->udma`).
    const ownerOf = (arg: Node): { base: Node; index: number; field?: string } | undefined => {
      const base = pagesBase(arg);
      const root = rootIdentifier(base);
      const param = root ? this.objectParam(scope, fn.body ?? undefined, root) : undefined;
      return param ? { base, ...param } : undefined;
    };
    for (const c of callsIn(file.index, fn)) {
      const rel = findReleaseApi(c.name);
      if (rel) {
        const arg = c.args[rel.pagesIndex ?? 0] ?? c.args[0];
        const owner = arg ? ownerOf(arg) : undefined;
        if (!owner) continue;
        if (owner.base.type === 'field_expression') { const f = fieldOf(owner.base); if (f) out[owner.index].fields.add(f); }
        // `unpin(pages, n)` with `pages = obj->pages`: the object's field; `unpin(param, n)`: the parameter itself.
        else if (owner.base.type === 'identifier') { if (owner.field) out[owner.index].fields.add(owner.field); else out[owner.index].direct = true; }
        continue;
      }
      const helpers = this.named(c.name);
      if (helpers.length === 0) continue;
      // A chain of helpers deeper than any driver writes: stop, and do not keep the cut-short answer.
      if (depth > MAX_SUMMARY_DEPTH) { for (const frame of this.summaryFrames) frame.cacheable = false; continue; }
      c.args.forEach((a, ai) => {
        const owner = ownerOf(a);
        if (!owner) return;
        const o = out[owner.index];
        for (const inner of helpers) {
          const s = this.releaseSummary(inner.file, inner.item, depth + 1)[ai];
          if (!s) continue;
          // `pages = obj->pages; helper(pages)` releases obj's field; `sub = obj->sub; helper(sub)` the sub-object's fields.
          if (owner.base.type === 'identifier' && owner.field) { if (s.direct) o.fields.add(owner.field); for (const f of s.fields) o.fields.add(f); }
          else if (owner.base.type === 'identifier') { if (s.direct) o.direct = true; for (const f of s.fields) o.fields.add(f); }
          else if (owner.base.type === 'field_expression') {
            // `helper(obj->pages)` releases obj's field; `helper(&obj->sub)` releases the sub-object's fields, obj's too.
            if (s.direct) { const f = fieldOf(owner.base); if (f) o.fields.add(f); }
            for (const f of s.fields) o.fields.add(f);
          }
        }
      });
    }
  }

  /**
   * A release of `<param>->field` in a function the driver hands over as a completion callback (`->ki_complete = f`,
   * `bio->bi_end_io = f`, a `done`/`complete` member), or anywhere when the pinning path returns -EIOCBQUEUED.
   */
  private completionRelease(field: string, path: Node[]): Evidence | undefined {
    const queued = path.some((p) => returnsQueued(p));
    // The pages were queued by the write file operation: their release when the result is read ends the request.
    const writes = path.some((p) => { const name = functionNameNode(p)?.text; return !!name && isWriteOperation(this.workspace, name); });
    for (const file of this.workspace.files) {
      for (const c of releasesOfField(file.index, file.text, field)) {
        if (!c.fn) continue;
        const base = pagesBase(c.args[0]);
        // Tied to the pin's object: the released field must belong to the same struct type when both are known.
        const releasedRoot = rootIdentifier(base);
        const releasedType = releasedRoot ? declarationOf(c.fn.node, releasedRoot)?.structType : undefined;
        if (this.pinOwnerType && releasedType && releasedType !== this.pinOwnerType) continue;
        const callback = runsAtCompletion(this.workspace, c.fn.name);
        if (callback || queued) return { uri: file.uri, node: c.node, message: `released in ${c.fn.name}() when the request completes${queued ? ' (the pinning path returns -EIOCBQUEUED)' : ''}` };
        // The wider completion contexts need the owner's struct type known on both sides and equal.
        if (!this.pinOwnerType || releasedType !== this.pinOwnerType) continue;
        if (runsOnDeviceEvent(this.workspace, c.fn.name)) {
          return { uri: file.uri, node: c.node, message: `released in ${c.fn.name}(), which runs from the driver's device-event thread or interrupt handler, when the request completes` };
        }
        if (writes && runsOnResultRead(this.workspace, c.fn.name)) {
          return { uri: file.uri, node: c.node, message: `released in ${c.fn.name}() when the request's result is read (the read file operation collects what write() queued)` };
        }
      }
    }
    return undefined;
  }

  /**
   * A mapping outlives the call when its target is not a stack object: `sg_alloc_table_from_pages(&sgt, ...)` on a
   * local sg_table ends with the function, `...(&req->sgt, ...)` or a vmap stored in a field does not.
   */
  private mappingOutlives(call: Node, scope: Scope): boolean {
    const args = namedChildren(call.childForFieldName('arguments')!).filter((a) => a.type !== 'comment');
    const fname = call.childForFieldName('function')?.text ?? '';
    const local = (name: string): boolean => !!scope.fn && declarationOf(scope.fn, name)?.kind === 'local';
    if (fname.startsWith('sg_') || fname.startsWith('__sg_')) {
      const target = args[0] ? pagesBase(args[0]) : undefined;
      if (!target) return true;
      if (target.type === 'identifier') return !local(target.text);
      return true;
    }
    // vmap/dma_map_page return the mapping: it outlives the call if it is stored beyond a local.
    const assign = call.parent?.type === 'assignment_expression' ? call.parent : undefined;
    const left = assign?.childForFieldName('left');
    if (!left) return false;
    const base = pagesBase(left);
    return base.type !== 'identifier' || !local(base.text);
  }
}

/**
 * What a body does with names, collected in one walk of it: the `l = r` name pairs (aliases), where each plain name
 * is assigned (in text order), the names it returns, and `x->f = name;` stores.
 */
interface BodyFacts {
  pairs: NamePair[];
  assignments: Map<string, number[]>;
  returned: Set<string>;
  stores: Array<{ name: string; assign: Node; left: Node }>;
}

function bodyFactsOf(body: Node): BodyFacts {
  const facts: BodyFacts = { pairs: [], assignments: new Map(), returned: new Set(), stores: [] };
  const bare = (n: Node): string | undefined => {
    let v = unwrapParens(n);
    while (v.type === 'cast_expression') v = unwrapParens(v.childForFieldName('value') ?? v);
    return v.type === 'identifier' ? v.text : undefined;
  };
  for (const d of descendantsOfType(body, ['return_statement', 'assignment_expression', 'init_declarator'])) {
    if (d.type === 'return_statement') {
      const value = namedChildren(d).find((c) => c.type !== 'comment');
      const name = value ? bare(value) : undefined;
      if (name) facts.returned.add(name);
      continue;
    }
    const assignment = d.type === 'assignment_expression';
    const left = assignment ? d.childForFieldName('left') : d.childForFieldName('declarator');
    const right = assignment ? d.childForFieldName('right') : d.childForFieldName('value');
    if (!left || !right) continue;
    const l = unwrapParens(left);
    if (assignment && l.type === 'identifier') {
      const list = facts.assignments.get(l.text);
      if (list) list.push(d.startIndex); else facts.assignments.set(l.text, [d.startIndex]);
    }
    const name = l.type === 'identifier' || !assignment ? rootIdentifier(left) : undefined;
    let rNode = unwrapParens(right);
    // `page = virt_to_page(va)`, `pfn = page_to_pfn(page)`: a handle and the page it stands for are the same pages.
    const converter = rNode.type === 'call_expression' ? rNode.childForFieldName('function')?.text ?? '' : '';
    if (PAGE_OF_HANDLE.has(converter) || PAGE_HANDLES.has(converter)) {
      const first = namedChildren(rNode.childForFieldName('arguments') ?? rNode).find((c) => c.type !== 'comment');
      if (first && first.id !== rNode.id) rNode = unwrapParens(first);
    }
    const r = rNode.type === 'identifier' || rNode.type === 'pointer_expression' || rNode.type === 'subscript_expression'
      || rNode.type === 'cast_expression' || rNode.type === 'field_expression' ? rootIdentifier(rNode) : undefined;
    if (name && r) facts.pairs.push({ l: name, r, plain: rNode.type === 'identifier', field: fieldOf(rNode) });
    const stored = assignment ? bare(right) : undefined;
    if (stored && (l.type === 'field_expression' || (l.type === 'subscript_expression' && pagesBase(l).type === 'field_expression'))) {
      facts.stores.push({ name: stored, assign: d, left: pagesBase(l) });
    }
  }
  return facts;
}

/**
 * The pages go back to callers the analysed code does not show (a library function, an exported helper): those callers
 * decide how long they live, so the pin is judged where they keep them, not here (issue 28, docs/analysis.md).
 */
function handedBack(uri: string, node: Node, fnName: string, path: Node[], releases: Lifetime['releases'] = []): Lifetime {
  return { longLived: false, reason: 'handed-back', evidence: [{ uri, node, message: `${fnName}() hands the pages back to callers outside the analysed code, which decide how long they live` }], releases, path, ownerTypes: [] };
}

/**
 * The `l = r` name pairs of a function body (assignments and initialisers), `plain` when `r` is a bare name; `field`
 * when `r` loads a pointer out of an object (`pages = obj->pages` gives 'pages'; `dma = &itv->udma` gives none: the
 * sub-object's own fields are named where it is used).
 */
interface NamePair { l: string; r: string; plain: boolean; field?: string }


/** The names that stand for `root`'s object in a body (`s = &ctx->slot[i]` makes `s` one of `ctx`'s), from its name pairs. */
function aliasesIn(pairs: NamePair[], root: string): Set<string> {
  const names = new Set([root]);
  for (let round = 0; round < 2; round++) {
    for (const { l, r, plain } of pairs) {
      if (names.has(r)) names.add(l);
      else if (names.has(l) && plain) names.add(r);
    }
  }
  return names;
}

/** True when `id` is the value of `expr` (not an index, call argument or member of something else). */
function isValueOf(expr: Node, id: Node): boolean {
  const e = unwrapParens(expr);
  if (e.id === id.id) return true;
  // A handle that stands for the page: `page_address(page) + offset`, `page_to_pfn(pages[0])`.
  if (e.type === 'call_expression' && PAGE_HANDLES.has(e.childForFieldName('function')?.text ?? '')) {
    const first = namedChildren(e.childForFieldName('arguments') ?? e).find((c) => c.type !== 'comment');
    return !!first && first.id !== e.id && isValueOf(first, id);
  }
  if (e.type === 'binary_expression' && ['+', '-'].includes(e.childForFieldName('operator')?.type ?? '')) {
    const l = e.childForFieldName('left');
    return !!l && isValueOf(l, id);
  }
  if (e.type === 'cast_expression') { const v = e.childForFieldName('value'); return !!v && isValueOf(v, id); }
  if (e.type === 'pointer_expression') { const a = e.childForFieldName('argument'); return !!a && isValueOf(a, id); }
  if (e.type === 'subscript_expression') { const a = e.childForFieldName('argument'); return !!a && isValueOf(a, id); }
  return false;
}

/** The node a call's value goes to: the assignment, declaration, return or argument list it sits in. */
function valueParent(call: Node): Node | undefined {
  let n: Node = call;
  for (let p = call.parent; p; n = p, p = p.parent) {
    if (p.type === 'parenthesized_expression' || p.type === 'cast_expression') continue;
    if (p.type === 'assignment_expression') return p.childForFieldName('right')?.id === n.id ? p : undefined;
    return p.type === 'init_declarator' || p.type === 'return_statement' || p.type === 'argument_list' ? p : undefined;
  }
  return undefined;
}

function argumentIndexOf(call: Node, node: Node): number {
  const list = call.childForFieldName('arguments');
  if (!list) return -1;
  return namedChildren(list).filter((a) => a.type !== 'comment').findIndex((a) => isAncestor(a, node));
}

function ancestorOfType(node: Node, type: string, stop: Node): Node | undefined {
  for (let n: Node | null = node.parent; n && n.id !== stop.id; n = n.parent) if (n.type === type) return n;
  return undefined;
}

function enclosingCallOf(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) if (n.type === 'call_expression') return n;
  return undefined;
}

function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  return t.length > 40 ? t.slice(0, 37) + '...' : t;
}
