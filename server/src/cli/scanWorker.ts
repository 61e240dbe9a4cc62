// Worker thread of `forksafe scan` (bundled as server/dist/scanWorker.js): loads the grammar once, then analyses the chunks it is sent, one at a time.
import { parentPort, workerData } from 'worker_threads';
import { loadSyntax } from '../runtime/loadSyntax';
import { analyzeChunk } from './analyzeChunk';
import type { FromWorker, ToWorker, WorkerInit } from './workerPool';

const port = parentPort;
if (!port) throw new Error('scanWorker.js runs only as a worker thread of forksafe scan');
const { settings, fixes } = workerData as WorkerInit;
const syntax = loadSyntax();

port.on('message', (msg: ToWorker) => {
  syntax.then((s) => {
    const results = analyzeChunk(s, msg.chunk, settings, { fixes, onFile: () => port.postMessage({ type: 'progress' } satisfies FromWorker) });
    port.postMessage({ type: 'done', id: msg.id, results } satisfies FromWorker);
  }).catch((err: unknown) => {
    port.postMessage({ type: 'failed', id: msg.id, error: (err as Error)?.stack ?? String(err) } satisfies FromWorker);
  });
});
