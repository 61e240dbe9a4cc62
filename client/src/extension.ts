// The VS Code side: starts the forksafe language server, shows its output channel, restarts it when it dies, and hosts the simulation view and status bar.
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction, CloseHandlerResult, ErrorAction, ErrorHandlerResult, LanguageClient, LanguageClientOptions,
  ServerOptions, TransportKind,
} from 'vscode-languageclient/node';
import { SHOW_SIMULATION_COMMAND, ShowSimulationArgs, StatusNotification } from '../../server/src/lsp/protocol';
import { SimulationView } from './simulationView';
import { StatusBar } from './statusBar';
import { RulePages } from './rulePages';

let client: LanguageClient | undefined;

/** Restarts the server after a crash, but gives up (and says so) if it keeps dying: 5 crashes in 3 minutes. */
class RestartingErrorHandler {
  private readonly restarts: number[] = [];
  constructor(private readonly output: vscode.LogOutputChannel) {}

  error(error: Error, _message: unknown, count: number | undefined): ErrorHandlerResult {
    this.output.appendLine(`[client] connection error ${count ?? 0}: ${error.message}`);
    return { action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown };
  }

  closed(): CloseHandlerResult {
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && now - this.restarts[0] > 3 * 60_000) this.restarts.shift();
    if (this.restarts.length > 5) {
      const message = 'The forksafe server crashed 5 times in 3 minutes and will not be restarted. See the forksafe output channel; run "forksafe: Restart Server" after fixing the cause.';
      return { action: CloseAction.DoNotRestart, message };
    }
    this.output.appendLine(`[client] server stopped unexpectedly; restarting (${this.restarts.length} in the last 3 minutes)`);
    return { action: CloseAction.Restart };
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('forksafe', { log: true });
  const rules = new RulePages(context);
  const serverModule = context.asAbsolutePath(path.join('server', 'dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'c' }, { language: 'cpp', pattern: '**/*.h' }],
    // C sources, and what says which kernel a driver builds against (docs/build.md).
    synchronize: {
      configurationSection: 'forksafe',
      fileEvents: [
        vscode.workspace.createFileSystemWatcher('**/*.{c,h}'),
        vscode.workspace.createFileSystemWatcher('**/{compile_commands.json,Makefile,makefile,GNUmakefile,Kbuild}'),
      ],
    },
    outputChannel: output,
    errorHandler: new RestartingErrorHandler(output),
    // Hover links open the simulation view; no other command may run from server markdown.
    markdown: { isTrusted: { enabledCommands: [SHOW_SIMULATION_COMMAND] } },
    // Rule pages shipped with the extension open rendered (a preview), not as editable markdown (issue 16).
    middleware: {
      handleDiagnostics: (uri, diagnostics, next) => {
        for (const d of diagnostics) {
          if (typeof d.code === 'object' && d.code.target) d.code = { value: d.code.value, target: rules.linkFor(d.code.target) };
        }
        next(uri, diagnostics);
      },
      provideHover: async (document, position, token, next) => {
        const hover = await next(document, position, token);
        if (!hover) return hover;
        const contents = hover.contents.map((c) => c instanceof vscode.MarkdownString ? rules.rewriteMarkdown(c) : c);
        return new vscode.Hover(contents, hover.range);
      },
    },
  };
  client = new LanguageClient('forksafe', 'forksafe', serverOptions, clientOptions);
  // VS Code runs command: links in hovers; LSP has no capability for it, so the extension tells its server.
  client.registerFeature({
    fillClientCapabilities: (caps) => { caps.experimental = { ...(caps.experimental as object | undefined), forksafe: { commandLinks: true } }; },
    initialize: () => undefined,
    getState: () => ({ kind: 'static' }),
    clear: () => undefined,
  });
  const view = new SimulationView(() => client);
  const status = new StatusBar();
  context.subscriptions.push(
    output, view, status,
    vscode.window.registerUriHandler({ handleUri: (uri) => rules.open(uri) }),
    // forksafe.scanWorkspace is the server's (workspace/executeCommand); vscode-languageclient registers it.
    vscode.commands.registerCommand(SHOW_SIMULATION_COMMAND, (args?: ShowSimulationArgs) => view.show(args)),
    client.onNotification(StatusNotification, (p) => status.update(p)),
    vscode.workspace.onDidCloseTextDocument((d) => status.forget(d.uri.toString())),
    vscode.commands.registerCommand('forksafe.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('forksafe.restartServer', async () => {
      output.appendLine('[client] restarting the server on request');
      await client?.restart();
    }),
  );
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
