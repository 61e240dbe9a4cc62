// `forksafe probe`: what this machine's kernel really does in a scenario, printed beside the simulation of it.

import { parseArgs } from 'util';
import { type ProbeCase, type ProbeMemory, type ProbeProtection, PROBE_MEMORIES, PROBE_PROTECTIONS, describeProbeCase, probeArguments, probeReferenceFor, scenarioOf } from '../kernelProbe/probePlan';
import { type ProbeDifference, type ProbeReport, type ProbeStep, compareWithKernel, simulatedReads } from '../kernelProbe/probeCompare';
import { type BuiltProbe, type HostKernel, buildProbe, hostKernel, runProbe } from '../kernelProbe/probeRunner';
import { type SimulationResult, simulateFork } from '../simulation/fork';
import { formatKernelVersion } from '../simulation/kernelEra';
import { formatFrame } from '../simulation/memoryModel';
import { EVENT_ORDERS, type EventOrder, type RefKind, isEventOrder } from '../simulation/scenario';
import type { Step } from '../simulation/trace';
import { refKindForApi } from './simulateCommand';

export interface ProbeIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Injected by tests; the real command builds the probe and reads the running kernel. */
  build?: () => BuiltProbe;
  host?: HostKernel;
  run?: (binary: string, args: readonly string[]) => ProbeReport;
}

export const PROBE_USAGE = `usage: forksafe probe [options]

Carries out a scenario on one real page of this machine's kernel, with a real long-lived reference standing in for
the device, and prints what the kernel did beside what forksafe simulates for this kernel's version, step by step.
The probe is a small C program that ships with forksafe; it is built with the system compiler (cc, or $CC) on first use.
Frame numbers come from /proc/self/pagemap and are shown to root only; without them values and process states are compared.

options:
  --api NAME | --ref get|pin  the reference: get_user_pages* (FOLL_GET, the probe uses vmsplice into a pipe, read-only)
                              or pin_user_pages* (FOLL_PIN, the probe uses an io_uring fixed buffer, writable, FOLL_LONGTERM)
                              (default get)
  --read | --write            read-only or writable reference (default: what the reference kind allows)
  --device read|write         with a writable pin: the device reads the page (default) or writes it
  --memory small|thp|hugetlb  a 4 KiB page (default), a transparent huge page, or a hugetlb page (needs vm.nr_hugepages)
  --protection P              none|dontfork|wipeonfork (default none)
  --order ORDER|all           ${EVENT_ORDERS.join('|')}|all (default all)
  --json                      print the simulation, the kernel's report and the differences as JSON
  -h, --help                  this help

exit status: 0 the simulation agrees with the kernel at every step, 1 it differs, 2 usage error or the probe cannot run here.
`;

class UsageError extends Error {}

interface Options { cases: ProbeCase[]; json: boolean; help: boolean }

function parseOptions(argv: string[]): Options {
  let v;
  try {
    v = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        api: { type: 'string' }, ref: { type: 'string' }, read: { type: 'boolean' }, write: { type: 'boolean' },
        device: { type: 'string' }, memory: { type: 'string' }, protection: { type: 'string' }, order: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (v.help) return { cases: [], json: false, help: true };
  if (v.api !== undefined && v.ref !== undefined) throw new UsageError('give either --api or --ref, not both');
  if (v.read && v.write) throw new UsageError('give either --read or --write, not both');
  let ref: RefKind = 'get';
  if (v.api !== undefined) {
    const fromApi = refKindForApi(v.api);
    if (!fromApi) throw new UsageError(`unknown --api '${v.api}' (expected get_user_pages*, get_vaddr_frames or pin_user_pages*)`);
    ref = fromApi;
  } else if (v.ref !== undefined) {
    if (v.ref !== 'get' && v.ref !== 'pin') throw new UsageError(`unknown --ref '${v.ref}' (expected get or pin)`);
    ref = v.ref;
  }
  const access = v.read ? 'read' : v.write ? 'write' : ref === 'get' ? 'read' : 'write';
  const chosen = probeReferenceFor({ ref, access });
  if ('reason' in chosen) throw new UsageError(chosen.reason);
  const memory = (v.memory ?? 'small') as ProbeMemory;
  if (!PROBE_MEMORIES.includes(memory)) throw new UsageError(`unknown --memory '${v.memory}' (expected ${PROBE_MEMORIES.join('|')})`);
  const protection = (v.protection ?? 'none') as ProbeProtection;
  if (!PROBE_PROTECTIONS.includes(protection)) {
    throw new UsageError(`unknown --protection '${v.protection}' (expected ${PROBE_PROTECTIONS.join('|')}; a notifier belongs to a driver and cannot be probed from user space)`);
  }
  const device = v.device ?? 'read';
  if (device !== 'read' && device !== 'write') throw new UsageError(`unknown --device '${device}' (expected read or write)`);
  if (device === 'write' && chosen.reference === 'vmsplice') throw new UsageError('--device write needs a writable pin (--ref pin): a vmsplice reference is read-only');
  const order = v.order ?? 'all';
  if (order !== 'all' && !isEventOrder(order)) throw new UsageError(`unknown --order '${order}' (expected ${EVENT_ORDERS.join('|')}|all)`);
  const orders: EventOrder[] = order === 'all' ? [...EVENT_ORDERS] : [order as EventOrder];
  return {
    cases: orders.map((o) => ({ memory, reference: chosen.reference, device, protection, order: o })),
    json: v.json === true,
    help: false,
  };
}

function simulatedCell(step: Step): string {
  const s = step.state;
  const child = s.child.status === 'running' ? (s.child.mapping ? formatFrame(s.child.mapping.frame) : '-') : s.child.status === 'not-forked' ? '' : s.child.status;
  const device = s.device.status === 'mapped' && s.device.mapping ? formatFrame(s.device.mapping.frame) : '-';
  const parts = [`parent ${s.parent.mapping ? formatFrame(s.parent.mapping.frame) : '-'}`];
  if (child) parts.push(`child ${child}`);
  parts.push(`device ${device}`);
  return parts.join(', ');
}

function realCell(step: ProbeStep): string {
  const child = step.child === 'running' ? step.childFrame ?? '-' : step.child === 'none' ? '' : `${step.child}${step.childSignal ? ` (${step.childSignal})` : ''}`;
  const parts = [`parent ${step.parent ?? '-'}`];
  if (child) parts.push(`child ${child}`);
  parts.push(`device ${step.device ?? '-'}`);
  if (step.value !== undefined) parts.push(`read ${step.value}`);
  if (step.failed) parts.push(`failed: ${step.failed}`);
  return parts.join(', ');
}

function formatComparison(c: ProbeCase, sim: SimulationResult, real: ProbeReport, differences: ProbeDifference[]): string {
  const lines = [`${describeProbeCase(c)}  (simulated: ${sim.era.name})`];
  const reads = simulatedReads(sim);
  const rows = (real.steps ?? []).map((step, i) => {
    const simStep = sim.steps[i + 1];
    const value = reads[i];
    const read = value !== undefined ? `, read ${value}` : '';
    const mark = differences.some((d) => d.step === i + 1) ? '!' : ' ';
    return [`${mark} ${String(i + 1).padStart(2)}`, step.event, simStep ? simulatedCell(simStep) + read : '', realCell(step)];
  });
  const widths = [4, Math.max(5, ...rows.map((r) => r[1]!.length)), Math.max(9, ...rows.map((r) => r[2]!.length))];
  lines.push(`${'step'.padEnd(widths[0]!)}  ${'event'.padEnd(widths[1]!)}  ${'simulator'.padEnd(widths[2]!)}  kernel`);
  for (const r of rows) lines.push(`${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`);
  if (differences.length === 0) {
    lines.push(`=> the kernel agrees with the simulation at every step (${rows.length} steps${real.frames === false ? '; frames hidden, values compared' : ''}).`);
  } else {
    lines.push(`=> ${differences.length} difference${differences.length === 1 ? '' : 's'}:`);
    for (const d of differences) lines.push(`   step ${d.step} (${d.event}): ${d.what}`);
  }
  return lines.join('\n');
}

export function runProbeCommand(argv: string[], io: ProbeIo): number {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) { io.err(`forksafe probe: ${err.message}\n${PROBE_USAGE}`); return 2; }
    throw err;
  }
  if (options.help) { io.out(PROBE_USAGE); return 0; }
  const host = io.host ?? hostKernel();
  if (!host.simulated) { io.err(`forksafe probe: cannot probe here: not a Linux kernel (${host.release})\n`); return 2; }
  const built = (io.build ?? buildProbe)();
  if ('unavailable' in built) { io.err(`forksafe probe: cannot probe here: ${built.unavailable}\n`); return 2; }
  const run = io.run ?? runProbe;
  const kernel = host.simulated;
  const header = `kernel ${host.release}, simulated as ${formatKernelVersion(kernel)}` + (host.note ? `\nnote: ${host.note}` : '');
  const results: Array<{ probe: ProbeCase; simulation: SimulationResult; kernel: ProbeReport; differences: ProbeDifference[] }> = [];
  const blocks: string[] = [];
  let failed = false;
  for (const c of options.cases) {
    const scenario = scenarioOf(c, kernel);
    const planned = probeArguments(c, scenario);
    if ('reason' in planned) { io.err(`forksafe probe: ${planned.reason}\n`); return 2; }
    const real = run(built.binary, planned.args);
    if (real.skip || real.error) {
      io.err(`forksafe probe: ${describeProbeCase(c)}: cannot probe here: ${real.skip ?? real.error}\n`);
      return 2;
    }
    const simulation = simulateFork(scenario);
    const differences = compareWithKernel(simulation, real);
    failed ||= differences.length > 0;
    results.push({ probe: c, simulation, kernel: real, differences });
    blocks.push(formatComparison(c, simulation, real, differences));
  }
  if (options.json) {
    io.out(`${JSON.stringify({ kernel: host, results }, null, 2)}\n`);
  } else {
    io.out(`${header}\n\n${blocks.join('\n\n')}\n`);
  }
  return failed ? 1 : 0;
}
