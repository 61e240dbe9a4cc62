// Whole-tree runs: `forksafe scan` as a user runs it in CI (text format; timed, with peak RSS) plus one JSON run for the findings, and spatch with the literal rule.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { runMeasured, Measured } from './processRun';
import type { ForksafeFinding } from './findings';

export const CLI_BUNDLE = path.resolve(__dirname, '..', '..', '..', 'server', 'dist', 'cli.js');
export const COCCI_RULE = path.resolve(__dirname, '..', '..', '..', 'bench', 'literalRule.cocci');

/** What this build of the CLI offers, read from `forksafe scan --help`. */
export interface CliCapabilities { jobsFlag: string | undefined; noProgress: boolean; noPrefilter: boolean; help: string }

export function cliCapabilities(): CliCapabilities {
  const help = spawnSync(process.execPath, [CLI_BUNDLE, 'scan', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const jobs = /--(jobs|workers)\b/.exec(help);
  return { jobsFlag: jobs ? `--${jobs[1]}` : undefined, noProgress: /--\[no-\]progress|--no-progress/.test(help), noPrefilter: /--no-prefilter/.test(help), help };
}

export interface ScanRun {
  label: string;
  /** The timed invocation: the default text format, nothing else added but `extra` (e.g. -j 1). */
  args: string[];
  runs: Measured[];
  /** The separate `--format json` run the findings come from, and its wall time (ms). */
  jsonArgs: string[];
  jsonWallMs: number;
  /** Median wall time over the runs, ms. */
  wallMs: number;
  minWallMs: number;
  /** Median user + system CPU time (GNU time), ms; undefined without /usr/bin/time. */
  cpuMs: number | undefined;
  peakRssKb: number;
  treePeakRssKb: number;
  findings: ForksafeFinding[];
  /** From the CLI's JSON or summary line, when it says. */
  filesTotal: number | undefined;
  filesAnalysed: number | undefined;
  summaryLine: string | undefined;
  exitCode: number | null;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Finds numbers the CLI reports about how many files it parsed/analysed, wherever its JSON puts them. */
function countsFromJson(json: Record<string, unknown>): { total?: number; analysed?: number } {
  const out: { total?: number; analysed?: number } = {};
  const visit = (o: unknown, depth: number): void => {
    if (!o || typeof o !== 'object' || depth > 3 || Array.isArray(o)) return;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (typeof v === 'number') {
        if (/^files(Total|Scanned)?$/i.test(k) && out.total === undefined) out.total = v;
        if (/^(files)?(analy[sz]ed|parsed)$/i.test(k) && out.analysed === undefined) out.analysed = v;
      } else visit(v, depth + 1);
    }
  };
  visit(json, 0);
  return out;
}

/**
 * Times `forksafe scan [extra] target` as CI runs it (text format, exit 1 when there are findings; stderr is a pipe,
 * so no progress bar) `repeat` times, then runs it once more with `--format json` for the findings and file counts.
 */
export async function runForksafeScan(corpus: string, target: string, label: string, extra: string[], caps: CliCapabilities, repeat: number): Promise<ScanRun> {
  const args = [CLI_BUNDLE, 'scan', ...extra, target];
  const runs: Measured[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await runMeasured(process.execPath, args, { cwd: corpus }));
  const last = runs[runs.length - 1];
  const jsonArgs = [CLI_BUNDLE, 'scan', '--format', 'json', '--fail-on', 'none', ...(caps.noProgress ? ['--no-progress'] : []), ...extra, target];
  const json = await runMeasured(process.execPath, jsonArgs, { cwd: corpus });
  let findings: ForksafeFinding[] = [];
  let total: number | undefined;
  let analysed: number | undefined;
  try {
    const parsed = JSON.parse(json.stdout) as Record<string, unknown> & { findings?: ForksafeFinding[] };
    findings = (parsed.findings ?? []).map((f) => ({ path: f.path, line: f.line, code: f.code }));
    ({ total, analysed } = countsFromJson(parsed));
  } catch {
    throw new Error(`forksafe scan --format json (${label}) did not print JSON (exit ${json.exitCode}):\n${json.stderr.slice(-2000)}`);
  }
  const summaryLine = last.stderr.split('\n').reverse().find((l) => /\d+ files?\b/.test(l) && /analy[sz]ed|parsed|skipped/.test(l));
  if (analysed === undefined && summaryLine) {
    const m = /(\d+) files? \((\d+) (?:analy[sz]ed|parsed)\)/.exec(summaryLine);
    if (m) { total ??= Number(m[1]); analysed = Number(m[2]); }
  }
  return {
    label, args: args.slice(1), runs, jsonArgs: jsonArgs.slice(1), jsonWallMs: json.wallMs,
    wallMs: median(runs.map((r) => r.wallMs)), minWallMs: Math.min(...runs.map((r) => r.wallMs)), cpuMs: cpuOf(runs),
    peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)), treePeakRssKb: Math.max(...runs.map((r) => r.treePeakRssKb)),
    findings, filesTotal: total, filesAnalysed: analysed, summaryLine, exitCode: last.exitCode,
  };
}

function cpuOf(runs: Measured[]): number | undefined {
  const cpu = runs.filter((r) => r.userS !== undefined).map((r) => ((r.userS ?? 0) + (r.sysS ?? 0)) * 1000);
  return cpu.length > 0 ? median(cpu) : undefined;
}

export interface SpatchRun { runs: Measured[]; wallMs: number; minWallMs: number; cpuMs: number | undefined; peakRssKb: number; stdout: string; handled: number | undefined; exitCode: number | null }

/** spatch with default options over the tree (it reports HANDLING/Skipping per file on stderr). */
export async function runSpatch(spatch: string, corpus: string, target: string, repeat: number): Promise<SpatchRun> {
  const runs: Measured[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await runMeasured(spatch, ['--sp-file', COCCI_RULE, '--dir', target], { cwd: corpus }));
  const last = runs[runs.length - 1];
  const handled = (last.stderr.match(/^HANDLING: /gm) ?? []).length;
  return {
    runs, wallMs: median(runs.map((r) => r.wallMs)), minWallMs: Math.min(...runs.map((r) => r.wallMs)), cpuMs: cpuOf(runs),
    peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)), stdout: last.stdout, handled: handled || undefined, exitCode: last.exitCode,
  };
}
