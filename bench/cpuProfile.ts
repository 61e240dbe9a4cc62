// Summarises V8 .cpuprofile files (node --cpu-prof): top self time and inclusive time per function, mapped to TypeScript sources through the bundle's source map.
//
//   node out/bench/cpuProfile.js <file.cpuprofile> [--top 25]
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { SourceMap } from 'module';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface FunctionTime { name: string; where: string; selfMs: number; totalMs: number }
export interface ProfileSummary { file: string; totalMs: number; sampledMs: number; top: FunctionTime[]; inclusive: FunctionTime[]; byFile: Array<{ where: string; selfMs: number }> }

const maps = new Map<string, SourceMap | null>();

function sourceMapFor(url: string): SourceMap | null {
  if (maps.has(url)) return maps.get(url)!;
  let map: SourceMap | null = null;
  try {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const payload = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8'));
    map = new SourceMap(payload);
  } catch { map = null; }
  maps.set(url, map);
  return map;
}

const REPO = path.resolve(__dirname, '..', '..');

/** "server/src/analysis/fileIndex.ts:41" for a frame of a bundle with a source map; wasm and node internals as they are. */
function locate(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? '' : '(native)';
  if (frame.url.startsWith('wasm://')) return 'wasm (tree-sitter)';
  if (frame.url.startsWith('node:')) return frame.url;
  const map = sourceMapFor(frame.url);
  if (map) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e && e.originalSource) {
      const src = e.originalSource.startsWith('file:') ? fileURLToPath(e.originalSource) : path.resolve(path.dirname(fileURLToPath(frame.url)), e.originalSource);
      return `${path.relative(REPO, src)}:${(e.originalLine ?? 0) + 1}`;
    }
  }
  const file = frame.url.startsWith('file:') ? fileURLToPath(frame.url) : frame.url;
  return `${path.relative(REPO, file)}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = new Map<number, string>();
  const info = new Map<string, { name: string; where: string }>();
  for (const n of profile.nodes) {
    const where = locate(n.callFrame);
    const name = n.callFrame.functionName || '(anonymous)';
    const key = `${name}\u0000${where}`;
    keyOf.set(n.id, key);
    if (!info.has(key)) info.set(key, { name, where });
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    sampled += ms;
    const leaf = profile.samples[i];
    const lk = keyOf.get(leaf)!;
    self.set(lk, (self.get(lk) ?? 0) + ms);
    const where = info.get(lk)!.where.replace(/:\d+$/, '') || info.get(lk)!.name;
    fileSelf.set(where, (fileSelf.get(where) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const k = keyOf.get(id)!;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  }
  const rows = [...info.entries()].map(([k, v]) => ({ ...v, selfMs: self.get(k) ?? 0, totalMs: total.get(k) ?? 0 }));
  const ours = (r: FunctionTime): boolean => r.where.startsWith('server/src/') || r.where === 'wasm (tree-sitter)' || r.where.startsWith('node_modules/web-tree-sitter');
  return {
    file, totalMs: (profile.endTime - profile.startTime) / 1000, sampledMs: sampled,
    top: rows.sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    inclusive: rows.filter(ours).sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
    byFile: [...fileSelf.entries()].map(([where, selfMs]) => ({ where, selfMs })).sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  };
}

export function formatSummary(s: ProfileSummary, label: string): string {
  const pct = (ms: number): string => `${((100 * ms) / (s.sampledMs || 1)).toFixed(1).padStart(5)}%`;
  const lines = [`${label}: ${path.basename(s.file)} (${(s.totalMs / 1000).toFixed(2)} s profiled)`, '  top self time:'];
  for (const r of s.top) lines.push(`    ${pct(r.selfMs)} ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`);
  lines.push('  inclusive time (our code, tree-sitter):');
  for (const r of s.inclusive) lines.push(`    ${pct(r.totalMs)} ${r.totalMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`);
  lines.push('  self time by source file:');
  for (const r of s.byFile.slice(0, 12)) lines.push(`    ${pct(r.selfMs)} ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.where}`);
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const topN = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  for (const f of args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1))) {
    process.stdout.write(formatSummary(summarizeProfile(f, topN), 'profile') + '\n\n');
  }
}
