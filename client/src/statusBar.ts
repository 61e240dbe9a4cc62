// The status bar item: the kernel version the active C file is analysed for and the number of findings, fed by forksafe/status.
import * as vscode from 'vscode';
import type { StatusParams } from '../../server/src/lsp/protocol';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('forksafe.status', vscode.StatusBarAlignment.Right, 100);
  private readonly perUri = new Map<string, StatusParams>();
  private total = 0;
  private scanning = false;
  private readonly listener: vscode.Disposable;

  constructor() {
    this.item.name = 'forksafe';
    this.item.command = 'workbench.actions.view.problems';
    this.listener = vscode.window.onDidChangeActiveTextEditor(() => this.render());
  }

  update(status: StatusParams): void {
    if (status.uri) this.perUri.set(status.uri, status);
    this.total = status.totalFindings;
    this.scanning = status.scanning;
    this.render();
  }

  forget(uri: string): void {
    this.perUri.delete(uri);
    this.render();
  }

  private render(): void {
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const s = uri ? this.perUri.get(uri) : undefined;
    if (!s && this.total === 0 && !this.scanning) { this.item.hide(); return; }
    const kernel = s?.kernel ? ` ${s.kernel}` : '';
    const count = s ? `${s.fileFindings}` : '–';
    this.item.text = `${this.scanning ? '$(sync~spin)' : '$(shield)'} forksafe${kernel}: ${count}${this.total !== (s?.fileFindings ?? 0) ? ` (${this.total} total)` : ''}`;
    const tip = new vscode.MarkdownString();
    tip.appendText(s ? `Kernel ${s.kernel} (${s.kernelSource}). ${s.fileFindings} finding(s) in this file.` : 'No forksafe analysis for this editor.');
    tip.appendText(`\n\n${this.total} finding(s) in open and scanned files. Click for the Problems panel.`);
    this.item.tooltip = tip;
    this.item.show();
  }

  dispose(): void {
    this.listener.dispose();
    this.item.dispose();
  }
}
