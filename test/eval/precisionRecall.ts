// `npm run eval`: per-rule precision and recall of the engine over every fixture driver's inline expectations.
import { analyzeDriver, listFixtureDrivers } from '../helpers/fixtures';
import { RULE_CODES } from '../../server/src/analysis/rules';

interface Counts { tp: number; fp: number; fn: number }

function pct(n: number, d: number): string {
  return d === 0 ? '   n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`;
}

async function main(): Promise<void> {
  const counts = new Map<string, Counts>(RULE_CODES.map((c) => [c, { tp: 0, fp: 0, fn: 0 }]));
  const misses: string[] = [];
  const drivers = listFixtureDrivers();
  let files = 0;
  let eraRuns = 0;
  for (const driver of drivers) {
    // A `kernels=` fixture counts once per kernel it names (each with that kernel's expectations).
    const kernels = [...new Set(driver.files.flatMap((f) => [...f.expectations.eras.keys()]))];
    const runs: Array<string | undefined> = kernels.length > 0 ? kernels : [undefined];
    for (const kernel of runs)
    for (const [file, report] of await analyzeDriver(driver, kernel ? { kernelVersion: kernel } : {})) {
      files++;
      if (kernel) eraRuns++;
      const expected = new Set<string>();
      const byLine = kernel ? file.expectations.eras.get(kernel) ?? file.expectations.byLine : file.expectations.byLine;
      for (const [line, codes] of byLine) for (const c of codes) expected.add(`${line}:${c}`);
      const actual = new Set(report.findings.map((f) => `${f.span.start.line}:${f.code}`));
      for (const key of new Set([...expected, ...actual])) {
        const code = key.split(':')[1];
        const c = counts.get(code) ?? { tp: 0, fp: 0, fn: 0 };
        counts.set(code, c);
        const inE = expected.has(key);
        const inA = actual.has(key);
        const where = `${file.name}:${Number(key.split(':')[0]) + 1}${kernel ? ` (kernel ${kernel})` : ''}`;
        if (inE && inA) c.tp++;
        else if (inA) { c.fp++; misses.push(`false positive ${code} at ${where}`); }
        else { c.fn++; misses.push(`missed ${code} at ${where}`); }
      }
    }
  }
  const lines = [`forksafe eval: ${drivers.length} fixture drivers, ${files} file analyses (${eraRuns} of them one kernel each of a multi-kernel fixture)`, '', '| rule | expected | found | true pos. | false pos. | missed | precision | recall |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  const total: Counts = { tp: 0, fp: 0, fn: 0 };
  for (const [code, c] of counts) {
    total.tp += c.tp; total.fp += c.fp; total.fn += c.fn;
    lines.push(`| ${code} | ${c.tp + c.fn} | ${c.tp + c.fp} | ${c.tp} | ${c.fp} | ${c.fn} | ${pct(c.tp, c.tp + c.fp)} | ${pct(c.tp, c.tp + c.fn)} |`);
  }
  lines.push(`| all | ${total.tp + total.fn} | ${total.tp + total.fp} | ${total.tp} | ${total.fp} | ${total.fn} | ${pct(total.tp, total.tp + total.fp)} | ${pct(total.tp, total.tp + total.fn)} |`);
  process.stdout.write(lines.join('\n') + '\n' + (misses.length ? '\n' + misses.join('\n') + '\n' : '\nno false positives, no misses\n'));
  process.exitCode = misses.length > 0 ? 1 : 0;
}

void main();
