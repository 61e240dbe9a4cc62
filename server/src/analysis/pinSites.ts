// Finds pin sites: direct calls of pinning APIs and calls of the macros and wrapper functions that reach one, across the driver.
import type { Node } from './parser';
import { findPinApi, nearestSignature, refKindOf, signatureFor, PinApi, PinApiSignature, RefKind, KernelVersionLite } from './pinApis';
import type { CallInfo, FunctionInfo, MacroInfo } from './fileIndex';
import { Binding, Scope, scopeOfCall } from './flags';
import { VersionRange, inVersionRange, intersectVersionRanges } from './preprocessor';
import { unwrapParens, namedChildren, identifiersIn } from './syntaxTools';
import { isNullPages } from './lifetime';
import type { SourceFile, Workspace } from './workspace';

export interface ChainLink { name: string; kind: 'macro' | 'function'; uri: string; definition: Node }

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
  call: CallInfo;
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
  private readonly wrapperMemo = new Map<FunctionInfo, boolean>();

  constructor(private readonly workspace: Workspace, private readonly kernel: KernelVersionLite) {}

  /** Every pin site in `file`, in source order. */
  find(file: SourceFile): PinSite[] {
    const sites: PinSite[] = [];
    for (const call of file.index.calls) {
      // A call inside a wrapper is reported at the wrapper's callers, where the flags and pages are chosen.
      if (call.fn && this.isWrapper(call.fn, file) && this.resolve(call.name, [], file, 0, new Set(), true).length > 0) continue;
      const scope = scopeOfCall(file, call.fn);
      const args = call.args.map((node) => ({ node, scope }));
      const resolutions = this.resolve(call.name, args, file, 0, new Set(), false, call.node)
        .filter((r) => !this.hasNullPages(r));
      if (resolutions.length === 0) continue;
      const applicable = resolutions.filter((r) => inVersionRange(this.kernel, r.versions));
      const chosen = (applicable.length > 0 ? applicable : resolutions)[0];
      sites.push({ file, call, chosen, alternatives: resolutions.filter((r) => r !== chosen && r.api.name !== chosen.api.name) });
    }
    return sites;
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
      return [{ api, signature: fit.signature, exactLayout: probe || fit.exact, ref: refKindOf(api, fit.signature), args,
        apiCall: { uri: file.uri, node: callNode ?? file.tree.rootNode }, chain: [], versions: undefined }];
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
    const link: ChainLink = { name: fn.name, kind: 'function', uri: file.uri, definition: fn.node };
    const scope: Scope = { file, fn: fn.node, name: fn.name, params: fn.params, bindings: args };
    const out: PinResolution[] = [];
    for (const call of file.index.calls) {
      if (call.fn !== fn) continue;
      const innerArgs = call.args.map((node) => ({ node, scope }));
      for (const r of this.resolve(call.name, innerArgs, file, depth + 1, visiting, probe, call.node)) {
        out.push({ ...r, chain: [link, ...r.chain] });
      }
    }
    return out;
  }

  /**
   * A wrapper is a function that pins with flags or pages taken from its own parameters and is called in the
   * driver: its callers choose the flags and own the pages, so the pin site is each call of it.
   */
  isWrapper(fn: FunctionInfo, file: SourceFile): boolean {
    const memo = this.wrapperMemo.get(fn);
    if (memo !== undefined) return memo;
    this.wrapperMemo.set(fn, false); // recursion guard
    let result = false;
    if (fn.body && fn.params.some((p) => p !== '') && this.workspace.callsTo(fn.name).some((c) => c.item.fn !== fn)) {
      for (const call of file.index.calls) {
        if (call.fn !== fn) continue;
        const reached = this.resolve(call.name, [], file, 1, new Set([fn.name]), true);
        if (reached.length === 0) continue;
        const mentionsParam = call.args.some((a) => identifiersIn(a).some((id) => fn.params.includes(id.text)) ||
          (unwrapParens(a).type === 'identifier' && fn.params.includes(unwrapParens(a).text)));
        if (mentionsParam) { result = true; break; }
      }
    }
    this.wrapperMemo.set(fn, result);
    return result;
  }
}

/** When probing without arguments, use the layout in force for the version (else the newest). */
function apiArity(api: PinApi, kernel: KernelVersionLite): number {
  return (signatureFor(api, kernel) ?? api.signatures[api.signatures.length - 1])?.params.length ?? 0;
}
