// The simulated memory: physical frames, the parent's and child's page tables, the vma and the device mapping.

import type { Access, Actor, RefKind } from './events';

/** The frame the parent's buffer (ptr1) starts on, as in the classic illustration. */
export const FIRST_FRAME = 0xcafe;
/** The first frame allocated for the child (its COW copy in the classic illustration). */
export const CHILD_COPY_FRAME = 0xdead;
/** The first frame allocated for the parent (its COW copy in the classic illustration). */
export const PARENT_COPY_FRAME = 0xbeef;
/** Frames after those come from a plain counter so traces stay deterministic. */
export const FURTHER_FRAMES_START = 0x1000;
/** The kernel's shared zero page; it is never counted or freed. */
export const ZERO_FRAME = 0;

export type ContentOrigin = 'initial' | 'parent' | 'child' | 'device' | 'zero';

export interface Content {
  /** Global write counter: a larger seq is newer data. */
  seq: number;
  origin: ContentOrigin;
  /** Written after fork(): data the child should never see if it came from the parent or the device. */
  afterFork: boolean;
}

export interface Frame {
  id: number;
  content: Content;
  refcount: number;
  mapcount: number;
  pincount: number;
  anonExclusive: boolean;
}

export interface Pte {
  frame: number;
  writable: boolean;
}

export type ProcessStatus = 'not-forked' | 'running' | 'exited' | 'killed';

export interface Process {
  status: ProcessStatus;
  /** Whether the process has a vma covering the buffer at all. */
  hasVma: boolean;
  /** Undefined when the vma exists but nothing is mapped yet (a wiped vma before its first touch). */
  pte: Pte | undefined;
}

export type DeviceStatus = 'unmapped' | 'mapped' | 'invalidated';

export interface Device {
  status: DeviceStatus;
  /** The frame in the IOMMU/HCA table, frozen at pin time unless a notifier updates it. */
  frame: number | undefined;
  ref: RefKind;
  access: Access;
  longterm: boolean;
}

export interface MemoryState {
  frames: Frame[];
  parent: Process;
  child: Process;
  device: Device;
  vma: { dontcopy: boolean; wipeonfork: boolean };
  mmHasPinned: boolean;
  notifier: boolean;
  forked: boolean;
  nextSeq: number;
  nextFrame: number;
  childCopyUsed: boolean;
  parentCopyUsed: boolean;
  /** The newest DMA write, to tell whether a later parent read sees it. */
  lastDmaWrite: Content | undefined;
}

/** Before any event: the parent has written its buffer, which sits on 0xCAFE, mapped writable and exclusive. */
export function createInitialState(): MemoryState {
  return {
    frames: [
      {
        id: FIRST_FRAME,
        content: { seq: 1, origin: 'initial', afterFork: false },
        refcount: 1,
        mapcount: 1,
        pincount: 0,
        anonExclusive: true,
      },
    ],
    parent: { status: 'running', hasVma: true, pte: { frame: FIRST_FRAME, writable: true } },
    child: { status: 'not-forked', hasVma: false, pte: undefined },
    device: { status: 'unmapped', frame: undefined, ref: 'get', access: 'write', longterm: false },
    vma: { dontcopy: false, wipeonfork: false },
    mmHasPinned: false,
    notifier: false,
    forked: false,
    nextSeq: 2,
    nextFrame: FURTHER_FRAMES_START,
    childCopyUsed: false,
    parentCopyUsed: false,
    lastDmaWrite: undefined,
  };
}

export function cloneState(s: MemoryState): MemoryState {
  return {
    ...s,
    frames: s.frames.map((f) => ({ ...f, content: { ...f.content } })),
    parent: { ...s.parent, pte: s.parent.pte ? { ...s.parent.pte } : undefined },
    child: { ...s.child, pte: s.child.pte ? { ...s.child.pte } : undefined },
    device: { ...s.device },
    vma: { ...s.vma },
    lastDmaWrite: s.lastDmaWrite ? { ...s.lastDmaWrite } : undefined,
  };
}

export function findFrame(s: MemoryState, id: number): Frame | undefined {
  return s.frames.find((f) => f.id === id);
}

export function frameOf(s: MemoryState, id: number): Frame {
  const frame = findFrame(s, id);
  if (!frame) {
    throw new Error(`simulation: frame ${formatFrame(id)} does not exist`);
  }
  return frame;
}

export function processOf(s: MemoryState, who: Actor): Process {
  return who === 'parent' ? s.parent : s.child;
}

export function newContent(s: MemoryState, origin: ContentOrigin): Content {
  const content = { seq: s.nextSeq, origin, afterFork: s.forked };
  s.nextSeq += 1;
  return content;
}

/** Allocates a frame for `owner`; the first one for each owner gets the illustration's number. */
export function allocateFrame(s: MemoryState, owner: Actor, content: Content): Frame {
  let id: number;
  if (owner === 'child' && !s.childCopyUsed) {
    id = CHILD_COPY_FRAME;
    s.childCopyUsed = true;
  } else if (owner === 'parent' && !s.parentCopyUsed) {
    id = PARENT_COPY_FRAME;
    s.parentCopyUsed = true;
  } else {
    id = s.nextFrame;
    s.nextFrame += 1;
  }
  const frame: Frame = { id, content: { ...content }, refcount: 0, mapcount: 0, pincount: 0, anonExclusive: true };
  s.frames.push(frame);
  return frame;
}

/** Maps a frame into a page table slot, counting the mapping (the zero page is never counted). */
export function mapFrame(s: MemoryState, proc: Process, id: number, writable: boolean): void {
  proc.pte = { frame: id, writable };
  if (id !== ZERO_FRAME) {
    const frame = frameOf(s, id);
    frame.refcount += 1;
    frame.mapcount += 1;
  }
}

export function unmapFrame(s: MemoryState, proc: Process): void {
  const pte = proc.pte;
  proc.pte = undefined;
  if (pte && pte.frame !== ZERO_FRAME) {
    const frame = frameOf(s, pte.frame);
    frame.refcount -= 1;
    frame.mapcount -= 1;
    freeIfUnused(s, frame);
  }
}

export function freeIfUnused(s: MemoryState, frame: Frame): void {
  if (frame.refcount <= 0) {
    s.frames = s.frames.filter((f) => f.id !== frame.id);
  }
}

export function formatFrame(id: number): string {
  return id === ZERO_FRAME ? 'zero page' : `0x${id.toString(16).toUpperCase()}`;
}

export function describeContent(content: Content): string {
  switch (content.origin) {
    case 'initial':
      // Written by the parent before anything else happened; numbered like every later write.
      return `parent data #${content.seq}`;
    case 'zero':
      return 'zeros';
    case 'device':
      return `DMA data #${content.seq}`;
    default:
      return `${content.origin} data #${content.seq}`;
  }
}

/** Who maps a frame right now: the processes through their page tables, the device through its table. */
export function mappersOf(s: MemoryState, id: number): Array<'parent' | 'child' | 'device'> {
  const who: Array<'parent' | 'child' | 'device'> = [];
  if (s.parent.pte?.frame === id) {
    who.push('parent');
  }
  if (isLive(s.child) && s.child.pte?.frame === id) {
    who.push('child');
  }
  if (s.device.status === 'mapped' && s.device.frame === id) {
    who.push('device');
  }
  return who;
}

export function isLive(proc: Process): boolean {
  return proc.status === 'running';
}
