// A real kernel's run of a scenario (the probe's report) against the simulator's trace of it, step by step.

import type { SimulationResult } from '../simulation/fork';
import { ZERO_FRAME } from '../simulation/memoryModel';
import type { Step } from '../simulation/trace';
import { byteWrittenAt } from './probePlan';

/** One event as the probe saw it: frames are pagemap frame numbers ("0x..."), null when nothing is mapped or hidden. */
export interface ProbeStep {
  event: string;
  /** The system call failed (madvise on memory that refuses it), with its error text. */
  failed?: string;
  /** The byte a read returned (a CPU read, or what the device sent for dma-read). */
  value?: number;
  parent: string | null;
  child: 'none' | 'running' | 'exited' | 'killed';
  childSignal?: string;
  childFrame: string | null;
  device: string | null;
}

export interface ProbeReport {
  memory?: string;
  reference?: string;
  /** The frame a read of untouched memory of this kind maps, when the kernel uses a zero page for it. */
  zeroFrame?: string | null;
  steps?: ProbeStep[];
  /** False when pagemap hides frame numbers (not root): then only values and process states are compared. */
  frames?: boolean;
  skip?: string;
  error?: string;
}

export interface ProbeDifference {
  step: number;
  event: string;
  what: string;
}

/** The parent starts with this byte in its buffer (the probe's INITIAL_BYTE). */
const INITIAL_BYTE = 1;

const CHILD_STATUS: Record<string, ProbeStep['child']> = { 'not-forked': 'none', running: 'running', exited: 'exited', killed: 'killed' };

interface Slots { parent?: number | string; child?: number | string; device?: number | string }

function simulatedSlots(step: Step): Slots {
  const s = step.state;
  return {
    parent: s.parent.mapping?.frame,
    child: s.child.status === 'running' ? s.child.mapping?.frame : undefined,
    device: s.device.status === 'mapped' ? s.device.mapping?.frame : undefined,
  };
}

function realSlots(step: ProbeStep): Slots {
  return {
    parent: step.parent ?? undefined,
    child: step.child === 'running' ? step.childFrame ?? undefined : undefined,
    device: step.device ?? undefined,
  };
}

const SLOT_NAMES = ['parent', 'child', 'device'] as const;

function frameName(v: number | string | undefined): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return v === ZERO_FRAME ? 'the zero page' : `0x${v.toString(16).toUpperCase()}`;
  return `pfn ${v}`;
}

/**
 * The byte each read of the trace returns in the simulation (undefined for steps that read nothing): the parent starts
 * with INITIAL_BYTE, each write stores the byte the probe writes at that event, zeros read as 0.
 */
export function simulatedReads(sim: SimulationResult): Array<number | undefined> {
  const byteOfSeq = new Map<number, number>([[1, INITIAL_BYTE]]);
  return sim.steps.slice(1).map((step, i) => {
    const e = step.event;
    const s = step.state;
    if (e?.kind === 'cpu-write') {
      const seq = (e.who === 'parent' ? s.parent : s.child).mapping?.seq;
      if (seq !== undefined) byteOfSeq.set(seq, byteWrittenAt(i));
    } else if (e?.kind === 'dma-write' && s.device.mapping && !step.effects.noOp) {
      byteOfSeq.set(s.device.mapping.seq, byteWrittenAt(i));
    }
    if (e?.kind !== 'cpu-read' && e?.kind !== 'dma-read') return undefined;
    const mapping = e.kind === 'dma-read' ? s.device.mapping : e.who === 'parent' ? s.parent.mapping : s.child.mapping;
    const live = e.kind === 'dma-read' || (e.who === 'parent' ? s.parent.status === 'running' : s.child.status === 'running');
    if (!live || !mapping || step.effects.noOp) return undefined;
    return mapping.origin === 'zero' ? 0 : byteOfSeq.get(mapping.seq);
  });
}

/**
 * Compares a simulated trace with the probe's report of the same events. Frame numbers differ between the two, so
 * what is compared is what they imply: who maps something, who shares a frame with whom, who moved to a new frame,
 * the byte each read returns, process deaths and refused system calls.
 */
export function compareWithKernel(sim: SimulationResult, real: ProbeReport): ProbeDifference[] {
  const differences: ProbeDifference[] = [];
  const steps = real.steps ?? [];
  const simSteps = sim.steps.slice(1);
  if (steps.length !== simSteps.length) {
    return [{ step: 0, event: '', what: `the probe reported ${steps.length} steps for ${simSteps.length} events` }];
  }
  const reads = simulatedReads(sim);
  const frames = real.frames !== false;
  for (const [i, step] of simSteps.entries()) {
    const got = steps[i] as ProbeStep;
    const say = (what: string): void => { differences.push({ step: i + 1, event: got.event, what }); };
    const e = step.event;
    const s = step.state;

    const refused = step.effects.madviseRejected;
    if ((refused !== undefined) !== (got.failed !== undefined)) {
      say(refused !== undefined
        ? `the simulator says the call fails (${refused}); the kernel accepted it`
        : `the kernel refused the call (${got.failed}); the simulator applies it`);
    }

    const childStatus = CHILD_STATUS[s.child.status];
    if (childStatus !== got.child) say(`the child is ${got.child} on the kernel, ${childStatus} in the simulation`);
    // The probe keeps naming the signal the child died of; the simulator names it at the step it struck.
    const simSignal = (step.effects.fault !== undefined && /SIG\w+/.exec(step.effects.fault)?.[0]) || undefined;
    const realSignal = i > 0 && (steps[i - 1] as ProbeStep).child === 'killed' ? undefined : got.childSignal;
    if (simSignal !== realSignal) say(`signal: kernel ${realSignal ?? 'none'}, simulator ${simSignal ?? 'none'}`);

    // The byte a read returned.
    if (e?.kind === 'cpu-read' || e?.kind === 'dma-read') {
      const expected = reads[i];
      if (expected !== got.value) {
        const mapping = e.kind === 'dma-read' ? s.device.mapping : e.who === 'parent' ? s.parent.mapping : s.child.mapping;
        say(`${e.kind === 'dma-read' ? 'the device sent' : `the ${e.who} read`} ${got.value ?? 'nothing'} on the kernel; ` +
          `the simulator says ${expected ?? 'nothing'} (${mapping?.contents ?? 'no mapping'})`);
      }
    }

    if (!frames) continue;
    const simNow = simulatedSlots(step);
    const realNow = realSlots(got);
    for (const slot of SLOT_NAMES) {
      if ((simNow[slot] === undefined) !== (realNow[slot] === undefined)) {
        say(`${slot}: the simulator maps ${frameName(simNow[slot])}, the kernel ${frameName(realNow[slot])}`);
      }
    }
    for (const [a, b] of [['parent', 'child'], ['parent', 'device'], ['child', 'device']] as const) {
      if (simNow[a] === undefined || simNow[b] === undefined || realNow[a] === undefined || realNow[b] === undefined) continue;
      const simShares = simNow[a] === simNow[b];
      const realShares = realNow[a] === realNow[b];
      if (simShares !== realShares) {
        say(`${a} and ${b} ${realShares ? 'share a frame' : 'map different frames'} on the kernel; the simulator says they ` +
          `${simShares ? 'share' : 'do not'} (${frameName(simNow[a])}, ${frameName(simNow[b])})`);
      }
    }
    if (i === 0) continue;
    const simBefore = simulatedSlots(simSteps[i - 1] as Step);
    const realBefore = realSlots(steps[i - 1] as ProbeStep);
    for (const slot of ['parent', 'child'] as const) {
      if ([simBefore[slot], simNow[slot], realBefore[slot], realNow[slot]].includes(undefined)) continue;
      // A read of untouched memory may get its own page instead of the zero page (the kernel's choice, no verdict
      // depends on it); a later write then keeps that page where the model replaces the zero page.
      if (simBefore[slot] === ZERO_FRAME) continue;
      const simMoved = simBefore[slot] !== simNow[slot];
      const realMoved = realBefore[slot] !== realNow[slot];
      if (simMoved !== realMoved) {
        say(`the ${slot} ${realMoved ? 'moved to a new frame' : 'stayed on its frame'} on the kernel; the simulator says it ` +
          `${simMoved ? `moved (${frameName(simBefore[slot])} to ${frameName(simNow[slot])})` : `stayed on ${frameName(simNow[slot])}`}`);
      }
    }
  }
  return differences;
}
