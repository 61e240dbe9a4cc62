// The one entry point for the language server and the CLI: text in, Report out, so the editor and CI never disagree.
import { MAX_TREE_DEPTH, type CSyntax, type Node, type Tree } from './analysis/parser';
import type { Finding, Fix, RelatedLocation, SiteArg, SiteDetails } from './analysis/finding';
import { RULES, RuleCode, Severity, verdictRank } from './analysis/rules';
import { comparePositions, compareText, spanOf } from './analysis/span';
import { descendantsOfType, identifiersIn, unwrapParens } from './analysis/syntaxTools';
import type { ForksafeSettings } from './settings';
import { fingerprintOf } from './analysis/fingerprint';
import { API_NAMES, isInertText, namesThatMatter } from './analysis/inertEdits';
import { planFirstLook } from './analysis/firstLook';
import { forgetIndex, makeSourceFile, SourceFile, Workspace, WorkspaceBase } from './analysis/workspace';
import { StaleIndexEntry } from './analysis/fileIndex';
import type { TreeSource } from './analysis/treeSource';
import { armsCompile, armsOf, BuildDefines } from './analysis/preprocessor';
import { Alternative, PinSiteFinder, PinSite, bindingSource } from './analysis/pinSites';
import { releaseCallsIn, type CallInfo } from './analysis/fileIndex';
import { Binding, Evidence, FlagResolver, FlagValue, orValues, tri, truthTri, Tri } from './analysis/flags';
import { LifetimeAnalyzer, Lifetime, pagesBase, releasesOfField } from './analysis/lifetime/lifetime';
import { declarationOf, rootIdentifier } from './analysis/lifetime/ownership';
import { Protection, ProtectionFinder } from './analysis/protections';
import { PinRange, ProtectionTies } from './analysis/protectionTies';
import { assumptionApplies, readAssumptions, readSuppressions, suppresses, Suppression } from './analysis/annotations';
import { findReleaseApi, refusedFlags, releaseExistsOn, releaseKindAt, KernelVersionLite, PIN_API_EARLIEST_PIN_USER_PAGES, compareKernelVersions } from './analysis/pinApis';
import { NEWEST_MODELLED_KERNEL, formatKernelVersion, isNewerThanModelled, parseKernelVersion } from './simulation/kernelEra';
import { describeOutcome, simulateFinding } from './simulation/outcome';
import type { ScenarioInput } from './simulation/scenario';
import { releaseMismatchMessage, siteMessage, suppressionWithoutReasonMessage, SiteFacts, ProtectionFact } from './explain/messages';
import { addLongtermFix, convertToPinFix, releaseFix, ReleaseCall, suppressionFix, assumeContractFix, vmDontcopyFix } from './explain/fixes';

export interface Report {
  uri: string;
  findings: Finding[];
  /** Messages for the log: why a file was skipped or cut short. */
  notes: string[];
  kernel: { version: KernelVersionLite; source: string };
  /** Every pin site analysed in this file, with or without findings (hover and the simulation view explain them all). */
  sites?: SiteDetails[];
  stats: { bytes: number; parseMs: number; analyzeMs: number; budgetHit: boolean; skipped: boolean; sites: number };
  /** Set when the caller asked for no quick fixes (`AnalyzeInput.fixes === false`): every finding's `fixes` is empty, not "none apply". */
  fixesOmitted?: boolean;
  /** With `AnalyzeInput.watchNames`: the names whose mention in an edited function may change this report (analysis/inertEdits.ts). */
  watchNames?: ReadonlySet<string>;
  /** `watchNames` without the struct fields pinned pages are kept in: those matter to quick fixes (the release path), not to findings. */
  findingNames?: ReadonlySet<string>;
}

export interface AnalyzeInput {
  uri: string;
  text: string;
  /**
   * A tree the caller keeps for this text (editor path: incremental re-parse; a scan's TreeSource, whose index the
   * file's context entry shares); parsed here when absent.
   */
  tree?: Tree | TreeSource;
  /** Set by a caller whose own parse of this text hit the time budget (editor path). */
  parseBudgetHitAfterMs?: number;
  /** Set with parseBudgetHitAfterMs when the caller's parse was refused for nesting too deep, not for time. */
  parseDepthLimitHit?: boolean;
  /**
   * Compute quick fixes (default true). They cost more than the findings (the release path of every site is followed
   * through the driver), and only the JSON/SARIF outputs and the editor's code actions use them: the server publishes
   * diagnostics first and asks for fixes afterwards, the CLI only for the formats that print them.
   */
  fixes?: boolean;
  /** Fill `Report.watchNames` (the editor path, to tell later edits that cannot change the report: analysis/inertEdits.ts). */
  watchNames?: boolean;
}

export interface ContextFile { uri: string; text: string; tree: Tree | TreeSource }

/** What the host (server or CLI) knows beyond the file: the other parsed files of the driver and the tree's kernel version. */
export interface AnalysisContext {
  /**
   * Other files in the driver scope, parsed; trees stay owned by the caller. A TreeSource's tree may be let go between
   * analyses (the scan bounds its memory so): it is parsed again only if the analysis reads its nodes.
   */
  files?: ContextFile[];
  /** From the build (docs/build.md), when the host found it: the version, where it came from, the build's macros. */
  detectedKernel?: { version: KernelVersionLite; source: string; defines?: BuildDefines };
  /**
   * Switches the file tests that nothing in its tree sets (runtime/buildSwitches.ts): taken as undefined, like a
   * build's `-U`, whatever the kernel setting (a build macro the host found for the same name wins).
   */
  unsetSwitches?: readonly string[];
}

function severityFor(code: RuleCode, settings: ForksafeSettings): Severity | undefined {
  const s = settings.severity[code] ?? RULES[code].defaultSeverity;
  return s === 'off' ? undefined : s;
}

export function resolveKernel(settings: ForksafeSettings, context?: AnalysisContext): { version: KernelVersionLite; source: string } {
  const kernel = resolveKernelVersion(settings, context);
  // A kernel newer than the model is accepted (its era's rules are the newest modelled ones) and said where the source is.
  if (isNewerThanModelled(kernel.version)) {
    kernel.source += `; newer than the newest modelled kernel (${formatKernelVersion(NEWEST_MODELLED_KERNEL)}), simulated with its rules`;
  }
  return kernel;
}

function resolveKernelVersion(settings: ForksafeSettings, context?: AnalysisContext): { version: KernelVersionLite; source: string } {
  const unset = context?.unsetSwitches;
  if (settings.kernelVersion !== 'auto') {
    const v = parseKernelVersion(settings.kernelVersion);
    if (v) return { version: withDefines(v, undefined, unset), source: 'from settings' };
  }
  const detected = context?.detectedKernel;
  if (detected) return { version: withDefines(detected.version, detected.defines, unset), source: detected.source };
  return { version: withDefines(NEWEST_MODELLED_KERNEL, undefined, unset), source: 'no kernel build, KDIR or kernel Makefile found; newest modelled kernel assumed' };
}

/**
 * The version every #if is evaluated against, with the build's macros and the tree's unset switches riding on it
 * (preprocessor Target), not enumerable so the findings' facts and JSON carry the version only.
 */
function withDefines(version: KernelVersionLite, defines: BuildDefines | undefined, unset: readonly string[] | undefined): KernelVersionLite {
  let merged = defines;
  if (unset && unset.length > 0) {
    const values = new Map(defines?.values ?? []);
    for (const name of unset) if (!values.has(name)) values.set(name, null);
    merged = { values, configComplete: defines?.configComplete ?? false, summary: defines?.summary ?? '' };
  }
  return merged ? Object.defineProperty({ ...version }, 'defines', { value: merged, enumerable: false }) : version;
}

/**
 * The last context's lookup table. A host that analyses several targets against one list (the CLI, a chunk's targets;
 * a target's own entry in the list is left out by uri) and a host that lists the same files again (the editor, on
 * every keystroke, with the same trees while those files are unchanged) build it once: the same trees in the same
 * order give the same lookups, as the index of a tree is a function of it (workspace.ts).
 */
let lastBase: { files: readonly ContextFile[]; base: WorkspaceBase } | undefined;

function sameFiles(a: readonly ContextFile[], b: readonly ContextFile[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.tree !== b[i]!.tree || a[i]!.uri !== b[i]!.uri || a[i]!.text !== b[i]!.text) return false;
  return true;
}

/**
 * Runs `fn` with the context lookup table set aside and put back after: analyses made for the editor's warm-up
 * (lsp/warmUp.ts) must not push out the table of the driver the user is editing, which the next edit would then
 * build again.
 */
export function asideFromContextCache<T>(fn: () => T): T {
  const kept = lastBase;
  try {
    return fn();
  } finally {
    lastBase = kept;
  }
}

/** The files of the context lookup table kept now (for tests). */
export function cachedContextFiles(): readonly ContextFile[] | undefined {
  return lastBase?.files;
}

function workspaceBaseOf(syntax: CSyntax, files: NonNullable<AnalysisContext['files']>): WorkspaceBase {
  if (!lastBase || !sameFiles(lastBase.files, files)) {
    lastBase = { files: [...files], base: new WorkspaceBase(files.map((f) => makeSourceFile(syntax, f.uri, f.text, f.tree))) };
  }
  return lastBase.base;
}

/** Analyses one file. Never throws on bad input: oversize or pathological files yield FS009 instead. */
export function analyze(syntax: CSyntax, input: AnalyzeInput, settings: ForksafeSettings, context?: AnalysisContext): Report {
  const kernel = resolveKernel(settings, context);
  const report: Report = {
    uri: input.uri, findings: [], notes: [], kernel, sites: [],
    stats: { bytes: input.text.length, parseMs: 0, analyzeMs: 0, budgetHit: false, skipped: false, sites: 0 },
  };
  const limit = settings.maxFileSizeKb * 1024;
  if (input.fixes === false) report.fixesOmitted = true;
  if (input.text.length > limit) {
    reportOversize(report, input.text.length, settings);
    return report;
  }
  let tree: Tree | TreeSource | undefined = input.tree;
  let ownTree: Tree | undefined;
  let budgetHitAfterMs = input.parseBudgetHitAfterMs;
  let depthHit = input.parseDepthLimitHit === true;
  if (!tree && budgetHitAfterMs === undefined) {
    const parsed = syntax.parse(input.text, undefined, settings.timeBudgetMs);
    report.stats.parseMs = parsed.elapsedMs;
    if (parsed.tree) { tree = parsed.tree; ownTree = parsed.tree; } else { budgetHitAfterMs = parsed.elapsedMs; depthHit = parsed.depthLimitHit === true; }
  }
  if (!tree && depthHit) {
    // Counted as cut short (budgetHit), like a time-out: `skipped` means over the size limit.
    report.stats.budgetHit = true;
    report.notes.push(`${input.uri}: not analysed: it nests more than ${MAX_TREE_DEPTH} levels deep`);
    pushIncomplete(report, settings, `forksafe did not analyse this file: its code nests more than ${MAX_TREE_DEPTH} levels deep, far beyond any real driver (generated or corrupted input?), and tree-sitter's queries are unreliable past that. Pins in it are not checked.`);
    return report;
  }
  if (!tree) {
    const ms = Math.round(budgetHitAfterMs ?? 0);
    report.stats.budgetHit = true;
    report.notes.push(`${input.uri}: parsing stopped after ${ms} ms (forksafe.timeBudgetMs = ${settings.timeBudgetMs})`);
    pushIncomplete(report, settings, `forksafe stopped parsing this file after ${ms} ms (time budget ${settings.timeBudgetMs} ms). Pins in it are not checked. Raise forksafe.timeBudgetMs to analyse it.`);
    return report;
  }
  const started = performance.now();
  const notesBefore = report.notes.length;
  try {
    for (let attempt = 0; ; attempt++) {
      let workspace: Workspace | undefined;
      try {
        const file = makeSourceFile(syntax, input.uri, input.text, tree);
        const shared = settings.driverScope === 'file' ? [] : context?.files ?? [];
        workspace = shared.length > 0 ? Workspace.over(syntax, file, workspaceBaseOf(syntax, shared)) : new Workspace(syntax, [file]);
        const deadline = performance.now() + Math.max(0, settings.timeBudgetMs - report.stats.parseMs);
        const analysis = new FileAnalysis(workspace, file, settings, kernel, report, deadline, input.fixes !== false);
        analysis.run();
        if (input.watchNames) defineWatchNames(report, workspace, [...workspace.macroValuesRead, ...analysis.tieNames], [...analysis.storedFields]);
        break;
      } catch (err) {
        // An index carried over an edit that does not match its tree (it never should): index again, analyse again.
        if (!(err instanceof StaleIndexEntry) || attempt > 0) throw err;
        forgetIndex(err.tree);
        lastBase = undefined;
        report.findings = [];
        report.sites = [];
        report.stats.sites = 0;
        report.notes.length = notesBefore;
        report.notes.push(`${input.uri}: ${err.message}; indexed again`);
      } finally {
        workspace?.dispose();
      }
    }
  } finally {
    ownTree?.delete();
  }
  report.stats.analyzeMs = performance.now() - started;
  return report;
}

/**
 * `Report.findingNames` and `watchNames`, computed when first read: they are for the next edit (is it inert?), so the
 * editor reads them after the diagnostics are out rather than on the way to them (lsp/server.ts). They read only the
 * names of the workspace's indexes, never their nodes, so a tree let go or edited since does not matter.
 */
function defineWatchNames(report: Report, workspace: Workspace, extra: string[], storedFields: string[]): void {
  let names: { finding: ReadonlySet<string>; watch: ReadonlySet<string> } | undefined;
  let from: Workspace | undefined = workspace;
  const computed = (): NonNullable<typeof names> => {
    if (!names) {
      const finding = namesThatMatter(from!, extra);
      names = { finding, watch: new Set([...finding, ...storedFields]) };
      from = undefined; // the workspace is not held once the names are known
    }
    return names;
  };
  Object.defineProperty(report, 'findingNames', { get: () => computed().finding, enumerable: true, configurable: true });
  Object.defineProperty(report, 'watchNames', { get: () => computed().watch, enumerable: true, configurable: true });
}

/**
 * The first analysis of a file that has no driver context, parsing only the items that can matter
 * (analysis/firstLook.ts): for the editor's open, where parsing and indexing the whole file is most of the wait for
 * the first diagnostics. Undefined when this text does not allow it or the result cannot be shown equal to
 * `analyze` (the partial parse has errors, or a left-out item names something the analysis watches); the caller
 * then runs `analyze`. Without quick fixes, with watch names.
 */
export function analyzeFirstLook(syntax: CSyntax, input: { uri: string; text: string }, settings: ForksafeSettings, context?: AnalysisContext): Report | undefined {
  if (settings.driverScope !== 'file' && (context?.files?.length ?? 0) > 0) return undefined;
  if (input.text.length > settings.maxFileSizeKb * 1024) return undefined;
  const plan = planFirstLook(input.text, API_NAMES);
  if (!plan) return undefined;
  const parsed = syntax.parseRanges(input.text, plan.included, settings.timeBudgetMs);
  if (!parsed.tree) return undefined;
  try {
    if (parsed.tree.rootNode.hasError) return undefined;
    const report = analyze(syntax, { uri: input.uri, text: input.text, tree: parsed.tree, fixes: false, watchNames: true }, settings, context);
    // Fixes are not computed here (a code action re-analyses the whole tree), so only what findings depend on must be inert.
    const watched = report.findingNames;
    if (!watched || report.stats.budgetHit) return undefined;
    for (const item of plan.excluded) if (!isInertText(input.text.slice(item.start, item.end), watched)) return undefined;
    report.stats.parseMs = parsed.elapsedMs;
    return report;
  } finally {
    parsed.tree.delete();
  }
}

/**
 * What `analyze` reports for a text of `textLength` UTF-16 units over the size limit: nothing of the text is needed, so
 * the CLI reports a file it knows to be over the limit from its bytes without decoding it (cli/groupReader.ts).
 */
export function oversizeReport(uri: string, textLength: number, settings: ForksafeSettings): Report {
  const report: Report = {
    uri, findings: [], notes: [], kernel: resolveKernel(settings), sites: [],
    stats: { bytes: textLength, parseMs: 0, analyzeMs: 0, budgetHit: false, skipped: false, sites: 0 },
  };
  reportOversize(report, textLength, settings);
  return report;
}

function reportOversize(report: Report, textLength: number, settings: ForksafeSettings): void {
  report.stats.skipped = true;
  const kb = Math.round(textLength / 1024);
  report.notes.push(`${report.uri}: not analysed: ${kb} KB is over the ${settings.maxFileSizeKb} KB limit (forksafe.maxFileSizeKb)`);
  pushIncomplete(report, settings, `forksafe did not analyse this file: it is ${kb} KB, over the ${settings.maxFileSizeKb} KB limit. Pins in it are not checked. Raise forksafe.maxFileSizeKb to analyse it.`);
}

function pushIncomplete(report: Report, settings: ForksafeSettings, message: string): void {
  const severity = severityFor('FS009', settings);
  if (!severity) return;
  const zero = { line: 0, character: 0 };
  report.findings.push({ code: 'FS009', severity, uri: report.uri, span: { start: zero, end: zero }, message, related: [], fixes: [], fingerprint: fingerprintOf('FS009', report.uri) });
}

function related(e: Evidence): RelatedLocation {
  return { uri: e.uri, span: spanOf(e.node), message: e.message };
}

/** `file.c:LINE` of a place, as messages print it. */
function where(e: { uri: string; node: Evidence['node'] }): string {
  const file = e.uri.replace(/^.*\//, '');
  return `${file}:${e.node.startPosition.row + 1}`;
}

/** A code that applies to a site, with what only it adds (the protection it names, the outcome with that protection). */
interface Candidate { code: RuleCode; extra: RelatedLocation[]; protectedOutcome?: string }

/** What the analysis concluded about one site, before deciding what is reported at its pin. */
interface Judgement {
  site: PinSite;
  details: SiteDetails;
  lifetime: Lifetime;
  /** Related locations of the site itself: wrappers below the pin, the flag origin and conditions, the lifetime evidence. */
  rel: RelatedLocation[];
  /** Every code that applies, before severity settings and suppressions. */
  candidates: Candidate[];
  message: (c: Candidate) => string;
  /** The quick fixes of a code; `releases` is the release path the conversion changes (default: this site's). */
  /** `shortCallers`: callers sharing this pin that do not keep the pages (FOLL_LONGTERM is not added on their path). */
  fixesFor: (code: RuleCode, line: number, withSuppression: boolean, releases?: () => ReleaseCall[], shortCallers?: string[]) => Fix[];
  /** Every release call of this site's pages (the conversion's release path), computed on demand. */
  releaseCalls: () => ReleaseCall[];
  api: string;
}

function rankOf(c: Candidate, settings: ForksafeSettings): number {
  return verdictRank(c.code, severityFor(c.code, settings));
}

/** The strongest code: the highest severity (as configured), then the rank above. */
function strongest(list: Candidate[], settings: ForksafeSettings): Candidate | undefined {
  return [...list].sort((a, b) => rankOf(a, settings) - rankOf(b, settings))[0];
}

/**
 * The call the lifetime analysis measures paths from, in the body that holds the pages: the API call itself when only
 * functions lead to it; else the call in the deepest driver function that goes on into a macro (`pinned =
 * get_user_pages_compact(...)` whose macro arm expands to the API), or the site's own call when a macro is the first
 * link. The outermost caller's call stood for every macro chain before, so a wrapper function's body was measured from
 * a call in another file and an error-path release read as one on every path (hailo-ai/hailort-drivers,
 * linux/vdma/memory.c:637 on 4.19 and 5.4, docs/field-eval.md).
 */
function lifetimePinCall(site: PinSite): Node {
  const r = site.chosen;
  if (r.apiCall.node.type === 'call_expression' && r.chain.every((c) => c.kind === 'function')) return r.apiCall.node;
  let call = site.call.node;
  for (const link of r.chain) {
    if (link.kind !== 'function' || !link.inner) break;
    call = link.inner.node;
  }
  return call;
}

/** The site whose reportable code is strongest (the first of equals: the callers come in file order). */
function strongestJudgement(set: Judgement[], chosen: Map<Judgement, Candidate | undefined>, settings: ForksafeSettings): Judgement | undefined {
  let best: Judgement | undefined;
  for (const j of set) {
    const c = chosen.get(j);
    if (!c) continue;
    if (!best || rankOf(c, settings) < rankOf(chosen.get(best)!, settings)) best = j;
  }
  return best;
}

/** The analysis of one file: sites, their facts, the simulation, and the findings worded from it. */
class FileAnalysis {
  private readonly flags: FlagResolver;
  private readonly lifetimes: LifetimeAnalyzer;
  private readonly protections: ProtectionFinder;
  private readonly ties: ProtectionTies;
  private readonly suppressions: Suppression[];
  private readonly otherSuppressions = new Map<string, Suppression[]>();
  private textLines: string[] | undefined;
  /** Struct fields pinned pages are kept in: a function mentioning one may release them (inertEdits.ts). */
  readonly storedFields = new Set<string>();
  /** Names the protection ties were followed through (analysis/protectionTies.ts): an edit naming one may change a verdict. */
  get tieNames(): ReadonlySet<string> { return this.ties.namesRead; }

  constructor(private readonly workspace: Workspace, private readonly file: SourceFile, private readonly settings: ForksafeSettings,
    private readonly kernel: { version: KernelVersionLite; source: string }, private readonly report: Report,
    private readonly deadline: number, private readonly withFixes: boolean) {
    this.flags = new FlagResolver(workspace, kernel.version);
    this.lifetimes = new LifetimeAnalyzer(workspace);
    this.protections = new ProtectionFinder(workspace);
    this.ties = new ProtectionTies(workspace);
    this.suppressions = readSuppressions(file.index.comments);
  }

  /** The file's lines, split once for the suppression fixes. */
  private lines(): string[] {
    this.textLines ??= this.file.text.split('\n');
    return this.textLines;
  }

  run(): void {
    const { anchored, foreign } = new PinSiteFinder(this.workspace, this.kernel.version).find(this.file);
    this.report.stats.sites = anchored.length;
    const groups = new Map<CallInfo, PinSite[]>();
    for (const site of anchored) {
      const group = groups.get(site.anchor.call);
      if (group) group.push(site); else groups.set(site.anchor.call, [site]);
    }
    let done = 0;
    for (const group of groups.values()) {
      if (performance.now() > this.deadline) {
        const budget = this.settings.timeBudgetMs;
        this.report.stats.budgetHit = true;
        this.report.notes.push(`${this.file.uri}: analysis stopped after ${done} of ${anchored.length} pin sites (forksafe.timeBudgetMs = ${budget})`);
        pushIncomplete(this.report, this.settings, `forksafe stopped analysing this file after ${done} of ${anchored.length} pin sites (time budget ${budget} ms). The remaining pins are not checked. Raise forksafe.timeBudgetMs to analyse them.`);
        break;
      }
      this.reportAnchor(group);
      done += group.length;
    }
    // Callers here of a pin reported in another file: only their releases here are this file's to check. Their
    // sites stay in the report (with the code the pin gets for this call) so a hover on the call can explain it.
    for (const site of foreign) {
      if (performance.now() > this.deadline) break;
      const j = this.judge(site);
      const code = this.reportable(j)?.code;
      if (code) j.details.codes.push(code);
      this.report.sites?.push(j.details);
      this.checkReleases(j);
    }
    for (const s of this.suppressions) {
      if (s.reason === undefined) this.push('FS008', s.comment.node, suppressionWithoutReasonMessage(s.codes), [], `FS008:${s.comment.text}`);
    }
    this.report.findings.sort((a, b) => comparePositions(a.span.start, b.span.start) || compareText(a.code, b.code));
  }

  private flagValue(site: PinSite): { value: FlagValue | undefined; write: Tri; longterm: Tri; passed?: FlagValue } {
    const r = site.chosen;
    const sig = r.signature;
    const implied = sig.impliedFlags ?? [];
    const impliedValue = (): FlagValue => ({ always: new Set(implied), maybe: new Set(implied), truth: 'true', unknown: [], conditions: [], origins: new Map() });
    if (sig.flagsStyle === 'none' || sig.flagsIndex === undefined) {
      const value = impliedValue();
      return { value, write: tri(value, 'FOLL_WRITE'), longterm: tri(value, 'FOLL_LONGTERM') };
    }
    const arg = r.args[sig.flagsIndex];
    if (!arg) return { value: undefined, write: 'conditional', longterm: implied.includes('FOLL_LONGTERM') ? 'always' : 'never' };
    const raw = this.flags.evaluate(arg.node, arg.scope);
    const value = implied.length > 0 ? orValues([raw, impliedValue()]) : raw;
    if (sig.flagsStyle === 'gup_flags') return { value, write: tri(value, 'FOLL_WRITE'), longterm: tri(value, 'FOLL_LONGTERM'), passed: raw };
    // Old int `write` (and `force`) arguments: any non-zero value asks for write access.
    const write = truthTri(raw);
    if (write !== 'never' && !value.origins.has('FOLL_WRITE')) value.origins.set('FOLL_WRITE', { uri: arg.scope.file.uri, node: arg.scope.anchor ?? arg.node, message: `the write argument (${arg.node.text}) asks for write access` });
    return { value, write, longterm: implied.includes('FOLL_LONGTERM') ? 'always' : 'never' };
  }

  /** The call through which a site reaches each function of its chain: its lifetime follows these calls only (issue 28). */
  private routeOf(site: PinSite): Map<string, { file: SourceFile; item: CallInfo }> {
    const route = new Map<string, { file: SourceFile; item: CallInfo }>();
    let via: { file: SourceFile; item: CallInfo } | undefined = { file: site.file, item: site.call };
    for (const link of site.chosen.chain) {
      if (link.kind !== 'function' || !via) break;
      route.set(link.name, via);
      const file = this.workspace.files.find((f) => f.uri === link.uri);
      via = link.inner && file ? { file, item: link.inner } : undefined;
    }
    return route;
  }

  /** The forksafe-ignore comments of a file (this file's are read once at the start). */
  private suppressionsOf(file: SourceFile): Suppression[] {
    if (file === this.file) return this.suppressions;
    let list = this.otherSuppressions.get(file.uri);
    if (!list) { list = readSuppressions(file.index.comments); this.otherSuppressions.set(file.uri, list); }
    return list;
  }

  /** forksafe-assume comments that apply to this site: at its outermost call (the caller's file) or at the pin it is reported on. */
  private assumptionsFor(site: PinSite): Protection[] {
    const out: Protection[] = [];
    const places = [{ file: site.file, call: site.call }];
    if (site.anchor.call !== site.call) places.push({ file: this.file, call: site.anchor.call });
    for (const { file, call } of places) {
      for (const a of readAssumptions(file.index.comments)) {
        if (assumptionApplies(a, call.node.startPosition.row, call.fn?.node, file.index.comments)) {
          out.push({ kind: a.kind, place: 'assumed', evidence: { uri: file.uri, node: a.comment.node, message: `assumed: ${a.reason}` } });
        }
      }
    }
    return out;
  }

  /**
   * Everything the analysis concludes about one site (one outermost call reaching a pin): flags, lifetime, protections,
   * the simulation, the codes that apply and their fixes. Nothing is reported here: reportAnchor decides what stands
   * at the pin.
   */
  private judge(site: PinSite): Judgement {
    const r = site.chosen;
    const anchor = site.anchor.call;
    // The links below the pin the finding stands on (a macro or header shim the driver's call reaches the API through).
    const below = r.chain.slice(r.chain.findIndex((c) => c.inner === anchor) + 1);
    const { value, write, longterm, passed } = this.flagValue(site);
    // Flags the kernel refuses from this caller (FS011): on every path the call fails and nothing is pinned.
    const refused = passed ? refusedFlags(r.ref, passed.maybe, this.kernel.version) : [];
    const alwaysRefused = refused.filter((x) => passed?.always.has(x.flag));
    const pagesIndex = r.signature.pagesIndex ?? r.signature.frameVectorIndex;
    const pagesArg = pagesIndex !== undefined ? r.args[pagesIndex] : undefined;
    const longtermEvidence = value?.origins.get('FOLL_LONGTERM');
    const lifetime: Lifetime = pagesArg
      ? this.lifetimes.analyze(pagesArg.node, pagesArg.scope, lifetimePinCall(site), longterm, longtermEvidence, this.routeOf(site))
      : { longLived: longterm === 'always', reason: longterm === 'always' ? 'longterm' : 'kept', evidence: [], releases: [], path: [], ownerTypes: [] };
    // Release calls of a stored field elsewhere in the driver (the MR's destroy path) count as this pin's release path.
    if (lifetime.storedField) {
      lifetime.releases.push(...this.fieldReleases(lifetime.storedField, lifetime.ownerTypes));
      this.storedFields.add(lifetime.storedField);
    }

    const fns = [site.call.fn, ...r.chain.filter((c) => c.kind === 'function').map((c) => this.workspace.functionsNamed(c.name)[0]?.item)];
    let found: Protection[] = this.protections.find(site.file, fns);
    if (this.settings.driverScope === 'file') found = found.filter((p) => p.place !== 'driver');
    found.push(...this.assumptionsFor(site));
    // A protection counts only when it is tied to this pin's range, path or owner; the others are evidence, not a downgrade.
    const range: PinRange = {
      start: r.args[r.signature.startIndex],
      mm: r.signature.mmIndex !== undefined ? r.args[r.signature.mmIndex] : undefined,
      path: [...fns.flatMap((f) => (f ? [f.node] : [])), ...lifetime.path],
      ownerTypes: lifetime.ownerTypes,
    };
    const protections: Protection[] = [];
    const untied: Protection[] = [];
    for (const p of found) {
      const why = this.ties.tie(p, range);
      if (why) protections.push(p.place === 'assumed' ? p : { ...p, evidence: { ...p.evidence, message: `${p.evidence.message} (${why})` } });
      else if (p.kind !== 'notifier' || p.evidence.node.type === 'call_expression') untied.push(p);
    }
    const seen = protections.filter((p) => p.place !== 'assumed');
    const unverified = protections.filter((p) => p.place === 'assumed');
    const api = r.api;
    const keptBy = anchor !== site.call && lifetime.longLived ? `${site.call.fn?.name ?? site.call.name}() (${where({ uri: site.file.uri, node: site.call.node })})` : undefined;
    const facts: SiteFacts = {
      api: api.name, via: below.map((c) => c.name), ref: r.ref, write, longterm, longLived: lifetime.longLived,
      lifetimeReason: lifetime.reason, kernel: this.kernel.version, kernelSource: this.kernel.source, pinEquivalent: api.pinEquivalent,
      alternatives: site.alternatives.map(describeAlternative), branch: site.branch?.judged, keptBy,
      buffer: pagesArg ? bindingSource(pagesArg).node.text : undefined,
    };
    const rejectedBy = alwaysRefused[0];
    const scenario = (prot: Protection[]): ScenarioInput => ({
      ...(rejectedBy ? { rejected: `${rejectedBy.flag} refused since ${rejectedBy.from.major}.${rejectedBy.from.minor}` } : {}),
      kernel: this.kernel.version, ref: r.ref, access: write === 'never' ? 'read' : 'write', longterm: longterm === 'always', longLived: lifetime.longLived,
      ...(r.args[r.signature.startIndex] ? { buffer: bindingSource(r.args[r.signature.startIndex]!).node.text } : {}),
      protections: { dontfork: prot.some((p) => p.kind === 'dontfork'), wipeonfork: prot.some((p) => p.kind === 'wipeonfork'), notifier: prot.some((p) => p.kind === 'notifier') },
    });
    const bare = simulateFinding(scenario([]));
    const outcome = describeOutcome(bare.worst);
    // One fact per protection kind, the nearest one (protections come sorted nearest first).
    const protFacts: ProtectionFact[] = (unverified.length > 0 && seen.length === 0 ? unverified : seen)
      .filter((p, i, all) => all.findIndex((q) => q.kind === p.kind) === i).map((p) => ({ kind: p.kind, place: p.place, where: where(p.evidence), at: { uri: p.evidence.uri, line: p.evidence.node.startPosition.row }, reason: p.place === 'assumed' ? p.evidence.message.replace(/^assumed: /, '') : undefined }));

    const rel: RelatedLocation[] = [];
    for (const c of below) rel.push({ uri: c.uri, span: spanOf(c.definition), message: `${c.name} (${c.kind}) reaches ${api.name}()` });
    if (below.length > 0 && r.apiCall.node.type === 'call_expression') rel.push({ uri: r.apiCall.uri, span: spanOf(r.apiCall.node), message: `the ${api.name}() call` });
    const origin = value?.origins.get('FOLL_WRITE');
    if (write !== 'never' && origin) rel.push(related(origin));
    for (const c of value?.conditions ?? []) rel.push(related(c));
    for (const e of lifetime.evidence) rel.push(related(e));

    const flagsIndex = r.signature.flagsIndex;
    const shown = seen.length > 0 ? seen : unverified;
    const details: SiteDetails = {
      uri: site.anchor.uri, call: spanOf(anchor.node), callee: anchor.name, calleeSpan: spanOf(anchor.nameNode),
      api: api.name, apiCall: { uri: r.apiCall.uri, span: spanOf(r.apiCall.node) },
      chain: below.map((c) => ({ name: c.name, kind: c.kind, uri: c.uri, span: spanOf(c.definition) })),
      from: {
        uri: site.file.uri, span: spanOf(site.call.node), callee: site.call.name, calleeSpan: spanOf(site.call.nameNode),
        chain: r.chain.map((c) => ({ name: c.name, kind: c.kind, uri: c.uri, span: spanOf(c.definition) })),
      },
      callers: [],
      start: siteArg(r.args[r.signature.startIndex]), pages: siteArg(pagesArg), flags: flagsIndex !== undefined ? siteArg(r.args[flagsIndex]) : undefined,
      facts, scenario: scenario([]), protectedScenario: shown.length > 0 ? scenario(shown) : undefined, protections: protFacts, outcome,
      releases: lifetime.releases.map((x) => ({ uri: x.uri, span: spanOf(x.node), api: x.api })), codes: [],
    };

    // Fixes are computed here, where the nodes are alive; the pure edit logic is in explain/fixes.ts.
    const liveApiCall = r.apiCall.node.type === 'call_expression' ? { uri: r.apiCall.uri, node: r.apiCall.node } : undefined;
    const wrapper = liveApiCall && r.chain.length > 0 ? r.chain[r.chain.length - 1].name : undefined;
    // The finding stands on the API call itself: the fix edits that line, for every caller the finding lists.
    const callersJudged = liveApiCall?.node.id === anchor.node.id;
    let ownReleases: ReleaseCall[] | undefined;
    const releaseCalls = (): ReleaseCall[] => (ownReleases ??= this.releasePath(lifetime, pagesArg));
    let convert: Fix | undefined;
    const convertFix = (code: RuleCode, releases: () => ReleaseCall[], shortCallers: string[]): Fix => {
      convert ??= convertToPinFix({
        api, signature: r.signature, exactLayout: r.exactLayout, kernel: this.kernel.version, apiCall: liveApiCall,
        macro: [...r.chain].reverse().find((c) => c.kind === 'macro')?.name, wrapper, callersJudged, write, longterm,
        releases: releases(), resolves: true, shortCallers,
      });
      // FS004 goes with FOLL_GET; FS001-FS003 go when the same site simulated as a FOLL_PIN + FOLL_LONGTERM pin no longer diverges.
      const resolves = convert.edits.length > 0 && (code === 'FS004' || !simulateFinding({ ...scenario([]), ref: 'pin', longterm: true }).worst.verdict.diverges);
      const title = resolves || convert.edits.length === 0 ? convert.title
        : `${convert.title} (on ${this.kernel.version.major}.${this.kernel.version.minor} the simulated pin still parts from the parent after fork(): keep a protection too)`;
      return { ...convert, title, resolves, safe: convert.safe && resolves };
    };
    const fixesFor = (code: RuleCode, line: number, withSuppression: boolean, releases: () => ReleaseCall[] = releaseCalls, shortCallers: string[] = []): Fix[] => {
      const out: Fix[] = [];
      if ((code === 'FS001' || code === 'FS002' || code === 'FS003' || code === 'FS004') && r.ref === 'get' && api.kind === 'pages') out.push(convertFix(code, releases, shortCallers));
      if (code === 'FS005') {
        const add = addLongtermFix(liveApiCall, r.signature, callersJudged ? undefined : wrapper, shortCallers);
        if (add) out.push(add);
      }
      // VM_DONTCOPY in the driver's own mmap handler when the pinned range is that mapping: exists on every kernel.
      if (withSuppression && (code === 'FS001' || code === 'FS002')) {
        const mapping = this.ties.driverMapping(range);
        // From 5.6 a protected FOLL_GET pin is FS004 (information: convert anyway); before, nothing is left.
        const leaves: RuleCode[] = r.ref === 'get' && api.kind === 'pages' && compareKernelVersions(this.kernel.version, PIN_API_EARLIEST_PIN_USER_PAGES) >= 0 ? ['FS004'] : [];
        const fix = mapping?.fn.body ? vmDontcopyFix(code, { uri: mapping.file.uri, text: mapping.file.text, fnName: mapping.fn.name, vma: mapping.vma, body: mapping.fn.body }, this.kernel.version, leaves) : undefined;
        if (fix) out.push(fix);
      }
      // A userspace MADV_DONTFORK contract, stated: the one remedy that exists on every kernel (issue 16).
      const assume = withSuppression ? assumeContractFix(code, this.file.uri, this.lines(), line) : undefined;
      if (assume) out.push(assume);
      const suppress = withSuppression ? suppressionFix(code, this.file.uri, this.lines(), line) : undefined;
      if (suppress) out.push(suppress);
      return out;
    };

    const candidates: Candidate[] = [];
    if (refused.length > 0) {
      const origin = (flag: string): RelatedLocation[] => {
        const ev = value?.origins.get(flag);
        return ev ? [{ ...related(ev), message: `${flag} is passed here` }] : [];
      };
      candidates.push({ code: 'FS011', extra: refused.flatMap((x) => origin(x.flag)) });
    }
    if (alwaysRefused.length > 0) {
      // The call fails on every path: there is no pin for fork() to break.
    } else if (lifetime.reason === 'handed-back') {
      // A library or exported helper: its callers elsewhere keep or release the pages; it is judged there (issue 28).
    } else if (!lifetime.longLived) {
      // Released before the syscall returns (FS007), or in the completion of an asynchronous request (FS010).
      if (seen.length === 0 && bare.worst.verdict.diverges) candidates.push({ code: lifetime.reason === 'io-bounded' ? 'FS010' : 'FS007', extra: [] });
    } else if (seen.length === 0 && unverified.length > 0 && bare.worst.verdict.diverges) {
      // Only worth verifying when the pin needs the protection: on a copy-on-fork era a FOLL_PIN pin is safe without it.
      // Simulate with the protection the message names (the nearest), so "With it" describes that one.
      const withProt = simulateFinding(scenario(unverified.slice(0, 1)));
      candidates.push({ code: 'FS003', extra: unverified.map((p) => related(p.evidence)), protectedOutcome: describeOutcome(withProt.worst) });
    } else if (seen.length === 0 && bare.worst.verdict.diverges) {
      // Protections elsewhere in the driver that do not cover these pages: shown, so the reader sees they were weighed.
      const elsewhere = untied.slice(0, 2).map((p) => ({ ...related(p.evidence), message: `${p.evidence.message}; it is not tied to this pin's range, path or owner, so it does not protect these pages` }));
      candidates.push({ code: write === 'never' ? 'FS002' : 'FS001', extra: elsewhere });
    }
    const forkLoud = candidates.some((c) => c.code === 'FS001' || c.code === 'FS002');
    if (alwaysRefused.length === 0 && lifetime.longLived && r.ref === 'get' && !forkLoud && api.kind === 'pages' &&
      compareKernelVersions(this.kernel.version, PIN_API_EARLIEST_PIN_USER_PAGES) >= 0 && protections.length > 0) {
      candidates.push({ code: 'FS004', extra: protections.slice(0, 1).map((p) => related(p.evidence)) });
    }
    if (alwaysRefused.length === 0 && lifetime.longLived && r.ref === 'pin' && api.kind === 'pages' && longterm !== 'always') candidates.push({ code: 'FS005', extra: [] });
    const message = (c: Candidate): string => siteMessage({ code: c.code, facts, outcome, protectedOutcome: c.protectedOutcome, protections: protFacts,
      refused: refused.map((x) => ({ flag: x.flag, why: x.why, since: `${x.from.major}.${x.from.minor}`, source: x.source, always: passed?.always.has(x.flag) ?? false })) });
    return { site, details, lifetime, rel, candidates, message, fixesFor, releaseCalls, api: api.name };
  }

  /** The codes a candidate list may report at this anchor: severity not off, not suppressed at the pin or at this caller's call. */
  private reportable(j: Judgement): Candidate | undefined {
    const anchorLine = j.site.anchor.call.node.startPosition.row;
    const callerLine = j.site.call.node.startPosition.row;
    const callerSuppressions = j.site.call === j.site.anchor.call ? [] : this.suppressionsOf(j.site.file);
    const allowed = j.candidates.filter((c) => severityFor(c.code, this.settings) &&
      !this.suppressions.some((s) => suppresses(s, c.code, anchorLine)) && !callerSuppressions.some((s) => suppresses(s, c.code, callerLine)));
    return strongest(allowed, this.settings);
  }

  /**
   * One verdict per pin: the sites reaching it (one per outermost caller) are judged, and the strongest code stands on
   * the pin call, the other codes and the callers as related information. When callers disagree on lifetime (one
   * releases the pages before returning, another keeps them), the strongest keeping caller decides and comes first among
   * the related locations; the pin still gets one finding (a line never carries two, issue 28).
   */
  private reportAnchor(group: PinSite[]): void {
    const anchor = group[0].anchor.call;
    const judged = group.map((s) => this.judge(s));
    const chosen = new Map(judged.map((j) => [j, this.reportable(j)]));
    // What each caller does with the pages; a caller whose code differs from the finding's is named apart ("FS002 for the call in ...").
    const callerNote = (j: Judgement): RelatedLocation => {
      const keeps = j.lifetime.longLived ? 'keeps the pages' : j.lifetime.reason === 'released' ? 'releases the pages before returning' : j.lifetime.reason === 'handed-back' ? 'hands the pages on to its own callers' : 'does not keep the pages';
      const why = j.lifetime.evidence[0]?.message;
      return { uri: j.site.file.uri, span: spanOf(j.site.call.node), message: `${j.site.call.fn?.name ?? j.site.call.name}() calls ${j.site.call.name}() and ${keeps}${why ? `: ${why}` : ''}` };
    };
    const callers = judged.filter((j) => j.site.call !== anchor);
    for (const j of judged) j.details.callers = callers.map((c) => ({ name: c.site.call.fn?.name ?? c.site.call.name, ...callerNote(c) }));
    // One finding per pin, whatever its callers do (a line never carries two): the strongest caller decides, and is
    // named first; the others follow with what each does with the pages.
    const reported: Judgement[] = [];
    for (const set of [judged]) {
      const winner = strongestJudgement(set, chosen, this.settings);
      const top = winner && chosen.get(winner);
      if (!winner || !top) continue;
      const first = winner.site.call !== anchor ? [callerNote(winner)] : [];
      const others = callers.filter((c) => c !== winner).map(callerNote);
      // The codes that lost to the winner, at this pin: named inside it, not reported beside it.
      const absorbed: RelatedLocation[] = [];
      for (const c of winner.candidates) {
        if (c !== top && c.code !== top.code) absorbed.push({ uri: this.file.uri, span: spanOf(anchor.node), message: `also ${c.code} (${RULES[c.code].title}): ${c.extra.length > 0 ? c.extra.map((e) => e.message).join('; ') : 'see the rule page'}` });
      }
      for (const j of set) {
        const c = chosen.get(j);
        if (j !== winner && c && c.code !== top.code) absorbed.push({ uri: j.site.file.uri, span: spanOf(j.site.call.node), message: `${c.code} for the call in ${j.site.call.fn?.name ?? j.site.call.name}() (${RULES[c.code].title})` });
      }
      const fingerprint = [anchor.fn?.name ?? '', winner.api, anchor.node.text];
      const finding = this.push(top.code, anchor.node, winner.message(top), [...first, ...winner.rel, ...top.extra, ...others, ...absorbed], ...fingerprint);
      if (!finding) continue;
      finding.site = winner.details;
      if (this.withFixes) {
        const line = finding.span.start.line;
        // Converting the pin changes it for every caller: the release path is that of all of them.
        const releases = (): ReleaseCall[] => judged.flatMap((j) => j.releaseCalls());
        // Callers that pin only for the call (or hand the pages on): a fix never makes their pin long-term (issue 16).
        const shortCallers = judged.filter((j) => j.site.call !== anchor && !j.lifetime.longLived && j.lifetime.reason !== 'handed-back')
          .map((j) => `${j.site.call.fn?.name ?? j.site.call.name}() at ${where({ uri: j.site.file.uri, node: j.site.call.node })}`);
        const fixes = winner.fixesFor(top.code, line, true, releases, shortCallers);
        for (const c of winner.candidates) {
          if (c === top) continue;
          for (const f of winner.fixesFor(c.code, line, false, releases, shortCallers)) if (!fixes.some((x) => x.kind === f.kind)) fixes.push(f);
        }
        finding.fixes = fixes;
      }
      winner.details.codes.push(top.code);
      reported.push(winner);
    }
    // The site a hover or the simulation view explains at this pin: the reported ones first.
    for (const j of [...reported, ...judged.filter((x) => !reported.includes(x))]) this.report.sites?.push(j.details);
    for (const j of judged) this.checkReleases(j);
  }

  /** FS006 at each release call in this file of pages the site pinned with the other reference kind. */
  private checkReleases(j: Judgement): void {
    const r = j.site.chosen;
    for (const release of j.lifetime.releases) {
      if (release.uri !== this.file.uri) continue;
      const relApi = findReleaseApi(release.api);
      if (!relApi) continue;
      // A release this kernel does not have (unpin_user_page before 5.6: the driver's own shim of that name, or the
      // other arm of a compat #ifdef) and a release in an arm the judged pin's arm excludes are not this pin's release.
      if (!releaseExistsOn(relApi, this.kernel.version)) continue;
      if (armsCompile(armsOf(this.file, release.node), this.kernel.version, j.site.branch?.assumptions) === false) continue;
      const releases = releaseKindAt(relApi, this.kernel.version);
      if (releases === r.ref) continue;
      const node = release.node;
      if (this.report.findings.some((f) => f.code === 'FS006' && f.span.start.line === node.startPosition.row && f.span.start.character === node.startPosition.column)) continue;
      const finding = this.push('FS006', node, releaseMismatchMessage(release.api, r.api.name, r.ref), [{ uri: j.site.anchor.uri, span: spanOf(j.site.anchor.call.node), message: `pinned here with ${r.api.name}()` }], 'FS006', release.api, node.text);
      if (!finding) continue;
      finding.site = j.details;
      j.details.codes.push('FS006');
      if (!this.withFixes) continue;
      const fix = releaseFix(release, r.ref);
      const suppress = suppressionFix('FS006', this.file.uri, this.lines(), finding.span.start.line);
      finding.fixes = [fix, suppress].filter((f): f is Fix => f !== undefined);
    }
  }

  /**
   * Every release call of the pinned pages the conversion must change: the lifetime's own (pinning function, callers,
   * same-field releases in this file), same-field releases in the driver's other files, and the release calls inside
   * a driver helper the pages are handed to.
   */
  private releasePath(lifetime: Lifetime, pagesArg: Binding | undefined): Array<ReleaseCall & { viaHelper?: boolean }> {
    const out: Array<ReleaseCall & { viaHelper?: boolean }> = lifetime.releases.map((x) => ({ ...x }));
    const has = (uri: string, node: SourceFile['tree']['rootNode']): boolean => out.some((x) => x.uri === uri && x.node.startIndex === node.startIndex);
    const field = lifetime.storedField;
    const source = pagesArg ? bindingSource(pagesArg) : undefined;
    const localBase = source && !source.scope.anchor ? pagesBase(source.node) : undefined;
    const localName = localBase?.type === 'identifier' ? localBase.text : undefined;
    const localFn = source?.scope.fn;
    // A page the pin wrote into a local and the function then copies into an object (`ptes[i].page = page;`): that
    // field is where the driver later releases it (gasket's gasket_release_page(ptes[i].page)).
    const copies: Array<{ field: string; types: string[] }> = [];
    if (localName && localFn) {
      for (const n of descendantsOfType(localFn, ['assignment_expression'])) {
        if (n.childForFieldName('operator')?.type !== '=') continue;
        const right = n.childForFieldName('right');
        const left = n.childForFieldName('left');
        if (!right || !left || unwrapParens(right).type !== 'identifier' || unwrapParens(right).text !== localName || left.type !== 'field_expression') continue;
        const name = left.childForFieldName('field')?.text;
        const root = rootIdentifier(left);
        const type = root ? declarationOf(localFn, root)?.structType : undefined;
        if (name) copies.push({ field: name, types: type ? [type] : [] });
      }
    }
    const isOurs = (arg: SourceFile['tree']['rootNode'], inFn: SourceFile['tree']['rootNode'] | undefined): boolean => {
      const base = pagesBase(arg);
      if (field && base.type === 'field_expression' && base.childForFieldName('field')?.text === field) return sameOwner(base, inFn, lifetime.ownerTypes);
      if (base.type === 'field_expression') {
        const name = base.childForFieldName('field')?.text;
        if (copies.some((c) => c.field === name && c.types.length > 0 && sameOwner(base, inFn, c.types))) return true;
      }
      return !!localName && !!localFn && base.type === 'identifier' && base.text === localName && inFn?.id === localFn.id;
    };
    for (const file of this.workspace.files) {
      for (const c of file.index.calls) {
        // The name decides first (a map lookup); following every argument of every call is what cost the time.
        if ((!findReleaseApi(c.name) && this.workspace.functionsNamed(c.name).length === 0) || c.args.length === 0) continue;
        if (!c.args.some((a) => isOurs(a, c.fn?.node))) continue;
        if (findReleaseApi(c.name)) {
          if (!has(file.uri, c.node) && isOurs(c.args[0], c.fn?.node)) out.push({ uri: file.uri, node: c.node, api: c.name });
          continue;
        }
        for (const helper of this.workspace.functionsNamed(c.name)) {
          if (!helper.item.body) continue;
          for (const inner of helper.file.index.calls) {
            if (inner.fn !== helper.item || !findReleaseApi(inner.name) || inner.args.length === 0) continue;
            const base = pagesBase(inner.args[0]);
            if (base.type === 'identifier' && helper.item.params.includes(base.text) && !has(helper.file.uri, inner.node)) {
              out.push({ uri: helper.file.uri, node: inner.node, api: inner.name, viaHelper: true });
            }
          }
        }
      }
    }
    // Pages built into a scatterlist table the object keeps (`sg_alloc_table_from_pages(&mr->sgt, mr->pages, ...)`) are
    // released by walking that table: `put_page(sg_page(sg))` in a function that walks `->sgt` (issue 16's MR case).
    const tables = new Set<string>();
    for (const file of this.workspace.files) {
      for (const c of file.index.calls) {
        if (!SG_TABLE_BUILDERS.has(c.name) || c.args.length < 2 || !isOurs(c.args[1], c.fn?.node)) continue;
        const t = unwrapParens(c.args[0]);
        const target = t.type === 'pointer_expression' ? t.childForFieldName('argument') : t;
        const name = target?.type === 'field_expression' ? target.childForFieldName('field')?.text : undefined;
        if (name) tables.add(name);
      }
    }
    if (tables.size > 0) {
      const walksTable = (a: SourceFile['tree']['rootNode']): boolean => [...tables].some((t) => new RegExp(`(?:->|\\.)\\s*${t}\\b`).test(a.text));
      for (const file of this.workspace.files) {
        for (const c of releaseCallsIn(file.index)) {
          if (!c.fn || c.args.length === 0 || !SG_PAGE_OF.test(c.args[0].text) || has(file.uri, c.node)) continue;
          if (file.index.calls.some((w) => w.fn === c.fn && SG_WALKERS.test(w.name) && w.args.some(walksTable))) out.push({ uri: file.uri, node: c.node, api: c.name });
        }
      }
    }
    return out;
  }

  /** Release calls on `x->field` (or `x->field[i]`) in this file: the release path of pages stored in that field. */
  private fieldReleases(field: string, ownerTypes: readonly string[]): Lifetime['releases'] {
    const out: Lifetime['releases'] = [];
    for (const c of releasesOfField(this.file.index, this.file.text, field)) {
      if (sameOwner(pagesBase(c.args[0]), c.fn?.node, ownerTypes)) out.push({ uri: this.file.uri, node: c.node, api: c.name });
    }
    return out;
  }

  private push(code: RuleCode, node: SourceFile['tree']['rootNode'], message: string, rel: RelatedLocation[], ...fingerprint: string[]): Finding | undefined {
    const severity = severityFor(code, this.settings);
    if (!severity) return undefined;
    const span = spanOf(node);
    if (this.suppressions.some((s) => suppresses(s, code, span.start.line))) return undefined;
    const finding: Finding = { code, severity, uri: this.file.uri, span, message, related: dedupe(rel), fixes: [], fingerprint: fingerprintOf(code, ...fingerprint) };
    this.report.findings.push(finding);
    return finding;
  }
}

/** Scatterlist tables built from a pages array, and the walks over a table whose entries' pages a release takes back. */
const SG_TABLE_BUILDERS = new Set(['sg_alloc_table_from_pages', '__sg_alloc_table_from_pages', 'sg_alloc_append_table_from_pages', 'sg_alloc_table_from_pages_segment']);
const SG_WALKERS = /^(?:for_each_sg|for_each_sgtable_sg|for_each_sg_page|for_each_sgtable_page|__sg_page_iter_start|sg_miter_start)$/;
const SG_PAGE_OF = /\bsg_page(?:_iter_page)?\s*\(/;

/**
 * A released `obj->field` belongs to the pinned object's struct type, or either type is unknown: another struct's field
 * of the same name (`req->pages` beside `mr->pages` in one driver folder) is another object's pages.
 */
function sameOwner(fieldExpr: SourceFile['tree']['rootNode'], fn: SourceFile['tree']['rootNode'] | undefined, ownerTypes: readonly string[]): boolean {
  if (ownerTypes.length === 0 || !fn) return true;
  const root = rootIdentifier(fieldExpr);
  const type = root ? declarationOf(fn, root)?.structType : undefined;
  return !type || ownerTypes.includes(type);
}

/** An argument as written at the outermost call; its span only when that text is in a real file (not a macro body). */
function siteArg(binding: Binding | undefined): SiteArg | undefined {
  if (!binding) return undefined;
  const source = bindingSource(binding);
  const text = expandedText(source).replace(/\s+/g, ' ');
  return source.scope.anchor || text !== source.node.text.replace(/\s+/g, ' ') ? { text } : { text, uri: source.scope.file.uri, span: spanOf(source.node) };
}

/** An expression inside a wrapper with its parameters replaced by what this call passes: `gup_flags | FOLL_LONGTERM` reads `FOLL_WRITE | FOLL_LONGTERM`. */
function expandedText(b: Binding, depth = 0): string {
  const node = b.node;
  if (!b.scope.bindings || depth > 6) return node.text;
  const swaps: Array<{ start: number; end: number; text: string }> = [];
  for (const id of identifiersIn(node)) {
    const i = b.scope.params.indexOf(id.text);
    const bound = i >= 0 ? b.scope.bindings[i] : undefined;
    if (!bound) continue;
    const inner = expandedText(bound, depth + 1);
    const simple = /^[\w>.-]+$/.test(inner) || unwrapParens(bound.node).type !== 'binary_expression' && unwrapParens(bound.node).type !== 'conditional_expression';
    swaps.push({ start: id.startIndex - node.startIndex, end: id.endIndex - node.startIndex, text: simple || node.id === id.id ? inner : `(${inner})` });
  }
  let text = node.text;
  for (const sw of swaps.sort((x, y) => y.start - x.start)) text = text.slice(0, sw.start) + sw.text + text.slice(sw.end);
  return text;
}

function dedupe(list: RelatedLocation[]): RelatedLocation[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const key = `${r.uri}:${r.span.start.line}:${r.span.start.character}:${r.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "get_user_pages_fast() in the #else of `#ifdef HAVE_X`, on kernels before 5.6": another arm, and where it is what compiles. */
function describeAlternative(a: Alternative): string {
  const where = a.arm ? ` ${a.arm}` : ' (another definition)';
  const kernels = a.kernels === 'no kernel' ? 'where a build does not take the judged arm' : `on ${a.kernels === 'every kernel' ? 'every kernel' : `kernels ${a.kernels}`}`;
  return `${a.resolution.api.name}()${where}, ${kernels}`;
}
