// `npm run field`: scans public trees (outside this repo) and scores forksafe's loud findings against the labels in
// test/field/labels/ (data we wrote: path, line, verdict, reason). Not part of `npm test`: the trees are not here.
//
//   npm run field -- --tree linux-6.1=/path/to/linux-source-6.1 --tree tt-kmd=/path/to/tt-kmd ...
//
// Each labels file `<tree>@<kernel>[.<part>].tsv` is scored with `--kernel <kernel>` on the tree given for <tree>;
// trees not given are listed as skipped. Prints precision (errors + warnings) and recall (long-lived unprotected
// pins) per tree and kernel, per rule, and every disagreement.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

interface Label { path: string; line: number; verdict: string; reason: string }
interface Finding { path: string; line: number; code: string; severity: string; message: string }

const EXPECTED: Record<string, string[]> = {
  'long-lived-unprotected': ['FS001', 'FS002'],
  'long-lived-no-longterm': ['FS005'],
  'long-lived-dontfork-get': ['FS004'],
  'invalid-flags': ['FS011'],
};

const repo = resolve(__dirname, '..', '..', '..');
const labelsDir = join(repo, 'test', 'field', 'labels');
const cli = join(repo, 'server', 'dist', 'cli.js');

function parseArgs(argv: string[]): Map<string, string> {
  const trees = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--tree' || !argv[i + 1]) continue;
    const [name, dir] = argv[++i].split('=');
    if (name && dir) trees.set(name, resolve(dir));
  }
  return trees;
}

function readLabels(file: string): Label[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => {
    const [path, line, verdict, ...reason] = l.split('\t');
    return { path, line: Number(line), verdict, reason: reason.join(' ') };
  });
}

function scan(dir: string, kernel: string): Finding[] {
  let out: string;
  try {
    out = execFileSync(process.execPath, [cli, 'scan', dir, '--format', 'json', '--kernel', kernel, '--no-progress', '--fail-on', 'none'], { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    // Exit 2 (a file could not be read) still prints the report; anything else is a broken scan, not a score of zero.
    out = (e as { stdout?: string }).stdout ?? '';
    if (!out.trim()) throw new Error(`forksafe scan ${dir} --kernel ${kernel} printed no report: ${(e as Error).message}`);
  }
  const report = JSON.parse(out) as { findings?: Finding[] };
  return (report.findings ?? []).map((f) => ({ ...f, path: relative(dir, resolve(f.path)) }));
}

function main(): void {
  const trees = parseArgs(process.argv.slice(2));
  const groups = new Map<string, { tree: string; kernel: string; labels: Label[] }>();
  for (const f of readdirSync(labelsDir).filter((n) => n.endsWith('.tsv')).sort()) {
    const m = /^(.+)@(\d+\.\d+)(?:\.[\w-]+)?\.tsv$/.exec(f);
    if (!m) continue;
    const key = `${m[1]}@${m[2]}`;
    const g = groups.get(key) ?? { tree: m[1], kernel: m[2], labels: [] };
    g.labels.push(...readLabels(join(labelsDir, f)));
    groups.set(key, g);
  }
  const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
  let loudAll = 0, rightAll = 0, wantAll = 0, gotAll = 0;
  for (const [key, g] of groups) {
    const dir = trees.get(g.tree);
    if (!dir) { console.log(`${key}: skipped (no --tree ${g.tree}=DIR)`); continue; }
    const findings = scan(dir, g.kernel);
    const labelAt = new Map(g.labels.map((l) => [`${l.path}:${l.line}`, l]));
    const loud = findings.filter((f) => f.severity === 'error' || f.severity === 'warning');
    const perRule = new Map<string, { right: number; all: number }>();
    const wrong: string[] = [];
    let right = 0;
    for (const f of loud) {
      const l = labelAt.get(`${f.path}:${f.line}`);
      const ok = !!l && (EXPECTED[l.verdict] ?? []).includes(f.code);
      const r = perRule.get(f.code) ?? { right: 0, all: 0 };
      r.all++; if (ok) { r.right++; right++; } else wrong.push(`  false ${f.code} ${f.path}:${f.line} (label: ${l ? `${l.verdict}: ${l.reason}` : 'none'})`);
      perRule.set(f.code, r);
    }
    const want = g.labels.filter((l) => l.verdict === 'long-lived-unprotected');
    const missed = want.filter((l) => !loud.some((f) => f.path === l.path && f.line === l.line && EXPECTED[l.verdict].includes(f.code)));
    const sameLine = new Map<string, number>();
    for (const f of findings.filter((x) => x.code !== 'FS009')) sameLine.set(`${f.path}:${f.line}`, (sameLine.get(`${f.path}:${f.line}`) ?? 0) + 1);
    const doubled = [...sameLine.values()].filter((n) => n > 1).length;
    console.log(`${key}: ${g.labels.length} labels, ${findings.length} findings, ${loud.length} loud; precision ${pct(right, loud.length)} (${right}/${loud.length}), recall ${pct(want.length - missed.length, want.length)} (${want.length - missed.length}/${want.length}), lines with two findings: ${doubled}`);
    for (const [code, r] of [...perRule].sort()) console.log(`  ${code}: ${r.right}/${r.all} right`);
    for (const w of wrong) console.log(w);
    for (const l of missed) console.log(`  missed ${l.path}:${l.line} (${l.reason})`);
    loudAll += loud.length; rightAll += right; wantAll += want.length; gotAll += want.length - missed.length;
  }
  console.log(`all trees: precision ${pct(rightAll, loudAll)} (${rightAll}/${loudAll}), recall ${pct(gotAll, wantAll)} (${gotAll}/${wantAll})`);
}

main();
