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
    const summary = s ? `Kernel ${s.kernel} (${s.kernelSource}). ${s.fileFindings} finding(s) in this file.` : 'No forksafe analysis for this editor.';
    const totals = `${this.total} finding(s) in open and scanned files.`;
    const tip = new vscode.MarkdownString();
    // Only the settings command is trusted in this tooltip: a link that opens the kernel setting.
    tip.isTrusted = { enabledCommands: ['workbench.action.openSettings'] };
    tip.appendText(summary);
    tip.appendText(`\n\n${totals} Click for the Problems panel.\n\n`);
    tip.appendMarkdown(`[Change the kernel version](command:workbench.action.openSettings?${encodeURIComponent(JSON.stringify(['forksafe.kernelVersion']))}) (setting \`forksafe.kernelVersion\`)`);
    this.item.tooltip = tip;
    // Screen readers get a plain sentence, not the tooltip's markdown or the icon names of the text (issue 16).
    this.item.accessibilityInformation = {
      label: `forksafe: ${s ? `kernel ${s.kernel}, ${s.fileFindings} finding${s.fileFindings === 1 ? '' : 's'} in this file` : 'no analysis for this editor'}${this.total !== (s?.fileFindings ?? 0) ? `, ${this.total} in total` : ''}${this.scanning ? ', scanning' : ''}. Opens the Problems panel.`,
      role: 'button',
    };
    this.item.show();
  }

  dispose(): void {
    this.listener.dispose();
    this.item.dispose();
  }
}
