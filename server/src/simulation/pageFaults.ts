// Page-fault handling (COW write faults, unshare faults, first touch) and GUP, as each kernel era does them.

import type { Access, Actor, RefKind } from './events';
import { type FrameFacts, type KernelEra, GUP_PIN_COUNTING_BIAS, reusesOnWriteFault } from './kernelEra';
import {
  type Frame,
  type MemoryState,
  ZERO_FRAME,
  allocateFrame,
  formatFrame,
  frameOf,
  freeIfUnused,
  mapFrame,
  newContent,
  processOf,
  unmapFrame,
} from './memoryModel';
import type { StepEffects } from './trace';

export interface FaultResult {
  detail: string;
  effects: StepEffects;
}

function factsOf(frame: Frame): FrameFacts {
  return {
    refcount: frame.refcount,
    mapcount: frame.mapcount,
    pincount: frame.pincount,
    anonExclusive: frame.anonExclusive,
  };
}

/** Why the era's do_wp_page() kept or copied the page, in its own terms, as a clause about the page. */
function reuseReason(era: KernelEra, page: FrameFacts, reused: boolean, hugetlb: boolean): string {
  if (hugetlb) {
    return reused
      ? 'it is a hugetlb page mapped once (mapcount 1), so hugetlb_wp() reuses it; other references are not counted'
      : `it is a hugetlb page mapped ${page.mapcount} times, so hugetlb_wp() copies it`;
  }
  if (era.id === 'mapcount' || era.id === 'gup-breaks-cow') {
    return reused
      ? 'it is mapped once (mapcount 1), so do_wp_page() reuses it; other references are not counted'
      : `it is mapped ${page.mapcount} times, so do_wp_page() copies it`;
  }
  if (era.tracksAnonExclusive && page.anonExclusive) {
    return 'it is PageAnonExclusive, so do_wp_page() reuses it';
  }
  return reused
    ? 'its refcount is 1, so do_wp_page() reuses it'
    : `its refcount is ${page.refcount}, not 1, so do_wp_page() copies it`;
}

/**
 * Tells the driver's mmu notifier that the parent's page table changed. The driver drops its reference
 * and its device mapping; the device re-faults on its next access and then maps the parent's current page.
 */
export function notifyParentChange(s: MemoryState, why: string): string {
  if (!s.notifier || s.device.status !== 'mapped') {
    return '';
  }
  dropDeviceReference(s);
  s.device.status = 'invalidated';
  s.device.frame = undefined;
  return ` The mmu notifier sees ${why}: the driver drops the device mapping and its reference.`;
}

export function dropDeviceReference(s: MemoryState): void {
  if (s.device.frame === undefined) {
    return;
  }
  const frame = frameOf(s, s.device.frame);
  if (s.device.ref === 'pin') {
    frame.refcount -= GUP_PIN_COUNTING_BIAS;
    frame.pincount -= 1;
  } else {
    frame.refcount -= 1;
  }
  freeIfUnused(s, frame);
}

/** A write fault by `who`: first touch, write to the zero page, or COW on a write-protected page. */
export function writeFault(s: MemoryState, who: Actor, era: KernelEra, hugetlb: boolean): FaultResult {
  const proc = processOf(s, who);
  const pte = proc.pte;
  if (!pte || pte.frame === ZERO_FRAME) {
    // Anonymous first touch, or a write to the shared zero page: the kernel hands out a fresh zeroed page.
    const what = pte ? 'writes to the shared zero page' : 'touches an empty mapping';
    const fresh = allocateFrame(s, who, newContent(s, 'zero'));
    unmapFrame(s, proc);
    mapFrame(s, proc, fresh.id, true);
    return {
      detail: `The ${who} ${what}: the kernel gives it a fresh zero-filled page ${formatFrame(fresh.id)}.`,
      effects: {},
    };
  }
  if (pte.writable) {
    return { detail: '', effects: {} };
  }
  const old = frameOf(s, pte.frame);
  const facts = factsOf(old);
  const reused = reusesOnWriteFault(era, facts, hugetlb);
  const reason = reuseReason(era, facts, reused, hugetlb);
  if (reused) {
    pte.writable = true;
    if (era.tracksAnonExclusive) {
      old.anonExclusive = true;
    }
    return {
      detail: `Write fault in the ${who} on ${formatFrame(old.id)}: ${reason}.`,
      effects: { reused: { who, frame: old.id } },
    };
  }
  const fresh = allocateFrame(s, who, old.content);
  unmapFrame(s, proc);
  mapFrame(s, proc, fresh.id, true);
  const notice = who === 'parent' ? notifyParentChange(s, 'the COW replace the page') : '';
  const detail =
    `Write fault in the ${who} on ${formatFrame(old.id)}: ${reason}; the ${who} moves to ${formatFrame(fresh.id)}.` + notice;
  return { detail, effects: { cow: { who, from: old.id, to: fresh.id }, invalidated: notice !== '' } };
}

/**
 * FAULT_FLAG_UNSHARE (v5.19, c89357e27f20): make a possibly shared anonymous page exclusive without
 * making it writable, so a read-only pin lands on a page only the pinning process maps.
 */
function unshareFault(s: MemoryState, era: KernelEra, hugetlb: boolean): FaultResult {
  const pte = s.parent.pte;
  if (!pte || pte.frame === ZERO_FRAME) {
    return { detail: '', effects: {} };
  }
  const old = frameOf(s, pte.frame);
  if (old.anonExclusive) {
    return { detail: '', effects: {} };
  }
  if (reusesOnWriteFault(era, factsOf(old), hugetlb)) {
    old.anonExclusive = true;
    return { detail: `Unshare fault: ${formatFrame(old.id)} has refcount 1 and becomes exclusive.`, effects: {} };
  }
  const fresh = allocateFrame(s, 'parent', old.content);
  unmapFrame(s, s.parent);
  mapFrame(s, s.parent, fresh.id, false);
  const notice = notifyParentChange(s, 'the unshare replace the page');
  const detail =
    `Unshare fault: ${formatFrame(old.id)} may be shared, so the parent gets its own read-only copy ` +
    `${formatFrame(fresh.id)} before the pin.` + notice;
  return { detail, effects: { unshare: { from: old.id, to: fresh.id }, invalidated: notice !== '' } };
}

/** What GUP does to the parent's page table before it takes its reference. */
export function gupFaultIn(s: MemoryState, era: KernelEra, ref: RefKind, access: Access, hugetlb: boolean): FaultResult {
  const pte = s.parent.pte;
  if (!pte || pte.writable) {
    return { detail: '', effects: {} };
  }
  if (access === 'write') {
    const r = writeFault(s, 'parent', era, hugetlb);
    return { detail: `GUP with FOLL_WRITE breaks COW first. ${r.detail}`, effects: r.effects };
  }
  const kind = era.gupReadFault(ref);
  if (kind === 'write-fault') {
    const r = writeFault(s, 'parent', era, hugetlb);
    return { detail: `GUP on a COW mapping forces a write fault even for reads (17839856fd58). ${r.detail}`, effects: r.effects };
  }
  if (kind === 'unshare') {
    return unshareFault(s, era, hugetlb);
  }
  return { detail: 'GUP without FOLL_WRITE takes the write-protected page as it is.', effects: {} };
}

/** GUP takes its reference on the parent's current page and the driver maps it for the device. */
export function takeDeviceReference(s: MemoryState, ref: RefKind, access: Access, longterm: boolean): Frame {
  const pte = s.parent.pte;
  if (!pte) {
    throw new Error('simulation: the parent has no mapping to pin');
  }
  const frame = frameOf(s, pte.frame);
  if (ref === 'pin') {
    frame.refcount += GUP_PIN_COUNTING_BIAS;
    frame.pincount += 1;
    // FOLL_PIN marks the mm (mm->has_pinned in 008cfe4418b3, later MMF_HAS_PINNED) so fork() looks for pins.
    s.mmHasPinned = true;
  } else {
    frame.refcount += 1;
  }
  s.device = { status: 'mapped', frame: frame.id, ref, access, longterm };
  return frame;
}
