// Finds and reads the scanner's configuration file (forksafe.json or .forksaferc, JSON) at the tree root: the editor's settings plus scan options.
import * as fs from 'fs';
import * as path from 'path';
import { resolveSettings } from '../settings';

/** Looked for in this order in each folder; the first found wins. */
export const CONFIG_FILE_NAMES = ['forksafe.json', '.forksaferc'] as const;
/** The editor's settings (forksafe.* without the prefix) that a config file may set. */
const SETTING_KEYS = ['kernelVersion', 'severity', 'driverScope', 'include', 'exclude', 'maxFileSizeKb', 'timeBudgetMs', 'docsBaseUrl', 'kernelDir', 'compileCommands'];
/** Scan-only options. */
const SCAN_KEYS = ['failOn', 'gitignore', 'baseline'];
export const FAIL_ON_LEVELS = ['error', 'warning', 'information', 'hint', 'none'] as const;

export interface ScanConfig {
  path: string;
  /** Settings in the shape resolveSettings takes. */
  settings: Record<string, unknown>;
  failOn?: string;
  gitignore?: boolean;
  /** Absolute: a relative path in the file is taken from the file's folder. */
  baseline?: string;
}

/** A configuration file that cannot be used; the message names the file and what is wrong. */
export class ConfigError extends Error {}

/** The nearest configuration file in `start` or a folder above it. */
export function findConfigFile(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      try { if (fs.statSync(candidate).isFile()) return candidate; } catch { /* not here */ }
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The configuration for a scan: the nearest file upwards from each input (inputs under different files are an
 * error: one scan has one configuration), else the nearest upwards from the current folder.
 */
export function locateConfigFile(inputs: string[], cwd: string): string | undefined {
  const found = new Set<string>();
  for (const input of inputs) {
    let start = path.resolve(cwd, input);
    try { if (!fs.statSync(start).isDirectory()) start = path.dirname(start); } catch { start = path.dirname(start); }
    const file = findConfigFile(start);
    if (file) found.add(file);
  }
  if (found.size > 1) {
    throw new ConfigError(`the inputs belong to different configuration files (${[...found].sort().join(', ')}); scan them separately or pass --config FILE`);
  }
  return [...found][0] ?? findConfigFile(cwd);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Reads and checks a configuration file; any problem is a ConfigError (the scan stops with exit code 2). */
export function readConfigFile(file: string): ScanConfig {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) { throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`); }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (err) { throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`); }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: must hold a JSON object, e.g. { "kernelVersion": "5.4" }`);
  const obj = raw as Record<string, unknown>;
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === '$schema') continue;
    if (SETTING_KEYS.includes(key)) settings[key] = value;
    else if (!SCAN_KEYS.includes(key)) problems.push(`unknown key '${key}' (known: ${[...SETTING_KEYS, ...SCAN_KEYS].join(', ')})`);
  }
  for (const key of ['include', 'exclude']) {
    if (key in settings && !isStringArray(settings[key])) problems.push(`${key} must be an array of glob strings`);
  }
  for (const key of ['maxFileSizeKb', 'timeBudgetMs']) {
    if (key in settings && !(typeof settings[key] === 'number' && (settings[key] as number) > 0)) problems.push(`${key} must be a positive number`);
  }
  for (const key of ['kernelVersion', 'driverScope', 'docsBaseUrl', 'kernelDir', 'compileCommands']) {
    if (key in settings && typeof settings[key] !== 'string') problems.push(`${key} must be a string`);
  }
  if ('severity' in settings && (settings.severity === null || typeof settings.severity !== 'object' || Array.isArray(settings.severity))) {
    problems.push('severity must be an object such as { "FS007": "off" }');
  }
  resolveSettings(settings, problems);
  const config: ScanConfig = { path: file, settings };
  if ('failOn' in obj) {
    if (typeof obj.failOn === 'string' && (FAIL_ON_LEVELS as readonly string[]).includes(obj.failOn)) config.failOn = obj.failOn;
    else problems.push(`failOn must be one of ${FAIL_ON_LEVELS.join(', ')}`);
  }
  if ('gitignore' in obj) {
    if (typeof obj.gitignore === 'boolean') config.gitignore = obj.gitignore;
    else problems.push('gitignore must be true or false');
  }
  if ('baseline' in obj) {
    if (typeof obj.baseline === 'string' && obj.baseline.trim() !== '') config.baseline = path.resolve(path.dirname(file), obj.baseline);
    else problems.push('baseline must be a file path');
  }
  if (problems.length > 0) throw new ConfigError(`${file}: ${problems.join('; ')}`);
  return config;
}
