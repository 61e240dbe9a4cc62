// Pulls forksafe.* settings per resource with workspace/configuration, falling back to initializationOptions and defaults.
import type { Connection } from 'vscode-languageserver';
import { ForksafeSettings, resolveSettings } from '../settings';

export class SettingsCache {
  private readonly perUri = new Map<string, Promise<ForksafeSettings>>();
  private pullSupported = false;
  private initOptions: unknown;

  constructor(private readonly connection: Connection, private readonly log: (msg: string) => void) {}

  configure(pullSupported: boolean, initializationOptions: unknown): void {
    this.pullSupported = pullSupported;
    this.initOptions = initializationOptions;
  }

  get(uri: string): Promise<ForksafeSettings> {
    let cached = this.perUri.get(uri);
    if (!cached) {
      cached = this.fetch(uri);
      this.perUri.set(uri, cached);
    }
    return cached;
  }

  private async fetch(uri: string): Promise<ForksafeSettings> {
    let raw: unknown = (this.initOptions as { settings?: unknown } | undefined)?.settings ?? this.initOptions;
    if (this.pullSupported) {
      try {
        const pulled: unknown = await this.connection.workspace.getConfiguration({ scopeUri: uri, section: 'forksafe' });
        if (pulled && typeof pulled === 'object') raw = pulled;
      } catch (err) {
        this.log(`workspace/configuration failed for ${uri}: ${(err as Error).message}; using defaults`);
      }
    }
    const problems: string[] = [];
    const settings = resolveSettings(raw, problems);
    for (const p of problems) this.log(`settings for ${uri}: ${p}`);
    return settings;
  }

  forget(uri: string): void {
    this.perUri.delete(uri);
  }

  clear(): void {
    this.perUri.clear();
  }
}
