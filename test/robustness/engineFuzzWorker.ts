// Worker thread of the engine fuzz pass: runs its share of the hostile inputs through analyze() and reports each start, failure and a summary.
import * as fs from 'fs';
import * as path from 'path';
import { parentPort, workerData } from 'worker_threads';
import { analyze, AnalysisContext } from '../../server/src/engine';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { listFixtureDrivers } from '../helpers/fixtures';
import { artifactName, hostileInput, SourceSample } from './hostileInputs';
import { reportProblems } from './reportInvariants';

export interface FuzzWorkerData { seed: number; count: number; worker: number; workers: number; artifactDir: string; hugeLineBytes?: number }

export type FuzzWorkerMessage =
  | { type: 'start'; index: number; kind: string; base: string }
  | { type: 'failure'; index: number; kind: string; base: string; problems: string[]; artifact: string }
  | { type: 'done'; summary: FuzzSummary };

export interface FuzzSummary {
  inputs: number;
  kinds: Record<string, number>;
  budgetHits: number;
  skipped: number;
  findings: Record<string, number>;
  maxMs: number;
  maxInput: string;
  totalMs: number;
  bytes: number;
}

/** Settings by slot: most inputs get the defaults; some a 1 ms budget or a 1 KB limit, so the FS009 paths are exercised too. */
export function settingsForInput(index: number): object {
  if (index % 23 === 5) return { timeBudgetMs: 1 };
  if (index % 47 === 11) return { maxFileSizeKb: 1 };
  if (index % 31 === 17) return { kernelVersion: '5.4', driverScope: 'file' };
  return {};
}

/** The mutation families in a kind: 'deepNesting3x1000' → deepNestingx1000, 'truncate+crlf' → truncate, crlf. */
export function kindFamilies(kind: string): string[] {
  return kind.split('+').map((k) => k.replace(/^(deepNesting|giantMacro|hugeLine)\d+/, '$1'));
}

export function fuzzFixtures(): SourceSample[] {
  return listFixtureDrivers().flatMap((d) => d.files.map((f) => ({ name: f.name, text: f.text })));
}

async function run(data: FuzzWorkerData): Promise<void> {
  const port = parentPort!;
  const syntax = await loadSyntax();
  const fixtures = fuzzFixtures();
  // Context sets: the multi-file fixture drivers, parsed once, handed to some inputs as the driver's other files.
  const contexts = listFixtureDrivers().filter((d) => d.files.length > 1).map((d) =>
    d.files.map((f) => ({ uri: `file:///fuzz/${d.name}/${path.basename(f.name)}`, text: f.text, tree: syntax.parse(f.text).tree! })));
  const summary: FuzzSummary = { inputs: 0, kinds: {}, budgetHits: 0, skipped: 0, findings: {}, maxMs: 0, maxInput: '', totalMs: 0, bytes: 0 };
  const opts = { seed: data.seed, count: data.count, fixtures, hugeLineBytes: data.hugeLineBytes };
  for (let index = data.worker; index < data.count; index += data.workers) {
    const input = hostileInput(index, opts);
    for (const family of kindFamilies(input.kind)) summary.kinds[family] = (summary.kinds[family] ?? 0) + 1;
    port.postMessage({ type: 'start', index, kind: input.kind, base: input.base } satisfies FuzzWorkerMessage);
    const settings = resolveSettings(settingsForInput(index));
    let context: AnalysisContext | undefined;
    let uri = `file:///fuzz/input${index}.c`;
    if (index % 10 === 3 && contexts.length > 0) {
      const files = contexts[index % contexts.length];
      uri = files[0].uri.replace(/[^/]+$/, `input${index}.c`);
      context = { files };
    }
    const problems: string[] = [];
    const started = performance.now();
    try {
      const report = analyze(syntax, { uri, text: input.text }, settings, context);
      const ms = performance.now() - started;
      summary.totalMs += ms;
      if (ms > summary.maxMs) { summary.maxMs = ms; summary.maxInput = `#${index} ${input.kind} ${input.base} (${input.text.length} chars)`; }
      if (report.stats.budgetHit) summary.budgetHits++;
      if (report.stats.skipped) summary.skipped++;
      for (const f of report.findings) summary.findings[f.code] = (summary.findings[f.code] ?? 0) + 1;
      problems.push(...reportProblems(report, input.text, uri, settings, context?.files?.map((f) => f.uri)));
    } catch (err) {
      problems.push(`analyze() threw: ${(err as Error)?.stack ?? String(err)}`);
    }
    summary.inputs++;
    summary.bytes += input.text.length;
    if (problems.length > 0) {
      const artifact = path.join(data.artifactDir, artifactName(input, data.seed));
      try {
        fs.mkdirSync(data.artifactDir, { recursive: true });
        fs.writeFileSync(artifact, input.text);
      } catch { /* the failure is reported either way */ }
      port.postMessage({ type: 'failure', index, kind: input.kind, base: input.base, problems, artifact } satisfies FuzzWorkerMessage);
    }
  }
  for (const ctx of contexts) for (const f of ctx) f.tree.delete();
  port.postMessage({ type: 'done', summary } satisfies FuzzWorkerMessage);
}

if (parentPort) void run(workerData as FuzzWorkerData);
