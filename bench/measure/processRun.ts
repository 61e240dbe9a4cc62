// Runs a command and measures it: wall time, peak RSS (GNU time's maximum resident set size) and the peak summed RSS of its process tree.
import { spawn } from 'child_process';
import * as fs from 'fs';

export interface Measured {
  command: string;
  wallMs: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Largest resident set of any single process of the run (GNU time -v, else sampled VmHWM); KiB. */
  peakRssKb: number | undefined;
  /** Largest sum of VmRSS over the whole process tree, sampled every `sampleMs`; KiB (covers child-process workers). */
  treePeakRssKb: number;
  /** How the single-process peak was obtained. */
  rssSource: 'gnu-time' | 'sampled-VmHWM';
  userS?: number;
  sysS?: number;
}

const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  try {
    fs.accessSync(GNU_TIME, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** `pid` and all its descendants, through /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    let tasks: string[] = [];
    try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(/\s+/)) if (c) stack.push(Number(c));
      } catch { /* the task ended */ }
    }
  }
  return out;
}

/** Spawns `cmd args` (under GNU time -v when installed) and samples the tree's memory until it exits. */
export function runMeasured(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; sampleMs?: number } = {}): Promise<Measured> {
  const useTime = hasGnuTime();
  const argv = useTime ? ['-v', cmd, ...args] : args;
  const started = performance.now();
  const child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  let treePeak = 0;
  let hwm = 0;
  const sample = (): void => {
    if (child.pid === undefined) return;
    let sum = 0;
    for (const p of processTree(child.pid)) {
      sum += statusKb(p, 'VmRSS');
      hwm = Math.max(hwm, statusKb(p, 'VmHWM'));
    }
    treePeak = Math.max(treePeak, sum);
  };
  const timer = setInterval(sample, opts.sampleMs ?? 20);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => { clearInterval(timer); reject(err); });
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      clearInterval(timer);
      let err = Buffer.concat(stderr).toString();
      let peakRssKb: number | undefined = hwm || undefined;
      let userS: number | undefined;
      let sysS: number | undefined;
      let exitCode = code;
      if (useTime) {
        // GNU time appends its report to stderr; take it off so callers see the command's own stderr.
        const at = err.lastIndexOf('\tCommand being timed:');
        const report = at >= 0 ? err.slice(at) : '';
        if (at >= 0) err = err.slice(0, at).replace(/Command (exited with non-zero status|terminated by signal) \d+\n$/, '');
        const num = (re: RegExp): number | undefined => { const m = re.exec(report); return m ? Number(m[1]) : undefined; };
        peakRssKb = num(/Maximum resident set size \(kbytes\): (\d+)/) ?? peakRssKb;
        userS = num(/User time \(seconds\): ([\d.]+)/);
        sysS = num(/System time \(seconds\): ([\d.]+)/);
        exitCode = num(/Exit status: (\d+)/) ?? code;
      }
      resolve({
        command: [cmd, ...args].join(' '), wallMs, exitCode, stdout: Buffer.concat(stdout).toString(), stderr: err,
        peakRssKb, treePeakRssKb: treePeak, rssSource: useTime ? 'gnu-time' : 'sampled-VmHWM', userS, sysS,
      });
    });
  });
}

/** True when `name` is an executable on PATH. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const full = `${dir}/${name}`;
    try {
      fs.accessSync(full, fs.constants.X_OK);
      return full;
    } catch { /* not here */ }
  }
  return undefined;
}
