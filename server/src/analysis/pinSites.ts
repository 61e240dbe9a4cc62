// Finds pin sites: direct calls of pinning APIs and calls of the macros and wrapper functions that reach one, across the driver.
import type { Node } from './parser';
import { findPinApi, nearestSignature, refKindOf, signatureFor, PinApi, PinApiSignature, RefKind, KernelVersionLite } from './pinApis';
import type { CallInfo, FunctionInfo, MacroInfo } from './fileIndex';
import { Binding, Scope, scopeOfCall } from './flags';
import { VersionRange, inVersionRange, intersectVersionRanges, versionRangeOf } from './preprocessor';
import { unwrapParens, namedChildren, identifiersIn } from './syntaxTools';
import { isNullPages } from './lifetime/lifetime';
import type { SourceFile, Workspace } from './workspace';

export interface ChainLink {
  name: string; kind: 'macro' | 'function'; uri: string; definition: Node;
  /** For a function: the call in its body that leads on (to the next link or the API). */
  inner?: CallInfo;
}

export interface PinResolution {
  api: PinApi;
  signature: PinApiSignature;
  /** False when no known layout has this many arguments and the nearest one was used. */
  exactLayout: boolean;
  ref: RefKind;
  /** The API call's arguments, each bound to the scope it is evaluated in. */
  args: Array<Binding | undefined>;
  /** The API call itself (inside the last wrapper, or the site). */
  apiCall: { uri: string; node: Node };
  /** Wrappers from the site down to the API call, outermost first. */
  chain: ChainLink[];
  versions: VersionRange | undefined;
}

export interface PinSite {
  file: SourceFile;
  /** The outermost call: the one whose arguments choose the flags and own the pages (a wrapper's caller). */
  call: CallInfo;
  /**
   * Where the site is reported: the pin call itself, or, when the driver reaches the API through a macro or a
   * function defined in a header (a compat shim), the driver's own call of that macro/shim (docs/analysis.md, "Where").
   */
  anchor: { uri: string; call: CallInfo };
  /** The resolution that applies to the kernel version analysed. */
  chosen: PinResolution;
  /** Other resolutions (a macro defined per kernel version): named in the message. */
  alternatives: PinResolution[];
}

const MAX_CHAIN = 6;

/** Follows a binding through wrapper parameters to the expression written at the outermost call. */
export function bindingSource(binding: Binding): Binding {
  let b = binding;
  for (let i = 0; i < MAX_CHAIN * 2; i++) {
    const n = unwrapParens(b.node);
    const idx = n.type === 'identifier' ? b.scope.params.indexOf(n.text) : -1;
    const next = idx >= 0 ? b.scope.bindings?.[idx] : undefined;
    if (!next) return b;
    b = next;
  }
  return b;
}

export class PinSiteFinder {
  private readonly forwardMemo = new Map<FunctionInfo, boolean>();
  private readonly siteMemo = new Map<string, PinSite[]>();

  constructor(private readonly workspace: Workspace, private readonly kernel: KernelVersionLite) {}

  /**
   * The pin sites reported in `file` (`anchored`, in source order: each anchor's sites together, one per outermost
   * caller), and the sites whose outermost call is in `file` but whose anchor is elsewhere (`foreign`: their releases
   * in this file are still checked).
   */
  find(file: SourceFile): { anchored: PinSite[]; foreign: PinSite[] } {
    const anchored: PinSite[] = [];
    const foreign: PinSite[] = [];
    for (const call of file.index.calls) {
      // A pin inside a header shim is reported at its users' calls (in their files), never on the shim's definition.
      if (call.fn && this.isHeaderShim(call.fn, file)) continue;
      if (call.fn && this.isWrapper(call.fn, file) && this.resolve(call.name, [], file, 0, new Set(), true).length > 0) {
        // A pin inside a driver function its callers reach: reported here, once per caller that reaches it.
        if (!isHeaderUri(file.uri)) anchored.push(...this.sitesAnchoredAt(file, call));
        continue;
      }
      for (const site of this.sitesOf(file, call)) (site.anchor.call === call ? anchored : foreign).push(site);
    }
    return { anchored, foreign };
  }

  /** The sites (outermost calls, found up the driver's call graph) whose anchor is `call`, inside wrapper `call.fn`. */
  private sitesAnchoredAt(file: SourceFile, call: CallInfo): PinSite[] {
    const out: PinSite[] = [];
    const seen = new Set<FunctionInfo>([call.fn!]);
    let frontier: FunctionInfo[] = [call.fn!];
    for (let depth = 0; depth < MAX_CHAIN && frontier.length > 0; depth++) {
      const next: FunctionInfo[] = [];
      for (const fn of frontier) {
        for (const c of this.workspace.callsTo(fn.name)) {
          const outer = c.item.fn;
          if (outer === fn) continue;
          if (outer && this.isWrapper(outer, c.file)) {
            if (!seen.has(outer)) { seen.add(outer); next.push(outer); }
            continue;
          }
          for (const site of this.sitesOf(c.file, c.item)) if (site.anchor.call === call && !out.includes(site)) out.push(site);
        }
      }
      frontier = next;
    }
    // This file's callers first, then by file and position: the first of equally strong callers is the one reported.
    const rank = (site: PinSite): string => (site.file.uri === file.uri ? '' : site.file.uri);
    return out.sort((a, b) => rank(a).localeCompare(rank(b)) || a.call.node.startIndex - b.call.node.startIndex);
  }

  /**
   * The sites of an outermost call (not inside a wrapper): one per pin it reaches on the analysed kernel (a wrapper
   * may pin twice; a helper written once per kernel range reaches one definition). Memoised: anchors share callers.
   */
  private sitesOf(file: SourceFile, call: CallInfo): PinSite[] {
    const key = `${file.uri}\n${call.node.id}`;
    const memo = this.siteMemo.get(key);
    if (memo) return memo;
    // An outermost call in an `#if LINUX_VERSION_CODE ...` arm the selected kernel does not compile is no site.
    if (!inVersionRange(this.kernel, this.armOf(file, call.node))) { this.siteMemo.set(key, []); return []; }
    const scope = scopeOfCall(file, call.fn);
    const args = call.args.map((node) => ({ node, scope }));
    const resolutions = this.resolve(call.name, args, file, 0, new Set(), false, call.node)
      .filter((r) => !this.hasNullPages(r));
    const applicable = resolutions.filter((r) => inVersionRange(this.kernel, r.versions));
    // Nothing compiles on this kernel (a version range we cannot read right): keep the first, as written.
    const pool = applicable.length > 0 ? applicable : resolutions.slice(0, 1);
    const byAnchor = new Map<CallInfo, PinSite>();
    for (const chosen of pool) {
      const anchor = anchorOf(file, call, chosen);
      if (byAnchor.has(anchor.call)) continue;
      const alternatives = resolutions.filter((r) => !pool.includes(r) && r.api.name !== chosen.api.name);
      byAnchor.set(anchor.call, { file, call, anchor, chosen, alternatives });
    }
    const sites = [...byAnchor.values()];
    this.siteMemo.set(key, sites);
    return sites;
  }

  private readonly versionedFiles = new Map<string, boolean>();

  /**
   * The kernel range of the `#if LINUX_VERSION_CODE ...` arms around a call; read only in files that test the version
   * (walking a call's ancestors costs its depth, and generated files nest calls thousands deep).
   */
  private armOf(file: SourceFile, node: Node): VersionRange | undefined {
    let versioned = this.versionedFiles.get(file.uri);
    if (versioned === undefined) { versioned = file.text.includes('LINUX_VERSION_CODE'); this.versionedFiles.set(file.uri, versioned); }
    return versioned ? versionRangeOf(node) : undefined;
  }

  private hasNullPages(r: PinResolution): boolean {
    const index = r.signature.pagesIndex ?? r.signature.frameVectorIndex;
    if (index === undefined) return false;
    const b = r.args[index];
    return !!b && isNullPages(bindingSource(b).node);
  }

  /**
   * The pinning APIs a call of `name` reaches. `probe` only asks whether it reaches one (argument bindings unused).
   */
  resolve(name: string, args: Binding[], file: SourceFile, depth: number, visiting: Set<string>, probe: boolean, callNode?: Node): PinResolution[] {
    if (depth > MAX_CHAIN || visiting.has(name)) return [];
    const api = findPinApi(name);
    if (api) {
      const fit = nearestSignature(api, args.length || apiArity(api, this.kernel), this.kernel);
      if (!fit) return [];
      // A call written in an `#if LINUX_VERSION_CODE ...` arm compiles on that arm's kernels only.
      const versions = callNode?.type === 'call_expression' ? this.armOf(file, callNode) : undefined;
      return [{ api, signature: fit.signature, exactLayout: probe || fit.exact, ref: refKindOf(api, fit.signature), args,
        apiCall: { uri: file.uri, node: callNode ?? file.tree.rootNode }, chain: [], versions }];
    }
    const next = new Set(visiting).add(name);
    const out: PinResolution[] = [];
    for (const m of this.workspace.macrosNamed(name)) out.push(...this.throughMacro(m.file, m.item, args, depth, next, probe));
    for (const f of this.workspace.functionsNamed(name)) {
      if (!this.isWrapper(f.item, f.file)) continue;
      out.push(...this.throughFunction(f.file, f.item, args, depth, next, probe));
    }
    return out;
  }

  private throughMacro(file: SourceFile, macro: MacroInfo, args: Binding[], depth: number, visiting: Set<string>, probe: boolean): PinResolution[] {
    const body = this.workspace.macroExpression(macro);
    if (!body) return [];
    const link: ChainLink = { name: macro.name, kind: 'macro', uri: file.uri, definition: macro.node };
    const expr = unwrapParens(body);
    let inner: PinResolution[] = [];
    if (macro.params === undefined && expr.type === 'identifier') {
      // #define my_gup get_user_pages_fast: an alias, the call's own arguments go through.
      inner = this.resolve(expr.text, args, file, depth + 1, visiting, probe);
    } else if (macro.params !== undefined && expr.type === 'call_expression') {
      const callee = expr.childForFieldName('function');
      const argList = expr.childForFieldName('arguments');
      if (callee?.type === 'identifier' && argList) {
        const scope: Scope = { file, name: macro.name, params: macro.params, bindings: args, anchor: macro.node };
        const innerArgs = namedChildren(argList).filter((a) => a.type !== 'comment').map((node) => ({ node, scope }));
        inner = this.resolve(callee.text, innerArgs, file, depth + 1, visiting, probe, macro.node);
      }
    }
    return inner.map((r) => ({ ...r, chain: [link, ...r.chain], versions: intersectVersionRanges(macro.versions, r.versions),
      apiCall: r.chain.length === 0 ? { uri: file.uri, node: macro.node } : r.apiCall }));
  }

  private throughFunction(file: SourceFile, fn: FunctionInfo, args: Binding[], depth: number, visiting: Set<string>, probe: boolean): PinResolution[] {
    const scope: Scope = { file, fn: fn.node, name: fn.name, params: fn.params, bindings: args };
    // A definition inside `#if LINUX_VERSION_CODE ...` (a compat wrapper per kernel) applies to those kernels only.
    const versions = versionRangeOf(fn.node);
    const out: PinResolution[] = [];
    for (const call of file.index.calls) {
      if (call.fn !== fn) continue;
      const innerArgs = call.args.map((node) => ({ node, scope }));
      const link: ChainLink = { name: fn.name, kind: 'function', uri: file.uri, definition: fn.node, inner: call };
      for (const r of this.resolve(call.name, innerArgs, file, depth + 1, visiting, probe, call.node)) {
        out.push({ ...r, chain: [link, ...r.chain], versions: intersectVersionRanges(versions, r.versions) });
      }
    }
    return out;
  }

  /**
   * A wrapper is a function that pins with flags or pages taken from its own parameters and is called in the
   * driver: its callers choose the flags and own the pages, so each call of it is a site.
   */
  isWrapper(fn: FunctionInfo, file: SourceFile): boolean {
    return this.forwardsParams(fn, file) && this.workspace.callsTo(fn.name).some((c) => c.item.fn !== fn);
  }

  /**
   * A function defined in a header that pins with flags or pages from its own parameters: a compat shim whose users
   * decide (docs/analysis.md). It is never a site itself, whether or not its callers are in the analysed scope.
   */
  isHeaderShim(fn: FunctionInfo, file: SourceFile): boolean {
    return isHeaderUri(file.uri) && this.forwardsParams(fn, file);
  }

  /** The function passes one of its parameters to a call that reaches a pin API. */
  private forwardsParams(fn: FunctionInfo, file: SourceFile): boolean {
    const memo = this.forwardMemo.get(fn);
    if (memo !== undefined) return memo;
    this.forwardMemo.set(fn, false); // recursion guard
    let result = false;
    if (fn.body && fn.params.some((p) => p !== '')) {
      for (const call of file.index.calls) {
        if (call.fn !== fn) continue;
        const reached = this.resolve(call.name, [], file, 1, new Set([fn.name]), true);
        if (reached.length === 0) continue;
        const mentionsParam = call.args.some((a) => identifiersIn(a).some((id) => fn.params.includes(id.text)) ||
          (unwrapParens(a).type === 'identifier' && fn.params.includes(unwrapParens(a).text)));
        if (mentionsParam) { result = true; break; }
      }
    }
    this.forwardMemo.set(fn, result);
    return result;
  }
}

/** When probing without arguments, use the layout in force for the version (else the newest). */
function apiArity(api: PinApi, kernel: KernelVersionLite): number {
  return (signatureFor(api, kernel) ?? api.signatures[api.signatures.length - 1])?.params.length ?? 0;
}

/** Header files hold compat shims and macros: a pin reached through one is reported at the driver's own call of it. */
export function isHeaderUri(uri: string): boolean {
  return /\.(h|hh|hpp|hxx)$/i.test(uri);
}

/**
 * Where a site is reported: down the chain from the outermost call, through every driver function (defined in a
 * source file), to the call that reaches the API directly or through a macro or header shim.
 */
function anchorOf(file: SourceFile, call: CallInfo, r: PinResolution): { uri: string; call: CallInfo } {
  let anchor = { uri: file.uri, call };
  for (const link of r.chain) {
    if (link.kind !== 'function' || !link.inner || isHeaderUri(link.uri)) break;
    anchor = { uri: link.uri, call: link.inner };
  }
  return anchor;
}
