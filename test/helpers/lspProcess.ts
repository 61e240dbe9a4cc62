// Spawns the shipped server bundle (server/dist/server.js --stdio) and talks LSP to it, awaiting notifications instead of sleeping.
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import {
  createMessageConnection, IPCMessageReader, IPCMessageWriter, MessageConnection, StreamMessageReader, StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import type {
  Diagnostic, InitializeResult, PublishDiagnosticsParams, TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SERVER_BUNDLE = path.join(REPO_ROOT, 'server', 'dist', 'server.js');

/** What an editor with the features forksafe uses advertises: pull configuration, versioned edits, disabled code actions, work-done progress. */
export const EDITOR_CAPABILITIES = {
  workspace: { configuration: true, workspaceEdit: { documentChanges: true } },
  window: { workDoneProgress: true },
  textDocument: {
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    codeAction: { disabledSupport: true, dataSupport: true },
  },
  // What forksafe's VS Code extension adds: it runs command: links in hovers (neovim and others do not say so).
  experimental: { forksafe: { commandLinks: true } },
};

type NotificationWaiter = { method: string; from: number; predicate: (p: unknown) => boolean; resolve: (p: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
type Waiter = { uri: string; predicate: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class LspProcess {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  readonly logs: string[] = [];
  readonly stderr: string[] = [];
  private readonly latest = new Map<string, PublishDiagnosticsParams>();
  private waiters: Waiter[] = [];
  /** Every notification no specific handler took ($/progress, forksafe/status, ...), in arrival order. */
  readonly notifications: Array<{ method: string; params: unknown }> = [];
  private notificationWaiters: NotificationWaiter[] = [];
  private exited: Promise<number | null>;
  private versions = new Map<string, number>();
  configuration: unknown = {};

  /** `transport` 'ipc' starts the server as VS Code does (node IPC channel); 'stdio' as other editors do. */
  constructor(transport: 'stdio' | 'ipc' = 'stdio', bundle: string = SERVER_BUNDLE) {
    if (transport === 'ipc') {
      this.child = spawn(process.execPath, [bundle, '--node-ipc'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
      this.connection = createMessageConnection(new IPCMessageReader(this.child), new IPCMessageWriter(this.child));
    } else {
      this.child = spawn(process.execPath, [bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    }
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.record('textDocument/publishDiagnostics', p);
      this.latest.set(p.uri, p);
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== p.uri || !w.predicate(p)) return true;
        clearTimeout(w.timer);
        w.resolve(p);
        return false;
      });
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => { this.logs.push(p.message); });
    this.connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => this.configuration));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('window/workDoneProgress/create', (p: unknown) => { this.record('window/workDoneProgress/create', p); return null; });
    // vscode-jsonrpc routes $/progress to per-token handlers; tokens the server created arrive as unhandled progress.
    this.connection.onUnhandledProgress((params: unknown) => this.record('$/progress', params));
    this.connection.onNotification((method: string, params: unknown) => this.record(method, params));
    this.connection.listen();
  }

  private record(method: string, params: unknown): void {
    this.notifications.push({ method, params });
    const index = this.notifications.length - 1;
    this.notificationWaiters = this.notificationWaiters.filter((w) => {
      if (w.method !== method || index < w.from || !w.predicate(params)) return true;
      clearTimeout(w.timer);
      w.resolve(params);
      return false;
    });
  }

  async initialize(capabilities: object = { workspace: { configuration: true }, textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } },
    workspaceFolders: Array<{ uri: string; name: string }> | null = null): Promise<InitializeResult> {
    const result = await this.connection.sendRequest<InitializeResult>('initialize', { processId: process.pid, rootUri: null, capabilities, workspaceFolders });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  /** Resolves with the next publishDiagnostics for `uri` that satisfies `predicate` (including one already received for the current version). */
  diagnostics(uri: string, predicate: (p: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 20000): Promise<PublishDiagnosticsParams> {
    const version = this.versions.get(uri);
    const have = this.latest.get(uri);
    if (have && (version === undefined || have.version === undefined || have.version === version) && predicate(have)) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(this.latest.get(uri))?.slice(0, 500)}`)), timeoutMs);
      this.waiters.push({ uri, predicate, resolve, reject, timer });
    });
  }

  /**
   * Resolves with the first notification `method` at or after index `from` of `notifications` that satisfies `predicate`
   * (one that already arrived counts), so a test can start an action and then await what it caused.
   */
  notification<T>(method: string, predicate: (p: T) => boolean = () => true, from = 0, timeoutMs = 20000): Promise<T> {
    const have = this.notifications.slice(from).find((n) => n.method === method && predicate(n.params as T));
    if (have) return Promise.resolve(have.params as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} notification within ${timeoutMs} ms`)), timeoutMs);
      this.notificationWaiters.push({ method, from, predicate: (p) => predicate(p as T), resolve: (p) => resolve(p as T), reject, timer });
    });
  }

  /** Diagnostics for the version most recently sent for `uri`. */
  diagnosticsForCurrentVersion(uri: string, timeoutMs?: number): Promise<Diagnostic[]> {
    const version = this.versions.get(uri);
    return this.diagnostics(uri, (p) => p.version === undefined || p.version === version, timeoutMs).then((p) => p.diagnostics);
  }

  async open(uri: string, text: string, languageId = 'c'): Promise<void> {
    this.versions.set(uri, 1);
    this.latest.delete(uri);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return version;
  }

  async close(uri: string): Promise<void> {
    this.versions.delete(uri);
    this.latest.delete(uri);
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.connection.sendRequest<R>(method, params);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async shutdown(): Promise<number | null> {
    if (this.alive) {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    }
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }

  kill(): void {
    if (this.alive) this.child.kill();
    this.connection.dispose();
  }
}
