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
 * source than this (within the size limit) is heavy, and is analysed after every other batch, alone, by one worker
 * started for it once the others have ended. On linux-source-6.1 two batches are heavy, both holding folders of
 * generated register headers (drivers/gpu/drm/amd/include/asic_reg/dcn, 93 MB, and its neighbours); one of them
 * analysed beside an ordinary folder was the peak of a whole-tree scan (docs/performance.md).
 */
export const HEAVY_BATCH_BYTES = 32 * 1024 * 1024;

/** A batch holds whole folders and about this many files (members included), so the busiest worker finishes soon after the others. */
const BATCH_FILES = 256;

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

/**
 * A worker whose memory outside its JS heap (tree-sitter's wasm memory, mostly) is past this after a batch is ended and
 * a new one started in its place: wasm memory grows to the largest parse a worker has made and is never given back,
 * so without the prefilter, where every file of a folder is parsed, each worker kept 120-140 MB for the rest of the
 * scan after one large folder (docs/performance.md). A worker starts at about 35 MB; a default scan of
 * linux-source-6.1 stays under this, so only scans that parse large folders whole pay for a new worker.
 */
export const RECYCLE_EXTERNAL_BYTES = 96 * 1024 * 1024;

/** Whether folder-batch workers may run at all: more than one job, and not the workspace scope (it is one group). */
function folderWorkersAllowed(settings: ForksafeSettings, jobs: number): boolean {
  return settings.driverScope !== 'workspace' && jobs > 1;
}

/**
 * Without the prefilter, a scan of this many targets runs on folder workers too: every file is parsed (seconds per
 * hundred files, so a worker's start is nothing), and only folder workers analyse a heavy folder alone. Through the
 * chunk workers instead, the main thread held a folder's texts while two workers each parsed a chunk of it with the
 * whole folder as context: NVIDIA's open-gpu-kernel-modules (3,708 files; src/nvidia/generated, 482 files of 58 MB)
 * peaked at about 1,040 MB, against about 570 MB on folder workers (docs/performance.md).
 */
export const NO_PREFILTER_WORKER_TARGETS = 1000;

/** Whether a scan of `targets` files runs on folder-batch workers. */
export function wantsFolderWorkers(targets: number, settings: ForksafeSettings, jobs: number, explicitJobs: boolean, prefilter = true): boolean {
  return folderWorkersAllowed(settings, jobs) && (explicitJobs || targets >= (prefilter ? WORKER_SCAN_TARGETS : NO_PREFILTER_WORKER_TARGETS));
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
  /** Over how many bytes a batch is heavy without the prefilter (default HEAVY_BATCH_BYTES; tests hand in small ones). */
  heavyBatchBytes?: number;
  /** Told of each batch handed to a worker: whether it is heavy, and how many workers were running then (for tests). */
  onDispatch?: (id: number, heavy: boolean, running: number) => void;
  /** Past how many bytes outside its heap a worker is replaced (default RECYCLE_EXTERNAL_BYTES; tests hand in small ones). */
  recycleExternalBytes?: number;
  /** Told when a worker is ended for the memory it holds, with that memory in bytes (for tests). */
  onRecycle?: (external: number) => void;
}

/**
 * Runs the batches on `workers` worker threads, each holding up to two (the one it analyses and the next, so it never
 * waits for this thread), the next going to whichever has room; without the prefilter the heavy batches go last, to one
 * worker alone, and a worker past RECYCLE_EXTERNAL_BYTES after a batch is replaced. A worker that fails or crashes
 * takes no more batches; the batches it held are run again in this thread. The outcomes are merged as planScan would
 * give them for all the targets at once; results are sorted by the caller.
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
  /** Batches not handed out yet, in order; the heavy ones wait apart until every other batch is done. */
  private readonly waiting: number[] = [];
  private readonly heavy: number[] = [];
  private heavyPhase = false;
  private running = 0;
  private closed = false;
  /** Every worker started, in order (a recycled worker's replacement is appended); `live` until it ended. */
  private readonly slots: Array<{ give: () => void; ended: Promise<void>; live: () => boolean }> = [];
  private readonly left: number[] = [];
  private readonly plan: ScanPlan = { analysed: 0, chunks: 0, errors: [], results: [], stats: { groups: 0, groupsWithPins: 0, parsedForDiscovery: 0, wrappers: 0 } };
  private readonly results: FileResult[] = [];
  private readonly wrappers = new Set<string>();

  constructor(private readonly opts: FolderWorkersOptions) {}

  /** Queues a batch; it goes to a free worker now (the first batches start the workers). */
  add(batch: FolderBatch): void {
    if (this.closed) throw new Error('FolderWorkers: add after close');
    const id = this.batches.push(batch) - 1;
    // Only without the prefilter does a batch hold its folders whole; with it, what it holds is what can pin.
    const heavy = !this.opts.prefilter && batchBytes(batch, this.opts.settings.maxFileSizeKb * 1024) > (this.opts.heavyBatchBytes ?? HEAVY_BATCH_BYTES);
    (heavy ? this.heavy : this.waiting).push(id);
    if (this.slots.filter((s) => s.live()).length < Math.max(1, this.opts.workers)) this.slots.push(this.start());
    else for (const s of this.slots) s.give();
  }

  /** Waits until every worker started has ended, replacements started meanwhile included. */
  private async allEnded(): Promise<void> {
    for (let i = 0; i < this.slots.length; i++) await this.slots[i]!.ended;
  }

  /**
   * No more batches: waits for the workers, then has one new worker analyse the heavy batches one after the other (the
   * others have ended, so nothing else is held beside them), runs here what a failed worker left, and returns the
   * merged plan and results.
   */
  async close(): Promise<{ plan: ScanPlan; results: FileResult[] }> {
    this.closed = true;
    for (const s of this.slots) s.give();
    await this.allEnded();
    if (this.heavy.length > 0 && this.left.length === 0 && this.waiting.length === 0) {
      this.waiting.push(...this.heavy.splice(0));
      this.heavyPhase = true;
      this.slots.push(this.start());
      await this.allEnded();
    }
    // Batches no worker finished: a failed worker's, and any left when every worker failed (heavy ones included).
    this.left.push(...this.waiting.splice(0), ...this.heavy.splice(0));
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

  private start(): { give: () => void; ended: Promise<void>; live: () => boolean } {
    const { opts } = this;
    const worker = new Worker(opts.workerScript, { workerData: { settings: opts.settings, fixes: opts.fixes } satisfies WorkerInit, resourceLimits: opts.heapLimits ?? workerHeapLimits(opts.prefilter) });
    this.running++;
    /** Batches sent and not finished: up to IN_FLIGHT, so a worker has its next batch while this thread is busy. */
    const inFlight: number[] = [];
    let done = false;
    /** Past the memory limit after a batch: given nothing more, ended (and replaced) once its batches are done. */
    let retiring = false;
    let resolveEnded: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => { resolveEnded = resolve; });
    /** Tops up the worker's batches; ends it when nothing is queued or in flight and nothing more will come. */
    const give = (): void => {
      if (done) return;
      if (retiring) {
        if (inFlight.length === 0) finish();
        return;
      }
      while (inFlight.length < IN_FLIGHT && this.waiting.length > 0) {
        const id = this.waiting.shift()!;
        inFlight.push(id);
        opts.onDispatch?.(id, this.heavyPhase, this.running);
        worker.postMessage({ type: 'batch', id, batch: this.batches[id]!, prefilter: opts.prefilter, inputFolders: opts.inputFolders } satisfies ToWorker);
      }
      if (inFlight.length === 0 && this.closed && this.waiting.length === 0) finish();
    };
    const finish = (failure?: string): void => {
      if (done) return;
      done = true;
      this.running--;
      if (failure !== undefined) {
        opts.onWorkerFailure?.(failure);
        this.left.push(...inFlight);
      }
      void worker.terminate();
      // A recycled worker's replacement takes what is left (appended before this one counts as ended, so close waits for it).
      if (failure === undefined && retiring && (this.waiting.length > 0 || !this.closed)) this.slots.push(this.start());
      resolveEnded();
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') { opts.onFile?.(); return; }
      if (msg.type === 'read') { for (let i = 0; i < msg.count; i++) opts.onFileRead?.(); return; }
      if (msg.type === 'batch-done') {
        this.merge(msg.outcome);
        this.batches[msg.id] = undefined;
        inFlight.splice(inFlight.indexOf(msg.id), 1);
        if (!retiring && msg.external > (opts.recycleExternalBytes ?? RECYCLE_EXTERNAL_BYTES)) {
          retiring = true;
          opts.onRecycle?.(msg.external);
        }
        give();
        return;
      }
      // Chunk results ('done') are never asked of a folder worker.
      if (msg.type === 'done') return;
      finish(`a worker failed (its files are analysed again in the main thread): ${msg.error}`);
    });
    worker.on('error', (err) => finish(`a worker crashed (its files are analysed again in the main thread): ${err.message}`));
    worker.on('exit', (code) => finish(`a worker exited with code ${code}${inFlight.length > 0 ? ' while analysing' : ''}`));
    give();
    return { give, ended, live: () => !done };
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
  /** False with --no-prefilter: the pool starts after fewer targets (NO_PREFILTER_WORKER_TARGETS). */
  prefilter?: boolean;
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
    if (!pool && wantsFolderWorkers(found, opts.settings, opts.jobs, opts.explicitJobs, opts.prefilter)) pool = opts.makePool!();
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
