// Runs the scan's chunks on the main thread plus worker threads (one analyser per core by default; each loads the grammar once); results come back in chunk order whatever finished first.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ForksafeSettings } from '../settings';
import { loadSyntax } from '../runtime/loadSyntax';
import { analyzeChunk, FileResult } from './analyzeChunk';
import type { ScanChunk } from './scanPlan';

export interface WorkerInit { settings: ForksafeSettings }
export interface ToWorker { id: number; chunk: ScanChunk }
export type FromWorker =
  | { type: 'progress' }
  | { type: 'done'; id: number; results: FileResult[] }
  | { type: 'failed'; id: number; error: string };

/** The worker script beside this module: server/dist/scanWorker.js in the bundle, the compiled module under out/ in tests. */
export function workerScriptPath(): string | undefined {
  const script = path.join(__dirname, 'scanWorker.js');
  return fs.existsSync(script) ? script : undefined;
}

export interface RunOptions {
  settings: ForksafeSettings;
  /** Analysers: this thread plus jobs - 1 worker threads; 1 (or no worker script) analyses in this thread only. */
  jobs: number;
  onFile?: () => void;
  /** A worker died; its chunk is analysed again in this thread. */
  onWorkerFailure?: (message: string) => void;
}

/** How many workers a scan of `chunks` gets: never more than there are chunks. */
export function workerCount(jobs: number, chunks: number): number {
  return Math.max(1, Math.min(jobs, chunks));
}

export async function runChunks(chunks: ScanChunk[], opts: RunOptions): Promise<FileResult[]> {
  if (chunks.length === 0) return [];
  const results: Array<FileResult[] | undefined> = new Array(chunks.length).fill(undefined);
  const script = workerScriptPath();
  const count = workerCount(opts.jobs, chunks.length);
  const queue = { next: 0 };
  const syntax = await loadSyntax();
  // The main thread is one of the `count` analysers: it already holds the grammar, and a worker would need its own.
  const workers = count > 1 && script ? runOnWorkers(script, count - 1, chunks, queue, results, opts) : Promise.resolve();
  while (queue.next < chunks.length) {
    const i = queue.next++;
    results[i] = analyzeChunk(syntax, chunks[i], opts.settings, opts.onFile);
    // Let the workers' messages in between chunks: they are waiting for their next chunk.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await workers;
  for (const [i, chunk] of chunks.entries()) results[i] ??= analyzeChunk(syntax, chunk, opts.settings, opts.onFile);
  return results.flatMap((r) => r ?? []);
}

/** Hands chunks out one at a time to whichever worker is free; a chunk whose worker fails is left for the caller. */
function runOnWorkers(script: string, count: number, chunks: ScanChunk[], queue: { next: number }, results: Array<FileResult[] | undefined>,
  opts: RunOptions): Promise<void> {
  return new Promise((resolve) => {
    let alive = count;
    const finish = (): void => { if (--alive === 0) resolve(); };
    for (let w = 0; w < count; w++) {
      const worker = new Worker(script, { workerData: { settings: opts.settings } satisfies WorkerInit });
      let current: number | undefined;
      let done = false;
      const stop = (failure?: string): void => {
        if (done) return;
        done = true;
        if (failure !== undefined) opts.onWorkerFailure?.(failure);
        void worker.terminate();
        finish();
      };
      const give = (): void => {
        if (queue.next >= chunks.length) { stop(); return; }
        current = queue.next++;
        worker.postMessage({ id: current, chunk: chunks[current] } satisfies ToWorker);
      };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'progress') { opts.onFile?.(); return; }
        if (msg.type === 'done') { results[msg.id] = msg.results; current = undefined; give(); return; }
        stop(`a worker failed (its files are analysed again in the main thread): ${msg.error}`);
      });
      worker.on('error', (err) => stop(`a worker crashed (its files are analysed again in the main thread): ${err.message}`));
      worker.on('exit', (code) => { if (!done) stop(`a worker exited with code ${code}${current !== undefined ? ' while analysing' : ''}`); });
      give();
    }
  });
}
