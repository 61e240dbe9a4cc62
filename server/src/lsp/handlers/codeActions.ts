// textDocument/codeAction: the engine's fixes per diagnostic (refused when the document moved), "Show fork simulation" on every site diagnostic, and source.fixAll.forksafe.
import { CodeAction, CodeActionKind, CodeActionParams, Diagnostic, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver';
import type { Finding, Fix, TextEditSpan } from '../../analysis/finding';
import { combineFixes, editsByUri } from '../../explain/textEdits';
import { findingFor, StoredAnalysis } from '../analysisStore';
import { toRange } from '../convert';
import { FIX_ALL_KIND, SHOW_SIMULATION_COMMAND, ShowSimulationArgs } from '../protocol';

export interface CodeActionContextInfo {
  /** The document's version now (the server's copy). */
  documentVersion: number;
  /** The current version of another open document, or undefined when it is not open. */
  openVersion: (uri: string) => number | undefined;
  supportsDisabled: boolean;
  supportsDocumentChanges: boolean;
  /** The client applies snippet edits in a workspace edit (LSP 3.18 `snippetEditSupport`): placeholders get selected. */
  supportsSnippetEdits?: boolean;
}

/** What publishDiagnostics puts in Diagnostic.data. */
export interface DiagnosticData { fingerprint?: string; version?: number }

export const STALE_REASON = 'The document changed since forksafe analysed it; the fix will be offered again when the diagnostics update.';

/**
 * A workspace edit for edits in one or more files, versioned so the client refuses it if a document moved; undefined when
 * a file the edits touch is open at a version other than the one the analysis read.
 */
export function workspaceEditFor(edits: TextEditSpan[], a: StoredAnalysis, info: CodeActionContextInfo): WorkspaceEdit | undefined {
  const byUri = editsByUri(edits);
  const versions = new Map<string, number | null>();
  for (const uri of byUri.keys()) {
    if (uri === a.uri) { versions.set(uri, a.version); continue; }
    const open = info.openVersion(uri);
    const read = a.contextVersions.get(uri);
    if (open !== undefined && read !== undefined && open !== read) return undefined;
    if (open !== undefined && read === undefined) return undefined;
    versions.set(uri, open ?? null);
  }
  const lsp = (list: TextEditSpan[]) => list.map((e) => ({ range: toRange(e.span), newText: e.newText }));
  if (info.supportsDocumentChanges) {
    // A snippet edit (the suppress fix's reason prompt, selected for typing) where the client takes them.
    const withSnippets = (list: TextEditSpan[]) => list.map((e) => (info.supportsSnippetEdits && e.snippet !== undefined
      ? { range: toRange(e.span), snippet: { kind: 'snippet' as const, value: e.snippet } } : { range: toRange(e.span), newText: e.newText }));
    return { documentChanges: [...byUri.entries()].map(([uri, list]) => TextDocumentEdit.create({ uri, version: versions.get(uri) ?? null }, withSnippets(list))) };
  }
  return { changes: Object.fromEntries([...byUri.entries()].map(([uri, list]) => [uri, lsp(list)])) };
}

function wants(only: string[] | undefined, kind: string): boolean {
  return !only || only.some((o) => kind === o || kind.startsWith(`${o}.`));
}

function fixAction(fix: Fix, d: Diagnostic, a: StoredAnalysis, info: CodeActionContextInfo, preferred: boolean): CodeAction | undefined {
  if (fix.disabledReason || fix.edits.length === 0) {
    return info.supportsDisabled ? { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], disabled: { reason: fix.disabledReason ?? 'nothing to change' } } : undefined;
  }
  const edit = workspaceEditFor(fix.edits, a, info);
  if (!edit) return info.supportsDisabled ? { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [d], disabled: { reason: STALE_REASON } } : undefined;
  const action: CodeAction = { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: fix.resolves ? [d] : [], edit };
  if (preferred) action.isPreferred = true;
  return action;
}

function simulationAction(f: Finding, d: Diagnostic): CodeAction | undefined {
  if (!f.site) return undefined;
  const args: ShowSimulationArgs = { uri: f.uri, position: { ...f.span.start }, fingerprint: f.fingerprint };
  return { title: `Show fork simulation (${f.code})`, kind: CodeActionKind.QuickFix, diagnostics: [d], command: { title: 'Show fork simulation', command: SHOW_SIMULATION_COMMAND, arguments: [args] } };
}

/** source.fixAll.forksafe: every safe fix of the file, merged without overlaps; nothing when there is nothing to do. */
export function fixAllAction(a: StoredAnalysis, info: CodeActionContextInfo): CodeAction | undefined {
  const safe = a.report.findings.flatMap((f) => f.fixes.filter((x) => x.safe && x.edits.length > 0 && !x.disabledReason));
  const edits = combineFixes(safe);
  if (edits.length === 0) return undefined;
  const edit = workspaceEditFor(edits, a, info);
  if (!edit) return undefined;
  return { title: 'Fix all safe forksafe problems', kind: FIX_ALL_KIND, edit };
}

/** `a` is the stored analysis, or undefined when there is none for the document's current version (then nothing is offered). */
export function handleCodeActions(params: CodeActionParams, a: StoredAnalysis | undefined, info: CodeActionContextInfo): CodeAction[] {
  const only = params.context.only;
  const out: CodeAction[] = [];
  const fresh = a && a.version === info.documentVersion ? a : undefined;
  if (wants(only, CodeActionKind.QuickFix)) {
    for (const d of params.context.diagnostics) {
      if (d.source !== 'forksafe' || typeof d.code !== 'string') continue;
      const data = (d.data ?? {}) as DiagnosticData;
      // A diagnostic published for an older version describes text that is gone: refuse its fixes (vscode-eslint does the same).
      const stale = !fresh || (data.version !== undefined && data.version !== info.documentVersion);
      const finding = fresh && !stale ? findingFor(fresh.report, d.code, d.range, data.fingerprint) : undefined;
      if (!finding) {
        if (info.supportsDisabled) out.push({ title: 'forksafe fixes', kind: CodeActionKind.QuickFix, diagnostics: [d], disabled: { reason: STALE_REASON } });
        continue;
      }
      const preferredIndex = finding.fixes.findIndex((f) => f.safe && f.resolves && f.edits.length > 0);
      finding.fixes.forEach((fix, i) => {
        const action = fixAction(fix, d, fresh!, info, i === preferredIndex);
        if (action) out.push(action);
      });
      const sim = simulationAction(finding, d);
      if (sim) out.push(sim);
    }
  }
  if (fresh && wants(only, FIX_ALL_KIND)) {
    const all = fixAllAction(fresh, info);
    if (all) out.push(all);
  }
  return out;
}
