// `npm run bench -- --tree DIR`: the same tree measured side by side in one run: the I/O floor (cat, grep -l for the pin names), forksafe scan, and spatch with the literal semantic patch.
import * as path from 'path';
import { Measured, runMeasured } from './processRun';
import { CLI_BUNDLE, COCCI_RULE, median } from './scanBench';

export interface TreeRow { label: string; wallMs: number; minWallMs: number; cpuMs: number | undefined; peakRssKb: number; treePeakRssKb: number; exitCode: number | null; note?: string }

/** The names a text prefilter has to find: what `grep -l` is given as the floor of "which files can matter". */
const PIN_NAMES = 'get_user_pages|pin_user_pages|FOLL_WRITE|FOLL_LONGTERM|MADV_DONTFORK|VM_DONTCOPY|mmu_interval_notifier|mmu_notifier';

function row(label: string, runs: Measured[], note?: string): TreeRow {
  const cpu = runs.filter((r) => r.userS !== undefined).map((r) => ((r.userS ?? 0) + (r.sysS ?? 0)) * 1000);
  return {
    label, wallMs: median(runs.map((r) => r.wallMs)), minWallMs: Math.min(...runs.map((r) => r.wallMs)), cpuMs: cpu.length > 0 ? median(cpu) : undefined,
    peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)), treePeakRssKb: Math.max(...runs.map((r) => r.treePeakRssKb)), exitCode: runs[runs.length - 1].exitCode, note,
  };
}

async function repeatRun(cmd: string, args: string[], repeat: number, cwd: string): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await runMeasured(cmd, args, { cwd }));
  return runs;
}

/**
 * Measures `dir` (paired: each tool once per round, `repeat` rounds, so load drifts hit all alike): cat of every
 * .c/.h, grep -l for the pin names, forksafe scan (default text output, as CI runs it), spatch when installed.
 */
export async function measureTree(dir: string, repeat: number, spatch: string | undefined): Promise<TreeRow[]> {
  const cwd = path.dirname(path.resolve(dir));
  const target = path.basename(path.resolve(dir));
  const tools: Array<{ label: string; cmd: string; args: string[] }> = [
    { label: 'cat every .c/.h (I/O floor)', cmd: 'sh', args: ['-c', `find "${target}" -type f \\( -name '*.c' -o -name '*.h' \\) -print0 | xargs -0 cat > /dev/null`] },
    { label: 'grep -l the pin names', cmd: 'sh', args: ['-c', `grep -rlE '${PIN_NAMES}' --include='*.c' --include='*.h' "${target}" > /dev/null; true`] },
    { label: 'forksafe scan (wasm parser)', cmd: process.execPath, args: [CLI_BUNDLE, 'scan', '--fail-on', 'none', '--no-progress', '-o', '/dev/null', target] },
    ...(spatch ? [{ label: 'spatch (literal semantic patch)', cmd: spatch, args: ['--sp-file', COCCI_RULE, '--dir', target] }] : []),
  ];
  const runs = new Map<string, Measured[]>(tools.map((t) => [t.label, []]));
  for (let i = 0; i < repeat; i++) {
    for (const t of tools) runs.get(t.label)!.push(...await repeatRun(t.cmd, t.args, 1, cwd));
  }
  return tools.map((t) => row(t.label, runs.get(t.label)!));
}

/**
 * One `forksafe scan --no-prefilter` of `dir` (default jobs, default text output): every file parsed and analysed
 * with its whole folder as context. Its peak RSS is issue 14's `--no-prefilter` number (target 500 MB).
 */
export async function measureTreeWithoutPrefilter(dir: string): Promise<TreeRow> {
  const cwd = path.dirname(path.resolve(dir));
  const target = path.basename(path.resolve(dir));
  const label = 'forksafe scan --no-prefilter';
  return row(label, await repeatRun(process.execPath, [CLI_BUNDLE, 'scan', '--no-prefilter', '--fail-on', 'none', '--no-progress', '-o', '/dev/null', target], 1, cwd));
}
