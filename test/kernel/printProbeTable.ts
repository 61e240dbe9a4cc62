// Prints docs/simulation.md's table of probed scenarios for this machine's kernel: every case the kernel suite
// compares, what the kernel did (does the device still share the parent's frame at the end; who was killed) and
// whether the simulation agrees at every step. Run: npm run probe-table (as root, for frames and hugetlb pages).
import { EVENT_ORDERS } from '../../server/src/simulation/scenario';
import { allProbeCases, probeArguments, scenarioOf, simulateProbeCase } from '../../server/src/kernelProbe/probePlan';
import { compareWithKernel, type ProbeReport } from '../../server/src/kernelProbe/probeCompare';
import { buildProbe, hostKernel, reserveHugetlbPages, runProbe, waitForFreeHugetlbPages } from '../../server/src/kernelProbe/probeRunner';

function outcome(report: ProbeReport): string {
  const last = report.steps?.[report.steps.length - 1];
  if (!last) return '?';
  const device = last.device && last.parent ? (last.device === last.parent ? 'stays' : 'parts') : 'values only';
  return last.child === 'killed' ? `${device}, child ${last.childSignal ?? 'killed'}` : device;
}

function main(): number {
  const host = hostKernel();
  const built = buildProbe();
  if (!host.simulated || 'unavailable' in built) {
    process.stderr.write(`cannot probe here: ${'unavailable' in built ? built.unavailable : host.release}\n`);
    return 2;
  }
  const reserved = reserveHugetlbPages(4);
  const rows = new Map<string, string[]>();
  let compared = 0;
  let differing = 0;
  let skipped = 0;
  for (const c of allProbeCases(EVENT_ORDERS)) {
    const key = `| ${c.memory} | ${c.reference}${c.reference === 'io_uring' ? `, device ${c.device}s` : ''} | ${c.protection} |`;
    const planned = probeArguments(c, scenarioOf(c, host.simulated));
    // The previous hugetlb probe's pages come back when the kernel tears its io_uring down, after it exited.
    if (c.memory === 'hugetlb') waitForFreeHugetlbPages(3);
    const report = 'args' in planned ? runProbe(built.binary, planned.args) : { skip: planned.reason };
    let cell: string;
    if (report.skip || report.error) {
      skipped += 1;
      cell = `not run: ${report.skip ?? report.error}`;
    } else {
      compared += 1;
      const agrees = compareWithKernel(simulateProbeCase(c, host.simulated), report).length === 0;
      if (!agrees) differing += 1;
      cell = `${outcome(report)}${agrees ? '' : ' (**simulator differs**)'}`;
    }
    rows.set(key, [...(rows.get(key) ?? []), cell]);
  }
  if (reserved.reason === undefined) reserved.restore();
  process.stdout.write(`Kernel ${host.release}: ${compared} cases compared step by step, ${differing} differ, ${skipped} not run.\n\n`);
  process.stdout.write(`| memory | reference | protection | ${EVENT_ORDERS.join(' | ')} |\n|---|---|---|${EVENT_ORDERS.map(() => '---').join('|')}|\n`);
  for (const [key, cells] of rows) process.stdout.write(`${key} ${cells.join(' | ')} |\n`);
  return differing > 0 ? 1 : 0;
}

process.exitCode = main();
