// Plain-text rendering of a simulation: one table row per step, then the verdict and its sentence.

import type { SimulationResult } from './fork';
import { formatKernelVersion } from './kernelEra';
import { describeOutcome } from './outcome';
import type { DeviceView, MappingView, ProcessView } from './trace';
import type { Verdict } from './verdict';

function mappingText(m: MappingView, withAccess: boolean): string {
  const access = withAccess ? ` ${m.writable ? 'rw' : 'ro'}` : '';
  return `${m.frameName}${access}: ${m.contents}`;
}

export function processCell(p: ProcessView): string {
  switch (p.status) {
    case 'not-forked':
      return '(no child yet)';
    case 'exited':
      return '(exited)';
    case 'killed':
      return '(killed: SIGSEGV)';
    case 'running':
      if (!p.hasVma) {
        return '(no vma)';
      }
      return p.mapping ? mappingText(p.mapping, true) : '(empty vma)';
  }
}

export function deviceCell(d: DeviceView): string {
  if (d.status === 'invalidated') {
    return '(invalidated)';
  }
  return d.mapping ? mappingText(d.mapping, false) : '(unmapped)';
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

export function formatVerdict(v: Verdict): string[] {
  const shares = v.deviceSharesWithParent ? 'yes' : 'no';
  const diverged = v.diverges ? ` (device and parent part at step ${v.divergenceStep ?? '?'})` : '';
  return [
    `  device shares with parent:   ${shares}${diverged}`,
    `  DMA writes land in:          ${v.dmaWritesLandIn}`,
    `  child can read parent data:  ${yesNo(v.childCanReadParentData)}`,
    `  parent reads stale data:     ${yesNo(v.parentReadsStale)}`,
    `  device reads stale data:     ${yesNo(v.deviceReadsStale)}`,
    `  faults:                      ${v.faults.length > 0 ? v.faults.join('; ') : 'none'}`,
    `  window:                      ${v.window === 'pin-lifetime' ? 'as long as the pin is held' : 'one short I/O'}`,
  ];
}

/** The whole text report of one simulated order. */
export function formatTraceTable(result: SimulationResult): string {
  const { scenario, steps, verdict } = result;
  const rows = steps.map((step) => ({
    mark: step.diverged ? '*' : ' ',
    index: String(step.index),
    label: step.label,
    parent: processCell(step.state.parent),
    child: processCell(step.state.child),
    device: deviceCell(step.state.device),
    detail: step.detail,
  }));
  const header = { mark: ' ', index: '#', label: 'event', parent: 'parent', child: 'child', device: 'device' };
  const width = (key: 'index' | 'label' | 'parent' | 'child' | 'device'): number =>
    Math.max(header[key].length, ...rows.map((r) => r[key].length));
  const w = { index: width('index'), label: width('label'), parent: width('parent'), child: width('child'), device: width('device') };
  const line = (r: typeof header): string =>
    `${r.mark} ${pad(r.index, w.index)}  ${pad(r.label, w.label)}  ${pad(r.parent, w.parent)}  ${pad(r.child, w.child)}  ${r.device}`.trimEnd();

  const out: string[] = [];
  out.push(`Scenario: ${scenario.title} [${scenario.id}]`);
  out.push(`Kernel ${formatKernelVersion(scenario.input.kernel)}: ${result.era.name}; ${result.era.commit}`);
  out.push('');
  out.push(line(header));
  for (const row of rows) {
    out.push(line(row));
    if (row.detail) {
      out.push(`${' '.repeat(w.index + 4)}-> ${row.detail}`);
    }
  }
  if (verdict.diverges) {
    out.push('');
    out.push('* the device maps a different page than the parent');
  }
  out.push('');
  out.push('Verdict:');
  out.push(...formatVerdict(verdict));
  out.push(`  => ${describeOutcome(result)}`);
  return out.join('\n');
}
