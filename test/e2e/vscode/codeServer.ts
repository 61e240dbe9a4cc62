// Runs the pinned code-server (a real VS Code build) on loopback with a throwaway profile: installs a .vsix, starts, stops by process group.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../helpers/lspProcess';

/** Where test/e2e/vscode/installCodeServer.mjs installs it. */
export const CODE_SERVER_BIN = path.join(REPO_ROOT, 'node_modules', '.cache', 'forksafe-code-server', 'node_modules', '.bin', 'code-server');

/** User settings that keep the workbench quiet and off the network: no gallery, no update checks, no welcome page. */
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'github.gitAuthentication': false,
  'npm.fetchOnlinePackageInfo': false,
  'editor.minimap.enabled': false,
};

export class CodeServer {
  readonly log: string[] = [];
  private readonly exited: Promise<void>;
  private stopping = false;

  private constructor(private readonly dir: string, private readonly child: ChildProcess, readonly url: string) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  private static paths(dir: string) {
    return {
      userData: path.join(dir, 'user-data'),
      extensions: path.join(dir, 'extensions'),
      config: path.join(dir, 'config.yaml'),
      xdg: path.join(dir, 'xdg'),
    };
  }

  private static env(dir: string): NodeJS.ProcessEnv {
    const p = CodeServer.paths(dir);
    // An empty gallery turns the Marketplace (open-vsx) off: nothing is queried past loopback.
    return { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_CONFIG_HOME: p.xdg, XDG_DATA_HOME: p.xdg, XDG_CACHE_HOME: p.xdg };
  }

  private static common(dir: string): string[] {
    const p = CodeServer.paths(dir);
    return ['--config', p.config, '--user-data-dir', p.userData, '--extensions-dir', p.extensions];
  }

  /** Makes the profile folders under `dir` and installs `vsix` the way `code --install-extension` does. */
  static installExtension(dir: string, vsix: string): string {
    if (!fs.existsSync(CODE_SERVER_BIN)) {
      throw new Error(`code-server is not installed at ${CODE_SERVER_BIN}: run \`node test/e2e/vscode/installCodeServer.mjs\` (npm run test:e2e does).`);
    }
    const p = CodeServer.paths(dir);
    fs.mkdirSync(path.join(p.userData, 'User'), { recursive: true });
    fs.mkdirSync(p.extensions, { recursive: true });
    fs.mkdirSync(p.xdg, { recursive: true });
    fs.writeFileSync(p.config, 'auth: none\ncert: false\n');
    fs.writeFileSync(path.join(p.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
    const r = spawnSync(CODE_SERVER_BIN, [...CodeServer.common(dir), '--install-extension', vsix], { encoding: 'utf8', env: CodeServer.env(dir) });
    if (r.status !== 0) throw new Error(`code-server --install-extension failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** Starts code-server on 127.0.0.1 with a port the OS picks, and resolves once it says where it listens. */
  static start(dir: string): Promise<CodeServer> {
    const args = [...CodeServer.common(dir), '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', '--disable-proxy'];
    // Its own process group, so stop() ends code-server with its extension host and our language server, and nothing else.
    const child = spawn(CODE_SERVER_BIN, args, { detached: true, env: CodeServer.env(dir), stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        log.push(d.toString());
        const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log.join(''));
        if (m) {
          child.stdout!.off('data', onData);
          child.off('exit', onExit);
          const server = new CodeServer(dir, child, m[1]);
          server.log.push(...log);
          child.stdout!.on('data', (x: Buffer) => server.log.push(x.toString()));
          child.stderr!.on('data', (x: Buffer) => server.log.push(x.toString()));
          resolve(server);
        }
      };
      const onExit = (code: number | null) => reject(new Error(`code-server exited (${code}) before listening:\n${log.join('')}`));
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
      child.once('exit', onExit);
      child.once('error', reject);
    });
  }

  /** The VS Code logs of this profile (extension host, our output channel), for a failure message. */
  readLogs(): string {
    const logs = path.join(CodeServer.paths(this.dir).userData, 'logs');
    const out: string[] = [];
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (/exthost\.log$|remoteexthost\.log$|forksafe.*\.log$|remoteagent\.log$/.test(e.name)) out.push(`== ${path.relative(logs, f)}\n${fs.readFileSync(f, 'utf8')}`);
      }
    };
    walk(logs);
    return out.join('\n');
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    const group = -this.child.pid!;
    try { process.kill(group, 'SIGTERM'); } catch { /* already gone */ }
    await this.exited;
    // Whatever of the group outlived code-server's main process (an extension host, a language server) goes now.
    try { process.kill(group, 'SIGKILL'); } catch { /* the group is empty: ESRCH */ }
  }
}
