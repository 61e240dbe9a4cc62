// Shared builders for the simulation tests: scenario inputs and step lookups.

import type { SimulationResult } from '../../../server/src/simulation/fork';
import { parseKernelVersion } from '../../../server/src/simulation/kernelEra';
import type { Protections, ScenarioInput } from '../../../server/src/simulation/scenario';
import type { Step } from '../../../server/src/simulation/trace';

export const NO_PROTECTIONS: Protections = { dontfork: false, wipeonfork: false, notifier: false };

export function inputFor(kernel: string, overrides: Partial<ScenarioInput> = {}): ScenarioInput {
  const version = parseKernelVersion(kernel);
  if (!version) {
    throw new Error(`bad kernel version in test: ${kernel}`);
  }
  return {
    kernel: version,
    ref: 'get',
    access: 'write',
    longterm: true,
    longLived: true,
    protections: { ...NO_PROTECTIONS },
    ...overrides,
  };
}

/** The first step after `from` whose label matches, so assertions read like the trace. */
export function stepLabelled(result: SimulationResult, label: string, from = 0): Step {
  const step = result.steps.find((s) => s.index >= from && s.label === label);
  if (!step) {
    throw new Error(`no step '${label}' in ${result.scenario.id}: ${result.steps.map((s) => s.label).join(', ')}`);
  }
  return step;
}

export function frameOf(step: Step, row: 'parent' | 'child' | 'device'): number | undefined {
  return row === 'device' ? step.state.device.mapping?.frame : step.state[row].mapping?.frame;
}
