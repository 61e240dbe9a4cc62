// The settings schema shared by the language server and the CLI, with the defaults both use.
// A test keeps package.json's contributes.configuration equal to these defaults.
import { RULE_CODES, RULES, RuleCode, SeveritySetting } from './analysis/rules';
import type { KernelVersionLite } from './analysis/pinApis';
import type { BuildDefines } from './analysis/preprocessor';

export type DriverScope = 'directory' | 'file' | 'workspace';

export interface ForksafeSettings {
  /** 'auto' (detect from the tree's Makefile, else the newest modelled kernel) or 'x.y'. */
  kernelVersion: string;
  severity: Record<RuleCode, SeveritySetting>;
  /** Where protections and wrappers are searched: the file's directory (the driver), the file only, or the whole workspace. */
  driverScope: DriverScope;
  include: string[];
  exclude: string[];
  /** Files larger than this are not analysed (FS009 is reported instead). */
  maxFileSizeKb: number;
  /** Per-file budget for parsing and analysis; when hit, FS009 says so. */
  timeBudgetMs: number;
  /** Base URL of the rule docs; empty means the docs shipped with forksafe (file: URIs). */
  docsBaseUrl: string;
  /**
   * The kernel build directory the driver is built against (what `make -C` is given), read for the kernel version
   * when kernelVersion is 'auto'; empty: found from compile_commands.json, the driver's KDIR, the tree (docs/build.md).
   */
  kernelDir: string;
  /** The compile_commands.json (or the folder holding it) to read the build from; empty: searched as clangd does. */
  compileCommands: string;
  /**
   * Not a user setting: the kernel and macros one compile command gives (`forksafe check`, the kbuild checker mode),
   * used instead of detecting them. Plain data, so it crosses to scan workers.
   */
  build?: { version: KernelVersionLite; source: string; defines?: BuildDefines };
}

export function defaultSeverities(): Record<RuleCode, SeveritySetting> {
  const out = {} as Record<RuleCode, SeveritySetting>;
  for (const code of RULE_CODES) out[code] = RULES[code].defaultSeverity;
  return out;
}

export const DEFAULT_SETTINGS: Readonly<ForksafeSettings> = Object.freeze({
  kernelVersion: 'auto',
  severity: defaultSeverities(),
  driverScope: 'directory',
  include: ['**/*.c', '**/*.h'],
  exclude: ['**/node_modules/**', '**/.git/**'],
  maxFileSizeKb: 8192,
  timeBudgetMs: 5000,
  docsBaseUrl: '',
  kernelDir: '',
  compileCommands: '',
});

const SEVERITY_VALUES: readonly string[] = ['error', 'warning', 'information', 'hint', 'off'];
const SCOPES: readonly string[] = ['directory', 'file', 'workspace'];

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/**
 * Merges user-supplied settings (from workspace/configuration, forksafe.json or CLI flags) over the
 * defaults. Invalid values are dropped with a message rather than crashing the server.
 */
export function resolveSettings(input: unknown, problems: string[] = []): ForksafeSettings {
  const out: ForksafeSettings = { ...DEFAULT_SETTINGS, severity: defaultSeverities() };
  if (input === null || typeof input !== 'object') return out;
  const raw = input as Record<string, unknown>;
  if (typeof raw.kernelVersion === 'string') {
    if (raw.kernelVersion === 'auto' || /^v?\d+\.\d+(\.\d+)?$/.test(raw.kernelVersion.trim())) out.kernelVersion = raw.kernelVersion.trim();
    else problems.push(`kernelVersion '${raw.kernelVersion}' is not 'auto' or x.y; using 'auto'`);
  }
  if (raw.severity && typeof raw.severity === 'object') {
    for (const [code, value] of Object.entries(raw.severity as Record<string, unknown>)) {
      if (!(RULE_CODES as readonly string[]).includes(code)) { problems.push(`severity: unknown rule ${code}`); continue; }
      if (typeof value === 'string' && SEVERITY_VALUES.includes(value)) out.severity[code as RuleCode] = value as SeveritySetting;
      else problems.push(`severity.${code}: '${String(value)}' is not one of ${SEVERITY_VALUES.join(', ')}`);
    }
  }
  if (typeof raw.driverScope === 'string') {
    if (SCOPES.includes(raw.driverScope)) out.driverScope = raw.driverScope as DriverScope;
    else problems.push(`driverScope '${raw.driverScope}' is not one of ${SCOPES.join(', ')}`);
  }
  if (isStringArray(raw.include)) out.include = raw.include;
  if (isStringArray(raw.exclude)) out.exclude = raw.exclude;
  if (typeof raw.maxFileSizeKb === 'number' && raw.maxFileSizeKb > 0) out.maxFileSizeKb = raw.maxFileSizeKb;
  if (typeof raw.timeBudgetMs === 'number' && raw.timeBudgetMs > 0) out.timeBudgetMs = raw.timeBudgetMs;
  if (typeof raw.docsBaseUrl === 'string') out.docsBaseUrl = raw.docsBaseUrl;
  if (typeof raw.kernelDir === 'string') out.kernelDir = raw.kernelDir.trim();
  if (typeof raw.compileCommands === 'string') out.compileCommands = raw.compileCommands.trim();
  return out;
}
