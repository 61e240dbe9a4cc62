// The forksafe language server: keeps one tree per open C document, publishes the engine's findings as diagnostics, and serves hover, code actions, simulations and the workspace scan from them.
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  CodeActionKind, createConnection, DidChangeConfigurationNotification, ProposedFeatures, ResponseError, TextDocuments, TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, analyzeFirstLook, Report } from '../engine';
import { reuseAfterChange } from './editAnalysis';
import { saveCompileCache } from '../launch/compileCache';
import { editsAroundPin, warmUpDocument, warmUpEditPath } from './warmUp';
import type { CSyntax, Tree } from '../analysis/parser';
import type { ForksafeSettings } from '../settings';
import { findAssetRoot } from '../runtime/assets';
import { loadSyntax } from '../runtime/loadSyntax';
import { DriverContextLoader } from '../runtime/driverContext';
import type { AnalysisContext } from '../engine';
import { DocumentTrees } from './documentTrees';
import { toDiagnostic } from './convert';
import { SettingsCache } from './settings';
import { readSource } from '../runtime/sourceFiles';
import { AnalysisStore, StoredAnalysis } from './analysisStore';
import { handleHover } from './handlers/hover';
import { handleCodeActions } from './handlers/codeActions';
import { simulationResponse, siteForRequest } from './handlers/simulation';
import { collectWorkspaceFiles, scanWorkspace } from './handlers/workspaceScan';
import { collectScanTargets } from '../runtime/scanTargets';
import {
  FIX_ALL_KIND, SCAN_WORKSPACE_COMMAND, SHOW_SIMULATION_COMMAND, ShowSimulationArgs, SimulationRequest, StatusNotification,
} from './protocol';

const connection = createConnection(ProposedFeatures.all);
const log = (msg: string): void => connection.console.log(`[forksafe] ${msg}`);
const settings = new SettingsCache(connection, log);
let syntax: CSyntax | undefined;
let trees: DocumentTrees | undefined;
let driverContext: DriverContextLoader | undefined;
/**
 * How long the driver context trusts a file's stat and a folder's listing between edits (DriverContextLoader): a
 * watched-file event evicts at once; without one, a change on disk is seen at most this much later.
 */
const CONTEXT_FRESH_MS = 1000;
let workspaceRoots: string[] = [];
let docsRoot = '';
const store = new AnalysisStore();
const clientSupports = { disabledActions: false, documentChanges: false, workDoneProgress: false, snippetEdits: false, commandLinks: false };
let scanning = false;
/** A workspace scan has run: closed files keep their findings in Problems (from the file on disk). */
let workspaceScanned = false;

const documents = new TextDocuments<TextDocument>({
  create: (uri, languageId, version, content) => TextDocument.create(uri, languageId, version, content),
  update: (document, changes, version) => trees ? trees.update(document, changes, version) : TextDocument.update(document, changes, version),
});

// The server must outlive anything a user can type: log, never exit, on an unexpected error.
process.on('uncaughtException', (err) => log(`internal error (server keeps running): ${err?.stack ?? String(err)}`));
process.on('unhandledRejection', (err) => log(`internal error (server keeps running): ${(err as Error)?.stack ?? String(err)}`));

connection.onInitialize(async (params) => {
  syntax = await loadSyntax();
  trees = new DocumentTrees(syntax);
  driverContext = new DriverContextLoader(syntax, CONTEXT_FRESH_MS);
  workspaceRoots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => p !== undefined);
  docsRoot = path.join(findAssetRoot(), 'docs', 'rules');
  settings.configure(!!params.capabilities.workspace?.configuration, params.initializationOptions);
  clientSupports.disabledActions = !!params.capabilities.textDocument?.codeAction?.disabledSupport;
  clientSupports.documentChanges = !!params.capabilities.workspace?.workspaceEdit?.documentChanges;
  clientSupports.snippetEdits = !!(params.capabilities.workspace?.workspaceEdit as { snippetEditSupport?: boolean } | undefined)?.snippetEditSupport;
  clientSupports.workDoneProgress = !!params.capabilities.window?.workDoneProgress;
  // No LSP capability says a client runs command: links in markdown; forksafe's VS Code extension says so itself.
  clientSupports.commandLinks = !!(params.capabilities.experimental as { forksafe?: { commandLinks?: boolean } } | undefined)?.forksafe?.commandLinks;
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      // forksafe.showSimulation is the client's (a webview); listing it here would make vscode-languageclient register it twice.
      executeCommandProvider: { commands: [SCAN_WORKSPACE_COMMAND] },
    },
    serverInfo: { name: 'forksafe', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  void connection.client.register(DidChangeConfigurationNotification.type, undefined).catch(() => undefined);
  if (workspaceRoots.length > 0) void indexWorkspace().catch((err) => log(`workspace index failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`));
});

/**
 * The workspace index, built once in the background with work-done progress (cancellable): every C file the
 * include/exclude globs select is read once, and those that can matter to another file's analysis (a pin API, a
 * gup flag, a protection) are kept parsed with their definitions (DriverContextLoader.preload), so opening a file
 * finds its driver's context ready. Changed files are evicted (onDidChangeWatchedFiles) and read again when needed.
 * Requests and edits come first: the loop yields before every file and waits while an analysis is scheduled.
 */
async function indexWorkspace(): Promise<void> {
  const loader = driverContext;
  if (!loader) return;
  const started = performance.now();
  const progress = clientSupports.workDoneProgress ? await connection.window.createWorkDoneProgress() : silentProgress;
  progress.begin('forksafe: indexing the workspace', 0, 'listing files', true);
  let parsed = 0;
  let done = 0;
  try {
    const files: Array<{ file: string; config: ForksafeSettings }> = [];
    for (const root of workspaceRoots) {
      const config = await settings.get(pathToFileURL(root).toString());
      for (const file of collectWorkspaceFiles(root, config).files) files.push({ file, config });
    }
    let lastPercent = -1;
    for (const { file, config } of files) {
      await new Promise((resolve) => setImmediate(resolve));
      while (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 1));
      if (progress.token.isCancellationRequested) break;
      const percent = Math.floor((done * 100) / Math.max(1, files.length));
      if (percent !== lastPercent) {
        progress.report(percent, `${done + 1}/${files.length} ${path.basename(file)}`);
        lastPercent = percent;
      }
      if (loader.preload(file, { maxFileBytes: config.maxFileSizeKb * 1024, budgetMs: config.timeBudgetMs, scope: config.driverScope, workspaceRoots })) parsed++;
      done++;
    }
    const cancelled = done < files.length ? ' (cancelled)' : '';
    log(`workspace index: ${done} of ${files.length} files read, ${parsed} kept parsed, in ${Math.round(performance.now() - started)} ms${cancelled}`);
  } finally {
    progress.done();
  }
}

connection.onDidChangeConfiguration(() => {
  settings.clear();
  store.markContextChanged();
  for (const doc of documents.all()) schedule(doc.uri);
});

const pending = new Set<string>();

/** Coalesces bursts of edits: only the newest version of a document is analysed. */
function schedule(uri: string): void {
  if (pending.has(uri)) return;
  pending.add(uri);
  setImmediate(() => {
    pending.delete(uri);
    void validate(uri);
  });
}

function docsUri(code: string): string {
  return pathToFileURL(path.join(docsRoot, `${code}.md`)).toString();
}

function docsLinkFor(config: ForksafeSettings): (code: string) => string {
  const base = config.docsBaseUrl.replace(/\/+$/, '');
  return (code: string): string => (base ? `${base}/${code}.md` : docsUri(code));
}

function sendStatus(report: Report | undefined, uri?: string): void {
  const kernel = report?.kernel;
  void connection.sendNotification(StatusNotification, {
    uri, kernel: kernel ? `${kernel.version.major}.${kernel.version.minor}` : '', kernelSource: kernel?.source ?? '',
    fileFindings: report?.findings.length ?? 0, totalFindings: store.totalFindings(), scanning,
  });
}

async function validate(uri: string): Promise<void> {
  const document = documents.get(uri);
  if (!document || !syntax || !trees) return;
  const config = await settings.get(uri);
  const current = documents.get(uri);
  if (current !== document) return; // a newer version arrived while settings were pulled; it has its own run
  try {
    const text = document.getText();
    const oversize = text.length > config.maxFileSizeKb * 1024;
    const first = oversize || trees.has(uri) ? undefined : firstAnalysis(document, config);
    const parsed = oversize || first ? undefined : trees.treeFor(document, config.timeBudgetMs);
    const reused = parsed?.tree ? reusedAnalysis(document, parsed.tree, config) : undefined;
    const a = first ?? reused ?? analyzeOpen(document, config, parsed, false);
    if (!reused) for (const note of a.report.notes) log(note);
    store.set(a);
    await publish(a);
    sendStatus(a.report, uri);
    if (first) setImmediate(() => confirmFirstLook(document, config, a));
    // The names the next edit is checked against (engine.ts defineWatchNames), worked out once the diagnostics are out.
    else if (!reused) setImmediate(() => void a.report.watchNames);
    if (!first) {
      warmUpOnce(config);
      if (!reused) warmUpFolderOnce(document, config, a.report);
    }
  } catch (err) {
    log(`analysis of ${uri} failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`);
    store.delete(uri);
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: [] });
  }
}

/** The edit path's warm-up (warmUp.ts) has started: once per server, after its first full analysis. */
let warmUpStarted = false;
/** The warm-ups run one after another: the demo driver's, then each driver folder's own (warmUpFolderOnce). */
let warmUps: Promise<void> = Promise.resolve();
/** Folders whose edit path was warmed on the user's document (once per folder and server). */
const warmedFolders = new Set<string>();

/**
 * Starts the warm-up once, after the first full analysis: it runs while the server is idle and pauses before each of
 * its edits while a real analysis or the workspace scan is waiting. FORKSAFE_NO_WARM_UP=1 leaves it out (benchmarks
 * compare with and without it).
 */
function warmUpOnce(config: ForksafeSettings): void {
  if (warmUpStarted || !syntax) return;
  warmUpStarted = true;
  // The code compiled by then (the open, the analysis, the edit path) is what the next server start runs first.
  if (process.env.FORKSAFE_NO_WARM_UP === '1') { saveCompileCache(); return; }
  const s = syntax;
  warmUps = warmUps.then(() => warmUpEditPath(s, config, { busy: () => pending.size > 0 || scanning })
    .then((r) => log(r.skipped ? `edit path not warmed up: ${r.skipped}`
      : `edit path warmed up: ${r.edits} edits of forksafe's own demo driver in ${Math.round(r.ms)} ms (longest step ${Math.round(r.longestStepMs)} ms)`))
    .catch((err) => log(`warm-up failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`))
    .finally(() => saveCompileCache()));
}

/**
 * After the first full analysis of a document with a pin site, once per folder: its edit path warmed on a private copy
 * of the document itself, in its driver's context (warmUp.ts warmUpDocument), after the demo driver's warm-up. The demo
 * warms the code; the first edits of the user's own document, in a 190-file folder or alone, were still slower than its
 * later ones (docs/performance.md, "Issue 14, tenth step").
 */
function warmUpFolderOnce(document: TextDocument, config: ForksafeSettings, report: Report): void {
  const file = uriToPath(document.uri);
  const site = report.sites?.find((x) => x.uri === document.uri);
  if (!file || !site || !syntax || !trees || !driverContext || process.env.FORKSAFE_NO_WARM_UP === '1') return;
  const folder = path.dirname(path.resolve(file));
  if (warmedFolders.has(folder)) return;
  warmedFolders.add(folder);
  const tree = trees.treeFor(document, config.timeBudgetMs).tree;
  if (!tree) return;
  // Worked out now, while the tree it reads is the document's current one (the server does so after publishing too).
  void report.watchNames;
  const edits = editsAroundPin(document.getText(), tree, site.call);
  if (edits.length === 0) return;
  const s = syntax;
  // A copy of the document's tree (made now: the user's next edit re-parses and frees the tree itself) and its report
  // as the warm-up's start: its first step is the first edit, not a parse and analysis of the whole file.
  const input = { uri: document.uri, text: document.getText(), edits, start: { tree: tree.copy(), report } };
  warmUps = warmUps.then(() => warmUpDocument(s, config, input, {
    busy: () => pending.size > 0 || scanning,
    contextOf: (copy) => contextFor(input.uri, config, copy)?.context,
  })
    .then((r) => log(r.skipped ? `edit path not warmed up on ${input.uri}: ${r.skipped}`
      : `edit path warmed up on ${input.uri}: ${r.edits} edits of a private copy in ${Math.round(r.ms)} ms (longest step ${Math.round(r.longestStepMs)} ms, ${r.contextFiles} context files)`))
    .catch((err) => log(`warm-up of ${input.uri} failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`)));
}

/** Publishes an open document's stored analysis as its diagnostics, for the version it was made for. */
function publish(a: StoredAnalysis): Promise<void> {
  return connection.sendDiagnostics({ uri: a.uri, version: a.version, diagnostics: a.report.findings.map((f) => toDiagnostic(f, a.docsLink, a.version)) });
}

/** Whether two reports give the same diagnostics (fixes aside). */
function sameDiagnostics(a: Report, b: Report): boolean {
  const key = (r: Report): string => JSON.stringify(r.findings.map((f) => [f.code, f.severity, f.span, f.message, f.related, f.fingerprint]));
  return key(a) === key(b);
}

/**
 * Analyses an open document at its current version. Diagnostics go out without quick fixes (they cost more than the
 * findings); a code action request computes them for the version it asks about (`withFixes`).
 */
function analyzeOpen(document: TextDocument, config: ForksafeSettings, parsed: ReturnType<DocumentTrees['treeFor']> | undefined, withFixes: boolean): StoredAnalysis {
  const uri = document.uri;
  const context = contextFor(uri, config);
  const report = analyze(syntax!, {
    uri, text: document.getText(), tree: parsed?.tree,
    parseBudgetHitAfterMs: parsed && !parsed.tree ? parsed.parseMs : undefined,
    parseDepthLimitHit: parsed?.depthLimitHit,
    fixes: withFixes, watchNames: true,
  }, config, context?.context);
  return { uri, version: document.version, report, settings: config, contextVersions: context?.versions ?? new Map(), docsLink: docsLinkFor(config) };
}

/**
 * The first analysis of a just-opened document without driver context, parsing only the items that can matter
 * (engine.ts `analyzeFirstLook`); `validate` parses the whole tree, which later edits re-parse incrementally, once
 * the diagnostics are out. Undefined when the shortcut does not apply.
 */
function firstAnalysis(document: TextDocument, config: ForksafeSettings): StoredAnalysis | undefined {
  const context = contextFor(document.uri, config);
  const report = analyzeFirstLook(syntax!, { uri: document.uri, text: document.getText() }, config, context?.context);
  if (!report) return undefined;
  return { uri: document.uri, version: document.version, report, settings: config, contextVersions: context?.versions ?? new Map(), docsLink: docsLinkFor(config) };
}

/**
 * After a first look's diagnostics are out: parse the whole text (so the next edit re-parses incrementally) and
 * analyse it in full. The first look is built to equal this (test/unit/firstLook.test.ts); should a broken file's
 * error recovery still part them, the full analysis is what stays, republished, and the log says so.
 */
function confirmFirstLook(document: TextDocument, config: ForksafeSettings, quick: StoredAnalysis): void {
  const uri = document.uri;
  if (documents.get(uri)?.version !== document.version || store.get(uri) !== quick || trees?.has(uri)) return;
  try {
    const full = analyzeOpen(document, config, trees?.treeFor(document, config.timeBudgetMs), false);
    store.set(full);
    setImmediate(() => void full.report.watchNames);
    warmUpOnce(config);
    warmUpFolderOnce(document, config, full.report);
    if (!sameDiagnostics(full.report, quick.report)) {
      log(`${uri}: the first look differed from the full analysis; diagnostics republished from the full analysis`);
      void publish(full);
      sendStatus(full.report, uri);
    }
  } catch (err) {
    log(`full analysis after the first look of ${uri} failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`);
  }
}

/**
 * The previous analysis moved by the edit, when the edit cannot change it (incremental.ts): nothing the analysis read
 * elsewhere changed since (other documents, files on disk, settings), and the edit stayed inside a function that
 * names no pin, wrapper, release, protection or annotation. Most keystrokes in a large file are such edits.
 */
function reusedAnalysis(document: TextDocument, tree: Tree, config: ForksafeSettings): StoredAnalysis | undefined {
  const prev = store.get(document.uri);
  const change = trees?.changeTo(document.uri, document.version);
  if (!prev || !change || prev.version !== change.fromVersion || prev.settings !== config || prev.contextStale) return undefined;
  let result: ReturnType<typeof reuseAfterChange>;
  try {
    result = reuseAfterChange(prev.report, change, document.getText(), tree);
  } catch (err) {
    // The fast path must never cost a diagnostic: a failure here means a full analysis, and a line in the log.
    log(`reusing the previous report of ${document.uri} failed, analysing again: ${(err as Error)?.stack ?? String(err)}`);
    return undefined;
  }
  if (!('report' in result)) return undefined;
  return { ...prev, version: document.version, report: result.report };
}

// Fires on open and on every change. Another document's text is context of this one (its driver's files): analyses
// made before it changed cannot be reused after an edit.
documents.onDidChangeContent((e) => {
  store.markContextChanged(e.document.uri);
  schedule(e.document.uri);
});
function uriToPath(uri: string): string | undefined {
  try { return uri.startsWith('file:') ? fileURLToPath(uri) : undefined; } catch { return undefined; }
}

/**
 * The driver's other files (open documents win over disk) and the kernel version from the tree's Makefile, with the
 * versions of the open documents read (a fix that edits one of them is only valid at that version).
 */
function contextFor(uri: string, config: ForksafeSettings, copy?: { uri: string; text: string; tree: Tree }): { context: AnalysisContext; versions: Map<string, number> } | undefined {
  const file = uriToPath(uri);
  if (!file || !driverContext || !trees) return undefined;
  // A relative kernel directory setting is relative to the workspace folder holding the file.
  const root = workspaceRootOf(file) ?? path.dirname(file);
  const kernelDir = config.kernelDir ? path.resolve(root, config.kernelDir) : undefined;
  const compileCommands = config.compileCommands ? path.resolve(root, config.compileCommands) : undefined;
  const opts = { maxFileBytes: config.maxFileSizeKb * 1024, budgetMs: config.timeBudgetMs, scope: config.driverScope, workspaceRoots, kernelDir, compileCommands };
  // A file alone in its driver (or driverScope "file") that includes no header from another folder that matters: no
  // open document needs parsing for context.
  const ownText = copy?.text ?? documents.get(uri)?.getText();
  // Switches the file tests that nothing in its workspace folder sets (runtime/buildSwitches.ts).
  const unsetSwitches = driverContext.unsetSwitchesOf(file, opts, ownText);
  if (driverContext.driverFiles(file, opts).length === 0 && !driverContext.includesHeadersOutside(file, opts, ownText)) {
    return { context: { files: [], detectedKernel: driverContext.detectKernel(file, opts), unsetSwitches }, versions: new Map() };
  }
  const open = new Map<string, { uri: string; text: string; tree: Tree }>();
  const versions = new Map<string, number>();
  for (const doc of documents.all()) {
    const p = uriToPath(doc.uri);
    // The document being analysed goes in too: context selection must follow its unsaved text, not the file on disk.
    if (!p) continue;
    const t = trees.treeFor(doc, config.timeBudgetMs).tree;
    if (t) open.set(path.resolve(p), { uri: doc.uri, text: doc.getText(), tree: t });
  }
  // The document's private copy the warm-up edits (warmUp.ts warmUpDocument) stands in for it.
  if (copy) open.set(path.resolve(file), copy);
  const context = { ...driverContext.contextFor(file, opts, open), unsetSwitches };
  for (const f of context.files ?? []) {
    const doc = documents.get(f.uri);
    if (doc) versions.set(f.uri, doc.version);
  }
  return { context, versions };
}

/** The stored analysis of an open document, only when it was made for the document's current version. */
function currentAnalysis(uri: string): StoredAnalysis | undefined {
  return store.current(uri, documents.get(uri)?.version);
}

connection.onHover((params) => {
  const document = documents.get(params.textDocument.uri);
  const a = currentAnalysis(params.textDocument.uri);
  return document && a ? handleHover(params, document, a, clientSupports.commandLinks) : null;
});

/**
 * The current analysis with its quick fixes: published analyses carry none (fixes cost more than the findings), so the
 * first code action request for a version computes them, with the settings and trees that version was analysed with.
 */
function analysisWithFixes(document: TextDocument): StoredAnalysis | undefined {
  const a = store.current(document.uri, document.version);
  if (!a || !a.report.fixesOmitted || !trees || !syntax) return a;
  try {
    const oversize = document.getText().length > a.settings.maxFileSizeKb * 1024;
    const full = analyzeOpen(document, a.settings, oversize ? undefined : trees.treeFor(document, a.settings.timeBudgetMs), true);
    store.set(full);
    // Only when another document changed the context since the diagnostics went out: publish what the fixes belong to.
    if (!sameDiagnostics(full.report, a.report)) void publish(full);
    return full;
  } catch (err) {
    log(`quick fixes for ${document.uri} failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`);
    return a;
  }
}

connection.onCodeAction((params) => {
  const document = documents.get(params.textDocument.uri);
  if (!document) return [];
  return handleCodeActions(params, analysisWithFixes(document) ?? store.get(params.textDocument.uri), {
    documentVersion: document.version,
    openVersion: (u) => documents.get(u)?.version,
    supportsDisabled: clientSupports.disabledActions,
    supportsDocumentChanges: clientSupports.documentChanges,
    supportsSnippetEdits: clientSupports.snippetEdits,
  });
});

connection.onRequest(SimulationRequest, (params) => {
  const a = currentAnalysis(params.textDocument.uri) ?? store.get(params.textDocument.uri);
  if (!a) return null;
  const site = siteForRequest(a, params);
  return site ? simulationResponse(a, site, params) : null;
});

/** Reads, parses and analyses a file that is not open (workspace scan); the tree is freed at once. */
function analyzeFromDisk(file: string, uri: string, config: ForksafeSettings): Report | undefined {
  if (!syntax) return undefined;
  const read = readSource(file, config.maxFileSizeKb * 1024);
  if (!read.ok) { log(`workspace scan: ${file}: ${read.error}`); return undefined; }
  for (const note of read.notes) log(note);
  const parsed = syntax.parse(read.text, undefined, config.timeBudgetMs);
  try {
    return analyze(syntax, { uri, text: read.text, tree: parsed.tree, parseBudgetHitAfterMs: parsed.tree ? undefined : parsed.elapsedMs, parseDepthLimitHit: parsed.depthLimitHit, fixes: false }, config, contextFor(uri, config)?.context);
  } finally {
    parsed.tree?.delete();
  }
}

/** A progress reporter that does nothing, for clients without window/workDoneProgress. */
const silentProgress = { begin: () => undefined, report: () => undefined, done: () => undefined, token: { isCancellationRequested: false } };

connection.onExecuteCommand(async (params) => {
  if (params.command === SCAN_WORKSPACE_COMMAND) {
    if (scanning) throw new ResponseError(-32803, 'a workspace scan is already running');
    scanning = true;
    try {
      const progress = clientSupports.workDoneProgress ? await connection.window.createWorkDoneProgress() : silentProgress;
      workspaceScanned = true;
      const result = await scanWorkspace({
        roots: workspaceRoots, progress, log,
        settingsFor: (u) => settings.get(u),
        isOpen: (u) => documents.get(u) !== undefined,
        analyzeFile: analyzeFromDisk,
        publish: async (u, report, config) => {
          store.setScanned(u, report.findings.length);
          await connection.sendDiagnostics({ uri: u, diagnostics: report.findings.map((f) => toDiagnostic(f, docsLinkFor(config))) });
        },
      });
      scanning = false;
      sendStatus(undefined);
      return result;
    } finally {
      scanning = false;
    }
  }
  if (params.command === SHOW_SIMULATION_COMMAND) {
    // Editors without the VS Code webview send the command here: answer with the trace, log it, and say the outcome.
    const args = (params.arguments?.[0] ?? {}) as Partial<ShowSimulationArgs>;
    const a = args.uri ? currentAnalysis(args.uri) ?? store.get(args.uri) : undefined;
    const site = a ? siteForRequest(a, { fingerprint: args.fingerprint, position: args.position }) : undefined;
    if (!a || !site || !args.uri) return null;
    const response = simulationResponse(a, site, { textDocument: { uri: args.uri } });
    log(`fork simulation of ${site.callee}() at ${args.uri}:${site.call.start.line + 1}\n${response.trace}`);
    void connection.window.showInformationMessage(`forksafe: ${response.outcome} (full trace in the forksafe log)`);
    return response;
  }
  throw new ResponseError(-32601, `unknown command ${params.command}`);
});

/** Files whose change can change the kernel a driver is built against (docs/build.md). */
const BUILD_FILES = new Set(['compile_commands.json', 'Makefile', 'makefile', 'GNUmakefile', 'Kbuild', 'version.h', 'utsrelease.h']);

connection.onDidChangeWatchedFiles((e) => {
  for (const change of e.changes) {
    const p = uriToPath(change.uri);
    if (p) driverContext?.evict(p);
    if (p && BUILD_FILES.has(path.basename(p))) driverContext?.forgetKernels();
  }
  store.markContextChanged();
  for (const doc of documents.all()) schedule(doc.uri);
});

documents.onDidClose((e) => {
  const uri = e.document.uri;
  store.markContextChanged(uri);
  trees?.close(uri);
  settings.forget(uri);
  store.delete(uri);
  void republishClosed(uri);
});

/**
 * A closed document's diagnostics go, unless a workspace scan has run: then the file is part of the workspace's
 * report, and its findings stay in Problems as the file on disk has them (issue 16), as the scan published them.
 */
async function republishClosed(uri: string): Promise<void> {
  const file = uriToPath(uri);
  const config = await settings.get(uri);
  // The scan's own selection (globs, under a workspace folder), asked for this one file.
  const root = file !== undefined ? workspaceRootOf(file) : undefined;
  const inWorkspace = root !== undefined && collectScanTargets([file!], { include: config.include, exclude: config.exclude, gitignore: false, root }).files.includes(file!);
  const report = workspaceScanned && inWorkspace && documents.get(uri) === undefined ? analyzeFromDisk(file!, uri, config) : undefined;
  if (report && documents.get(uri) === undefined) {
    store.setScanned(uri, report.findings.length);
    await connection.sendDiagnostics({ uri, diagnostics: report.findings.map((f) => toDiagnostic(f, docsLinkFor(config))) });
  } else if (documents.get(uri) === undefined) {
    await connection.sendDiagnostics({ uri, diagnostics: [] });
  }
  if (documents.get(uri) === undefined) settings.forget(uri);
  sendStatus(undefined);
}

/** The workspace folder holding `file`, if any. */
function workspaceRootOf(file: string): string | undefined {
  return workspaceRoots.find((r) => { const rel = path.relative(r, file); return !rel.startsWith('..') && !path.isAbsolute(rel); });
}

documents.listen(connection);
connection.listen();
