// `forksafe scan` options: command-line flags merged over the configuration file over the defaults; every problem is a usage error (exit 2).
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { isRuleCode } from '../analysis/rules';
import type { RuleCode, SeveritySetting } from '../analysis/rules';
import { ForksafeSettings, resolveSettings } from '../settings';
import { ConfigError, FAIL_ON_LEVELS, locateConfigFile, readConfigFile, ScanConfig } from '../runtime/scanConfig';

export const FORMATS = ['text', 'gcc', 'json', 'sarif'] as const;
export type OutputFormat = (typeof FORMATS)[number];
export type FailOn = (typeof FAIL_ON_LEVELS)[number];

export interface ScanOptions {
  inputs: string[];
  settings: ForksafeSettings;
  format: OutputFormat;
  /** Write the report here instead of stdout. */
  output: string | undefined;
  failOn: FailOn;
  gitignore: boolean;
  baseline: string | undefined;
  updateBaseline: boolean;
  /** Analysers (the main thread and jobs - 1 workers); undefined: one per core, workers only for work that pays for them. */
  jobs: number | undefined;
  explain: boolean;
  /** undefined: colour when stdout is a terminal and NO_COLOR is unset. */
  color: boolean | undefined;
  progress: boolean;
  /** False parses every file (the check the two-phase scan is measured against). */
  prefilter: boolean;
  /** The folder paths are reported relative to in SARIF and baselines, and globs are matched from: the config file's, else the current one. */
  root: string;
  configPath: string | undefined;
  /** Quick fixes: `apply` writes the safe fixes in place, `dry-run` prints them as a diff, `patch` writes a git am-able series. */
  fix: 'none' | 'apply' | 'dry-run' | 'patch';
  /** --format-patch: the folder the patch series is written to. */
  patchDir: string | undefined;
  /** --author for the patches ("Name <email>"); undefined: git's identity, else a placeholder. */
  author: string | undefined;
}

export const SCAN_USAGE = `usage: forksafe scan [options] <files or folders...>

Scans C sources (.c, .h) for user-page pins that fork() breaks. Settings come from the flags, then from
forksafe.json or .forksaferc (JSON) in the nearest folder upwards, then the defaults.

output:
  --format F             text (default: grouped by file), gcc (file:line:col: severity: message [FS###]),
                         json (documented schema), sarif (SARIF 2.1.0)
  -o, --output FILE      write the report to FILE instead of standard output
  --explain              under each finding (text, gcc), the simulated fork() outcome and the why/fix
  --[no-]color           colour the text format (default: when standard output is a terminal and NO_COLOR is unset)
  --[no-]progress        a progress bar on standard error when it is a terminal (default on)

analysis:
  --kernel X.Y|auto      kernel version for the era model (default auto: from the build, docs/build.md: the
                         --kernel-dir, compile_commands.json, the driver's KDIR, the tree's Makefile, the running
                         kernel's build directory; else the newest modelled kernel)
  --kernel-dir DIR       the kernel build directory the driver is built against (make -C DIR); its generated
                         version.h (or Makefile) gives the version
  --compile-commands P   the compile_commands.json (or its folder) to read the kernel and macros from (default:
                         searched from each file's folder upwards, also in build/)
  --severity FS###=LEVEL per-rule severity: error|warning|information|hint|off (repeatable, or comma-separated)
  --driver-scope S       where protections and wrappers are searched: directory (default), file, workspace
  --max-file-size-kb N   larger files are not analysed and reported as FS009 (default 8192)
  --time-budget-ms N     per-file parse and analysis budget (default 5000)

files:
  --include GLOB         files to scan in folders (repeatable; replaces the default **/*.c and **/*.h)
  --exclude GLOB         files or folders to skip (repeatable; added to the configured excludes)
  --[no-]gitignore       skip what .gitignore files ignore (default off)
  --config FILE          the configuration file to use instead of searching for one

fixes:
  --fix                  apply the safe quick fixes in place (the set source.fixAll applies in the editor), then
                         report what is left; rounds repeat while fixes that overlapped an earlier one remain
  --fix-dry-run          print the safe fixes as a git-style unified diff on standard output and change nothing
                         (the report goes only to -o FILE); paths are relative to the current folder
  (forksafe fix --format-patch DIR writes them as one git am-able patch per driver: forksafe fix --help)

CI:
  --fail-on LEVEL        exit 1 when a finding is at or above LEVEL: error|warning|information|hint|none (default hint)
  --baseline FILE        report only findings not recorded in FILE (matched by fingerprint, so moved lines still match)
  --update-baseline      write every current finding to the --baseline FILE and exit 0
  -j, --jobs N           worker threads that read and analyse whole folders (default: one per core, for trees of
                         20,000 files or more; smaller scans use the main thread; 1: the main thread only)
  --no-prefilter         parse and analyse every file instead of the two-phase scan (slower; same findings)

exit codes: 0 no finding at or above --fail-on, 1 findings, 2 usage error or a file that could not be read
            (2 wins over 1: an incomplete scan is never reported as a plain pass or fail)
`;

export const FIX_USAGE = `usage: forksafe fix [scan options] [--dry-run | --format-patch DIR [--author "Name <email>"]] <files or folders...>

Applies forksafe's safe quick fixes (the ones the editor's "Fix all" applies: converting a long-lived
get_user_pages*() pin to pin_user_pages*() with FOLL_LONGTERM together with every release of its pages,
adding FOLL_LONGTERM, matching a release to how the pages were taken). Fixes that need a person (a
suppression's reason, a userspace contract) are never applied.

  (no mode)              apply the fixes in place and report what is left (as forksafe scan --fix)
  --dry-run              print the fixes as a git-style unified diff and change nothing (as forksafe scan --fix-dry-run)
  --format-patch DIR     change nothing; write one patch per driver folder into DIR (0001-....patch), each a
                         git format-patch mail with a kernel-style subject ("<driver>: ...") and a body that says
                         what fork() does to the pin, the simulated outcome, the sites and the kernel commits the
                         change relies on. Paths are relative to the git work tree holding the driver. Apply with
                         git am (add -s for your Signed-off-by), or send with git send-email.
  --author "N <e>"       the patches' author (default: git var GIT_AUTHOR_IDENT, else a placeholder to replace)

Every option of forksafe scan applies (forksafe scan --help): --kernel decides which fixes exist.
`;

export class UsageError extends Error {}

const SEVERITY_LEVELS = ['error', 'warning', 'information', 'hint', 'off'];

function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, not '${value}'`);
  return n;
}

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not '${value}'`);
  return n;
}

/** `FS001=warning,FS007=off` (several flags allowed) into a severity map. */
export function parseSeverityFlags(values: string[]): Partial<Record<RuleCode, SeveritySetting>> {
  const out: Partial<Record<RuleCode, SeveritySetting>> = {};
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')) {
    const m = /^(FS\d{3})=(\w+)$/.exec(item);
    if (!m) throw new UsageError(`--severity expects FS###=LEVEL, not '${item}'`);
    if (!isRuleCode(m[1])) throw new UsageError(`--severity: unknown rule ${m[1]}`);
    if (!SEVERITY_LEVELS.includes(m[2])) throw new UsageError(`--severity ${m[1]}: '${m[2]}' is not one of ${SEVERITY_LEVELS.join(', ')}`);
    out[m[1]] = m[2] as SeveritySetting;
  }
  return out;
}

/** Parses `forksafe scan` arguments and merges them over the configuration file; throws UsageError or ConfigError. */
export function parseScanOptions(args: string[], cwd: string, command: 'scan' | 'fix' = 'scan'): ScanOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true, allowNegative: true,
      options: {
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        explain: { type: 'boolean' },
        color: { type: 'boolean' },
        progress: { type: 'boolean' },
        kernel: { type: 'string' },
        'kernel-dir': { type: 'string' },
        'compile-commands': { type: 'string' },
        severity: { type: 'string', multiple: true },
        'driver-scope': { type: 'string' },
        'max-file-size-kb': { type: 'string' },
        'time-budget-ms': { type: 'string' },
        include: { type: 'string', multiple: true },
        exclude: { type: 'string', multiple: true },
        gitignore: { type: 'boolean' },
        config: { type: 'string' },
        'fail-on': { type: 'string' },
        baseline: { type: 'string' },
        'update-baseline': { type: 'boolean' },
        jobs: { type: 'string', short: 'j' },
        prefilter: { type: 'boolean' },
        ...(command === 'scan'
          ? { fix: { type: 'boolean' }, 'fix-dry-run': { type: 'boolean' } } as const
          : { 'dry-run': { type: 'boolean' }, 'format-patch': { type: 'string' }, author: { type: 'string' } } as const),
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values as typeof parsed.values & { fix?: boolean; 'fix-dry-run'?: boolean; 'dry-run'?: boolean; 'format-patch'?: string; author?: string };
  if (v.help) return 'help';
  const modes = command === 'scan'
    ? [v.fix ? 'apply' : undefined, v['fix-dry-run'] ? 'dry-run' : undefined]
    : [v['dry-run'] ? 'dry-run' : undefined, v['format-patch'] !== undefined ? 'patch' : undefined];
  const chosen = modes.filter((m): m is 'apply' | 'dry-run' | 'patch' => m !== undefined);
  if (chosen.length > 1) throw new UsageError(command === 'scan' ? '--fix and --fix-dry-run exclude each other' : '--dry-run and --format-patch exclude each other');
  const fix = chosen[0] ?? (command === 'fix' ? 'apply' : 'none');
  if (v.author !== undefined && fix !== 'patch') throw new UsageError('--author goes with --format-patch');
  if (v.author !== undefined && !/^[^<>]+ <[^<>\s]+>$/.test(v.author)) throw new UsageError(`--author expects "Name <email>", not '${v.author}'`);
  if (v['format-patch'] === '') throw new UsageError('--format-patch needs a folder');
  const inputs = parsed.positionals;
  if (inputs.length === 0) throw new UsageError('no files or folders given (try: forksafe scan examples)');
  const format = v.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown --format '${format}' (${FORMATS.join(', ')})`);

  let config: ScanConfig | undefined;
  const configPath = v.config !== undefined ? path.resolve(cwd, v.config) : locateConfigFile(inputs, cwd);
  if (configPath) config = readConfigFile(configPath);

  const raw: Record<string, unknown> = { ...(config?.settings ?? {}) };
  const severity = { ...((raw.severity as Record<string, unknown> | undefined) ?? {}), ...parseSeverityFlags(v.severity ?? []) };
  raw.severity = severity;
  if (v.kernel !== undefined) raw.kernelVersion = v.kernel;
  if (v['kernel-dir'] !== undefined) {
    const dir = path.resolve(cwd, v['kernel-dir']);
    if (!fs.existsSync(dir)) throw new UsageError(`--kernel-dir ${v['kernel-dir']}: no such folder`);
    raw.kernelDir = dir;
  } else if (typeof raw.kernelDir === 'string' && raw.kernelDir !== '' && configPath) raw.kernelDir = path.resolve(path.dirname(configPath), raw.kernelDir);
  if (v['compile-commands'] !== undefined) {
    const db = path.resolve(cwd, v['compile-commands']);
    if (!fs.existsSync(db)) throw new UsageError(`--compile-commands ${v['compile-commands']}: no such file or folder`);
    raw.compileCommands = db;
  } else if (typeof raw.compileCommands === 'string' && raw.compileCommands !== '' && configPath) raw.compileCommands = path.resolve(path.dirname(configPath), raw.compileCommands);
  if (v['driver-scope'] !== undefined) raw.driverScope = v['driver-scope'];
  if (v['max-file-size-kb'] !== undefined) raw.maxFileSizeKb = positiveNumber('--max-file-size-kb', v['max-file-size-kb']);
  if (v['time-budget-ms'] !== undefined) raw.timeBudgetMs = positiveNumber('--time-budget-ms', v['time-budget-ms']);
  if (v.include !== undefined) raw.include = v.include;
  const problems: string[] = [];
  const settings = resolveSettings(raw, problems);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  if (v.exclude !== undefined) settings.exclude = [...settings.exclude, ...v.exclude];

  const failOn = v['fail-on'] ?? config?.failOn ?? 'hint';
  if (!(FAIL_ON_LEVELS as readonly string[]).includes(failOn)) throw new UsageError(`unknown --fail-on '${failOn}' (${FAIL_ON_LEVELS.join(', ')})`);
  const baseline = v.baseline !== undefined ? path.resolve(cwd, v.baseline) : config?.baseline;
  if (v['update-baseline'] && !baseline) throw new UsageError('--update-baseline needs --baseline FILE (or "baseline" in the configuration file)');
  return {
    inputs, settings, format: format as OutputFormat,
    output: v.output,
    failOn: failOn as FailOn,
    gitignore: v.gitignore ?? config?.gitignore ?? false,
    baseline, updateBaseline: v['update-baseline'] === true,
    jobs: v.jobs !== undefined ? positiveInteger('--jobs', v.jobs) : undefined,
    explain: v.explain === true,
    color: v.color,
    progress: v.progress ?? true,
    prefilter: v.prefilter ?? true,
    root: configPath ? path.dirname(configPath) : cwd,
    configPath,
    fix, patchDir: v['format-patch'] !== undefined ? path.resolve(cwd, v['format-patch']) : undefined, author: v.author,
  };
}

export { ConfigError };
