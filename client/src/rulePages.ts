// Rule pages (docs/rules/FS###.md shipped in the extension) open as a rendered markdown preview: their links in diagnostics and hovers go through the extension's URI handler.
import * as path from 'path';
import * as vscode from 'vscode';

export class RulePages {
  private readonly dir: string;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.dir = path.join(context.extensionPath, 'docs', 'rules');
  }

  /** The handler link for a shipped rule page (`<scheme>://<extension id>/rule/FS001`); any other link unchanged. */
  linkFor(target: vscode.Uri): vscode.Uri {
    const code = this.codeOf(target);
    return code ? vscode.Uri.from({ scheme: vscode.env.uriScheme, authority: this.context.extension.id, path: `/rule/${code}` }) : target;
  }

  /** The same for the rule links inside hover markdown. */
  rewriteMarkdown(md: vscode.MarkdownString): vscode.MarkdownString {
    const value = md.value.replace(/\]\((file:[^)\s]+\.md)\)/g, (whole, href: string) => {
      const link = this.linkFor(vscode.Uri.parse(href));
      return link.scheme === 'file' ? whole : `](${link.toString()})`;
    });
    if (value === md.value) return md;
    const out = new vscode.MarkdownString(value, md.supportThemeIcons);
    out.isTrusted = md.isTrusted;
    out.supportHtml = md.supportHtml;
    return out;
  }

  /** Opens the rule page a handler link names, rendered (a preview tab). */
  async open(uri: vscode.Uri): Promise<void> {
    const m = /^\/rule\/(FS\d{3})$/.exec(uri.path);
    if (!m) return;
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(path.join(this.dir, `${m[1]}.md`)));
  }

  private codeOf(target: vscode.Uri): string | undefined {
    if (target.scheme !== 'file') return undefined;
    const file = target.fsPath;
    const m = /^(FS\d{3})\.md$/.exec(path.basename(file));
    return m && path.resolve(path.dirname(file)) === path.resolve(this.dir) ? m[1] : undefined;
  }
}
