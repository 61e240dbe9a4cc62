// `forksafe scan`: options, files, the two-phase scan (prefilter on the main thread, each driver analysed as soon as it is planned, on its trees or on workers), baseline, output format and exit code.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { Severity } from '../analysis/rules';
import { compareText } from '../analysis/span';
import { findAssetRoot } from '../runtime/assets';
import { loadSyntax } from '../runtime/loadSyntax';
import { CollectedTargets, walkScanTargets } from '../runtime/scanTargets';
import { BaselineError, baselineEntries, BaselineFile, matchBaseline, readBaseline, writeBaseline } from './baseline';
import { formatGcc } from './format/gcc';
import { formatJson } from './format/json';
import { formatSarif } from './format/sarif';
import { formatText } from './format/text';
import { createProgress, summaryLine } from './progress';
import { ConfigError, FIX_USAGE, parseScanOptions, SCAN_USAGE, ScanOptions, UsageError } from './scanOptions';
import { planScan } from './scanPlan';
import { compareReported, makeLocator, ReportedError, ReportedFinding, ScanReport } from './scanReport';
import { ChunkRunner, workerScriptPath } from './workerPool';
import { folderBatches, FolderWorkers, FolderWorkersOptions, queueFolderWorkers, walkWithWorkers, wantsFolderWorkers } from './folderWorkers';
import type { FileResult } from './analyzeChunk';
import { planFixes, safeFixes, unifiedDiff, writeChanges } from './fixFiles';
import { writePatchSeries } from './patchSeries';

export interface ScanIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** For the progress bar (only drawn when it is a terminal). */
  errStream: NodeJS.WriteStream;
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  version: string;
}

const SEVERITY_RANK: Record<Severity, number> = { hint: 0, information: 1, warning: 2, error: 3 };

/** What `forksafe check` adds to a scan: the kernel and macros of the compile command, and no summary line. */
export interface ScanExtras { build?: NonNullable<ScanOptions['settings']['build']>; quiet?: boolean }

export async function runScan(args: string[], io: ScanIo, command: 'scan' | 'fix' | 'check' = 'scan', extras: ScanExtras = {}): Promise<number> {
  const started = performance.now();
  const cwd = process.cwd();
  let opts: ScanOptions | 'help';
  let baseline: BaselineFile | undefined;
  try {
    opts = parseScanOptions(args, cwd, command === 'check' ? 'scan' : command);
    if (opts !== 'help' && extras.build && opts.settings.kernelVersion === 'auto') opts.settings.build = extras.build;
    if (opts === 'help') { io.out(command === 'fix' ? FIX_USAGE : SCAN_USAGE); return 0; }
    if (opts.baseline && !opts.updateBaseline) baseline = readBaseline(opts.baseline);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof BaselineError) {
      io.err(`forksafe ${command}: ${err.message}\n${err instanceof UsageError ? `(forksafe ${command} --help for the options)\n` : ''}`);
      return 2;
    }
    throw err;
  }
  let pass = await analyseTargets(opts, io);
  const locate = makeLocator(cwd, opts.root);
  if (opts.fix === 'apply') {
    // Rounds: a fix that overlapped one already taken is offered again on the new text (at most a few rounds; each
    // round's fixes remove the findings they were offered for, so this ends).
    let applied = 0;
    const changed = new Set<string>();
    for (let round = 0; round < MAX_FIX_ROUNDS; round++) {
      const plan = planFixes(safeFixes(pass.results.flatMap((r) => r.findings)));
      for (const s of plan.skipped) io.err(`forksafe: ${locate(s.file).display}: not fixed: ${s.why}\n`);
      if (plan.changes.length === 0) break;
      writeChanges(plan.changes);
      applied += plan.applied.length;
      for (const c of plan.changes) changed.add(c.file);
      pass = await analyseTargets(opts, io);
    }
    io.err(`forksafe: --fix applied ${applied} fix${applied === 1 ? '' : 'es'} in ${changed.size} file${changed.size === 1 ? '' : 's'}${[...changed].sort().map((f, i) => `${i === 0 ? ': ' : ', '}${locate(f).display}`).join('')}\n`);
  } else if (opts.fix === 'dry-run' || opts.fix === 'patch') {
    const plan = planFixes(safeFixes(pass.results.flatMap((r) => r.findings)));
    for (const s of plan.skipped) io.err(`forksafe: ${locate(s.file).display}: not fixed: ${s.why}\n`);
    if (plan.deferred.length > 0) io.err(`forksafe: ${plan.deferred.length} fix${plan.deferred.length === 1 ? '' : 'es'} overlapped another and ${plan.deferred.length === 1 ? 'is' : 'are'} left for a second run\n`);
    if (opts.fix === 'dry-run') {
      io.out(unifiedDiff(plan.changes, cwd));
      io.err(`forksafe: --fix-dry-run: ${plan.applied.length} fix${plan.applied.length === 1 ? '' : 'es'} would change ${plan.changes.length} file${plan.changes.length === 1 ? '' : 's'}; nothing was written\n`);
    } else {
      const before = new Map(plan.changes.map((c) => [c.file, c.before]));
      try {
        const { patches, authorPlaceholder } = writePatchSeries(plan.applied, {
          dir: opts.patchDir!, version: io.version, author: opts.author, original: (f) => before.get(f),
        }, cwd);
        for (const p of patches) io.err(`forksafe: ${locate(p.file).display}: ${p.subject} (${p.fixes} fix${p.fixes === 1 ? '' : 'es'}, ${p.files} file${p.files === 1 ? '' : 's'})\n`);
        io.err(`forksafe: --format-patch wrote ${patches.length} patch${patches.length === 1 ? '' : 'es'} to ${locate(opts.patchDir!).display}${patches.length > 0 ? ' (apply with: git am -s DIR/*.patch)' : ''}\n`);
        if (authorPlaceholder && patches.length > 0) io.err('forksafe: no git identity found: the patches name a placeholder author; pass --author "Name <email>" or set git config user.name/user.email\n');
      } catch (err) {
        io.err(`forksafe fix: cannot write the patches to ${opts.patchDir}: ${(err as Error).message}\n`);
        return 2;
      }
    }
  }
  const { collected, plan, results, workerNotes } = pass;
  const { settings } = opts;

  for (const m of workerNotes) io.err(`forksafe: ${m}\n`);
  const errors: ReportedError[] = [...collected.errors, ...plan.errors, ...results.filter((r) => r.error !== undefined).map((r) => ({ path: r.path, error: r.error! }))]
    .map((e) => ({ ...locate(e.path), error: e.error })).sort((a, b) => compareText(a.file, b.file));
  for (const r of [...results].sort((a, b) => compareText(path.resolve(a.path), path.resolve(b.path)))) {
    const uri = pathToFileURL(path.resolve(r.path)).toString();
    for (const note of r.notes) io.err(`forksafe: ${note.startsWith(uri) ? locate(r.path).display + note.slice(uri.length) : note}\n`);
  }
  for (const e of errors) io.err(`forksafe: ${e.display}: ${e.error}\n`);

  const all: ReportedFinding[] = results.flatMap((r) => r.findings.map((finding) => ({ finding, ...locate(finding.uri) }))).sort(compareReported);
  let reported = all;
  let baselined = 0;
  if (opts.updateBaseline && opts.baseline) {
    writeBaseline(opts.baseline, baselineEntries(all));
    io.err(`forksafe: baseline ${locate(opts.baseline).display} written with ${all.length} finding${all.length === 1 ? '' : 's'}\n`);
  } else if (baseline) {
    const matched = matchBaseline(all, baseline);
    reported = matched.fresh;
    baselined = matched.known.length;
  }

  const report: ScanReport = {
    tool: { name: 'forksafe', version: io.version }, root: opts.root, findings: reported, errors,
    files: { scanned: collected.files.length, analysed: plan.analysed }, baselined, baselineInUse: baseline !== undefined,
    settings, locate, explain: opts.explain,
  };
  const color = opts.color ?? (io.stdoutIsTTY && opts.output === undefined && !io.env.NO_COLOR);
  const text = opts.format === 'json' ? formatJson(report)
    : opts.format === 'sarif' ? formatSarif(report, docsRoot())
    : opts.format === 'gcc' ? formatGcc(report)
    : formatText(report, color);
  if (opts.output === undefined && (opts.fix === 'dry-run' || opts.fix === 'patch')) {
    // Standard output carries the diff (or nothing, with --format-patch); the report is written only with -o.
  } else if (opts.output !== undefined) {
    try { fs.writeFileSync(opts.output, text); } catch (err) {
      io.err(`forksafe scan: cannot write ${opts.output}: ${(err as Error).message}\n`);
      return 2;
    }
  } else io.out(text);
  if (!extras.quiet) io.err(summaryLine(report, performance.now() - started) + (report.findings.length > 0 && opts.format === 'text' && !opts.explain ? ' (--explain for why and how to fix)' : '') + '\n');

  if (errors.length > 0) return 2;
  if (opts.updateBaseline || opts.failOn === 'none') return 0;
  const threshold = SEVERITY_RANK[opts.failOn];
  return reported.some((r) => SEVERITY_RANK[r.finding.severity] >= threshold) ? 1 : 0;
}

const MAX_FIX_ROUNDS = 5;

interface ScanPass {
  collected: CollectedTargets;
  plan: Awaited<ReturnType<typeof planScan>>;
  results: FileResult[];
  workerNotes: string[];
}

/** One analysis of the inputs: collect the files, the two-phase scan, the findings (with quick fixes when the output or a fix mode needs them). */
async function analyseTargets(opts: ScanOptions, io: ScanIo): Promise<ScanPass> {
  const { settings } = opts;
  const inputFolders = opts.inputs.filter((p) => { try { return fs.statSync(p).isDirectory(); } catch { return false; } });
  // The analysis runs while the plan reads on (in this thread on the plan's trees, or on workers): the bar shows the
  // reading first, then the files still being analysed. Without -j, workers start only for chunks worth one.
  const jobs = opts.jobs ?? os.availableParallelism();
  const workerNotes: string[] = [];
  // Only the JSON and SARIF outputs and the fix modes use quick fixes; the engine computes none for the others.
  const fixes = opts.format === 'json' || opts.format === 'sarif' || opts.fix !== 'none';
  const workerScript = workerScriptPath();
  const progress = createProgress(io.errStream, opts.progress);
  // Reads counted before the bar knows the total (folder workers start while the walk goes on).
  let readSoFar = 0;
  let barStarted = false;
  const folderWorkerOptions = (script: string): FolderWorkersOptions => ({
    settings, prefilter: opts.prefilter, fixes, inputFolders, workers: jobs, syntax: loadSyntax, workerScript: script,
    onFileRead: () => { readSoFar++; if (barStarted) progress.tick(); }, onWorkerFailure: (m) => workerNotes.push(m),
  });
  // A large tree: workers read, plan and analyse whole folders (folderWorkers.ts), starting while the walk goes on; the
  // bar follows the reading, which the analysis of the few folders that may pin keeps pace with.
  const walked = await walkWithWorkers(walkScanTargets(opts.inputs, { include: settings.include, exclude: settings.exclude, gitignore: opts.gitignore, root: opts.root }), {
    settings, jobs, explicitJobs: opts.jobs !== undefined, prefilter: opts.prefilter,
    makePool: workerScript === undefined ? undefined : () => new FolderWorkers(folderWorkerOptions(workerScript)),
  });
  const { collected } = walked;
  for (const p of collected.leftOut) io.err(`forksafe: ${p}: left out by the include/exclude${opts.gitignore ? '/.gitignore' : ''} rules\n`);
  progress.phase('reading', collected.files.length, readSoFar);
  barStarted = true;
  const pool = walked.pool ?? (workerScript && wantsFolderWorkers(collected.files.length, settings, jobs, opts.jobs !== undefined, opts.prefilter)
    ? queueFolderWorkers(folderBatches(collected.files, collected.folderSources, jobs), folderWorkerOptions(workerScript)) : undefined);
  if (pool) {
    const { plan, results } = await pool.close();
    progress.stop();
    return { collected, plan, results, workerNotes };
  }
  let analysedSoFar = 0;
  let analysing = false;
  const runner = new ChunkRunner({
    settings, fixes, jobs, prefilter: opts.prefilter, explicitJobs: opts.jobs !== undefined, syntax: loadSyntax,
    onFile: () => { analysedSoFar++; if (analysing) progress.tick(); }, onWorkerFailure: (m) => workerNotes.push(m),
  });
  const plan = await planScan(collected.files, {
    settings, prefilter: opts.prefilter, jobs, inputFolders, folderSources: collected.folderSources, syntax: loadSyntax,
    onFileRead: () => progress.tick(), onChunks: (chunks, loader) => runner.submit(chunks, loader),
  });
  progress.phase('analysing', plan.analysed, analysedSoFar + plan.results.length);
  analysing = true;
  const results = [...plan.results, ...await runner.finish()];
  progress.stop();
  return { collected, plan, results, workerNotes };
}

/** The rule pages shipped with forksafe, for SARIF rule help; undefined when this copy has none. */
function docsRoot(): string | undefined {
  try {
    const dir = path.join(findAssetRoot(), 'docs', 'rules');
    return fs.existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

