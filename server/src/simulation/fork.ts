// The fork simulator: applies each event of a scenario to the memory model under one kernel era.

import { type SimEvent, describeEvent, gupCallName } from './events';
import { type EraId, type KernelEra, type KernelVersion, eraById } from './kernelEra';
import {
  type MemoryState,
  ZERO_FRAME,
  allocateFrame,
  cloneState,
  createInitialState,
  describeContent,
  formatFrame,
  frameOf,
  isLive,
  mapFrame,
  newContent,
  unmapFrame,
} from './memoryModel';
import { dropDeviceReference, gupFaultIn, notifyParentChange, takeDeviceReference, writeFault } from './pageFaults';
import type { Scenario } from './scenario';
import { type Landing, type Step, type StepEffects, isDiverged, snapshot } from './trace';
import { type Verdict, computeVerdict } from './verdict';

export interface SimulationEnv {
  era: KernelEra;
  kernel: KernelVersion;
  hugetlb: boolean;
  /** How the steps name the user buffer: the code's own address expression; ptr1 (the classic illustration) when absent. */
  buffer?: string;
}

export interface EventResult {
  detail: string;
  effects: StepEffects;
}

export interface SimulationResult {
  scenario: Scenario;
  era: { id: EraId; name: string; commit: string };
  steps: Step[];
  verdict: Verdict;
}

const noOp = (detail: string): EventResult => ({ detail, effects: { noOp: true } });

function applyFork(s: MemoryState, env: SimulationEnv): EventResult {
  if (s.forked) {
    return noOp('The model follows one child; a second fork() is not simulated.');
  }
  s.forked = true;
  s.child.status = 'running';
  if (s.vma.dontcopy) {
    // dup_mmap() skips VM_DONTCOPY vmas entirely: the child has no vma, and the parent's PTE is untouched.
    s.child.hasVma = false;
    return { detail: `VM_DONTCOPY: dup_mmap() skips the vma, so the child has no mapping at ${env.buffer ?? 'ptr1'} at all.`, effects: {} };
  }
  s.child.hasVma = true;
  if (s.vma.wipeonfork) {
    // dup_mmap() creates the vma but does not call copy_page_range(): nothing is shared or write-protected.
    return {
      detail: 'VM_WIPEONFORK: the child gets the vma but no pages; the parent\'s PTE stays writable.',
      effects: {},
    };
  }
  const parentPte = s.parent.pte;
  if (!parentPte) {
    return { detail: `fork(): nothing is mapped at ${env.buffer ?? 'ptr1'} to copy.`, effects: {} };
  }
  // copy_page_range() write-protects the parent's range first (MMU_NOTIFY_PROTECTION_PAGE), so a
  // notifier-driven driver drops its reference before the pinned-page check below can see it.
  const notice = notifyParentChange(s, 'fork() write-protect the range');
  const page = frameOf(s, parentPte.frame);
  const facts = { refcount: page.refcount, mapcount: page.mapcount, pincount: page.pincount, anonExclusive: page.anonExclusive };
  if (env.era.copiesAtFork(facts, { mmHasPinned: s.mmHasPinned, hugetlb: env.hugetlb, kernel: env.kernel })) {
    const copy = allocateFrame(s, 'child', page.content);
    mapFrame(s, s.child, copy.id, true);
    return {
      detail:
        `${formatFrame(page.id)} may be DMA-pinned (refcount ${page.refcount} >= 1024) in an mm that has pinned, ` +
        `so fork() copies it for the child now (${formatFrame(copy.id)}); the parent keeps ${formatFrame(page.id)} writable.` +
        notice,
      effects: { earlyCopy: { to: copy.id }, invalidated: notice !== '' },
    };
  }
  parentPte.writable = false;
  page.anonExclusive = false;
  mapFrame(s, s.child, page.id, false);
  return {
    detail:
      `fork() shares ${formatFrame(page.id)} write-protected in parent and child ` +
      `(mapcount ${page.mapcount}, refcount ${page.refcount}).` + notice,
    effects: { invalidated: notice !== '' },
  };
}

function applyPin(s: MemoryState, event: Extract<SimEvent, { kind: 'pin' }>, env: SimulationEnv): EventResult {
  if (s.device.status === 'mapped') {
    return noOp('The device already holds a mapping; the model follows one pin.');
  }
  if (event.rejected) {
    return { detail: `${gupCallName(event.ref)} returns -EINVAL (with a WARN): ${event.rejected}. Nothing is pinned and the device gets no page.`, effects: { rejected: true } };
  }
  const fault = gupFaultIn(s, env.era, event.ref, event.access, env.hugetlb);
  const frame = takeDeviceReference(s, event.ref, event.access, event.longterm);
  const increment = event.ref === 'pin' ? '+1024 (GUP_PIN_COUNTING_BIAS)' : '+1';
  const lead = fault.detail ? `${fault.detail} ` : '';
  return {
    detail:
      `${lead}${gupCallName(event.ref)} takes a reference on ${formatFrame(frame.id)} ` +
      `(refcount ${increment} = ${frame.refcount}) and the device maps it.`,
    effects: fault.effects,
  };
}

/** A notifier-driven driver re-faults an invalidated mapping onto the parent's current page. */
function refaultDevice(s: MemoryState, env: SimulationEnv, access: 'read' | 'write'): EventResult {
  const fault = gupFaultIn(s, env.era, s.device.ref, access, env.hugetlb);
  const frame = takeDeviceReference(s, s.device.ref, s.device.access, s.device.longterm);
  const via = fault.detail ? ` ${fault.detail}` : '';
  return {
    detail: `The device faults (ODP/HMM) and the driver maps the parent's current page ${formatFrame(frame.id)}.${via}`,
    effects: { ...fault.effects, refault: { frame: frame.id } },
  };
}

function landingOf(s: MemoryState, frame: number): Landing {
  const parent = s.parent.pte?.frame === frame;
  const child = isLive(s.child) && s.child.pte?.frame === frame;
  if (parent && child) {
    return 'parent-and-child';
  }
  return parent ? 'parent' : child ? 'child' : 'nowhere';
}

const LANDING_TEXT: Record<Landing, string> = {
  parent: 'the parent\'s page',
  child: 'a page only the child maps',
  'parent-and-child': 'a page parent and child still share',
  nowhere: 'a page no process maps any more',
};

function applyDma(s: MemoryState, direction: 'read' | 'write', env: SimulationEnv): EventResult {
  if (s.device.status === 'unmapped') {
    return noOp('The device holds no mapping, so no DMA is issued.');
  }
  if (direction === 'write' && s.device.access === 'read') {
    return { detail: 'The device mapping is read-only (DMA to the device only); nothing is written.', effects: { noOp: true, dmaRefused: true } };
  }
  let prefix = '';
  let effects: StepEffects = {};
  if (s.device.status === 'invalidated') {
    const r = refaultDevice(s, env, direction);
    prefix = `${r.detail} `;
    effects = r.effects;
  }
  const frame = frameOf(s, s.device.frame ?? ZERO_FRAME);
  if (direction === 'write') {
    frame.content = newContent(s, 'device');
    s.lastDmaWrite = { ...frame.content };
    const landed = landingOf(s, frame.id);
    return {
      detail: `${prefix}The device writes ${describeContent(frame.content)} into ${formatFrame(frame.id)}: ${LANDING_TEXT[landed]}.`,
      effects: { ...effects, dmaWriteLanded: landed },
    };
  }
  const parentFrame = s.parent.pte ? frameOf(s, s.parent.pte.frame) : undefined;
  const stale = parentFrame !== undefined && parentFrame.id !== frame.id && parentFrame.content.seq !== frame.content.seq;
  return {
    detail:
      `${prefix}The device reads ${describeContent(frame.content)} from ${formatFrame(frame.id)}` +
      (stale ? `, not the parent's current ${describeContent(parentFrame.content)}.` : '.'),
    effects: { ...effects, deviceReadStale: stale },
  };
}

function applyCpu(s: MemoryState, who: 'parent' | 'child', write: boolean, env: SimulationEnv): EventResult {
  const proc = who === 'parent' ? s.parent : s.child;
  if (!isLive(proc)) {
    return noOp(`There is no running ${who}.`);
  }
  if (!proc.hasVma) {
    // No vma at all (VM_DONTCOPY): the access is a segmentation fault, which kills the child by default.
    unmapFrame(s, proc);
    proc.status = 'killed';
    const fault = `${who}: SIGSEGV at ${env.buffer ?? 'ptr1'} (no vma there after fork(), MADV_DONTFORK)`;
    return { detail: `The ${who} ${write ? 'writes' : 'reads'} ${env.buffer ?? 'ptr1'}, which is not mapped in it: SIGSEGV.`, effects: { fault } };
  }
  if (!write) {
    if (!proc.pte) {
      // A read fault on an untouched anonymous page maps the shared zero page.
      proc.pte = { frame: ZERO_FRAME, writable: false };
      return { detail: `The ${who} reads an empty mapping: the kernel maps the shared zero page; it reads zeros.`, effects: {} };
    }
    if (proc.pte.frame === ZERO_FRAME) {
      return { detail: `The ${who} reads zeros from the zero page.`, effects: {} };
    }
    const frame = frameOf(s, proc.pte.frame);
    const effects: StepEffects = {};
    if (who === 'parent' && s.lastDmaWrite !== undefined && s.lastDmaWrite.seq > frame.content.seq) {
      effects.parentReadStale = true;
    }
    if (who === 'child' && frame.content.afterFork && (frame.content.origin === 'parent' || frame.content.origin === 'device')) {
      effects.childReadParentData = true;
    }
    const note = effects.parentReadStale
      ? ' The DMA data went elsewhere: the parent reads stale data.'
      : effects.childReadParentData
        ? ' That data was written after fork() for the parent: it leaks to the child.'
        : '';
    return { detail: `The ${who} reads ${describeContent(frame.content)} from ${formatFrame(frame.id)}.${note}`, effects };
  }
  const fault = writeFault(s, who, env.era, env.hugetlb);
  const pte = proc.pte;
  if (!pte) {
    throw new Error('simulation: write fault left no mapping');
  }
  const frame = frameOf(s, pte.frame);
  frame.content = newContent(s, who);
  const lead = fault.detail ? `${fault.detail} ` : '';
  return { detail: `${lead}The ${who} writes ${describeContent(frame.content)} into ${formatFrame(frame.id)}.`, effects: fault.effects };
}

/** Applies one event to `s` in place and says what happened. */
export function applyEvent(s: MemoryState, event: SimEvent, env: SimulationEnv): EventResult {
  switch (event.kind) {
    case 'pin':
      return applyPin(s, event, env);
    case 'madvise':
      if (event.advice === 'dontfork') {
        s.vma.dontcopy = true;
        return { detail: 'MADV_DONTFORK sets VM_DONTCOPY on the vma: later forks leave it out of the child.', effects: {} };
      }
      if (env.hugetlb) {
        // MADV_WIPEONFORK is for anonymous memory only; a hugetlb vma is file-backed (hugetlbfs): -EINVAL since d2cd9ede6e19 (4.14).
        return {
          detail: 'madvise(MADV_WIPEONFORK) fails with EINVAL: a hugetlb mapping is file-backed (hugetlbfs), and only anonymous memory can be wiped. Nothing is set.',
          effects: { madviseRejected: 'EINVAL on hugetlb memory' },
        };
      }
      s.vma.wipeonfork = true;
      return { detail: 'MADV_WIPEONFORK sets VM_WIPEONFORK: later forks give the child this range empty.', effects: {} };
    case 'register-notifier':
      if (s.notifier) {
        return noOp('A notifier is already registered.');
      }
      s.notifier = true;
      return { detail: 'The driver registers an mmu notifier on the parent\'s range.', effects: {} };
    case 'fork':
      return applyFork(s, env);
    case 'cpu-read':
      return applyCpu(s, event.who, false, env);
    case 'cpu-write':
      return applyCpu(s, event.who, true, env);
    case 'dma-read':
      return applyDma(s, 'read', env);
    case 'dma-write':
      return applyDma(s, 'write', env);
    case 'child-exit':
      if (!isLive(s.child)) {
        return noOp('There is no running child.');
      }
      unmapFrame(s, s.child);
      s.child.status = 'exited';
      return { detail: 'The child exits; its mappings and their references go away.', effects: {} };
    case 'unpin': {
      if (s.device.status === 'unmapped') {
        return noOp('The device holds no mapping.');
      }
      const held = s.device.frame;
      if (s.device.status === 'mapped') {
        dropDeviceReference(s);
      }
      s.device = { ...s.device, status: 'unmapped', frame: undefined };
      const what = held === undefined ? 'its invalidated mapping' : formatFrame(held);
      return { detail: `The driver releases ${what}; the device stops using it.`, effects: {} };
    }
    case 'invalidate': {
      if (!s.notifier) {
        return noOp('No notifier is registered, so nobody updates the device mapping.');
      }
      const notice = notifyParentChange(s, 'an invalidation of the range');
      return notice ? { detail: notice.trim(), effects: { invalidated: true } } : noOp('The device holds no mapping to invalidate.');
    }
  }
}

export function envFor(scenario: Scenario): SimulationEnv {
  const era = eraById(scenario.eraId);
  if (!era) {
    throw new Error(`simulation: unknown kernel era '${scenario.eraId}'`);
  }
  return { era, kernel: scenario.input.kernel, hugetlb: scenario.input.hugetlb ?? false, buffer: bufferName(scenario.input.buffer) };
}

/** The user buffer as the steps name it: the pin's own address expression (`start & PAGE_MASK`), short, or ptr1. */
function bufferName(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  if (!t) return 'ptr1';
  return t.length > 30 ? `${t.slice(0, 27)}...` : t;
}

export function simulateFork(scenario: Scenario): SimulationResult {
  const env = envFor(scenario);
  let state = createInitialState();
  const steps: Step[] = [
    {
      index: 0,
      event: undefined,
      label: 'start',
      detail: `The parent has written its buffer ${env.buffer ?? 'ptr1'}, which sits on ${formatFrame(state.parent.pte?.frame ?? 0)}.`,
      state: snapshot(state),
      effects: {},
      diverged: false,
    },
  ];
  for (const event of scenario.events) {
    state = cloneState(state);
    const result = applyEvent(state, event, env);
    steps.push({
      index: steps.length,
      event,
      label: describeEvent(event),
      detail: result.detail,
      state: snapshot(state),
      effects: result.effects,
      diverged: isDiverged(state),
    });
  }
  return {
    scenario,
    era: { id: env.era.id, name: env.era.name, commit: env.era.commit },
    steps,
    verdict: computeVerdict(steps, scenario),
  };
}
