// Builds the kernel probe (forksafeProbe.c, ours) with the system C compiler, runs it, and reads this machine's kernel.

import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type KernelVersion, newerThanModelledNote, parseKernelVersion } from '../simulation/kernelEra';
import type { ProbeReport } from './probeCompare';

const SOURCE_NAME = 'forksafeProbe.c';

/** The probe's C source: beside the bundle (server/dist), or in the source tree (server/probe). */
export function findProbeSource(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    for (const candidate of [path.join(dir, SOURCE_NAME), path.join(dir, 'server', 'probe', SOURCE_NAME)]) {
      if (fs.existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`forksafe: cannot find ${SOURCE_NAME} above ${start}`);
    dir = parent;
  }
}

export type BuiltProbe = { binary: string } | { unavailable: string };

/** Compiles the probe once per source version into a per-user cache folder; says why when it cannot. */
export function buildProbe(env: NodeJS.ProcessEnv = process.env): BuiltProbe {
  if (os.platform() !== 'linux') return { unavailable: `the probe needs a Linux kernel (this is ${os.platform()})` };
  let source: string;
  try {
    source = findProbeSource();
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
  const text = fs.readFileSync(source);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `forksafe-probe-${os.userInfo().uid}`);
  const binary = path.join(dir, `forksafe-probe-${hash}`);
  if (fs.existsSync(binary)) return { binary };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const compilers = [env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => typeof c === 'string' && c.length > 0);
  const errors: string[] = [];
  for (const cc of compilers) {
    const partial = `${binary}.${process.pid}`;
    const r = spawnSync(cc, ['-O1', '-Wall', '-o', partial, source], { encoding: 'utf8' });
    if (r.error) { errors.push(`${cc}: ${r.error.message}`); continue; }
    if (r.status !== 0) return { unavailable: `the probe does not compile with ${cc}:\n${r.stderr}` };
    fs.renameSync(partial, binary);
    return { binary };
  }
  return { unavailable: `no C compiler to build the probe (${errors.join('; ')}); install gcc or set CC` };
}

/** Runs the probe with its arguments and reads its one JSON line; a crash or garbage becomes an `error` report. */
export function runProbe(binary: string, args: readonly string[]): ProbeReport {
  const r = spawnSync(binary, [...args], { encoding: 'utf8', timeout: 20000 });
  if (r.error) return { error: `the probe did not run: ${r.error.message}` };
  try {
    const report = JSON.parse(r.stdout.trim()) as ProbeReport;
    if (r.status !== 0 && !report.error) report.error = `the probe exited with ${r.status}: ${r.stderr.trim()}`;
    return report;
  } catch {
    return { error: `the probe exited with ${r.status ?? r.signal}: ${(r.stdout + r.stderr).trim().slice(0, 400)}` };
  }
}

export interface HostKernel {
  release: string;
  version: KernelVersion | undefined;
  /** The version the simulator runs for it: a kernel newer than the newest modelled one uses that one's rules. */
  simulated: KernelVersion | undefined;
  note: string | undefined;
}

export function hostKernel(release: string = os.release()): HostKernel {
  const version = os.platform() === 'linux' ? parseKernelVersion(release) : undefined;
  if (!version) return { release, version, simulated: undefined, note: undefined };
  return { release, version, simulated: version, note: newerThanModelledNote(version) };
}

/**
 * Waits (up to `timeoutMs`) until `count` hugetlb pages are free. A probe that pinned a huge page with io_uring gives
 * it back only when the kernel tears the ring down, after the process has exited, on a workqueue: the next probe
 * started at once can find the page still taken (its fork fails with ENOMEM), more often on a loaded machine.
 * False when the pages did not come back in time (or the count cannot be read).
 */
export function waitForFreeHugetlbPages(count: number, timeoutMs = 5000): boolean {
  const free = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';
  const until = Date.now() + timeoutMs;
  for (;;) {
    let now: number;
    try { now = Number(fs.readFileSync(free, 'utf8').trim()); } catch { return false; }
    if (now >= count) return true;
    if (Date.now() >= until) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** Reserves `count` free hugetlb pages (root only) and returns how to put the setting back; undefined when it cannot. */
export function reserveHugetlbPages(count: number): { restore: () => void; reason?: undefined } | { reason: string } {
  const setting = '/proc/sys/vm/nr_hugepages';
  const free = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';
  try {
    const before = Number(fs.readFileSync(setting, 'utf8').trim());
    const available = Number(fs.readFileSync(free, 'utf8').trim());
    if (available >= count) return { restore: () => undefined };
    fs.writeFileSync(setting, String(before + count - available));
    const now = Number(fs.readFileSync(free, 'utf8').trim());
    const restore = (): void => { try { fs.writeFileSync(setting, String(before)); } catch { /* best effort */ } };
    if (now < count) { restore(); return { reason: `the kernel gave only ${now} of ${count} hugetlb pages` }; }
    return { restore };
  } catch (err) {
    return { reason: `cannot reserve hugetlb pages (${(err as Error).message}); as root: echo ${count} > ${setting}` };
  }
}
