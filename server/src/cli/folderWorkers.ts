// Whole-tree scans on worker threads: the targets are cut into batches of whole folders, and each worker reads, prefilters, plans and analyses the batches it is given (phase one and two together), so reading the tree and analysing the folders that may pin share every core.
import * as fs from 'fs';
import * as path from 'path';
import { ResourceLimits, Worker } from 'worker_threads';
import type { CSyntax } from '../analysis/parser';
import type { ForksafeSettings } from '../settings';
import { analyzeChunk, FileResult } from './analyzeChunk';
import { planScan, ScanPlan } from './scanPlan';
import { workerHeapLimits, type FromWorker, type ToWorker, type WorkerInit } from './workerPool';
import type { CollectedTargets, WalkedFolder } from '../runtime/scanTargets';

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
 * Without -j, a scan of fewer targets than this stays in one thread. Each worker starts cold (bundle, wasm, queries,
 * and the engine's code compiled again by its own JIT), so workers pay off only when there is a lot to read: measured
 * by hand, one thread against two workers, linux-source-6.1's arch/ (9,564 files, 61 MB) 2.49 vs 2.86 s,
 * drivers/net (5,123 files) 0.67 vs 0.77 s, NVIDIA open-gpu-kernel-modules (3,708 files) 1.75-1.90 vs 2.00-2.16 s,
 * but drivers/ (28,521 files, 902 MB) 6.4-7.3 vs 6.0-6.25 s and the whole tree (55,418 files) 12.9 vs 9.0 s.
 */
export const WORKER_SCAN_TARGETS = 20000;

/** Batches a worker holds at once (the one it analyses and the next). */
const IN_FLIGHT = 2;

/**
 * Without the prefilter every file of a batch's folders is held as context while it is analysed: a batch with more
 * source than this (within the size limit) is heavy, and the pool never has two heavy batches out at once.
 * linux-source-6.1 has two such folders, both of generated register headers (drivers/gpu/drm/amd/include/asic_reg/dcn,
 * 93 MB, and .../gc, 41 MB); analysed side by side they were the peak of a whole-tree scan (docs/performance.md).
 */
export const HEAVY_BATCH_BYTES = 32 * 1024 * 1024;

/** A batch holds whole folders and about this many files (members included), so the busiest worker finishes soon after the others. */
const BATCH_FILES = 256;

/**
 * The order batches are handed out in: the order they were queued, except that while a heavy batch is out (given to a
 * worker and not finished) the next heavy one waits and the light ones after it go first.
 */
export class BatchQueue {
  private readonly waiting: number[] = [];
  private readonly heavy = new Set<number>();
  private heavyOut = 0;

  push(id: number, heavy: boolean): void {
    this.waiting.push(id);
    if (heavy) this.heavy.add(id);
  }

  /** Batches not handed out yet. */
  get size(): number {
    return this.waiting.length;
  }

  /** The next batch a worker may take now, or undefined (none waiting, or only heavy ones while one is out). */
  take(): number | undefined {
    const at = this.heavyOut === 0 ? 0 : this.waiting.findIndex((id) => !this.heavy.has(id));
    if (at < 0 || at >= this.waiting.length) return undefined;
    const [id] = this.waiting.splice(at, 1);
    if (this.heavy.has(id!)) this.heavyOut++;
    return id;
  }

  /** A batch handed out is finished (or its worker failed): true when it was heavy (a heavy one waiting may go now). */
  done(id: number): boolean {
    if (!this.heavy.delete(id)) return false;
    this.heavyOut--;
    return true;
  }

  /** Every batch not handed out, in queue order; the queue is then empty. */
  drain(): number[] {
    return this.waiting.splice(0);
  }
}

/** The bytes of a batch's folders' C sources within the size limit (what the batch holds as context without the prefilter). */
export function batchBytes(batch: FolderBatch, maxFileBytes: number): number {
  let bytes = 0;
  for (const [, sources] of batch.folderSources) {
    for (const file of sources) {
      try {
        const size = fs.statSync(file).size;
        if (size <= maxFileBytes) bytes += size;
      } catch { /* unreadable: the batch reports it, it holds nothing */ }
    }
  }
  return bytes;
}

/** Whether folder-batch workers may run at all: more than one job, and not the workspace scope (it is one group). */
function folderWorkersAllowed(settings: ForksafeSettings, jobs: number): boolean {
  return settings.driverScope !== 'workspace' && jobs > 1;
}

/** Whether a scan of `targets` files runs on folder-batch workers. */
export function wantsFolderWorkers(targets: number, settings: ForksafeSettings, jobs: number, explicitJobs: boolean): boolean {
  return folderWorkersAllowed(settings, jobs) && (explicitJobs || targets >= WORKER_SCAN_TARGETS);
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
  /** Worker threads. */
  workers: number;
  /** Loads the grammar for this thread (only when a worker fails and its batch is run here). */
  syntax: () => Promise<CSyntax>;
  workerScript: string;
  onWorkerFailure?: (message: string) => void;
  /** The workers' heap limits (default workerHeapLimits(prefilter)); tests hand in small ones to run a worker out of memory. */
  heapLimits?: ResourceLimits;
}

/**
 * Runs the batches on `workers` worker threads, each holding up to two (the one it analyses and the next, so it never
 * waits for this thread), the next going to whichever has room. A worker that fails or crashes takes no more batches;
 * the batches it held are run again in this thread. The outcomes are merged
 * as planScan would give them for all the targets at once; results are sorted by the caller.
 */
export async function runFolderWorkers(batches: FolderBatch[], opts: FolderWorkersOptions): Promise<{ plan: ScanPlan; results: FileResult[] }> {
  return queueFolderWorkers(batches, opts).close();
}

/** A pool with these batches queued (its workers started). */
export function queueFolderWorkers(batches: readonly FolderBatch[], opts: FolderWorkersOptions): FolderWorkers {
  const pool = new FolderWorkers(opts);
  for (const b of batches) pool.add(b);
  return pool;
}

/**
 * Folder batches handed to worker threads as they come (the scan adds them while the target walk goes on): the
 * workers start with the first batches, each is topped up to IN_FLIGHT batches when it finishes one, and `close` (no
 * more batches) waits for them and merges the outcomes. The thread adding batches must let its event loop run now and
 * then (a finished worker's message), or the workers wait for it.
 */
export class FolderWorkers {
  /** Queued batches by id; a finished batch's entry is dropped (its 256 paths and folder lists are not needed again). */
  private readonly batches: Array<FolderBatch | undefined> = [];
  private readonly queue = new BatchQueue();
  private closed = false;
  private readonly slots: Array<{ give: () => void; ended: Promise<void> }> = [];
  private readonly left: number[] = [];
  private readonly plan: ScanPlan = { analysed: 0, chunks: 0, errors: [], results: [], stats: { groups: 0, groupsWithPins: 0, parsedForDiscovery: 0, wrappers: 0 } };
  private readonly results: FileResult[] = [];
  private readonly wrappers = new Set<string>();

  constructor(private readonly opts: FolderWorkersOptions) {}

  /** Queues a batch; it goes to a free worker now (the first batches start the workers). */
  add(batch: FolderBatch): void {
    if (this.closed) throw new Error('FolderWorkers: add after close');
    this.batches.push(batch);
    // Only without the prefilter does a batch hold its folders whole; with it, what it holds is what can pin.
    this.queue.push(this.batches.length - 1, !this.opts.prefilter && batchBytes(batch, this.opts.settings.maxFileSizeKb * 1024) > HEAVY_BATCH_BYTES);
    if (this.slots.length < Math.max(1, this.opts.workers)) this.slots.push(this.start());
    else for (const s of this.slots) s.give();
  }

  /** No more batches: waits for the workers, runs here what a failed worker left, and returns the merged plan and results. */
  async close(): Promise<{ plan: ScanPlan; results: FileResult[] }> {
    this.closed = true;
    for (const s of this.slots) s.give();
    await Promise.all(this.slots.map((s) => s.ended));
    // Batches no worker finished: a failed worker's, and any left when every worker failed.
    this.left.push(...this.queue.drain());
    for (const i of this.left.sort((a, b) => a - b)) this.merge(await runBatch(this.opts.syntax, this.batches[i]!, this.opts));
    this.plan.stats.wrappers = this.wrappers.size;
    return { plan: this.plan, results: this.results };
  }

  private merge(o: BatchOutcome): void {
    const { plan } = this;
    plan.analysed += o.analysed;
    plan.chunks += o.chunks;
    plan.errors.push(...o.errors);
    this.results.push(...o.results);
    plan.stats.groups += o.stats.groups;
    plan.stats.groupsWithPins += o.stats.groupsWithPins;
    plan.stats.parsedForDiscovery += o.stats.parsedForDiscovery;
    for (const w of o.wrappers) this.wrappers.add(w);
  }

  private start(): { give: () => void; ended: Promise<void> } {
    const { opts } = this;
    const worker = new Worker(opts.workerScript, { workerData: { settings: opts.settings, fixes: opts.fixes } satisfies WorkerInit, resourceLimits: opts.heapLimits ?? workerHeapLimits(opts.prefilter) });
    /** Batches sent and not finished: up to IN_FLIGHT, so a worker has its next batch while this thread is busy. */
    const inFlight: number[] = [];
    let done = false;
    let resolveEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => { resolveEnded = resolve; });
    /** Tops up the worker's batches; ends it when nothing is queued or in flight and nothing more will come. */
    const give = (): void => {
      if (done) return;
      while (inFlight.length < IN_FLIGHT) {
        const id = this.queue.take();
        if (id === undefined) break;
        inFlight.push(id);
        worker.postMessage({ type: 'batch', id, batch: this.batches[id]!, prefilter: opts.prefilter, inputFolders: opts.inputFolders } satisfies ToWorker);
      }
      // A worker with nothing to do while a heavy batch waits for another to finish is given it when that one ends.
      if (inFlight.length === 0 && this.closed && this.queue.size === 0) finish();
    };
    /** A batch this worker held is over: a heavy one lets the next heavy one go, to whichever worker has room. */
    const over = (id: number): void => {
      if (this.queue.done(id)) for (const s of this.slots) s.give();
    };
    const finish = (failure?: string): void => {
      if (done) return;
      done = true;
      if (failure !== undefined) {
        opts.onWorkerFailure?.(failure);
        this.left.push(...inFlight);
      }
      void worker.terminate();
      resolveEnded();
      for (const id of inFlight.splice(0)) over(id);
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') { opts.onFile?.(); return; }
      if (msg.type === 'read') { for (let i = 0; i < msg.count; i++) opts.onFileRead?.(); return; }
      if (msg.type === 'batch-done') {
        this.merge(msg.outcome);
        this.batches[msg.id] = undefined;
        inFlight.splice(inFlight.indexOf(msg.id), 1);
        give();
        over(msg.id);
        return;
      }
      // Chunk results ('done') are never asked of a folder worker.
      if (msg.type === 'done') return;
      finish(`a worker failed (its files are analysed again in the main thread): ${msg.error}`);
    });
    worker.on('error', (err) => finish(`a worker crashed (its files are analysed again in the main thread): ${err.message}`));
    worker.on('exit', (code) => finish(`a worker exited with code ${code}${inFlight.length > 0 ? ' while analysing' : ''}`));
    give();
    return { give, ended };
  }
}

/** A batch of walked folders (each folder whole). */
function batchOf(folders: readonly WalkedFolder[]): FolderBatch {
  return { targets: folders.flatMap((f) => f.targets), folderSources: folders.map((f) => [f.dir, [...f.sources]]) };
}

/** How often the walk lets the event loop run (in folders), so a worker that finished a batch gets the next one. */
const WALK_YIELD_FOLDERS = 32;

export interface WalkOptions {
  settings: ForksafeSettings;
  /** Analysers asked for (-j, or one per core): the worker threads a pool gets. */
  jobs: number;
  /** -j was given: the workers start with the first folder, whatever the tree's size (wantsFolderWorkers). */
  explicitJobs: boolean;
  /** Makes the pool when the walk has found enough targets; undefined when there is no worker script. */
  makePool: (() => FolderWorkers) | undefined;
}

/**
 * Runs the target walk and, once it has found WORKER_SCAN_TARGETS targets (or at once with -j), starts folder
 * workers on the folders walked so far and feeds them the next ones as the walk finds them: reading and analysing
 * start while the walk goes on (on linux-source-6.1 the walk alone takes about a second of one core). When the walk
 * ends, the targets not given yet (the last folders, files named as inputs) are queued too. Without a pool, the
 * caller scans `collected` as before.
 */
export async function walkWithWorkers(walk: Generator<WalkedFolder, CollectedTargets, void>, opts: WalkOptions): Promise<{ collected: CollectedTargets; pool?: FolderWorkers }> {
  const possible = opts.makePool !== undefined && folderWorkersAllowed(opts.settings, opts.jobs);
  let pool: FolderWorkers | undefined;
  let pending: WalkedFolder[] = [];
  let pendingFiles = 0;
  let found = 0;
  const given = new Set<string>();
  let folders = 0;
  for (let step = walk.next(); ; step = walk.next()) {
    if (step.done) {
      const collected = step.value;
      if (pool) {
        const rest = [...pending.flatMap((f) => f.targets), ...collected.files.filter((f) => !given.has(f))];
        // Sorted like the walk's result, so the remaining folders are cut as folderBatches cuts a whole tree.
        for (const b of folderBatches([...new Set(rest)].sort(), collected.folderSources, opts.jobs)) pool.add(b);
      }
      return { collected, pool };
    }
    const folder = step.value;
    if (!possible || folder.targets.length === 0) continue;
    found += folder.targets.length;
    pending.push(folder);
    pendingFiles += Math.max(folder.targets.length, folder.sources.length);
    if (!pool && wantsFolderWorkers(found, opts.settings, opts.jobs, opts.explicitJobs)) pool = opts.makePool!();
    if (pool && pendingFiles >= BATCH_FILES) {
      // Whole folders of about BATCH_FILES files each: the folders walked before the pool started (up to
      // WORKER_SCAN_TARGETS targets) are cut like the rest, not handed to one worker as one batch.
      let part: WalkedFolder[] = [];
      let files = 0;
      for (const f of pending) {
        part.push(f);
        files += Math.max(f.targets.length, f.sources.length);
        if (files < BATCH_FILES) continue;
        const batch = batchOf(part);
        for (const t of batch.targets) given.add(t);
        pool.add(batch);
        part = [];
        files = 0;
      }
      pending = part;
      pendingFiles = files;
    }
    if (pool && ++folders % WALK_YIELD_FOLDERS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
