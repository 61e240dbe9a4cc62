// Parse-everything baseline: reads every .c/.h under a folder and parses it with the engine's CSyntax façade, in one process; prints JSON.
//
//   node out/bench/measure/parseAll.js <dir> [--select]
//
// With --select, every file is still read, but only those whose text a prefilter would keep
// (PREFILTER_TEXT) are parsed: the floor of what a two-phase scan can cost in one process.
import * as fs from 'fs';
import * as path from 'path';
import { CSyntax } from '../../server/src/analysis/parser';
import { loadGrammarAssets } from '../../server/src/runtime/assets';

/** Pin API names, FOLL_ flags and protection names: text without any of these cannot hold a pin site spelled directly. */
export const PREFILTER_TEXT = /user_pages|vaddr_frames|FOLL_|VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier|mmu_interval_notifier|hmm_range_fault|forksafe-/;

export interface ParseAllResult {
  files: number;
  bytes: number;
  parsedFiles: number;
  parsedBytes: number;
  readMs: number;
  selectMs: number;
  parseMs: number;
  wallMs: number;
  loadMs: number;
  mbPerS: number;
  maxRssKb: number;
  /** CPU time of the whole process (user + system), ms. */
  cpuMs: number;
  slowest: Array<{ file: string; ms: number; bytes: number }>;
  budgetHits: number;
}

export function listCFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && /\.[ch]$/i.test(e.name)) out.push(full);
    }
  };
  walk(root);
  return out;
}

async function main(argv: string[]): Promise<number> {
  const dir = argv.find((a) => !a.startsWith('--'));
  if (!dir) { process.stderr.write('usage: parseAll.js <dir> [--select]\n'); return 2; }
  const select = argv.includes('--select');
  const wall0 = performance.now();
  const syntax = await CSyntax.load(loadGrammarAssets());
  const loadMs = performance.now() - wall0;
  const files = listCFiles(dir);
  const decoder = new TextDecoder('utf-8');
  let bytes = 0, parsedFiles = 0, parsedBytes = 0, readMs = 0, selectMs = 0, parseMs = 0, budgetHits = 0;
  const times: Array<{ file: string; ms: number; bytes: number }> = [];
  for (const file of files) {
    const t0 = performance.now();
    const buf = fs.readFileSync(file);
    const text = decoder.decode(buf);
    const t1 = performance.now();
    readMs += t1 - t0;
    bytes += buf.length;
    if (select) {
      const keep = PREFILTER_TEXT.test(text);
      selectMs += performance.now() - t1;
      if (!keep) continue;
    }
    const r = syntax.parse(text, undefined, 60_000);
    parseMs += r.elapsedMs;
    if (r.budgetHit) budgetHits++;
    r.tree?.delete();
    parsedFiles++;
    parsedBytes += buf.length;
    times.push({ file: path.relative(dir, file), ms: r.elapsedMs, bytes: buf.length });
  }
  syntax.dispose();
  const result: ParseAllResult = {
    files: files.length, bytes, parsedFiles, parsedBytes, readMs, selectMs, parseMs, loadMs,
    wallMs: performance.now() - wall0, mbPerS: parsedBytes / (1024 * 1024) / (parseMs / 1000 || 1),
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    slowest: times.sort((a, b) => b.ms - a.ms).slice(0, 5), budgetHits,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e: unknown) => { process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`); process.exitCode = 1; });
}
