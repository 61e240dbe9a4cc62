// Which simulated scenarios the kernel probe can carry out on a real page, and the probe's event list for each.

import { simulateFork, type SimulationResult } from '../simulation/fork';
import type { SimEvent } from '../simulation/events';
import type { EraId, KernelVersion } from '../simulation/kernelEra';
import { type EventOrder, type Protections, type ScenarioInput, type Scenario, buildScenario } from '../simulation/scenario';

/** small: one 4 KiB anonymous page; thp: a transparent huge page; hugetlb: a MAP_HUGETLB page. */
export type ProbeMemory = 'small' | 'thp' | 'hugetlb';
/** vmsplice: a read-only FOLL_GET reference a pipe keeps; io_uring: a fixed buffer, FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE. */
export type ProbeReference = 'vmsplice' | 'io_uring';
export type ProbeProtection = 'none' | 'dontfork' | 'wipeonfork';

export const PROBE_MEMORIES: readonly ProbeMemory[] = ['small', 'thp', 'hugetlb'];
export const PROBE_REFERENCES: readonly ProbeReference[] = ['vmsplice', 'io_uring'];
export const PROBE_PROTECTIONS: readonly ProbeProtection[] = ['none', 'dontfork', 'wipeonfork'];

export interface ProbeCase {
  memory: ProbeMemory;
  reference: ProbeReference;
  /** What the device does with the page: a vmsplice reference can only be read. */
  device: 'read' | 'write';
  protection: ProbeProtection;
  order: EventOrder;
}

/** The reference the simulator is given for each real one. */
export function referenceInput(reference: ProbeReference): Pick<ScenarioInput, 'ref' | 'access' | 'longterm'> {
  return reference === 'vmsplice'
    ? { ref: 'get', access: 'read', longterm: false }
    : { ref: 'pin', access: 'write', longterm: true };
}

/** The real reference that stands in for a simulated one, or why there is none. */
export function probeReferenceFor(input: Pick<ScenarioInput, 'ref' | 'access'>): { reference: ProbeReference } | { reason: string } {
  if (input.ref === 'get' && input.access === 'read') return { reference: 'vmsplice' };
  if (input.ref === 'pin' && input.access === 'write') return { reference: 'io_uring' };
  return input.ref === 'get'
    ? { reason: 'no system call keeps a writable FOLL_GET reference after it returns; the probe has vmsplice (read-only FOLL_GET) and io_uring (FOLL_PIN | FOLL_WRITE): try --read, or --ref pin' }
    : { reason: 'no system call keeps a read-only FOLL_PIN pin after it returns; the probe has io_uring fixed buffers (FOLL_PIN | FOLL_WRITE) and vmsplice (FOLL_GET): try --write, or --ref get' };
}

function protectionsOf(p: ProbeProtection): Protections {
  return { dontfork: p === 'dontfork', wipeonfork: p === 'wipeonfork', notifier: false };
}

/** The simulated scenario of one probe case on `kernel`: a long-lived reference, the device acting as the case says. */
export function scenarioOf(probe: ProbeCase, kernel: KernelVersion, eraId?: EraId): Scenario {
  const input: ScenarioInput = {
    kernel,
    ...referenceInput(probe.reference),
    longLived: true,
    protections: protectionsOf(probe.protection),
    hugetlb: probe.memory === 'hugetlb',
    ...(eraId ? { eraId } : {}),
  };
  const scenario = buildScenario(input, probe.order);
  // The io_uring buffer is writable: the device may read it (WRITE_FIXED) as well as write it (READ_FIXED).
  const dma: SimEvent = { kind: probe.device === 'write' ? 'dma-write' : 'dma-read' };
  return { ...scenario, events: scenario.events.map((e) => (e.kind === 'dma-read' || e.kind === 'dma-write' ? dma : e)) };
}

/** The byte a write at event `index` puts into the page (the parent starts with 1; zeros read as 0). */
export function byteWrittenAt(index: number): number {
  return 0x10 + index;
}

/** The probe's arguments for a scenario's events, or the first event it cannot carry out. */
export function probeArguments(probe: ProbeCase, scenario: Scenario): { args: string[] } | { reason: string } {
  const args: string[] = [probe.memory, probe.reference];
  for (const [index, e] of scenario.events.entries()) {
    switch (e.kind) {
      case 'madvise': args.push(e.advice); break;
      case 'pin': args.push('pin'); break;
      case 'fork': args.push('fork'); break;
      case 'cpu-write': args.push(`${e.who}-write=${byteWrittenAt(index)}`); break;
      case 'cpu-read': args.push(`${e.who}-read`); break;
      case 'dma-read': args.push('dma-read'); break;
      case 'dma-write': args.push(`dma-write=${byteWrittenAt(index)}`); break;
      case 'child-exit': args.push('child-exit'); break;
      case 'unpin': args.push('unpin'); break;
      case 'register-notifier':
      case 'invalidate':
        return { reason: 'an mmu notifier belongs to a driver; user space cannot register one' };
    }
  }
  return { args };
}

/** Every case the kernel suite compares: each memory, reference, device direction, protection and order. */
export function allProbeCases(orders: readonly EventOrder[]): ProbeCase[] {
  const cases: ProbeCase[] = [];
  for (const memory of PROBE_MEMORIES) for (const reference of PROBE_REFERENCES) {
    const directions: Array<'read' | 'write'> = reference === 'vmsplice' ? ['read'] : ['read', 'write'];
    for (const device of directions) for (const protection of PROBE_PROTECTIONS) for (const order of orders) {
      cases.push({ memory, reference, device, protection, order });
    }
  }
  return cases;
}

/** `eraId` forces an era's rules whatever the version (a deliberately wrong model, to show the comparison can fail). */
export function simulateProbeCase(probe: ProbeCase, kernel: KernelVersion, eraId?: EraId): SimulationResult {
  return simulateFork(scenarioOf(probe, kernel, eraId));
}

export function describeProbeCase(p: ProbeCase): string {
  const device = p.reference === 'vmsplice' ? '' : p.device === 'write' ? ', device writes' : ', device reads';
  const protection = p.protection === 'none' ? '' : `, MADV_${p.protection.toUpperCase()}`;
  return `${p.memory} page, ${p.reference}${device}${protection}, ${p.order}`;
}
