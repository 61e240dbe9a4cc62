// Runs the scan's chunks as the plan hands them over: in this thread, on the trees phase one parsed, or on worker threads (each loads the grammar once and parses its chunks itself) when the work pays for them; results come back in chunk order whatever finished first.
import * as fs from 'fs';
import * as path from 'path';
import { ResourceLimits, Worker } from 'worker_threads';
import type { CSyntax } from '../analysis/parser';
import type { ForksafeSettings } from '../settings';
import type { DriverContextLoader } from '../runtime/driverContext';
import { analyzeChunk, FileResult } from './analyzeChunk';
import type { ScanChunk } from './scanPlan';
import type { BatchOutcome, FolderBatch } from './folderWorkers';

export interface WorkerInit { settings: ForksafeSettings; fixes: boolean }
/** A chunk to analyse (ChunkRunner), or a batch of folders to read, plan and analyse (folderWorkers.ts). */
export type ToWorker =
  | { type: 'chunk'; id: number; chunk: ScanChunk }
  | { type: 'batch'; id: number; batch: FolderBatch; prefilter: boolean; inputFolders: string[] };
export type FromWorker =
  | { type: 'progress' }
  | { type: 'read'; count: number }
  | { type: 'done'; id: number; results: FileResult[] }
  /** `external`: the worker's memory outside its JS heap after the batch (tree-sitter's wasm memory, mostly). */
  | { type: 'batch-done'; id: number; outcome: BatchOutcome; external: number }
  | { type: 'failed'; id: number; error: string };

/**
 * The heap of a scan's worker thread. V8 sizes a heap for the whole machine by default: a young generation of up to
 * 3 x 16 MiB, and an old generation that grows up to four times what survived the last full collection before it
 * collects again, when its limit is several GiB. A worker of a whole-tree scan keeps 40-60 MB alive (its batch's
 * texts, trees' indexes, the engine) and so held heaps of about 90 MB, twice what it used. A smaller young generation,
 * and an old generation limit that makes V8 grow the heap by less before collecting, keep a worker's heap near what it
 * uses (docs/performance.md, "Issue 14, seventh step"): linux-source-6.1 with two workers peaked at 385-450 MB before,
 * about 300 MB after, in the same time; without the prefilter 1.68 GB before, 0.96 GB after. The old generation limit
 * is a hard limit: a worker that needs more fails and its batch is analysed again in the main thread (the failure is
 * noted). Without the prefilter a batch holds every file of its folders as context (a folder of generated register
 * headers keeps about 100 MB alive, its texts most of it), so that mode gets a larger one: at 512 MB the scan of
 * linux-source-6.1 without the prefilter took a fifth more CPU in collections for a 10% lower peak.
 */
export function workerHeapLimits(prefilter: boolean): ResourceLimits {
  return { maxYoungGenerationSizeMb: WORKER_YOUNG_MB, maxOldGenerationSizeMb: prefilter ? WORKER_OLD_MB : WORKER_OLD_MB_WHOLE_FOLDERS };
}

/** A worker's young generation: two 4 MiB semi-spaces and their large-object space (V8 counts three semi-spaces). */
const WORKER_YOUNG_MB = 12;
/**
 * V8 caps the old generation's growing factor by its limit (64-bit, without pointer compression): 1.3 at 256 MiB,
 * rising linearly to 2 just under 2 GiB, and 4 from 2 GiB up (the default on a machine of several GB). 512 MiB caps it
 * at about 1.4, 1 GiB at about 1.6; V8 also never sets the next collection past halfway to the limit.
 */
const WORKER_OLD_MB = 512;
const WORKER_OLD_MB_WHOLE_FOLDERS = 1024;

/** The worker script beside this module: server/dist/scanWorker.js in the bundle, the compiled module under out/ in tests. */
export function workerScriptPath(): string | undefined {
  const script = path.join(__dirname, 'scanWorker.js');
  return fs.existsSync(script) ? script : undefined;
}

/**
 * Without -j, a chunk goes to a worker only when it has this many bytes of source to parse. A worker costs about
 * 0.1 s to start (bundle, wasm, queries) plus its first parses on cold wasm, and it parses again what phase one
 * already parsed in this thread; 4 MiB is about half a second of parsing, a chunk the main thread would otherwise
 * analyse while the rest of the tree waits for phase one.
 */
export const WORKER_CHUNK_BYTES = 4 * 1024 * 1024;

export interface RunOptions {
  settings: ForksafeSettings;
  /** Quick fixes in the findings (the JSON and SARIF outputs print them). */
  fixes: boolean;
  /** Analysers at most: this thread plus jobs - 1 worker threads; 1 (or no worker script) analyses in this thread only. */
  jobs: number;
  /** The prefilter chose the chunks' context (workerHeapLimits). */
  prefilter: boolean;
  /** jobs came from -j: any chunk may go to a worker. Otherwise only chunks of WORKER_CHUNK_BYTES or more do. */
  explicitJobs: boolean;
  /** Loads the grammar for this thread (when it analyses a chunk). */
  syntax: () => Promise<CSyntax>;
  onFile?: () => void;
  /** A worker died; its chunk is analysed again in this thread. */
  onWorkerFailure?: (message: string) => void;
  /** The worker script (default workerScriptPath()); tests hand in one that fails. */
  workerScript?: string;
}

/** Whether a chunk of `bytes` is worth a worker thread (when one is free or may be started). */
export function wantsWorker(bytes: number, explicitJobs: boolean): boolean {
  return explicitJobs || bytes >= WORKER_CHUNK_BYTES;
}

interface WorkerSlot {
  /** The chunk it is analysing; undefined when idle. */
  current: number | undefined;
  /** It ended (closed, failed or crashed): it takes no more chunks. */
  stopped: boolean;
  give(id: number): void;
  /** Ends the worker once its current chunk is done. */
  close(): void;
  /** Settles when the worker has ended (finished or failed). */
  ended: Promise<void>;
}

export class ChunkRunner {
  private readonly chunks: ScanChunk[] = [];
  private readonly results: Array<FileResult[] | undefined> = [];
  private readonly workers: WorkerSlot[] = [];
  private readonly script: string | undefined;
  private syntax: CSyntax | undefined;

  constructor(private readonly opts: RunOptions) {
    this.script = opts.workerScript ?? workerScriptPath();
  }

  /** Worker threads started so far (0: everything ran in this thread). */
  get workerCount(): number {
    return this.workers.length;
  }

  /**
   * Takes a group's chunks: each goes to a free worker (or a new one, up to jobs - 1) when it is worth one, else it
   * is analysed now, in this thread, on `loader`'s files (which phase one parsed).
   */
  async submit(chunks: ScanChunk[], loader: DriverContextLoader | undefined): Promise<void> {
    for (const chunk of chunks) {
      const id = this.chunks.push(chunk) - 1;
      const worker = this.workerFor(chunk);
      if (worker) { worker.give(id); continue; }
      this.syntax ??= await this.opts.syntax();
      this.results[id] = analyzeChunk(this.syntax, chunk, this.opts.settings, { fixes: this.opts.fixes, onFile: this.opts.onFile, loader });
    }
    // Let the workers' messages in: a worker that finished is free for the next group's chunks.
    if (this.workers.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Waits for the workers, analyses here what a failed worker left, and returns the results in chunk order. */
  async finish(): Promise<FileResult[]> {
    for (const w of this.workers) w.close();
    await Promise.all(this.workers.map((w) => w.ended));
    for (const [i, chunk] of this.chunks.entries()) {
      if (this.results[i]) continue;
      this.syntax ??= await this.opts.syntax();
      this.results[i] = analyzeChunk(this.syntax, chunk, this.opts.settings, { fixes: this.opts.fixes, onFile: this.opts.onFile });
    }
    return this.results.flatMap((r) => r ?? []);
  }

  private workerFor(chunk: ScanChunk): WorkerSlot | undefined {
    if (!this.script || this.opts.jobs <= 1 || !wantsWorker(chunk.bytes, this.opts.explicitJobs)) return undefined;
    const idle = this.workers.find((w) => w.current === undefined && !w.stopped);
    if (idle) return idle;
    if (this.workers.length >= this.opts.jobs - 1) return undefined;
    const started = this.startWorker(this.script);
    this.workers.push(started);
    return started;
  }

  private startWorker(script: string): WorkerSlot {
    const worker = new Worker(script, { workerData: { settings: this.opts.settings, fixes: this.opts.fixes } satisfies WorkerInit, resourceLimits: workerHeapLimits(this.opts.prefilter) });
    let finish: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => { finish = resolve; });
    let closing = false;
    const stop = (failure?: string): void => {
      if (slot.stopped) return;
      slot.stopped = true;
      if (failure !== undefined) this.opts.onWorkerFailure?.(failure);
      void worker.terminate();
      finish();
    };
    const slot: WorkerSlot = {
      current: undefined,
      stopped: false,
      give: (id) => {
        slot.current = id;
        worker.postMessage({ type: 'chunk', id, chunk: this.chunks[id] } satisfies ToWorker);
      },
      close: () => {
        closing = true;
        if (slot.current === undefined) stop();
      },
      ended,
    };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'progress') { this.opts.onFile?.(); return; }
      // Folder batches are never given by this runner.
      if (msg.type === 'read' || msg.type === 'batch-done') return;
      if (msg.type === 'done') {
        this.results[msg.id] = msg.results;
        slot.current = undefined;
        if (closing) stop();
        return;
      }
      // A failed worker stays busy (never idle again): its chunk is left for finish().
      stop(`a worker failed (its files are analysed again in the main thread): ${msg.error}`);
    });
    worker.on('error', (err) => stop(`a worker crashed (its files are analysed again in the main thread): ${err.message}`));
    worker.on('exit', (code) => { if (!slot.stopped) stop(`a worker exited with code ${code}${slot.current !== undefined ? ' while analysing' : ''}`); });
    return slot;
  }
}
