// Writes a synthetic, kernel-driver-like C tree of a given size with planted pin sites and a manifest; same seed, same bytes.
//
//   node out/bench/generateCorpus.js --out .bench/corpus --files 3000 --mb 100 --seed 1
//
// The tree looks like an out-of-tree GPU driver: a few very large generated register headers, many
// directories of ordinary code (functions with error-path gotos, macros, #if blocks, ops-table
// initialisers, register tables), and a realistic handful of pin sites, some behind macros, wrappers and
// flag variables that a literal rule cannot see. manifest.json lists every planted site.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { Prng } from './corpus/prng';
import { BLOCKS, CTextGen } from './corpus/cText';
import { registerHeader } from './corpus/registerHeaders';
import * as planted from './corpus/plantedSites';
import { crossFile } from './corpus/crossFileSite';
import { decoy } from './corpus/decoys';

/** Bumped whenever the generated text changes, so a cached corpus is regenerated. */
export const GENERATOR_VERSION = 3;
export const MANIFEST_NAME = 'manifest.json';
const MIB = 1024 * 1024;
/** Big headers stay under the CLI's default --max-file-size-kb (8192) so they are analysed, not skipped. */
const BIG_HEADER_CAP = 7.5 * MIB;
const ROOT = 'xgpu';

export interface CorpusOptions { out: string; files: number; mb: number; seed: number }

export interface ManifestSite {
  id: string;
  kind: planted.SiteKind;
  /** Path relative to the corpus root, with '/' separators. */
  file: string;
  /** One-based line where forksafe should report the site. */
  line: number;
  api: string;
  /** Codes forksafe should report on that line (newest modelled kernel: the corpus has no kernel Makefile). */
  expect: string[];
  /** Where a literal rule (a pin call whose arguments spell FOLL_WRITE) can match, if anywhere. */
  literal: { file: string; line: number } | null;
  note: string;
}

export interface Manifest {
  generator: 'forksafe-bench-corpus';
  version: number;
  seed: number;
  requested: { files: number; mb: number };
  files: number;
  bytes: number;
  bigHeaders: Array<{ file: string; bytes: number }>;
  directories: number;
  sites: ManifestSite[];
  decoys: Array<{ file: string; variant: number }>;
}

interface PlannedFile {
  rel: string;
  dir: string;
  ext: '.c' | '.h';
  bytes: number;
  block: string;
  units: string[];
  localIncludes: string[];
  kinds: Planted['kinds'];
  /** Set on the file that must not mention any pin API or flag (cross-file-macro-only). */
  quiet?: boolean;
}
type Planted = planted.Planted;

function uniqueName(used: Set<string>, base: string, ext: string): string {
  let name = `${base}${ext}`;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}${ext}`;
  used.add(name);
  return name;
}

/** Plans directories and file sizes: a few big register headers, Zipf-sized directories of .c and .h files. */
function planFiles(rng: Prng, opts: CorpusOptions): { files: PlannedFile[]; bigHeaders: PlannedFile[] } {
  const total = opts.mb * MIB;
  const bigCount = Math.max(1, Math.min(16, Math.round(opts.files / 400)));
  const weights = Array.from({ length: bigCount }, () => rng.logNormal(0.5));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const bigBytes = weights.map((w) => Math.min(BIG_HEADER_CAP, Math.round((0.3 * total * w) / wsum)));
  const regBlocks = rng.shuffled(BLOCKS).slice(0, Math.min(3, bigCount));
  const bigHeaders: PlannedFile[] = [];
  const usedBig = new Map<string, Set<string>>();
  bigBytes.forEach((bytes, i) => {
    const block = regBlocks[i % regBlocks.length];
    const dir = `${ROOT}/include/asic_reg/${block}`;
    const used = usedBig.get(dir) ?? new Set<string>();
    usedBig.set(dir, used);
    const kind = i % 2 === 0 ? 'sh_mask' : 'offset';
    const rel = `${dir}/${uniqueName(used, `${block}_${9 + Math.floor(i / 2)}_${rng.int(0, 4)}_${kind}`, '.h')}`;
    bigHeaders.push({ rel, dir, ext: '.h', bytes, block, units: [], localIncludes: [], kinds: {} });
  });

  const regularCount = Math.max(1, opts.files - bigHeaders.length);
  const regularBytes = Math.max(regularCount * 2048, total - bigBytes.reduce((a, b) => a + b, 0));
  const dirCount = Math.max(Math.min(2, regularCount), Math.min(regularCount, Math.round(opts.files / 40)));
  const areas = ['core', 'gfx', 'display/dc', 'display/dmub', 'pm/swsmu', 'pm/powerplay', 'kfd', 'ip', 'ras', 'include', 'dm', 'acp'];
  const dirs: Array<{ path: string; block: string; weight: number }> = [];
  const usedDirs = new Set<string>();
  for (let k = 0; dirs.length < dirCount; k++) {
    const block = rng.pick(BLOCKS);
    const area = k === 0 ? 'core' : rng.pick(areas);
    const p = k === 0 ? `${ROOT}/core` : `${ROOT}/${area}/${block}${k > BLOCKS.length * areas.length ? `_${k}` : ''}`;
    if (usedDirs.has(p)) continue;
    usedDirs.add(p);
    dirs.push({ path: p, block, weight: 1 / Math.pow(k + 1, 0.9) });
  }
  const dwsum = dirs.reduce((a, d) => a + d.weight, 0);
  const counts = dirs.map((d) => Math.max(1, Math.floor((regularCount * d.weight) / dwsum)));
  for (let i = 0, left = regularCount - counts.reduce((a, b) => a + b, 0); left > 0; i = (i + 1) % counts.length, left--) counts[i]++;
  for (let i = counts.length - 1, over = counts.reduce((a, b) => a + b, 0) - regularCount; over > 0 && i >= 0; i--) {
    const take = Math.min(over, counts[i] - 1);
    counts[i] -= take;
    over -= take;
  }

  const files: PlannedFile[] = [];
  const sizeWeights: number[] = [];
  dirs.forEach((d, di) => {
    const used = new Set<string>();
    for (let i = 0; i < counts[di]; i++) {
      const ext = rng.chance(0.65) || i === 0 ? '.c' : '.h';
      const block = rng.chance(0.8) ? d.block : rng.pick(BLOCKS);
      const base = `${block}_${rng.pick(['v9', 'v10', 'v11', 'v12', 'common', 'hw', 'ip', 'mgr', 'ctl', 'irq', 'debugfs', 'ras', 'reset', 'pm', 'sched'])}${rng.chance(0.5) ? `_${rng.int(0, 9)}` : ''}`;
      files.push({ rel: `${d.path}/${uniqueName(used, base, ext)}`, dir: d.path, ext, bytes: 0, block, units: [], localIncludes: [], kinds: {} });
      sizeWeights.push(ext === '.c' ? rng.logNormal(1.0) : 0.25 * rng.logNormal(0.8));
    }
  });
  const swsum = sizeWeights.reduce((a, b) => a + b, 0);
  files.forEach((f, i) => { f.bytes = Math.max(600, Math.min(1.2 * MIB, Math.round((regularBytes * sizeWeights[i]) / swsum))); });
  return { files, bigHeaders };
}

/** Decides which files get the planted sites and the decoys. */
function plantSites(rng: Prng, files: PlannedFile[], opts: CorpusOptions, decoysOut: Manifest['decoys']): void {
  const byDir = new Map<string, PlannedFile[]>();
  for (const f of files) byDir.set(f.dir, [...(byDir.get(f.dir) ?? []), f]);
  const cCount = (d: string): number => byDir.get(d)!.filter((f) => f.ext === '.c').length;
  const dirsBySize = [...byDir.keys()].sort((a, b) => cCount(b) - cCount(a) || a.localeCompare(b));
  // Sites live in a few driver directories; the notifier-protected one in its own (its notifier protects its neighbours).
  const siteDirs = dirsBySize.filter((d) => cCount(d) >= 5).slice(0, Math.min(3, dirsBySize.length - 1));
  if (siteDirs.length === 0) siteDirs.push(dirsBySize[0]);
  const protectedDir = dirsBySize.find((d) => !siteDirs.includes(d) && cCount(d) >= 1) ?? siteDirs[0];
  const used = new Set<PlannedFile>();
  const takeC = (dir: string): PlannedFile => {
    const cands = byDir.get(dir)!.filter((f) => f.ext === '.c' && !used.has(f));
    const pick = cands.length > 0 ? rng.pick(cands) : rng.pick(byDir.get(dir)!.filter((f) => f.ext === '.c'));
    used.add(pick);
    return pick;
  };
  const takeH = (dir: string): PlannedFile => {
    const cands = byDir.get(dir)!.filter((f) => f.ext === '.h' && !used.has(f));
    if (cands.length > 0) { const h = rng.pick(cands); used.add(h); return h; }
    const h: PlannedFile = { rel: `${dir}/bench_pin_helpers.h`, dir, ext: '.h', bytes: 2048, block: 'core', units: [], localIncludes: [], kinds: {} };
    files.push(h);
    byDir.get(dir)!.push(h);
    used.add(h);
    return h;
  };
  const put = (f: PlannedFile, p: Planted): void => {
    f.units.push(p.text);
    Object.assign(f.kinds, p.kinds);
  };

  const scale = Math.max(1, Math.round(opts.files / 1500));
  let serial = 0;
  const names = (): planted.SiteNames => ({ prefix: 'xgpu', tag: `xgpu_${rng.pick(['uptr', 'umem', 'dmabuf', 'hsa', 'svm', 'p2p', 'dbg', 'cwsr', 'mes', 'ring'])}${serial}` });
  const id = (): string => `S${String(++serial).padStart(3, '0')}`;
  for (let s = 0; s < scale; s++) {
    const dir = (): string => rng.pick(siteDirs);
    put(takeC(dir()), planted.literalWriteKept(names(), id(), false));
    put(takeC(dir()), planted.literalWriteKept(names(), id(), true));
    put(takeC(dir()), planted.literalPinLongterm(names(), id()));
    put(takeC(dir()), planted.literalWriteShort(names(), id()));
    put(takeC(dir()), planted.flagsVariable(names(), id()));
    put(takeC(dir()), planted.flagsVariable(names(), id()));
    put(takeC(dir()), planted.flagsMacro(names(), id()));
    put(takeC(dir()), planted.macroWrapper(names(), id()));
    put(takeC(dir()), planted.functionWrapper(names(), id(), id()));
    put(takeC(dir()), planted.readonlyKept(names(), id()));
    put(takeC(protectedDir), planted.notifierProtected(names(), id()));
    const crossDir = dir();
    const cross = crossFile(names(), id(), id());
    const header = takeH(crossDir);
    header.units.push(cross.header);
    put(takeC(crossDir), cross.wrapper);
    const direct = takeC(crossDir);
    put(direct, cross.direct);
    direct.localIncludes.push(path.posix.basename(header.rel));
    const quiet = takeC(crossDir);
    put(quiet, cross.macroOnly);
    quiet.localIncludes.push(path.posix.basename(header.rel));
    quiet.quiet = true;
  }

  const decoyCount = Math.max(2, Math.round(opts.files / 150));
  const free = files.filter((f) => !used.has(f) && f.ext === '.c');
  const quietDirs = new Set([...siteDirs]);
  for (let i = 0; i < decoyCount && free.length > 0; i++) {
    const variant = i % 4;
    // An hmm_range_fault() user is a protection for its directory: keep it away from the planted sites.
    const cands = variant === 3 ? free.filter((f) => !quietDirs.has(f.dir)) : free;
    if (cands.length === 0) continue;
    const f = rng.pick(cands);
    free.splice(free.indexOf(f), 1);
    f.units.push(decoy({ prefix: 'xgpu', tag: `xgpu_${f.block}_d${i}` }, variant));
    decoysOut.push({ file: f.rel, variant });
  }
}

/** Builds a file's text, inserting its planted units among generated ones, and strips the site markers. */
function renderFile(rng: Prng, f: PlannedFile, siblingsH: string[]): { text: string; marks: Map<string, { site?: number; literal?: number }> } {
  const gen = new CTextGen(rng, { prefix: 'xgpu', block: f.block });
  let head: string;
  if (f.ext === '.h' && f.units.length === 0) {
    const guard = `__${f.rel.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}__`;
    return { text: gen.fileComment() + gen.headerBody(guard, f.bytes), marks: new Map() };
  }
  const local = [...new Set([...siblingsH.filter(() => rng.chance(0.3)).slice(0, 2), ...f.localIncludes])];
  head = gen.fileComment() + (f.ext === '.c' ? gen.includes(local) : '');
  const units: string[] = [];
  let bytes = head.length + f.units.reduce((a, u) => a + u.length, 0);
  while (bytes < f.bytes) {
    const u = gen.unit();
    units.push(u);
    bytes += u.length;
  }
  for (const p of f.units) units.splice(rng.int(0, units.length), 0, p);
  const lines = (head + units.join('')).split('\n');
  const marks = new Map<string, { site?: number; literal?: number }>();
  const re = /@@(site|literal):(S\d+)@@/g;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].includes('@@')) continue;
    lines[i] = lines[i].replace(re, (_m, what: 'site' | 'literal', id: string) => {
      const m = marks.get(id) ?? {};
      m[what] = i + 1;
      marks.set(id, m);
      return '';
    });
  }
  return { text: lines.join('\n'), marks };
}

export function generateCorpus(opts: CorpusOptions): Manifest {
  const rng = new Prng(opts.seed);
  const { files, bigHeaders } = planFiles(rng.fork(1), opts);
  const manifest: Manifest = {
    generator: 'forksafe-bench-corpus', version: GENERATOR_VERSION, seed: opts.seed, requested: { files: opts.files, mb: opts.mb },
    files: 0, bytes: 0, bigHeaders: [], directories: 0, sites: [], decoys: [],
  };
  plantSites(rng.fork(2), files, opts, manifest.decoys);

  fs.mkdirSync(opts.out, { recursive: true });
  const write = (rel: string, text: string): void => {
    const full = path.join(opts.out, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
    manifest.files++;
    manifest.bytes += Buffer.byteLength(text);
  };
  const dirs = new Set<string>();
  const headerRng = rng.fork(3);
  for (const h of bigHeaders) {
    const block = h.block;
    const text = registerHeader(headerRng.fork(manifest.files), block, path.posix.basename(h.rel).replace(/_(sh_mask|offset)\.h$/, ''), h.bytes, h.rel.endsWith('sh_mask.h'));
    write(h.rel, text);
    manifest.bigHeaders.push({ file: h.rel, bytes: Buffer.byteLength(text) });
    dirs.add(h.dir);
  }
  const hByDir = new Map<string, string[]>();
  for (const f of files) if (f.ext === '.h') hByDir.set(f.dir, [...(hByDir.get(f.dir) ?? []), path.posix.basename(f.rel)]);
  const textRng = rng.fork(4);
  files.forEach((f, i) => {
    const { text, marks } = renderFile(textRng.fork(i), f, f.quiet ? [] : hByDir.get(f.dir) ?? []);
    write(f.rel, text);
    dirs.add(f.dir);
    for (const [sid, m] of marks) {
      const k = f.kinds[sid];
      if (!k || m.site === undefined) continue;
      manifest.sites.push({ id: sid, kind: k.kind, file: f.rel, line: m.site, api: k.api, expect: k.expect, literal: m.literal !== undefined ? { file: f.rel, line: m.literal } : null, note: k.note });
    }
  });
  manifest.sites.sort((a, b) => a.id.localeCompare(b.id));
  manifest.directories = dirs.size;
  fs.writeFileSync(path.join(opts.out, ROOT, 'Makefile'), `# SPDX-License-Identifier: MIT\n# Synthetic out-of-tree driver (forksafe benchmark corpus).\nobj-m += xgpu.o\nccflags-y += -I$(src)/include\n`);
  fs.writeFileSync(path.join(opts.out, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** One C file of about `lines` lines with three groups of pin sites (the editor benchmark's document). */
export function generateEditFile(seed: number, lines: number): { text: string; sites: Array<{ id: string; line: number; expect: string[] }> } {
  const rng = new Prng(seed ^ 0x5eed);
  const gen = new CTextGen(rng, { prefix: 'xgpu', block: 'gfx' });
  const plants = [
    planted.literalWriteKept({ prefix: 'xgpu', tag: 'xgpu_edit_a' }, 'S001', false),
    planted.flagsVariable({ prefix: 'xgpu', tag: 'xgpu_edit_b' }, 'S002'),
    planted.functionWrapper({ prefix: 'xgpu', tag: 'xgpu_edit_c' }, 'S003', 'S004'),
  ];
  const plantedLines = plants.reduce((a, p) => a + p.text.split('\n').length - 1, 0);
  const head = gen.fileComment() + gen.includes([]);
  const units: string[] = [];
  let count = head.split('\n').length - 1 + plantedLines;
  for (;;) {
    const u = gen.unit();
    const n = u.split('\n').length - 1;
    if (count + n > lines) break;
    units.push(u);
    count += n;
  }
  units.push('/* end of the benchmark document */\n'.repeat(Math.max(0, lines - count)));
  plants.forEach((p, i) => units.splice(Math.floor(((i + 1) * units.length) / (plants.length + 1)), 0, p.text));
  const out = (head + units.join('')).split('\n');
  const sites: Array<{ id: string; line: number; expect: string[] }> = [];
  const kinds = Object.assign({}, ...plants.map((p) => p.kinds)) as Planted['kinds'];
  for (let i = 0; i < out.length; i++) {
    const m = /@@site:(S\d+)@@/.exec(out[i]);
    if (m) sites.push({ id: m[1], line: i + 1, expect: kinds[m[1]].expect });
    out[i] = out[i].replace(/@@(site|literal):S\d+@@/g, '');
  }
  return { text: out.join('\n'), sites };
}

/** Reads a corpus manifest, or undefined when there is none (or it is unreadable). */
export function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_NAME), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { out: { type: 'string' }, files: { type: 'string', default: '3000' }, mb: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || !values.out) {
    process.stderr.write('usage: node out/bench/generateCorpus.js --out DIR [--files N (3000)] [--mb M (100)] [--seed S (1)]\n');
    return values.help ? 0 : 2;
  }
  const opts: CorpusOptions = { out: path.resolve(values.out), files: Number(values.files), mb: Number(values.mb), seed: Number(values.seed) };
  if (![opts.files, opts.mb, opts.seed].every(Number.isFinite) || opts.files < 1 || opts.mb <= 0) {
    process.stderr.write('generateCorpus: --files, --mb and --seed must be numbers (files >= 1, mb > 0)\n');
    return 2;
  }
  if (fs.existsSync(opts.out) && fs.readdirSync(opts.out).length > 0) {
    if (!readManifest(opts.out)) {
      process.stderr.write(`generateCorpus: ${opts.out} is not empty and holds no ${MANIFEST_NAME}; refusing to overwrite it\n`);
      return 2;
    }
    fs.rmSync(opts.out, { recursive: true, force: true });
  }
  const started = performance.now();
  const m = generateCorpus(opts);
  const literal = m.sites.filter((s) => s.literal).length;
  process.stdout.write(`wrote ${m.files} files, ${(m.bytes / MIB).toFixed(1)} MiB in ${m.directories} directories to ${opts.out} ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s\n` +
    `  ${m.bigHeaders.length} big headers (${(m.bigHeaders.reduce((a, h) => a + h.bytes, 0) / MIB).toFixed(1)} MiB), ${m.sites.length} planted pin sites ` +
    `(${literal} spelled literally with FOLL_WRITE), ${m.decoys.length} decoys\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
