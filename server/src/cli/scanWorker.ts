// Worker thread of `forksafe scan` (bundled as server/dist/scanWorker.js): loads the grammar once, then analyses the chunks (ChunkRunner) or reads, plans and analyses the folder batches (folderWorkers.ts) it is sent, one at a time.
import { parentPort, workerData } from 'worker_threads';
import { saveCompileCache } from '../launch/compileCache';
import { loadSyntax } from '../runtime/loadSyntax';
import { analyzeChunk } from './analyzeChunk';
import { runBatch } from './folderWorkers';
import type { FromWorker, ToWorker, WorkerInit } from './workerPool';

const port = parentPort;
if (!port) throw new Error('scanWorker.js runs only as a worker thread of forksafe scan');
const { settings, fixes } = workerData as WorkerInit;
const syntax = loadSyntax();
const post = (msg: FromWorker): void => port.postMessage(msg);

/** Files read since the last 'read' message: sent in tens, not one message per file of a 55,000-file tree. */
let readSince = 0;
const READ_MESSAGE_EVERY = 64;
const flushReads = (): void => {
  if (readSince > 0) post({ type: 'read', count: readSince });
  readSince = 0;
};

/** Messages are handled one after another: a batch sent ahead waits for the one before to finish. */
let queue: Promise<void> = Promise.resolve();

port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => handle(msg));
});

function handle(msg: ToWorker): Promise<void> {
  const id = msg.id;
  const work = msg.type === 'chunk'
    ? syntax.then((s) => {
      const results = analyzeChunk(s, msg.chunk, settings, { fixes, onFile: () => post({ type: 'progress' }) });
      post({ type: 'done', id, results });
    })
    : runBatch(() => syntax, msg.batch, {
      settings, fixes, prefilter: msg.prefilter, inputFolders: msg.inputFolders,
      onFileRead: () => { if (++readSince >= READ_MESSAGE_EVERY) flushReads(); },
      onFile: () => post({ type: 'progress' }),
    }).then((outcome) => {
      flushReads();
      post({ type: 'batch-done', id, outcome, external: process.memoryUsage().external });
    });
  // A worker is terminated, never asked to exit: its first piece of work compiled what the next scan's workers run.
  return work.then(() => saveCompileCache(), (err: unknown) => {
    post({ type: 'failed', id, error: (err as Error)?.stack ?? String(err) });
  });
}
