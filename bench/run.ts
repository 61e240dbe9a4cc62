// `npm run bench`: generates the corpus if missing, then measures and prints every number of issue 8 (never asserts).
//
//   npm run bench -- [--files 3000] [--mb 100] [--seed 1] [--repeat 3] [--edits 200] [--lines 10000]
//                    [--startup-runs 5] [--skip scan,parse,spatch,lsp,startup,typing] [--no-prefilter-run] [--profile]
//                    [--quiet-load L]   (wait, up to 10 min, for the 1-minute load average to drop below L)
//                    [--tree DIR]       (also a real tree side by side: cat/grep floor, forksafe, spatch; with
//                                        --skip corpus only that; with --no-prefilter-run one more forksafe run
//                                        without the prefilter, for its peak RSS)
//
// Results are printed and written to .bench/results/latest.json. docs/performance.md explains each number.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { pathToFileURL } from 'url';
import { parseArgs } from 'util';
import { generateCorpus, generateEditFile, GENERATOR_VERSION, Manifest, readManifest } from './generateCorpus';
import { describeMachine } from './measure/machine';
import { hasGnuTime, onPath } from './measure/processRun';
import { cliCapabilities, runForksafeScan, runSpatch, ScanRun, SpatchRun, CLI_BUNDLE } from './measure/scanBench';
import { compareForksafe, compareSpatch } from './measure/findings';
import type { ParseAllResult } from './measure/parseAll';
import { measureEdits, measureScriptedEdits, measureStartup, EditResult, ScriptedEditResult, StartupResult } from './measure/lspLatency';
import { enclosingFunctionBody, inFunctionEdits } from './editScript';
import { formatSummary, summarizeProfile } from './cpuProfile';
import { SERVER_BUNDLE } from './lspClient';
import { measureTree, measureTreeWithoutPrefilter } from './measure/realTree';

const REPO = path.resolve(__dirname, '..', '..');
const BENCH_DIR = path.join(REPO, '.bench');
const MIB = 1024 * 1024;
const TARGET = { ratio: 1.0, p95Ms: 10, firstDiagnosticsMs: 300, rssMb: 300, inFunctionP95Ms: 20, inFunctionDriverP95Ms: 30 };

const out = (s = ''): void => { process.stdout.write(s + '\n'); };
const ms = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const load = (): string => `load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const cpu = (v: number | undefined): string => (v === undefined ? '' : `  cpu ${ms(v)}`);
const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'NOT met');

function ensureCorpus(files: number, mbs: number, seed: number): { dir: string; manifest: Manifest } {
  const dir = path.join(BENCH_DIR, `corpus-s${seed}-f${files}-mb${mbs}`);
  const have = readManifest(dir);
  if (have && have.version === GENERATOR_VERSION && have.seed === seed && have.requested.files === files && have.requested.mb === mbs) return { dir, manifest: have };
  fs.rmSync(dir, { recursive: true, force: true });
  out(`generating the corpus into ${path.relative(REPO, dir)} ...`);
  const t0 = performance.now();
  const manifest = generateCorpus({ out: dir, files, mb: mbs, seed });
  out(`  ${manifest.files} files, ${(manifest.bytes / MIB).toFixed(1)} MiB in ${ms(performance.now() - t0)}`);
  return { dir, manifest };
}

function parseAll(dir: string, select: boolean): ParseAllResult {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'measure', 'parseAll.js'), dir, ...(select ? ['--select'] : [])], { encoding: 'utf8', maxBuffer: 16 * MIB });
  if (r.status !== 0) throw new Error(`parseAll failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ParseAllResult;
}

/** The corpus directory holding the most planted sites: where the in-driver editor numbers are taken. */
function busiestSiteDir(manifest: Manifest): string {
  const count = new Map<string, number>();
  for (const s of manifest.sites) count.set(path.posix.dirname(s.file), (count.get(path.posix.dirname(s.file)) ?? 0) + 1);
  return [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0];
}

/** Writes the editor document alone in its folder (the driver scope of a file is its folder: no sibling may add context). */
function writeEditDocument(text: string, lines: number): string {
  const dir = path.join(BENCH_DIR, 'lsp', 'alone');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `edit-${lines}.c`);
  fs.writeFileSync(file, text);
  return file;
}

/** Waits (up to 10 minutes) until the 1-minute load average drops below `threshold`, so other work on the machine skews less. */
async function waitForQuiet(threshold: number): Promise<void> {
  const until = Date.now() + 600_000;
  while (os.loadavg()[0] >= threshold && Date.now() < until) {
    out(`  waiting for a quieter machine (${load()}, want < ${threshold}) ...`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      files: { type: 'string', default: '3000' }, mb: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' },
      repeat: { type: 'string', default: '3' }, edits: { type: 'string', default: '200' }, lines: { type: 'string', default: '10000' },
      'startup-runs': { type: 'string', default: '5' }, skip: { type: 'string', default: '' },
      'no-prefilter-run': { type: 'boolean', default: false }, profile: { type: 'boolean', default: false },
      'quiet-load': { type: 'string' },
      tree: { type: 'string' },
    },
  });
  const n = (k: keyof typeof values): number => Number(values[k]);
  const skip = new Set(String(values.skip).split(',').filter(Boolean));
  for (const f of [CLI_BUNDLE, SERVER_BUNDLE]) {
    if (!fs.existsSync(f)) { process.stderr.write(`bench: ${path.relative(REPO, f)} is missing; run 'npm run build' first\n`); return 2; }
  }
  const spatch = onPath('spatch');
  const machine = describeMachine(spatch, hasGnuTime());
  out('forksafe benchmarks (numbers only; nothing here passes or fails)');
  out(`machine: ${machine.cpu}, ${machine.nproc} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, node ${machine.node}` +
    `${machine.spatch ? `, ${machine.spatch}` : ''}${machine.gnuTime ? '' : ' (no /usr/bin/time: peak RSS sampled from /proc VmHWM)'}`);

  if (values['quiet-load'] !== undefined) await waitForQuiet(Number(values['quiet-load']));
  if (values.tree !== undefined) {
    const dir = path.resolve(values.tree);
    if (!fs.existsSync(dir)) { process.stderr.write(`bench: --tree ${values.tree}: no such folder\n`); return 2; }
    const rounds = Math.max(1, n('repeat'));
    out();
    out(`== real tree ${dir} (paired rounds: each tool once per round, ${rounds} round${rounds === 1 ? '' : 's'}, medians; ${load()})`);
    const rows = await measureTree(dir, rounds, skip.has('spatch') ? undefined : spatch);
    for (const r of rows) out(`  ${r.label.padEnd(34)} wall ${ms(r.wallMs).padStart(8)} (min ${ms(r.minWallMs)})${cpu(r.cpuMs)}  peak RSS ${mb(r.peakRssKb)} (tree ${mb(r.treePeakRssKb)})  exit ${r.exitCode}`);
    const fsRow = rows.find((r) => r.label.startsWith('forksafe'));
    const spRow = rows.find((r) => r.label.startsWith('spatch'));
    if (fsRow && spRow) out(`  ratio forksafe / spatch: wall ${(fsRow.wallMs / spRow.wallMs).toFixed(2)}${fsRow.cpuMs && spRow.cpuMs ? `, cpu ${(fsRow.cpuMs / spRow.cpuMs).toFixed(2)}` : ''}  (issue 14 target: <= 0.5, peak RSS <= 300 MB)`);
    else if (!spatch) out('  spatch: not installed (Debian package coccinelle); no ratio');
    out('  forksafe with the native tree-sitter parser: evaluated and not adopted (slower here, other error recovery; docs/performance.md)');
    if (values['no-prefilter-run']) {
      const r = await measureTreeWithoutPrefilter(dir);
      out(`  ${r.label.padEnd(34)} wall ${ms(r.wallMs).padStart(8)}${cpu(r.cpuMs)}  peak RSS ${mb(r.peakRssKb)} (tree ${mb(r.treePeakRssKb)})  exit ${r.exitCode}  (once; issue 14 target: peak RSS <= 500 MB)`);
    }
    if (skip.has('corpus')) return 0;
  }
  const { dir: corpus, manifest } = ensureCorpus(n('files'), n('mb'), n('seed'));
  const target = 'xgpu';
  const literalSites = manifest.sites.filter((s) => s.literal).length;
  out(`corpus: ${path.relative(REPO, corpus)}: ${manifest.files} files, ${(manifest.bytes / MIB).toFixed(1)} MiB, ${manifest.directories} directories, ` +
    `${manifest.bigHeaders.length} big headers (largest ${(Math.max(...manifest.bigHeaders.map((h) => h.bytes)) / MIB).toFixed(1)} MiB), ` +
    `${manifest.sites.length} planted sites (${literalSites} spelled with FOLL_WRITE in the call), ${manifest.decoys.length} decoys`);
  const results: Record<string, unknown> = { when: new Date().toISOString(), machine, corpus: { dir: path.relative(REPO, corpus), files: manifest.files, bytes: manifest.bytes, sites: manifest.sites.length } };
  const repeat = Math.max(1, n('repeat'));

  // --- whole-tree scan -------------------------------------------------------------------------------------------
  const scans: ScanRun[] = [];
  if (!skip.has('scan')) {
    const caps = cliCapabilities();
    out();
    out(`== forksafe scan ${target} (the default text output, as in CI; median of ${repeat}; findings from one more run with --format json; ` +
      `${caps.jobsFlag ? `worker flag ${caps.jobsFlag}` : 'no worker flag in this build: single process only'}; ${load()})`);
    const configs: Array<{ label: string; extra: string[]; repeat: number }> = caps.jobsFlag
      ? [{ label: `${caps.jobsFlag} 1`, extra: [caps.jobsFlag, '1'], repeat }, { label: `default (no ${caps.jobsFlag})`, extra: [], repeat },
        { label: `${caps.jobsFlag} ${machine.nproc} (all cores)`, extra: [caps.jobsFlag, String(machine.nproc)], repeat }]
      : [{ label: 'single process', extra: [], repeat }];
    if (values['no-prefilter-run'] && caps.noPrefilter) configs.push({ label: '--no-prefilter, 1 worker', extra: ['--no-prefilter', ...(caps.jobsFlag ? [caps.jobsFlag, '1'] : [])], repeat: 1 });
    for (const c of configs) {
      const r = await runForksafeScan(corpus, target, c.label, c.extra, caps, c.repeat);
      scans.push(r);
      const cmp = compareForksafe(manifest, r.findings);
      out(`  ${c.label.padEnd(26)} wall ${ms(r.wallMs).padStart(8)} (min ${ms(r.minWallMs)})${cpu(r.cpuMs)}  peak RSS ${mb(r.peakRssKb)} (tree ${mb(r.treePeakRssKb)})  exit ${r.exitCode}  ` +
        `| json run ${ms(r.jsonWallMs)}: files ${r.filesAnalysed ?? '?'} analysed / ${r.filesTotal ?? '?'}  findings ${r.findings.length}, sites as expected ${cmp.asExpected}/${manifest.sites.length}` +
        `${cmp.extra.length ? `, ${cmp.extra.length} off-site` : ''}`);
      for (const w of cmp.wrong) out(`      site ${w.site.id} (${w.site.kind}) ${w.site.file}:${w.site.line}: expected [${w.site.expect.join(' ')}], got [${w.got.join(' ')}]`);
    }
    const first = scans[0];
    if (first.filesAnalysed !== undefined && first.filesTotal !== undefined) {
      out(`  files: ${first.filesAnalysed} analysed (parsed as targets), ${first.filesTotal - first.filesAnalysed} skipped by the prefilter` + (first.summaryLine ? `  [${first.summaryLine.trim()}]` : ''));
    } else out('  files parsed vs skipped: this build of the CLI does not say (see the prefilter floor below)');
    results.scan = scans.map((s) => ({ label: s.label, args: s.args, wallMs: s.wallMs, minWallMs: s.minWallMs, cpuMs: s.cpuMs, runsMs: s.runs.map((r) => r.wallMs), peakRssKb: s.peakRssKb, treePeakRssKb: s.treePeakRssKb, exitCode: s.exitCode, jsonArgs: s.jsonArgs, jsonWallMs: s.jsonWallMs, filesTotal: s.filesTotal, filesAnalysed: s.filesAnalysed, findings: s.findings.length, comparison: compareForksafe(manifest, s.findings) }));
  }

  // --- parse everything ------------------------------------------------------------------------------------------
  if (!skip.has('parse')) {
    out();
    out(`== parse everything (CSyntax façade, one process, every .c/.h read and parsed; ${load()})`);
    const all = parseAll(corpus, false);
    out(`  ${all.files} files, ${(all.bytes / MIB).toFixed(1)} MiB: parse ${ms(all.parseMs)} (${all.mbPerS.toFixed(1)} MiB/s), read ${ms(all.readMs)}, wall ${ms(all.wallMs)}, cpu ${ms(all.cpuMs)}, peak RSS ${mb(all.maxRssKb)}`);
    out(`  slowest: ${all.slowest.slice(0, 3).map((s) => `${s.file} ${ms(s.ms)} (${(s.bytes / MIB).toFixed(1)} MiB)`).join(', ')}`);
    const sel = parseAll(corpus, true);
    out(`  prefilter floor (read all, parse only files naming a pin API/FOLL_/protection): ${sel.parsedFiles} parsed, ${sel.files - sel.parsedFiles} skipped; ` +
      `read ${ms(sel.readMs)} + test ${ms(sel.selectMs)} + parse ${ms(sel.parseMs)} = wall ${ms(sel.wallMs)}`);
    results.parseAll = all;
    results.prefilterFloor = sel;
  }

  // --- spatch ----------------------------------------------------------------------------------------------------
  let spatchRun: SpatchRun | undefined;
  if (!skip.has('spatch')) {
    out();
    if (!spatch) out('== spatch: not installed (Debian package coccinelle); skipped');
    else {
      out(`== spatch --sp-file bench/literalRule.cocci --dir ${target} (default options, median of ${repeat}; ${load()})`);
      spatchRun = await runSpatch(spatch, corpus, target, repeat);
      const cmp = compareSpatch(manifest, spatchRun.stdout);
      out(`  wall ${ms(spatchRun.wallMs)} (min ${ms(spatchRun.minWallMs)})${cpu(spatchRun.cpuMs)}  peak RSS ${mb(spatchRun.peakRssKb)}  files parsed (HANDLING) ${spatchRun.handled ?? '?'}  exit ${spatchRun.exitCode}`);
      out(`  matches ${cmp.matches}: ${cmp.atSite.length} at a planted pin call, ${cmp.atDefinition.length} inside a macro definition (not where the driver pins), ${cmp.extra.length} elsewhere`);
      out(`  planted sites with a fork finding that spatch cannot see: ${cmp.missedWithFinding.length} (${[...new Set(cmp.missedWithFinding.map((s) => s.kind))].join(', ')})`);
      out(`  spatch matches that are not fork-broken on the modelled kernel: ${cmp.notForkBroken.length} (${cmp.notForkBroken.map((s) => s.kind).join(', ')})`);
      results.spatch = { wallMs: spatchRun.wallMs, minWallMs: spatchRun.minWallMs, cpuMs: spatchRun.cpuMs, runsMs: spatchRun.runs.map((r) => r.wallMs), peakRssKb: spatchRun.peakRssKb, handled: spatchRun.handled, comparison: cmp };
    }
  }
  if (spatchRun && scans.length > 0) {
    out();
    out('== ratio forksafe scan / spatch (wall, medians; target <= 1.0)');
    for (const s of scans) {
      const cpuRatio = s.cpuMs !== undefined && spatchRun.cpuMs ? `   (cpu time ratio ${(s.cpuMs / spatchRun.cpuMs).toFixed(2)})` : '';
      out(`  ${s.label.padEnd(26)} ${(s.wallMs / spatchRun.wallMs).toFixed(2)}${cpuRatio}`);
    }
  }

  // --- language server -------------------------------------------------------------------------------------------
  let startup: StartupResult | undefined;
  let alone: EditResult | undefined;
  let inDriver: EditResult | undefined;
  let inWorkspace: EditResult | undefined;
  let inFunction: ScriptedEditResult | undefined;
  let inFunctionDriver: ScriptedEditResult | undefined;
  if (!skip.has('lsp')) {
    const lines = n('lines');
    const doc = generateEditFile(n('seed'), lines);
    const docPath = writeEditDocument(doc.text, lines);
    const uri = pathToFileURL(docPath).toString();
    out();
    out(`== language server (${path.relative(REPO, docPath)}: ${doc.text.split('\n').length} lines, ${(doc.text.length / 1024).toFixed(0)} KiB, ${doc.sites.length} pin sites; ${load()})`);
    if (!skip.has('startup')) {
      startup = await measureStartup(uri, doc.text, n('startup-runs'));
      out(`  server start -> first diagnostics: p50 ${ms(startup.firstDiagnostics.p50)} (min ${ms(startup.firstDiagnostics.min)}, max ${ms(startup.firstDiagnostics.max)}, ${startup.runs} runs); ` +
        `of which start -> initialize answered ${ms(startup.initialize.p50)}, didOpen -> diagnostics ${ms(startup.openToDiagnostics.p50)}; ` +
        `server cpu to first diagnostics ${ms(startup.cpuToFirstDiagnostics.p50)}; ${startup.diagnostics} diagnostics`);
    }
    const edits = n('edits');
    const siteDir = busiestSiteDir(manifest);
    const driverUri = pathToFileURL(path.join(corpus, siteDir, '__bench_edit.c')).toString();
    // Typing that cannot change the report (one-character edits at random places).
    if (!skip.has('typing')) {
      alone = await measureEdits(uri, doc.text, edits, n('seed'));
      out(`  didChange -> publishDiagnostics, file alone in its folder (${edits} one-character edits): p50 ${ms(alone.latency.p50)}, p95 ${ms(alone.latency.p95)}, max ${ms(alone.latency.max)}; ` +
        `server cpu per edit ${ms(alone.serverCpuMsPerEdit)}; server peak RSS ${mb(alone.serverPeakRssKb)}; diagnostics per publish ${alone.diagnosticCounts.join('/')}`);
      inDriver = await measureEdits(driverUri, doc.text, edits, n('seed'));
      out(`  the same document inside the corpus folder ${siteDir} (driver scope: its other files as context): p50 ${ms(inDriver.latency.p50)}, p95 ${ms(inDriver.latency.p95)}, max ${ms(inDriver.latency.max)}; ` +
        `didOpen -> diagnostics ${ms(inDriver.openToDiagnosticsMs)}; server cpu per edit ${ms(inDriver.serverCpuMsPerEdit)}; server peak RSS ${mb(inDriver.serverPeakRssKb)}`);
      // The corpus as the editor's workspace folder: the server indexes it in the background at start; typing is timed after.
      inWorkspace = await measureEdits(driverUri, doc.text, edits, n('seed'), [], pathToFileURL(corpus).toString());
      out(`  the same, with the corpus as the workspace folder (${inWorkspace.workspaceIndex}): p50 ${ms(inWorkspace.latency.p50)}, p95 ${ms(inWorkspace.latency.p95)}, max ${ms(inWorkspace.latency.max)}; ` +
        `didOpen -> diagnostics ${ms(inWorkspace.openToDiagnosticsMs)} (during the index); server peak RSS ${mb(inWorkspace.serverPeakRssKb)}`);
    }
    // Edits that change the report, inside the function that pins (issue 14): FOLL_WRITE out and back, a local renamed, the release moved.
    const site = doc.sites.find((x) => x.expect.includes('FS001')) ?? doc.sites[0];
    const body = site ? enclosingFunctionBody(doc.text, site.line) : undefined;
    const script = body ? inFunctionEdits(doc.text, body) : [];
    if (script.length > 0) {
      const cycles = Math.max(1, Math.round(edits / script.length / 2));
      inFunction = await measureScriptedEdits(uri, doc.text, script, cycles);
      inFunctionDriver = await measureScriptedEdits(driverUri, doc.text, script, cycles);
      const kinds = (r: ScriptedEditResult): string => Object.entries(r.byKind).map(([k, p]) => `${k} ${ms(p.p95)}`).join(', ') +
        `; first pass p50 ${ms(r.firstCycle.p50)}, max ${ms(r.firstCycle.max)}` + (r.laterCycles ? `; later passes p50 ${ms(r.laterCycles.p50)}, p95 ${ms(r.laterCycles.p95)}` : '');
      out(`  edits inside the pinning function (${script.length} edits: ${[...new Set(script.map((e) => e.kind))].join(', ')}, x ${cycles}), file alone: ` +
        `p50 ${ms(inFunction.latency.p50)}, p95 ${ms(inFunction.latency.p95)} (p95 by kind: ${kinds(inFunction)}); server cpu per edit ${ms(inFunction.serverCpuMsPerEdit)}`);
      out(`  the same inside the corpus folder ${siteDir}: p50 ${ms(inFunctionDriver.latency.p50)}, p95 ${ms(inFunctionDriver.latency.p95)} (p95 by kind: ${kinds(inFunctionDriver)}); ` +
        `server cpu per edit ${ms(inFunctionDriver.serverCpuMsPerEdit)}`);
    }
    results.lsp = { document: { path: path.relative(REPO, docPath), lines: doc.text.split('\n').length, sites: doc.sites }, startup, alone, inDriver: inDriver && { dir: siteDir, ...inDriver }, inWorkspace: inWorkspace && { dir: siteDir, ...inWorkspace }, inFunction, inFunctionDriver };
  }

  // --- targets ---------------------------------------------------------------------------------------------------
  out();
  out(`== targets (issue 8; ${load()})`);
  // The target is about what users run: the default invocation (and -j 1 must not be far behind, see the ratio section).
  const usual = scans.find((s) => s.label.startsWith('default')) ?? scans[0];
  const ratio = usual && spatchRun ? usual.wallMs / spatchRun.wallMs : undefined;
  out(`  whole-tree scan / spatch <= ${TARGET.ratio}:      ${ratio === undefined ? '-' : ratio.toFixed(2)}  ${verdict(ratio === undefined ? undefined : ratio <= TARGET.ratio)}${usual ? ` (${usual.label})` : ''}`);
  out(`  edit p95 < ${TARGET.p95Ms} ms (${n('lines')} lines):${' '.repeat(Math.max(1, 14 - String(n('lines')).length))}${alone ? ms(alone.latency.p95) : '-'}  ${verdict(alone ? alone.latency.p95 < TARGET.p95Ms : undefined)}`);
  out(`  first diagnostics < ${TARGET.firstDiagnosticsMs} ms:           ${startup ? ms(startup.firstDiagnostics.p50) : '-'}  ${verdict(startup ? startup.firstDiagnostics.p50 < TARGET.firstDiagnosticsMs : undefined)}`);
  out(`  in-function edit p95 <= ${TARGET.inFunctionP95Ms} ms (file alone):  ${inFunction ? ms(inFunction.latency.p95) : '-'}  ${verdict(inFunction ? inFunction.latency.p95 <= TARGET.inFunctionP95Ms : undefined)}`);
  out(`  in-function edit p95 <= ${TARGET.inFunctionDriverP95Ms} ms (driver folder): ${inFunctionDriver ? ms(inFunctionDriver.latency.p95) : '-'}  ${verdict(inFunctionDriver ? inFunctionDriver.latency.p95 <= TARGET.inFunctionDriverP95Ms : undefined)}`);
  const rss = scans.length > 0 ? Math.max(...scans.filter((s) => !s.label.startsWith('--no-prefilter')).map((s) => Math.max(s.peakRssKb, s.treePeakRssKb))) : undefined;
  out(`  scan peak RSS < ${TARGET.rssMb} MB:               ${rss === undefined ? '-' : mb(rss)}  ${verdict(rss === undefined ? undefined : rss / 1024 < TARGET.rssMb)}`);
  results.targets = { ratio, editP95Ms: alone?.latency.p95, inFunctionP95Ms: inFunction?.latency.p95, inFunctionDriverP95Ms: inFunctionDriver?.latency.p95, firstDiagnosticsMs: startup?.firstDiagnostics.p50, scanPeakRssKb: rss };

  // --- profiles --------------------------------------------------------------------------------------------------
  // The CLI profile (and with --no-prefilter-run, one of --no-prefilter), then the server's unless lsp is skipped.
  const profDir = path.join(BENCH_DIR, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  if (values.profile) {
    const caps = cliCapabilities();
    const one = caps.jobsFlag ? [caps.jobsFlag, '1'] : [];
    const runs: Array<{ label: string; extra: string[] }> = [{ label: 'cli', extra: one }];
    if (caps.noPrefilter && values['no-prefilter-run']) runs.push({ label: 'cli-no-prefilter', extra: ['--no-prefilter', ...one] });
    out();
    out(`== CPU profiles (node --cpu-prof) in ${path.relative(REPO, profDir)}`);
    for (const r of runs) {
      const d = path.join(profDir, r.label);
      // The timed invocation (text output) with -j 1: all the work is on the main thread, so one profile shows it all.
      spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', d, CLI_BUNDLE, 'scan', ...r.extra, target], { cwd: corpus, stdio: 'ignore' });
      for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) out(formatSummary(summarizeProfile(path.join(d, f), 20), `forksafe scan ${r.extra.join(' ')}`) + '\n');
    }
  }
  if (values.profile && !skip.has('lsp')) {
    const doc = generateEditFile(n('seed'), n('lines'));
    const docPath = writeEditDocument(doc.text, n('lines'));
    const d = path.join(profDir, 'server');
    await measureEdits(pathToFileURL(docPath).toString(), doc.text, n('edits'), n('seed'), ['--cpu-prof', '--cpu-prof-dir', d]);
    for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) out(formatSummary(summarizeProfile(path.join(d, f), 20), `server, ${n('edits')} edits`) + '\n');
  }

  fs.mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
  const stamped = path.join(BENCH_DIR, 'results', `${String(results.when).replace(/[:.]/g, '-')}-f${n('files')}-mb${n('mb')}.json`);
  fs.writeFileSync(stamped, JSON.stringify(results, null, 2) + '\n');
  fs.copyFileSync(stamped, path.join(BENCH_DIR, 'results', 'latest.json'));
  out();
  out(`results: ${path.relative(REPO, path.join(BENCH_DIR, 'results', 'latest.json'))}`);
  return 0;
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => { process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`); process.exitCode = 1; });
