// A minimal LSP client for the benchmarks (after test/helpers/lspProcess.ts): spawns the shipped server over stdio, with optional node flags, and times publishDiagnostics.
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The server under test; FORKSAFE_BENCH_SERVER names another build's bundle, to compare two builds on one machine minutes apart. */
export const SERVER_BUNDLE = process.env.FORKSAFE_BENCH_SERVER ?? path.join(REPO_ROOT, 'server', 'dist', 'server.js');

export interface Publish { uri: string; version?: number; diagnostics: unknown[]; at: number }
type Waiter = { uri: string; version: number | undefined; resolve: (p: Publish) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class BenchLspClient {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  readonly spawnedAt = performance.now();
  readonly stderr: string[] = [];
  /** The server's window/logMessage lines. */
  readonly logs: string[] = [];
  private waiters: Waiter[] = [];
  private readonly latest = new Map<string, Publish>();
  private readonly exited: Promise<number | null>;

  constructor(nodeFlags: string[] = [], bundle = SERVER_BUNDLE) {
    this.child = spawn(process.execPath, [...nodeFlags, bundle, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: unknown[] }) => {
      const pub: Publish = { ...p, at: performance.now() };
      this.latest.set(p.uri, pub);
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== p.uri || (w.version !== undefined && p.version !== undefined && p.version !== w.version)) return true;
        clearTimeout(w.timer);
        w.resolve(pub);
        return false;
      });
    });
    this.connection.onNotification('window/logMessage', (p: { message: string }) => { this.logs.push(p.message); });
    this.connection.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({})));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('window/workDoneProgress/create', () => null);
    this.connection.listen();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async initialize(rootUri: string | null = null): Promise<void> {
    await this.connection.sendRequest('initialize', {
      processId: process.pid, rootUri, workspaceFolders: rootUri ? [{ uri: rootUri, name: 'bench' }] : null,
      capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } },
    });
    await this.connection.sendNotification('initialized', {});
  }

  /** Resolves with the first publishDiagnostics for `uri` (at `version`, when given) that arrives after this call. */
  nextDiagnostics(uri: string, version?: number, timeoutMs = 60_000): Promise<Publish> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version} within ${timeoutMs} ms; stderr: ${this.stderr.join('').slice(-500)}`)), timeoutMs);
      this.waiters.push({ uri, version, resolve, reject, timer });
    });
  }

  /** Resolves with the first log line matching `pattern` (already received or arriving within the timeout). */
  async waitForLog(pattern: RegExp, timeoutMs = 300_000): Promise<string> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => pattern.test(l));
      if (line) return line;
      if (performance.now() > until) throw new Error(`no log line ${pattern} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  open(uri: string, text: string): Promise<void> {
    return this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  }

  change(uri: string, version: number, change: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }): Promise<void> {
    return this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
  }

  async shutdown(): Promise<number | null> {
    if (this.child.exitCode === null) {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    }
    const code = await this.exited;
    this.connection.dispose();
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
    this.connection.dispose();
  }
}
