// The step-by-step comparison of a simulated trace with a probe report, on reports written here: it must pass a report
// that says what the simulation says, and name each kind of disagreement.
import * as assert from 'node:assert/strict';
import type { SimulationResult } from '../../../server/src/simulation/fork';
import { parseKernelVersion } from '../../../server/src/simulation/kernelEra';
import { type ProbeReport, type ProbeStep, compareWithKernel, simulatedReads } from '../../../server/src/kernelProbe/probeCompare';
import { type ProbeCase, allProbeCases, probeArguments, probeReferenceFor, scenarioOf, simulateProbeCase } from '../../../server/src/kernelProbe/probePlan';
import { EVENT_ORDERS } from '../../../server/src/simulation/scenario';

const KERNEL = parseKernelVersion('6.12')!;

/** The report a kernel that behaves exactly like the simulation would print (frames renamed as pfns). */
function reportOf(sim: SimulationResult): ProbeReport {
  const pfn = (f: number | undefined): string | null => (f === undefined ? null : `0x${(0x100000 + f).toString(16)}`);
  const reads = simulatedReads(sim);
  const steps: ProbeStep[] = sim.steps.slice(1).map((step, i) => {
    const s = step.state;
    const child = ({ 'not-forked': 'none', running: 'running', exited: 'exited', killed: 'killed' } as const)[s.child.status];
    const probeStep: ProbeStep = {
      event: step.label,
      parent: pfn(s.parent.mapping?.frame),
      child,
      childFrame: child === 'running' ? pfn(s.child.mapping?.frame) : null,
      device: s.device.status === 'mapped' ? pfn(s.device.mapping?.frame) : null,
    };
    if (reads[i] !== undefined) probeStep.value = reads[i];
    if (step.effects.madviseRejected) probeStep.failed = 'Invalid argument';
    if (child === 'killed') probeStep.childSignal = 'SIGSEGV';
    return probeStep;
  });
  return { steps, frames: true };
}

const CASE: ProbeCase = { memory: 'small', reference: 'vmsplice', device: 'read', protection: 'none', order: 'child-writes-first' };

describe('kernelProbe: comparing a simulation with a kernel report', () => {
  it('a report that says what the simulation says agrees, for every probe case', () => {
    for (const c of allProbeCases(EVENT_ORDERS)) {
      const sim = simulateProbeCase(c, KERNEL);
      assert.deepEqual(compareWithKernel(sim, reportOf(sim)), [], `${c.memory} ${c.reference} ${c.protection} ${c.order}`);
    }
  });

  it('names a read that returned another byte', () => {
    const sim = simulateProbeCase(CASE, KERNEL);
    const report = reportOf(sim);
    const dma = report.steps!.findIndex((s) => s.event === 'device DMA read');
    report.steps![dma]!.value = 0x13;
    const d = compareWithKernel(sim, report);
    assert.equal(d.length, 1);
    assert.match(d[0]!.what, /the device sent 19 on the kernel; the simulator says 1 \(parent data #1\)/);
  });

  it('names a parent that stayed on its frame where the simulation moves it, and the sharing that follows', () => {
    const sim = simulateProbeCase(CASE, KERNEL);
    const report = reportOf(sim);
    // The kernel reuses the page: from the parent's write on, the parent stays on the device's frame.
    const write = sim.steps.findIndex((s) => s.label === 'parent writes') - 1;
    for (const step of report.steps!.slice(write)) step.parent = report.steps![0]!.parent;
    const what = compareWithKernel(sim, report).map((x) => x.what);
    assert.ok(what.some((w) => /the parent stayed on its frame on the kernel; the simulator says it moved \(0xCAFE to 0xBEEF\)/.test(w)), what.join('\n'));
    assert.ok(what.some((w) => /parent and device share a frame on the kernel; the simulator says they do not/.test(w)), what.join('\n'));
  });

  it('names a refused madvise, a child killed by a signal and a step count that does not match', () => {
    const c: ProbeCase = { ...CASE, protection: 'dontfork', order: 'parent-writes-first' };
    const sim = simulateProbeCase(c, KERNEL);
    const report = reportOf(sim);
    report.steps![0]!.failed = 'Invalid argument';
    const last = report.steps![report.steps!.length - 1]!;
    last.child = 'running';
    delete last.childSignal;
    const what = compareWithKernel(sim, report).map((x) => x.what);
    assert.ok(what.includes('the kernel refused the call (Invalid argument); the simulator applies it'), what.join('\n'));
    assert.ok(what.some((w) => /the child is running on the kernel, killed in the simulation/.test(w)), what.join('\n'));
    assert.ok(what.includes('signal: kernel none, simulator SIGSEGV'), what.join('\n'));
    assert.match(compareWithKernel(sim, { steps: report.steps!.slice(1) })[0]!.what, /reported \d+ steps for \d+ events/);
  });

  it('without frames (not root) compares values and process states only', () => {
    const sim = simulateProbeCase(CASE, KERNEL);
    const report = reportOf(sim);
    for (const s of report.steps!) { s.parent = null; s.childFrame = null; s.device = null; }
    assert.deepEqual(compareWithKernel(sim, { ...report, frames: false }), []);
    assert.notDeepEqual(compareWithKernel(sim, report), []);
  });

  it('plans the probe\'s events from the simulator\'s, with a distinct byte per write', () => {
    const c: ProbeCase = { memory: 'hugetlb', reference: 'io_uring', device: 'write', protection: 'wipeonfork', order: 'child-writes-first' };
    const planned = probeArguments(c, scenarioOf(c, KERNEL));
    assert.ok('args' in planned);
    assert.deepEqual(planned.args, ['hugetlb', 'io_uring', 'wipeonfork', 'pin', 'fork', 'child-write=19', 'parent-write=20', 'dma-write=21', 'parent-read', 'child-read']);
    const notifier = { ...scenarioOf(CASE, KERNEL) };
    notifier.events = [{ kind: 'register-notifier' }, ...notifier.events];
    const refused = probeArguments(CASE, notifier);
    assert.ok('reason' in refused && /user space cannot register one/.test(refused.reason));
    assert.deepEqual(probeReferenceFor({ ref: 'pin', access: 'write' }), { reference: 'io_uring' });
    assert.match((probeReferenceFor({ ref: 'get', access: 'write' }) as { reason: string }).reason, /writable FOLL_GET/);
  });
});
