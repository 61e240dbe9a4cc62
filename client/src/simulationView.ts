// The fork simulation webview: asks the server for forksafe/simulation and re-asks when the era, order or protection toggle changes.
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ShowSimulationArgs, SimulationOrderId, SimulationParams, SimulationRequest } from '../../server/src/lsp/protocol';
import { renderMessageHtml, renderSimulationHtml } from './simulationHtml';

interface SimulateMessage { type: 'simulate'; eraId?: string; order?: string; withProtections?: boolean }

const ORDERS: readonly string[] = ['child-writes-first', 'parent-writes-first', 'child-exits-then-parent-writes', 'pin-after-fork'];

function isSimulateMessage(m: unknown): m is SimulateMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'simulate';
}

/** One panel, reused: a new site replaces the one shown. */
export class SimulationView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private params: SimulationParams | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** Opens the view for a site: the command's arguments, or the cursor of the active C editor. */
  async show(args?: ShowSimulationArgs): Promise<void> {
    const target = args ?? this.fromActiveEditor();
    if (!target) {
      void vscode.window.showInformationMessage('forksafe: put the cursor on a pin call (get_user_pages*, pin_user_pages*, or a wrapper call) to simulate fork().');
      return;
    }
    this.params = { textDocument: { uri: target.uri }, position: target.position, fingerprint: target.fingerprint };
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('forksafe.simulation', 'fork() simulation', vscode.ViewColumn.Beside,
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false });
      this.panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.disposables);
      this.panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m), undefined, this.disposables);
    } else {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
    }
    await this.render();
  }

  private fromActiveEditor(): ShowSimulationArgs | undefined {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return undefined;
    const p = editor.selection.active;
    return { uri: editor.document.uri.toString(), position: { line: p.line, character: p.character } };
  }

  private async onMessage(m: unknown): Promise<void> {
    if (!isSimulateMessage(m) || !this.params) return;
    this.params = {
      ...this.params,
      eraId: typeof m.eraId === 'string' ? m.eraId : undefined,
      order: typeof m.order === 'string' && ORDERS.includes(m.order) ? m.order as SimulationOrderId : undefined,
      withProtections: m.withProtections === true,
    };
    await this.render();
  }

  private async render(): Promise<void> {
    const panel = this.panel;
    const client = this.client();
    if (!panel || !this.params) return;
    const options = { nonce: randomBytes(18).toString('base64'), cspSource: panel.webview.cspSource };
    if (!client) {
      panel.webview.html = renderMessageHtml('The forksafe server is not running.', options);
      return;
    }
    try {
      const response = await client.sendRequest(SimulationRequest, this.params);
      panel.webview.html = response
        ? renderSimulationHtml(response, options)
        : renderMessageHtml('No pin site here: put the cursor on a get_user_pages*/pin_user_pages* call or a wrapper call, and wait for forksafe to analyse the file.', options);
      if (response) panel.title = `fork(): ${response.site.callee}()`;
    } catch (err) {
      panel.webview.html = renderMessageHtml(`The simulation request failed: ${(err as Error).message}`, options);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
