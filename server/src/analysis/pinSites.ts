// Finds pin sites: direct calls of pinning APIs and calls of the macros and wrapper functions that reach one, across the driver.
import type { Node } from './parser';
import { compareKernelVersions, compilesOn, findPinApi, introducedIn, nearestSignature, refKindOf, signatureFor, PinApi, PinApiSignature, RefKind, KernelVersionLite } from './pinApis';
import { callsIn, type CallInfo, type FunctionInfo, type MacroInfo } from './fileIndex';
import { Binding, Scope, scopeOfCall } from './flags';
import { Arm, Assumptions, Truth, armsCompile, armsOf, assumptionsOf, describeArm, describeKernels, exclusiveArms } from './preprocessor';
import { unwrapParens, namedChildren, identifiersIn } from './syntaxTools';
import { isNullPages } from './lifetime/lifetime';
import type { SourceFile, Workspace } from './workspace';
import { compareText } from './span';

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
  /** The #if / #ifdef arms the API call, the macros and the wrappers on the way sit in (the outermost call's own are on the site). */
  arms: Arm[];
  /** The arms around the deepest definition or call that has any: the arm that picks this API, as messages name it. */
  apiArms: Arm[];
}

/** What another arm (or another definition of a compat macro) would pin, and on which kernels it is what compiles. */
export interface Alternative { resolution: PinResolution; kernels: string; arm: string | undefined; option: SiteOption }

/** Why a site's resolution is the one judged on the selected kernel, and what the other arms would compile. */
export interface BranchChoice {
  /** "pin_user_pages_fast() inside `#ifdef HAVE_PIN_USER_PAGES_FAST`, which 6.12 compiles: ..." */
  judged: string;
  /** Macro values the judged arm implies (its release calls are read under the same values). */
  assumptions: Assumptions;
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
  /** Other resolutions (a macro defined per kernel version, the other arm of a compat #ifdef): named in the message. */
  alternatives: Alternative[];
  /** Set when the site was chosen among preprocessor arms (docs/analysis.md, "Kernel eras and compat branches"). */
  branch?: BranchChoice;
  /** The judged resolution with every arm on its way, outermost call's first. */
  judged: SiteOption;
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
  private readonly mayPinMemo = new Map<string, boolean>();
  /** forwardsParams computations under way: their functions answer `false` until done, so no name's answer is kept meanwhile. */
  private forwarding = 0;

  constructor(private readonly workspace: Workspace, private readonly kernel: KernelVersionLite) {}

  /**
   * The pin sites reported in `file` (`anchored`, in source order: each anchor's sites together, one per outermost
   * caller), and the sites whose outermost call is in `file` but whose anchor is elsewhere (`foreign`: their releases
   * in this file are still checked).
   */
  find(file: SourceFile): { anchored: PinSite[]; foreign: PinSite[] } {
    // The GUP implementation itself (a file that defines pin APIs the kernel has): its calls are how pinning works,
    // not pins a driver keeps; its users are judged where they call the APIs (issue 28, docs/analysis.md).
    if (this.implementsPinning(file)) return { anchored: [], foreign: [] };
    const anchored: PinSite[] = [];
    const foreign: PinSite[] = [];
    for (const call of file.index.calls) {
      // A call whose name can reach no pin API yields no site in either branch below (both resolve the name): asked
      // first, so the function around each of a file's thousands of calls is not examined for being a wrapper.
      if (!this.mayPin(call.name)) continue;
      // A pin inside a header shim is reported at its users' calls (in their files), never on the shim's definition.
      if (call.fn && this.isHeaderShim(call.fn, file)) continue;
      if (call.fn && this.isWrapper(call.fn, file) && this.resolve(call.name, [], file, 0, new Set(), true).length > 0) {
        // A pin inside a driver function its callers reach: reported here, once per caller that reaches it.
        if (!isHeaderUri(file.uri)) anchored.push(...this.sitesAnchoredAt(file, call));
        continue;
      }
      for (const site of this.sitesOf(file, call)) (site.anchor.call === call ? anchored : foreign).push(site);
    }
    return { anchored: this.oneArmEach(anchored), foreign: this.oneArmEach(foreign) };
  }

  /**
   * The file defines a pin API (a non-static function named like one) that the selected kernel has, in an arm it
   * compiles: it is the GUP implementation (mm/gup.c), not a user of it. A driver's compat definition of an API its
   * kernel lacks (pin_user_pages_fast() before 5.6) does not count.
   */
  implementsPinning(file: SourceFile): boolean {
    return file.index.functions.some((f) => {
      // The name first: a carried index finds a function's body node only when asked (fileIndex.ts).
      const api = findPinApi(f.name);
      if (!api || !f.body || !signatureFor(api, this.kernel) || /^\s*static\b/.test(f.node.text)) return false;
      return armsCompile(armsOf(file, f.node), this.kernel) !== false;
    });
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
    // This file's callers first, then by file (code-unit order, as the CLI orders files: locale collation was a tenth
    // of an in-function edit here) and position: the first of equally strong callers is the one reported.
    const rank = (site: PinSite): string => (site.file.uri === file.uri ? '' : site.file.uri);
    return out.sort((a, b) => compareText(rank(a), rank(b)) || a.call.start - b.call.start);
  }

  /**
   * The sites of an outermost call (not inside a wrapper): one per pin it reaches on the analysed kernel (a wrapper
   * may pin twice; a helper written once per kernel range reaches one definition). Memoised: anchors share callers.
   */
  private sitesOf(file: SourceFile, call: CallInfo): PinSite[] {
    // Most calls of a file name nothing that pins: answered from the name, before their arguments are listed.
    if (!this.mayPin(call.name)) return [];
    const key = `${file.uri}\n${call.node.id}`;
    const memo = this.siteMemo.get(key);
    if (memo) return memo;
    const scope = scopeOfCall(file, call.fn);
    const args = call.args.map((node) => ({ node, scope }));
    const resolutions = this.resolve(call.name, args, file, 0, new Set(), false, call.node)
      .filter((r) => !this.hasNullPages(r));
    // An outermost call in an arm the selected kernel does not compile is no site (read only for calls that pin:
    // walking a call's ancestors costs its depth, and generated files nest calls thousands deep).
    const outer = resolutions.length > 0 ? armsOf(file, call.node) : [];
    if (armsCompile(outer, this.kernel) === false) { this.siteMemo.set(key, []); return []; }
    const options = resolutions.map((r) => this.option(r, outer));
    // Best first: a site is the most preferred feasible resolution per anchor; the others are its alternatives.
    const pool = options.filter((o) => o.feasible).sort(byPreference);
    const byAnchor = new Map<CallInfo, { site: PinSite; losers: SiteOption[] }>();
    for (const o of pool) {
      const anchor = anchorOf(file, call, o.r);
      const held = byAnchor.get(anchor.call);
      if (held) { held.losers.push(o); continue; }
      byAnchor.set(anchor.call, { site: { file, call, anchor, chosen: o.r, alternatives: [], judged: o }, losers: [] });
    }
    const infeasible = options.filter((o) => !o.feasible);
    for (const { site, losers } of byAnchor.values()) {
      const judged = site.judged;
      const others = [...losers, ...infeasible].filter((x) => x.r.api.name !== judged.r.api.name || x.argc !== judged.argc);
      this.setAlternatives(site, others);
    }
    const sites = [...byAnchor.values()].map((x) => x.site);
    this.siteMemo.set(key, sites);
    return sites;
  }

  /** A resolution with every arm on its way (the outermost call's first) and whether the selected kernel can compile it. */
  private option(r: PinResolution, outer: Arm[]): SiteOption {
    const arms = [...outer, ...r.arms];
    const truth = armsCompile(arms, this.kernel);
    const argc = r.args.length || r.signature.params.length;
    // In an arm only the build can decide, a call of an API this kernel lacks (or with a layout it lacks) is the
    // arm for other kernels; outside such arms a missing API is the tree not supporting this kernel: kept as written.
    const feasible = truth !== false && (truth === true || compilesOn(r.api, argc, this.kernel));
    return { r, arms, truth, feasible, argc };
  }

  private setAlternatives(site: PinSite, others: SiteOption[]): void {
    const seen = new Set<string>();
    site.alternatives = others.map((x) => this.alternative(x, site.judged)).filter((a) => {
      const key = `${a.resolution.api.name}\n${a.arm ?? ''}\n${a.kernels}`;
      return !seen.has(key) && !!seen.add(key);
    });
    if (site.judged.arms.length > 0 || others.length > 0) site.branch = this.branchOf(site.judged, others);
  }

  /**
   * Pins written once per arm of one #if / #ifdef in the same function (`#ifdef HAVE_PIN_USER_PAGES_FAST`
   * pin_user_pages_fast() `#else` get_user_pages_fast()): a build compiles one arm, so one of them is the site,
   * chosen like alternatives of one call, and the others are named in it.
   */
  private oneArmEach(sites: PinSite[]): PinSite[] {
    const armed = sites.filter((s) => s.judged.arms.length > 0);
    if (armed.length < 2) return sites;
    const dropped = new Set<PinSite>();
    for (const a of [...armed].sort((x, y) => byPreference(x.judged, y.judged))) {
      if (dropped.has(a)) continue;
      // Two pins of one function in different arms, reached from the same outermost call (or both called directly).
      const losers = armed.filter((b) => b !== a && !dropped.has(b) && b.anchor.call.fn === a.anchor.call.fn &&
        b.anchor.call !== a.anchor.call && (b.call === a.call || (a.call === a.anchor.call && b.call === b.anchor.call)) &&
        exclusiveArms(a.judged.arms, b.judged.arms));
      if (losers.length === 0) continue;
      for (const b of losers) dropped.add(b);
      this.setAlternatives(a, [...a.alternatives.map((x) => x.option), ...losers.map((b) => b.judged)]);
    }
    return sites.filter((s) => !dropped.has(s));
  }

  private alternative(x: SiteOption, judged: SiteOption): Alternative {
    const kernels = describeKernels((k) => optionCompiles(x, k) && !optionCompiles(judged, k));
    return { resolution: x.r, kernels, arm: describeArm(innermostArms(x)), option: x };
  }

  private branchOf(o: SiteOption, others: SiteOption[]): BranchChoice {
    const k = `${this.kernel.major}.${this.kernel.minor}`;
    const where = describeArm(innermostArms(o));
    const decided = o.truth === true ? `${k} compiles it` : `only the build decides it; ${o.r.api.name}() exists on ${k}`;
    const newer = others.some((x) => compareKernelVersions(introducedIn(x.r.api), introducedIn(o.r.api)) < 0 && x.feasible)
      ? ', and a build that tests for the newer API takes it' : '';
    const judged = `${o.r.api.name}()${where ? ` ${where}` : ''}: ${decided}${newer}`;
    return { judged, assumptions: assumptionsOf(o.arms, this.kernel) };
  }

  private hasNullPages(r: PinResolution): boolean {
    const index = r.signature.pagesIndex ?? r.signature.frameVectorIndex;
    if (index === undefined) return false;
    const b = r.args[index];
    return !!b && isNullPages(bindingSource(b).node);
  }

  /** Whether a call of `name` can reach a pinning API at all: a pin API, or a macro or wrapper function of that name. */
  private mayPin(name: string): boolean {
    let may = this.mayPinMemo.get(name);
    if (may === undefined) {
      may = findPinApi(name) !== undefined || this.workspace.macrosNamed(name).length > 0 ||
        this.workspace.functionsNamed(name).some((f) => this.isWrapper(f.item, f.file));
      if (this.forwarding === 0) this.mayPinMemo.set(name, may);
    }
    return may;
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
      return [{ api, signature: fit.signature, exactLayout: probe || fit.exact, ref: refKindOf(api, fit.signature), args,
        apiCall: { uri: file.uri, node: callNode ?? file.tree.rootNode }, chain: [], arms: [], apiArms: [] }];
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
    const macroArms = armsOf(file, macro.node);
    return inner.map((r) => ({ ...r, chain: [link, ...r.chain], arms: [...macroArms, ...r.arms], apiArms: r.apiArms.length > 0 ? r.apiArms : macroArms,
      apiCall: r.chain.length === 0 ? { uri: file.uri, node: macro.node } : r.apiCall }));
  }

  private throughFunction(file: SourceFile, fn: FunctionInfo, args: Binding[], depth: number, visiting: Set<string>, probe: boolean): PinResolution[] {
    const scope: Scope = { file, fn: fn.node, name: fn.name, params: fn.params, bindings: args };
    const out: PinResolution[] = [];
    for (const call of callsIn(file.index, fn)) {
      const innerArgs = call.args.map((node) => ({ node, scope }));
      const link: ChainLink = { name: fn.name, kind: 'function', uri: file.uri, definition: fn.node, inner: call };
      const resolved = this.resolve(call.name, innerArgs, file, depth + 1, visiting, probe, call.node);
      const callArms = resolved.length > 0 ? armsOf(file, call.node) : [];
      for (const r of resolved) {
        out.push({ ...r, chain: [link, ...r.chain], arms: [...callArms, ...r.arms], apiArms: r.apiArms.length > 0 ? r.apiArms : callArms });
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
    let result: boolean;
    this.forwarding++;
    try {
      result = this.forwardsParamsNow(fn, file);
    } finally {
      this.forwarding--;
    }
    this.forwardMemo.set(fn, result);
    return result;
  }

  /** forwardsParams' answer, computed (memo and recursion guard are the caller's). */
  private forwardsParamsNow(fn: FunctionInfo, file: SourceFile): boolean {
    let result = false;
    // Names first: the body's node is read only once one of its calls can reach a pin API (most functions of a file
    // call none, and a carried index finds a function's node again only when asked).
    if (fn.params.some((p) => p !== '')) {
      for (const call of callsIn(file.index, fn)) {
        if (!this.mayPin(call.name)) continue;
        const reached = this.resolve(call.name, [], file, 1, new Set([fn.name]), true);
        if (reached.length === 0) continue;
        if (!fn.body) break;
        const mentionsParam = call.args.some((a) => identifiersIn(a).some((id) => fn.params.includes(id.text)) ||
          (unwrapParens(a).type === 'identifier' && fn.params.includes(unwrapParens(a).text)));
        if (mentionsParam) { result = true; break; }
      }
    }
    return result;
  }
}

export interface SiteOption { r: PinResolution; arms: Arm[]; truth: Truth; feasible: boolean; argc: number }

/** The arm that picks this option's API: the deepest macro, definition or call that sits in one, else the site's own. */
function innermostArms(o: SiteOption): Arm[] {
  return o.r.apiArms.length > 0 ? o.r.apiArms : o.arms;
}

function optionCompiles(o: SiteOption, k: KernelVersionLite): boolean {
  return armsCompile(o.arms, k) !== false && compilesOn(o.r.api, o.argc, k);
}

/** Known to compile before only possibly; then the newer API (what a build that tests for it takes); then as written. */
function byPreference(a: SiteOption, b: SiteOption): number {
  return Number(b.truth === true) - Number(a.truth === true) || compareKernelVersions(introducedIn(b.r.api), introducedIn(a.r.api));
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
