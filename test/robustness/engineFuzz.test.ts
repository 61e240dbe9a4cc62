// The engine under hostile input: at least 10,000 seeded inputs through analyze(), no throw, no hang, a sound Report each, FS009 when the budget is hit.
import { strict as assert } from 'assert';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { countFromEnv, seedFromEnv } from '../helpers/random';
import { REPO_ROOT } from '../helpers/lspProcess';
import { FuzzSummary, FuzzWorkerData, FuzzWorkerMessage } from './engineFuzzWorker';
import { DEFAULT_SEED } from './hostileInputs';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', DEFAULT_SEED);
const COUNT = countFromEnv('FORKSAFE_FUZZ_COUNT', 10000);
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'fuzz');
/**
 * Hang detector, not a performance bound: an input that has not returned after this long is reported by name
 * (analyze() is synchronous, so without a worker a hang would freeze mocha itself). The engine's own budget is 5 s.
 */
const HANG_MS = 120_000;

interface WorkerResult { summary?: FuzzSummary; failures: Array<Extract<FuzzWorkerMessage, { type: 'failure' }>>; hang?: string; crash?: string }

function runWorker(data: FuzzWorkerData): Promise<WorkerResult> {
  return new Promise((resolve) => {
    const result: WorkerResult = { failures: [] };
    const worker = new Worker(path.join(__dirname, 'engineFuzzWorker.js'), { workerData: data });
    let current = 'before the first input';
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        result.hang = `no result for ${HANG_MS / 1000} s on input ${current} (seed ${data.seed}); the worker was terminated`;
        void worker.terminate();
      }, HANG_MS);
    };
    arm();
    worker.on('message', (m: FuzzWorkerMessage) => {
      if (m.type === 'start') { current = `#${m.index} ${m.kind} ${m.base}`; arm(); }
      else if (m.type === 'failure') result.failures.push(m);
      else result.summary = m.summary;
    });
    worker.on('error', (err) => { result.crash = `worker crashed on input ${current}: ${err.stack ?? String(err)}`; });
    worker.on('exit', () => { clearTimeout(timer); resolve(result); });
  });
}

describe('robustness: the engine on hostile input', function () {
  this.timeout(0); // hangs are caught per input by the watchdog above, with the input's name

  it(`${COUNT} seeded inputs (seed ${SEED}): no throw, no hang, a sound report each, FS009 exactly when cut short`, async function () {
    const workers = Math.max(1, Math.min(2, os.availableParallelism()));
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: workers }, (_, worker) =>
      runWorker({ seed: SEED, count: COUNT, worker, workers, artifactDir: ARTIFACTS })));
    const wallS = (performance.now() - started) / 1000;

    const hangs = results.map((r) => r.hang).filter((h): h is string => !!h);
    const crashes = results.map((r) => r.crash).filter((c): c is string => !!c);
    assert.deepEqual(hangs, [], 'hangs');
    assert.deepEqual(crashes, [], 'worker crashes');
    const failures = results.flatMap((r) => r.failures);
    assert.equal(failures.length, 0, `${failures.length} inputs broke an invariant (inputs saved under ${ARTIFACTS}):\n` +
      failures.slice(0, 15).map((f) => `  #${f.index} ${f.kind} ${f.base}: ${f.problems.slice(0, 3).join(' | ').slice(0, 800)}\n    ${f.artifact}`).join('\n'));

    const summaries = results.map((r) => r.summary).filter((s): s is FuzzSummary => !!s);
    assert.equal(summaries.length, workers, 'every worker finished');
    const inputs = summaries.reduce((n, s) => n + s.inputs, 0);
    assert.equal(inputs, COUNT, 'every input was analysed');
    const kinds: Record<string, number> = {};
    for (const s of summaries) for (const [k, n] of Object.entries(s.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
    const required = ['truncate', 'deleteTokens', 'unbalancedBraces', 'unbalancedIfs', 'giantMacro', 'deepNestingx1000', 'hugeLine',
      'nulBytes', 'invalidUtf8', 'loneSurrogates', 'crlf', 'bom', 'randomBytesUtf8', 'randomBytesLatin1', 'tokenSoup'];
    if (COUNT >= 10000) assert.deepEqual(required.filter((k) => !kinds[k]), [], `every mutation kind is in the set: ${JSON.stringify(kinds)}`);
    const budgetHits = summaries.reduce((n, s) => n + s.budgetHits, 0);
    assert.ok(COUNT < 1000 || budgetHits > 0, 'the 1 ms budget slots exercised the FS009 budget path');

    const slowest = summaries.reduce((a, b) => (a.maxMs >= b.maxMs ? a : b));
    const findings: Record<string, number> = {};
    for (const s of summaries) for (const [k, n] of Object.entries(s.findings)) findings[k] = (findings[k] ?? 0) + n;
    const mb = summaries.reduce((n, s) => n + s.bytes, 0) / 1024 / 1024;
    // Information, not assertions: how long it took and the slowest input.
    console.log(`      engine fuzz: ${inputs} inputs (${mb.toFixed(0)} MB of text) in ${wallS.toFixed(1)} s on ${workers} worker(s); ` +
      `slowest ${slowest.maxMs.toFixed(0)} ms: ${slowest.maxInput}; budget hits ${budgetHits}; ` +
      `skipped ${summaries.reduce((n, s) => n + s.skipped, 0)}; findings ${JSON.stringify(findings)}`);
    console.log(`      kinds: ${JSON.stringify(kinds)}`);
  });
});
