// Outcomes of a finding: run every order worth showing, pick the worst, and say in one sentence what fork() does.

import { type SimulationResult, simulateFork } from './fork';
import { formatFrame } from './memoryModel';
import { type ScenarioInput, buildScenarios } from './scenario';
import type { Step } from './trace';
import { severityOf } from './verdict';

export type { Verdict } from './verdict';

/** The worst result by severity; the earliest listed wins a tie, so the order of `results` breaks ties. */
export function selectWorst(results: readonly SimulationResult[]): SimulationResult {
  const first = results[0];
  if (!first) {
    throw new Error('simulation: no results to choose from');
  }
  let worst = first;
  for (const result of results) {
    if (severityOf(result.verdict) > severityOf(worst.verdict)) {
      worst = result;
    }
  }
  return worst;
}

/**
 * The simulations of recent inputs: a pure function of plain data, asked for again by every analysis of a file (the
 * editor judges each pin on every edit that may change it; about 2.5 ms per judgement on the 10,000-line bench file).
 * Results are shared between callers, who only read them.
 */
const simulated = new Map<string, { results: SimulationResult[]; worst: SimulationResult }>();
const SIMULATED_KEPT = 256;

/** Simulates every order worth showing for a finding and picks the worst. */
export function simulateFinding(input: ScenarioInput): { results: SimulationResult[]; worst: SimulationResult } {
  const key = JSON.stringify(input);
  const kept = simulated.get(key);
  if (kept) return kept;
  const results = buildScenarios(input).map(simulateFork);
  const outcome = { results, worst: selectWorst(results) };
  if (simulated.size >= SIMULATED_KEPT) simulated.clear();
  simulated.set(key, outcome);
  return outcome;
}

const hex = formatFrame;

/** The step where the parent's own write (or fault) moved it off the page the device keeps using. */
function splittingStep(steps: readonly Step[]): { step: Step; from: number; to: number } | undefined {
  for (let i = 1; i < steps.length; i += 1) {
    const step = steps[i];
    const cow = step?.effects.cow;
    if (!step || !cow || cow.who !== 'parent' || !step.diverged) {
      continue;
    }
    if (step.state.device.mapping?.frame === cow.from) {
      return { step, from: cow.from, to: cow.to };
    }
  }
  return undefined;
}

function firstEffect<K extends keyof Step['effects']>(steps: readonly Step[], key: K): Step | undefined {
  return steps.find((s) => s.effects[key] !== undefined && s.effects[key] !== false);
}

function describeSplit(result: SimulationResult, split: { step: Step; from: number; to: number }): string {
  const reading = result.scenario.input.access === 'read';
  const verb = reading ? 'reading' : 'writing';
  const childHasIt = split.step.state.child.mapping?.frame === split.from;
  const childGone = split.step.state.child.status === 'exited' || split.step.state.child.status === 'killed';
  let owner: string;
  if (childHasIt) {
    owner = reading ? "now the child's, so it sends whatever the child keeps there" : "now the child's";
  } else {
    const why = childGone ? 'the child has exited' : 'the child already has its own copy';
    owner = reading
      ? `which no process maps any more (${why}), so it sends stale data`
      : `which no process maps any more (${why}), so its data never reaches the parent`;
  }
  const pinnedAfterFork = result.scenario.order === 'pin-after-fork';
  const lead = pinnedAfterFork ? 'with the pin taken while the page was shared after fork()' : 'after fork()';
  return (
    `${lead}, a parent write moves the parent to a new page (${hex(split.to)}) while the device keeps ${verb} ` +
    `the old one (${hex(split.from)}), ${owner}`
  );
}

function describeSafe(result: SimulationResult): string {
  const { steps, scenario } = result;
  const start = steps[0]?.state.parent.mapping?.frame;
  const startName = start === undefined ? 'the pinned page' : hex(start);
  const forked = steps.some((s) => s.event?.kind === 'fork' && !s.effects.noOp);
  const pinned = steps.some((s) => s.event?.kind === 'pin' && !s.effects.noOp);
  if (!forked || !pinned) {
    return 'no fork() happens while the device holds the page, so the device and the parent never part';
  }
  const p = scenario.input.protections;
  if (p.dontfork) {
    const segv = result.verdict.faults.length > 0 ? ', and the child\'s access to it gets SIGSEGV' : '; a child access to it would get SIGSEGV';
    return `MADV_DONTFORK leaves the range out of the child entirely, so the parent and the device stay on ${startName}${segv}`;
  }
  if (p.wipeonfork && steps[steps.length - 1]?.state.vma.wipeonfork) {
    return (
      `MADV_WIPEONFORK gives the child the range empty (it fills with zero pages on touch), so the parent and ` +
      `the device stay on ${startName} and the child never sees the parent's data`
    );
  }
  const refault = firstEffect(steps, 'refault');
  if (p.notifier && refault?.effects.refault) {
    return (
      `the mmu notifier invalidates the device mapping when the parent's page changes, so the device re-faults ` +
      `onto the parent's current page (${hex(refault.effects.refault.frame)}) and keeps following the parent`
    );
  }
  const early = firstEffect(steps, 'earlyCopy');
  if (early?.effects.earlyCopy) {
    return (
      `at fork() the kernel copies the pinned page for the child at once (${hex(early.effects.earlyCopy.to)}), so ` +
      `the parent and the device keep sharing ${startName} (early COW for FOLL_PIN, 70e806e4e645)`
    );
  }
  const unshare = firstEffect(steps, 'unshare');
  if (unshare?.effects.unshare) {
    return (
      `the read-only pin first unshares the page, so the device and the parent share the parent's own copy ` +
      `(${hex(unshare.effects.unshare.to)}) and later parent writes reuse it (PageAnonExclusive, v5.19)`
    );
  }
  const pinCow = steps.find((s) => s.event?.kind === 'pin' && s.effects.cow);
  if (pinCow?.effects.cow) {
    return (
      `GUP breaks COW before taking its reference, so the pin lands on the parent's own copy ` +
      `(${hex(pinCow.effects.cow.to)}) and the device keeps following the parent`
    );
  }
  const childCow = steps.find((s) => s.effects.cow?.who === 'child');
  if (childCow?.effects.cow) {
    return (
      `after fork(), the child's write moves the child to a new page (${hex(childCow.effects.cow.to)}) while the ` +
      `parent and the device stay on ${hex(childCow.effects.cow.from)}, so DMA still reaches the parent, ` +
      'but only because the child wrote first'
    );
  }
  const reuse = steps.find((s) => s.effects.reused?.who === 'parent');
  if (reuse?.effects.reused) {
    const why =
      result.era.id === 'mapcount' || result.era.id === 'gup-breaks-cow'
        ? 'the page is mapped only once again'
        : 'nothing else holds the page';
    return (
      `the parent's write fault reuses ${hex(reuse.effects.reused.frame)} because ${why}, so the parent and ` +
      'the device keep sharing it'
    );
  }
  return `the parent and the device keep sharing ${startName} for as long as the device uses it`;
}

/** One plain sentence: what fork() does to this pin in this trace, or why it is safe. */
export function describeOutcome(result: SimulationResult): string {
  const split = splittingStep(result.steps);
  let sentence: string;
  const rejected = result.scenario.input.rejected;
  if (rejected) {
    sentence = `the pin call fails with -EINVAL on this kernel (${rejected}), so no page is pinned and the device has no memory to share with the parent`;
  } else if (split) {
    sentence = describeSplit(result, split);
  } else if (result.verdict.childCanReadParentData) {
    sentence =
      'after fork(), data written for the parent lands in a page the child still maps, so the child can read it';
  } else if (result.verdict.diverges) {
    const at = result.verdict.divergenceStep ?? 0;
    const step = result.steps[at];
    const device = step?.state.device.mapping?.frame;
    const parent = step?.state.parent.mapping?.frame;
    sentence =
      device !== undefined && parent !== undefined
        ? `the device keeps ${hex(device)} while the parent now maps ${hex(parent)}, so the two no longer share memory`
        : 'the device and the parent stop sharing memory';
  } else {
    sentence = describeSafe(result);
  }
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}
