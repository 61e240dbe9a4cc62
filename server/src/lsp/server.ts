// The forksafe language server: keeps one tree per open C document, publishes the engine's findings as diagnostics.
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import {
  createConnection, DidChangeConfigurationNotification, ProposedFeatures, TextDocuments, TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze } from '../engine';
import type { CSyntax, Tree } from '../analysis/parser';
import type { ForksafeSettings } from '../settings';
import { findAssetRoot } from '../runtime/assets';
import { loadSyntax } from '../runtime/loadSyntax';
import { DriverContextLoader } from '../runtime/driverContext';
import type { AnalysisContext } from '../engine';
import { DocumentTrees } from './documentTrees';
import { toDiagnostic } from './convert';
import { SettingsCache } from './settings';

const connection = createConnection(ProposedFeatures.all);
const log = (msg: string): void => connection.console.log(`[forksafe] ${msg}`);
const settings = new SettingsCache(connection, log);
let syntax: CSyntax | undefined;
let trees: DocumentTrees | undefined;
let driverContext: DriverContextLoader | undefined;
let workspaceRoots: string[] = [];
let docsRoot = '';

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
  driverContext = new DriverContextLoader(syntax);
  workspaceRoots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => p !== undefined);
  docsRoot = path.join(findAssetRoot(), 'docs', 'rules');
  settings.configure(!!params.capabilities.workspace?.configuration, params.initializationOptions);
  return {
    capabilities: { textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental } },
    serverInfo: { name: 'forksafe', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  void connection.client.register(DidChangeConfigurationNotification.type, undefined).catch(() => undefined);
});

connection.onDidChangeConfiguration(() => {
  settings.clear();
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

async function validate(uri: string): Promise<void> {
  const document = documents.get(uri);
  if (!document || !syntax || !trees) return;
  const config = await settings.get(uri);
  const current = documents.get(uri);
  if (current !== document) return; // a newer version arrived while settings were pulled; it has its own run
  try {
    const text = document.getText();
    const oversize = text.length > config.maxFileSizeKb * 1024;
    const parsed = oversize ? undefined : trees.treeFor(document, config.timeBudgetMs);
    const report = analyze(syntax, {
      uri, text, tree: parsed?.tree,
      parseBudgetHitAfterMs: parsed && !parsed.tree ? parsed.parseMs : undefined,
    }, config, contextFor(uri, config));
    for (const note of report.notes) log(note);
    const base = config.docsBaseUrl.replace(/\/+$/, '');
    const link = (code: string): string => (base ? `${base}/${code}.md` : docsUri(code));
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: report.findings.map((f) => toDiagnostic(f, link)) });
  } catch (err) {
    log(`analysis of ${uri} failed (the server keeps running): ${(err as Error)?.stack ?? String(err)}`);
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: [] });
  }
}

// Fires on open and on every change.
documents.onDidChangeContent((e) => schedule(e.document.uri));
function uriToPath(uri: string): string | undefined {
  try { return uri.startsWith('file:') ? fileURLToPath(uri) : undefined; } catch { return undefined; }
}

/** The driver's other files (open documents win over disk) and the kernel version from the tree's Makefile. */
function contextFor(uri: string, config: ForksafeSettings): AnalysisContext | undefined {
  const file = uriToPath(uri);
  if (!file || !driverContext || !trees) return undefined;
  const open = new Map<string, { uri: string; text: string; tree: Tree }>();
  for (const doc of documents.all()) {
    const p = uriToPath(doc.uri);
    if (!p || doc.uri === uri) continue;
    const t = trees.treeFor(doc, config.timeBudgetMs).tree;
    if (t) open.set(path.resolve(p), { uri: doc.uri, text: doc.getText(), tree: t });
  }
  return driverContext.contextFor(file, { maxFileBytes: config.maxFileSizeKb * 1024, budgetMs: config.timeBudgetMs, scope: config.driverScope, workspaceRoots }, open);
}

connection.onDidChangeWatchedFiles((e) => {
  for (const change of e.changes) {
    const p = uriToPath(change.uri);
    if (p) driverContext?.evict(p);
  }
  for (const doc of documents.all()) schedule(doc.uri);
});

documents.onDidClose((e) => {
  trees?.close(e.document.uri);
  settings.forget(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

documents.listen(connection);
connection.listen();
