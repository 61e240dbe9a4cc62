// Editor-side numbers: server start → first diagnostics, and didChange → publishDiagnostics over single-character edits.
import * as fs from 'fs';
import { BenchLspClient } from '../lspClient';
import { Prng } from '../corpus/prng';
import type { ScriptedEdit } from '../editScript';

export interface Percentiles { n: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number }

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

export interface StartupResult {
  runs: number;
  /** spawn → first publishDiagnostics of the opened document, ms. */
  firstDiagnostics: Percentiles;
  /** spawn → initialize answered (runtime + grammar wasm loaded, queries compiled), ms. */
  initialize: Percentiles;
  /** didOpen → first publishDiagnostics (full parse + analysis + context), ms. */
  openToDiagnostics: Percentiles;
  diagnostics: number;
  /** CPU time (user + system) the server process had used when the first diagnostics arrived, ms (robust to a busy machine). */
  cpuToFirstDiagnostics: Percentiles;
}

/** utime + stime of a live process, ms (clock ticks of 10 ms on Linux). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export async function measureStartup(uri: string, text: string, runs: number): Promise<StartupResult> {
  const first: number[] = [], init: number[] = [], open: number[] = [], cpu: number[] = [];
  let diagnostics = 0;
  for (let i = 0; i < runs; i++) {
    const client = new BenchLspClient();
    try {
      await client.initialize();
      const tInit = performance.now();
      const waiting = client.nextDiagnostics(uri, 1);
      const tOpen = performance.now();
      await client.open(uri, text);
      const pub = await waiting;
      cpu.push(processCpuMs(client.pid));
      first.push(pub.at - client.spawnedAt);
      init.push(tInit - client.spawnedAt);
      open.push(pub.at - tOpen);
      diagnostics = pub.diagnostics.length;
      await client.shutdown();
    } finally {
      client.kill();
    }
  }
  return { runs, firstDiagnostics: percentiles(first), initialize: percentiles(init), openToDiagnostics: percentiles(open), diagnostics, cpuToFirstDiagnostics: percentiles(cpu) };
}

export interface EditResult {
  edits: number;
  latency: Percentiles;
  /** Distinct diagnostic counts seen across the edits (the edits are whitespace; one value means every run analysed fully). */
  diagnosticCounts: number[];
  openToDiagnosticsMs: number;
  serverPeakRssKb: number;
  serverRssKb: number;
  /** Server CPU time (user + system) over all the edits divided by their number, ms (robust to a busy machine). */
  serverCpuMsPerEdit: number;
  /** With a workspace folder: the server's log line about its background workspace index (awaited before the edits). */
  workspaceIndex?: string;
}

function statusKb(pid: number | undefined, field: string): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Opens `text` as `uri`, then sends `edits` single-character edits one at a time (a space inserted at the start
 * of a pseudo-random line, then removed), each awaited until the diagnostics of its version arrive. `lines`
 * ([first, last], zero-based) keeps the edits inside one range, e.g. the body of the function that pins.
 */
export async function measureEdits(uri: string, text: string, edits: number, seed: number, nodeFlags: string[] = [], rootUri: string | null = null,
  lines?: [number, number]): Promise<EditResult> {
  const client = new BenchLspClient(nodeFlags);
  const rng = new Prng(seed);
  const lineCount = text.split('\n').length;
  try {
    const { first, openToDiagnosticsMs, workspaceIndex } = await openSettled(client, uri, text, rootUri);
    const latencies: number[] = [];
    const counts = new Set<number>([first.diagnostics.length]);
    let version = 1;
    let inserted: number | undefined;
    const cpu0 = processCpuMs(client.pid);
    for (let i = 0; i < edits; i++) {
      version++;
      let change;
      if (inserted === undefined) {
        inserted = lines ? rng.int(lines[0], lines[1]) : rng.int(0, lineCount - 2);
        change = { range: { start: { line: inserted, character: 0 }, end: { line: inserted, character: 0 } }, text: ' ' };
      } else {
        change = { range: { start: { line: inserted, character: 0 }, end: { line: inserted, character: 1 } }, text: '' };
        inserted = undefined;
      }
      const waiting = client.nextDiagnostics(uri, version);
      const t0 = performance.now();
      await client.change(uri, version, change);
      const pub = await waiting;
      latencies.push(pub.at - t0);
      counts.add(pub.diagnostics.length);
    }
    const serverCpuMsPerEdit = (processCpuMs(client.pid) - cpu0) / edits;
    const serverPeakRssKb = statusKb(client.pid, 'VmHWM');
    const serverRssKb = statusKb(client.pid, 'VmRSS');
    await client.shutdown();
    return { edits, latency: percentiles(latencies), diagnosticCounts: [...counts].sort((a, b) => a - b), openToDiagnosticsMs, serverPeakRssKb, serverRssKb, serverCpuMsPerEdit, workspaceIndex };
  } finally {
    client.kill();
  }
}

export interface ScriptedEditResult extends EditResult {
  /** didChange → publishDiagnostics per kind of edit. */
  byKind: Record<string, Percentiles>;
  /**
   * The first pass over the script (the server's first analyses of these edits: its JIT has not compiled the judging
   * code yet) and every later pass, apart: `latency` counts both.
   */
  firstCycle: Percentiles;
  laterCycles?: Percentiles;
}

/** Starts the server, opens the document and waits for its first diagnostics (and, with a workspace folder, its index). */
async function openSettled(client: BenchLspClient, uri: string, text: string, rootUri: string | null) {
  await client.initialize(rootUri);
  const firstWait = client.nextDiagnostics(uri, 1);
  const tOpen = performance.now();
  await client.open(uri, text);
  const first = await firstWait;
  // Typing is measured in steady state: with a workspace folder, once the background index is built.
  const workspaceIndex = rootUri ? (await client.waitForLog(/workspace index:/)).replace(/^\[forksafe\] /, '') : undefined;
  // And once the server has finished what the open started after the first diagnostics (the full parse and analysis
  // behind a first look, the watch names): the first edit would otherwise be timed behind them. Open -> diagnostics is
  // measured on its own (measureStartup, openToDiagnosticsMs).
  await serverIdle(client.pid);
  return { first, openToDiagnosticsMs: first.at - tOpen, workspaceIndex };
}

/** Resolves once the process has used no CPU for `quietMs` (clock-tick resolution, /proc), or after `maxMs`. */
export async function serverIdle(pid: number | undefined, quietMs = 100, maxMs = 10_000): Promise<void> {
  if (pid === undefined) return;
  const until = performance.now() + maxMs;
  let last = processCpuMs(pid);
  let quietSince = performance.now();
  while (performance.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    const now = processCpuMs(pid);
    if (now !== last) { last = now; quietSince = performance.now(); } else if (performance.now() - quietSince >= quietMs) return;
  }
}

/**
 * Replays `script` (bench/editScript.ts: edits inside the pinning function that change the report) `cycles` times,
 * each edit awaited until the diagnostics of its version arrive.
 */
export async function measureScriptedEdits(uri: string, text: string, script: ScriptedEdit[], cycles: number, nodeFlags: string[] = [],
  rootUri: string | null = null): Promise<ScriptedEditResult> {
  const client = new BenchLspClient(nodeFlags);
  try {
    const { first, openToDiagnosticsMs, workspaceIndex } = await openSettled(client, uri, text, rootUri);
    const latencies: number[] = [];
    const firstCycle: number[] = [];
    const byKind = new Map<string, number[]>();
    const counts = new Set<number>([first.diagnostics.length]);
    let version = 1;
    const cpu0 = processCpuMs(client.pid);
    for (let c = 0; c < cycles; c++) {
      for (const e of script) {
        version++;
        const waiting = client.nextDiagnostics(uri, version);
        const t0 = performance.now();
        await client.change(uri, version, { range: e.range, text: e.text });
        const pub = await waiting;
        const ms = pub.at - t0;
        latencies.push(ms);
        if (c === 0) firstCycle.push(ms);
        byKind.set(e.kind, [...(byKind.get(e.kind) ?? []), ms]);
        counts.add(pub.diagnostics.length);
      }
    }
    const edits = latencies.length;
    const serverCpuMsPerEdit = (processCpuMs(client.pid) - cpu0) / Math.max(1, edits);
    const serverPeakRssKb = statusKb(client.pid, 'VmHWM');
    const serverRssKb = statusKb(client.pid, 'VmRSS');
    await client.shutdown();
    return {
      edits, latency: percentiles(latencies), diagnosticCounts: [...counts].sort((a, b) => a - b), openToDiagnosticsMs, serverPeakRssKb,
      serverRssKb, serverCpuMsPerEdit, workspaceIndex, byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, percentiles(v)])),
      firstCycle: percentiles(firstCycle), laterCycles: cycles > 1 ? percentiles(latencies.slice(firstCycle.length)) : undefined,
    };
  } finally {
    client.kill();
  }
}
