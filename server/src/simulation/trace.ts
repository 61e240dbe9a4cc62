// Trace steps: a plain-data snapshot of the memory state after each event, plus what the event did.

import type { Access, Actor, RefKind, SimEvent } from './events';
import {
  type ContentOrigin,
  type DeviceStatus,
  type MemoryState,
  type ProcessStatus,
  ZERO_FRAME,
  describeContent,
  findFrame,
  formatFrame,
  isLive,
  mappersOf,
} from './memoryModel';

export type Landing = 'parent' | 'child' | 'parent-and-child' | 'nowhere';

/** Facts an event produced, so the verdict never has to re-derive them from snapshots. */
export interface StepEffects {
  noOp?: boolean;
  cow?: { who: Actor; from: number; to: number };
  reused?: { who: Actor; frame: number };
  earlyCopy?: { to: number };
  unshare?: { from: number; to: number };
  /** The pin call was rejected with -EINVAL (an invalid flag combination on this kernel): nothing pinned. */
  rejected?: boolean;
  /** madvise() failed (MADV_WIPEONFORK on hugetlb memory): the protection was never set. */
  madviseRejected?: string;
  invalidated?: boolean;
  refault?: { frame: number };
  dmaWriteLanded?: Landing;
  dmaRefused?: boolean;
  fault?: string;
  parentReadStale?: boolean;
  deviceReadStale?: boolean;
  childReadParentData?: boolean;
}

export interface MappingView {
  frame: number;
  frameName: string;
  writable: boolean;
  contents: string;
  origin: ContentOrigin;
  seq: number;
  afterFork: boolean;
}

export interface ProcessView {
  status: ProcessStatus;
  hasVma: boolean;
  mapping: MappingView | undefined;
}

export interface DeviceView {
  status: DeviceStatus;
  mapping: MappingView | undefined;
  ref: RefKind;
  access: Access;
}

export interface FrameView {
  frame: number;
  name: string;
  contents: string;
  refcount: number;
  mapcount: number;
  pincount: number;
  anonExclusive: boolean;
  mappedBy: Array<'parent' | 'child' | 'device'>;
}

export interface StateSnapshot {
  parent: ProcessView;
  child: ProcessView;
  device: DeviceView;
  frames: FrameView[];
  vma: { dontcopy: boolean; wipeonfork: boolean };
  mmHasPinned: boolean;
  notifier: boolean;
  forked: boolean;
  lastDmaWriteSeq: number | undefined;
}

export interface Step {
  index: number;
  /** Undefined for step 0, the state before any event. */
  event: SimEvent | undefined;
  label: string;
  /** What the kernel, driver or device did, in one or two sentences. */
  detail: string;
  state: StateSnapshot;
  effects: StepEffects;
  /** The device maps a different frame than the parent's page table at this step. */
  diverged: boolean;
}

function mappingView(s: MemoryState, frameId: number | undefined, writable: boolean): MappingView | undefined {
  if (frameId === undefined) {
    return undefined;
  }
  if (frameId === ZERO_FRAME) {
    return {
      frame: ZERO_FRAME,
      frameName: formatFrame(ZERO_FRAME),
      writable: false,
      contents: 'zeros',
      origin: 'zero',
      seq: 0,
      afterFork: false,
    };
  }
  const frame = findFrame(s, frameId);
  if (!frame) {
    return undefined;
  }
  return {
    frame: frame.id,
    frameName: formatFrame(frame.id),
    writable,
    contents: describeContent(frame.content),
    origin: frame.content.origin,
    seq: frame.content.seq,
    afterFork: frame.content.afterFork,
  };
}

export function snapshot(s: MemoryState): StateSnapshot {
  const childMapping = isLive(s.child) && s.child.pte ? mappingView(s, s.child.pte.frame, s.child.pte.writable) : undefined;
  return {
    parent: {
      status: s.parent.status,
      hasVma: s.parent.hasVma,
      mapping: s.parent.pte ? mappingView(s, s.parent.pte.frame, s.parent.pte.writable) : undefined,
    },
    child: { status: s.child.status, hasVma: s.child.hasVma, mapping: childMapping },
    device: {
      status: s.device.status,
      mapping: s.device.status === 'mapped' ? mappingView(s, s.device.frame, s.device.access === 'write') : undefined,
      ref: s.device.ref,
      access: s.device.access,
    },
    frames: s.frames.map((f) => ({
      frame: f.id,
      name: formatFrame(f.id),
      contents: describeContent(f.content),
      refcount: f.refcount,
      mapcount: f.mapcount,
      pincount: f.pincount,
      anonExclusive: f.anonExclusive,
      mappedBy: mappersOf(s, f.id),
    })),
    vma: { ...s.vma },
    mmHasPinned: s.mmHasPinned,
    notifier: s.notifier,
    forked: s.forked,
    lastDmaWriteSeq: s.lastDmaWrite?.seq,
  };
}

/** The device maps a frame the parent does not map: the split this whole project is about. */
export function isDiverged(s: MemoryState): boolean {
  return s.device.status === 'mapped' && s.parent.pte !== undefined && s.device.frame !== s.parent.pte.frame;
}

/** The child can read data written after fork() by the parent or by the device on the parent's behalf. */
export function childSeesParentData(view: StateSnapshot): boolean {
  const m = view.child.status === 'running' ? view.child.mapping : undefined;
  return m !== undefined && m.afterFork && (m.origin === 'parent' || m.origin === 'device');
}
