// The verdict of one simulated trace: who the device ends up sharing memory with and what that costs.

import type { Scenario } from './scenario';
import { type Landing, type Step, childSeesParentData } from './trace';

export interface Verdict {
  /** At the last step where the device held a mapping, it mapped the parent's page (or was invalidated and follows the parent). */
  deviceSharesWithParent: boolean;
  /** Where the device's writes landed, worst case over the trace; 'none' when the device never wrote. */
  dmaWritesLandIn: 'parent' | 'child' | 'nowhere' | 'parent-and-child' | 'none';
  /** At some step the child maps data written after fork() by the parent or by the device for the parent. */
  childCanReadParentData: boolean;
  /** A parent read missed the newest DMA data, or would at the end of the trace. */
  parentReadsStale: boolean;
  /** A device read sent data other than what the parent's page holds. */
  deviceReadsStale: boolean;
  /** Signals a process got, one sentence each. */
  faults: string[];
  /** How long the device can act on a stale mapping: as long as the pin is held, or one short I/O. */
  window: 'pin-lifetime' | 'short-io';
  diverges: boolean;
  /** First step at which the device maps a page the parent does not. */
  divergenceStep?: number;
}

// Worst first: data in a live child's memory, then data lost, then data visible to both.
const LANDING_RANK: Record<Landing, number> = { child: 4, nowhere: 3, 'parent-and-child': 2, parent: 1 };

export function computeVerdict(steps: readonly Step[], scenario: Scenario): Verdict {
  let landing: Verdict['dmaWritesLandIn'] = 'none';
  let parentReadsStale = false;
  let deviceReadsStale = false;
  let childCanReadParentData = false;
  let divergenceStep: number | undefined;
  let deviceSharesWithParent = true;
  const faults: string[] = [];

  for (const step of steps) {
    const e = step.effects;
    if (e.dmaWriteLanded && (landing === 'none' || LANDING_RANK[e.dmaWriteLanded] > LANDING_RANK[landing])) {
      landing = e.dmaWriteLanded;
    }
    parentReadsStale ||= e.parentReadStale === true;
    deviceReadsStale ||= e.deviceReadStale === true;
    childCanReadParentData ||= e.childReadParentData === true || childSeesParentData(step.state);
    if (e.fault) {
      faults.push(`step ${step.index}: ${e.fault}`);
    }
    if (step.diverged && divergenceStep === undefined) {
      divergenceStep = step.index;
    }
    const device = step.state.device;
    if (device.status === 'mapped') {
      deviceSharesWithParent = device.mapping?.frame === step.state.parent.mapping?.frame;
    } else if (device.status === 'invalidated') {
      deviceSharesWithParent = true;
    }
  }

  // Would a parent read at the end miss the newest DMA data?
  const last = steps[steps.length - 1];
  const lastDma = last?.state.lastDmaWriteSeq;
  const parentSeq = last?.state.parent.mapping?.seq;
  if (lastDma !== undefined && parentSeq !== undefined && lastDma > parentSeq) {
    parentReadsStale = true;
  }

  const verdict: Verdict = {
    deviceSharesWithParent,
    dmaWritesLandIn: landing,
    childCanReadParentData,
    parentReadsStale,
    deviceReadsStale,
    faults,
    window: scenario.input.longLived ? 'pin-lifetime' : 'short-io',
    diverges: divergenceStep !== undefined,
  };
  if (divergenceStep !== undefined) {
    verdict.divergenceStep = divergenceStep;
  }
  return verdict;
}

/** Higher is worse; used to pick the order to show first. */
export function severityOf(v: Verdict): number {
  let score = 0;
  if (v.childCanReadParentData) score += 100;
  if (v.dmaWritesLandIn === 'child') score += 50;
  if (v.dmaWritesLandIn === 'nowhere') score += 40;
  if (v.parentReadsStale) score += 30;
  if (v.deviceReadsStale) score += 25;
  if (v.diverges) score += 20;
  if (v.faults.length > 0) score += 5;
  return score;
}
