// Whole-tree scans on worker threads: the targets are cut into batches of whole folders, and each worker reads, prefilters, plans and analyses the batches it is given (phase one and two together), so reading the tree and analysing the folders that may pin share every core.
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { CSyntax } from '../analysis/parser';
import type { ForksafeSettings } from '../settings';
import { analyzeChunk, FileResult } from './analyzeChunk';
import { planScan, ScanPlan } from './scanPlan';
import type { FromWorker, ToWorker, WorkerInit } from './workerPool';

/** Whole folders of targets, with the C sources of each (the target walk listed them). */
export interface FolderBatch {
  targets: string[];
  folderSources: Array<[string, string[]]>;
}

/** What planning and analysing a batch gives (plain data: it crosses from a worker by structured clone). */
export interface BatchOutcome {
  analysed: number;
  chunks: number;
  errors: ScanPlan['errors'];
  results: FileResult[];
  stats: ScanPlan['stats'];
  wrappers: string[];
}

/**
 * Without -j, a scan of fewer targets than this stays in one thread: a worker costs about 0.1-0.2 s of CPU to start
 * (bundle, wasm, queries), which a driver tree of a few hundred files does not earn back (tenstorrent/tt-kmd is read
 * and analysed in under a second).
 */
export const WORKER_SCAN_TARGETS = 2000;

/** A batch holds whole folders and about this many files (members included), so the busiest worker finishes soon after the others. */
const BATCH_FILES = 256;

/** Whether a scan of `targets` files runs on folder-batch workers. Only the directory scope: the workspace is one group. */
export function wantsFolderWorkers(targets: number, settings: ForksafeSettings, jobs: number, explicitJobs: boolean): boolean {
  return settings.driverScope !== 'workspace' && jobs > 1 && (explicitJobs || targets >= WORKER_SCAN_TARGETS);
}

/** Cuts the targets (in walk order) into batches of whole folders: a folder is never split, so each group is planned once. */
export function folderBatches(targets: readonly string[], folderSources: ReadonlyMap<string, readonly string[]> | undefined, workers: number): FolderBatch[] {
  const byDir = new Map<string, string[]>();
  for (const t of targets) {
    const dir = path.dirname(path.resolve(t));
    const list = byDir.get(dir);
    if (list) list.push(t); else byDir.set(dir, [t]);
  }
  // Small inputs still give every worker a batch: at least a few batches per worker, at most BATCH_FILES files each.
  const perBatch = Math.max(1, Math.min(BATCH_FILES, Math.ceil(targets.length / (workers * 4))));
  const out: FolderBatch[] = [];
  let current: FolderBatch = { targets: [], folderSources: [] };
  let files = 0;
  for (const [dir, list] of byDir) {
    const sources = folderSources?.get(dir);
    current.targets.push(...list);
    if (sources) current.folderSources.push([dir, [...sources]]);
    files += Math.max(list.length, sources?.length ?? 0);
    if (files >= perBatch) {
      out.push(current);
      current = { targets: [], folderSources: [] };
      files = 0;
    }
  }
  if (current.targets.length > 0) out.push(current);
  return out;
}

export interface BatchOptions {
  settings: ForksafeSettings;
  prefilter: boolean;
  fixes: boolean;
  inputFolders: string[];
  onFileRead?: () => void;
  onFile?: () => void;
}

/** Plans and analyses one batch in this thread (a worker's job; also the main thread's when a worker failed). */
export async function runBatch(syntax: () => Promise<CSyntax>, batch: FolderBatch, opts: BatchOptions): Promise<BatchOutcome> {
  const results: FileResult[] = [];
  const wrappers = new Set<string>();
  const plan = await planScan(batch.targets, {
    settings: opts.settings, prefilter: opts.prefilter, jobs: 1, inputFolders: opts.inputFolders,
    folderSources: new Map(batch.folderSources), syntax, onFileRead: opts.onFileRead, onWrappers: (names) => { for (const n of names) wrappers.add(n); },
    onChunks: async (chunks, loader) => {
      const s = await syntax();
      for (const chunk of chunks) results.push(...analyzeChunk(s, chunk, opts.settings, { fixes: opts.fixes, onFile: opts.onFile, loader }));
    },
  });
  return { analysed: plan.analysed, chunks: plan.chunks, errors: plan.errors, results: [...plan.results, ...results], stats: plan.stats, wrappers: [...wrappers] };
}

export interface FolderWorkersOptions extends BatchOptions {
  workers: number;
  /** Loads the grammar for this thread (only when a worker fails and its batch is run here). */
  syntax: () => Promise<CSyntax>;
  workerScript: string;
  onWorkerFailure?: (message: string) => void;
}

/**
 * Runs the batches on `workers` worker threads, one batch at a time each, the next going to whichever is free. A
 * worker that fails or crashes takes no more batches; its batch is run again in this thread. The outcomes are merged
 * as planScan would give them for all the targets at once; results are sorted by the caller.
 */
export async function runFolderWorkers(batches: FolderBatch[], opts: FolderWorkersOptions): Promise<{ plan: ScanPlan; results: FileResult[] }> {
  const plan: ScanPlan = { analysed: 0, chunks: 0, errors: [], results: [], stats: { groups: 0, groupsWithPins: 0, parsedForDiscovery: 0, wrappers: 0 } };
  const results: FileResult[] = [];
  const wrappers = new Set<string>();
  const merge = (o: BatchOutcome): void => {
    plan.analysed += o.analysed;
    plan.chunks += o.chunks;
    plan.errors.push(...o.errors);
    results.push(...o.results);
    plan.stats.groups += o.stats.groups;
    plan.stats.groupsWithPins += o.stats.groupsWithPins;
    plan.stats.parsedForDiscovery += o.stats.parsedForDiscovery;
    for (const w of o.wrappers) wrappers.add(w);
  };
  const left: number[] = [];
  let next = 0;
  const init: WorkerInit = { settings: opts.settings, fixes: opts.fixes };
  const runOne = (): Promise<void> => new Promise<void>((resolve) => {
    const worker = new Worker(opts.workerScript, { workerData: init });
    let current: number | undefined;
    let done = false;
    const give = (): void => {
      if (next >= batches.length) { finish(); return; }
      current = next++;
      worker.postMessage({ type: 'batch', id: current, batch: batches[current], prefilter: opts.prefilter, inputFolders: opts.inputFolders } satisfies ToWorker);
    };
    const finish = (failure?: string): void => {
      if (done) return;
      done = true;
      if (failure !== undefined) {
        opts.onWorkerFailure?.(failure);
        if (current !== undefined) left.push(current);
      }
      void worker.terminate();
      resolve();
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') { opts.onFile?.(); return; }
      if (msg.type === 'read') { for (let i = 0; i < msg.count; i++) opts.onFileRead?.(); return; }
      if (msg.type === 'batch-done') { merge(msg.outcome); current = undefined; give(); return; }
      // Chunk results ('done') are never asked of a folder worker.
      if (msg.type === 'done') return;
      finish(`a worker failed (its files are analysed again in the main thread): ${msg.error}`);
    });
    worker.on('error', (err) => finish(`a worker crashed (its files are analysed again in the main thread): ${err.message}`));
    worker.on('exit', (code) => finish(`a worker exited with code ${code}${current !== undefined ? ' while analysing' : ''}`));
    give();
  });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers, batches.length)) }, runOne));
  // Batches no worker finished: a failed worker's, and any left when every worker failed.
  for (let i = next; i < batches.length; i++) left.push(i);
  for (const i of left.sort((a, b) => a - b)) merge(await runBatch(opts.syntax, batches[i]!, opts));
  plan.stats.wrappers = wrappers.size;
  return { plan, results };
}
