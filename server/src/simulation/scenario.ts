// Scenarios: the facts of one finding turned into the event orders worth simulating.

import type { Access, RefKind, SimEvent } from './events';
import { type EraId, type KernelVersion, eraById, eraFor, formatKernelVersion } from './kernelEra';

export type { Access, RefKind, SimEvent } from './events';

export type EventOrder =
  /** The child writes ptr1 first, then the parent. */
  | 'child-writes-first'
  /** The parent writes ptr1 first. */
  | 'parent-writes-first'
  /** The child exits before anyone writes; then the parent writes. */
  | 'child-exits-then-parent-writes'
  /** The process forks first and pins while the child still shares the page. */
  | 'pin-after-fork';

export const EVENT_ORDERS: readonly EventOrder[] = [
  'child-writes-first',
  'parent-writes-first',
  'child-exits-then-parent-writes',
  'pin-after-fork',
];

export function isEventOrder(text: string): text is EventOrder {
  return (EVENT_ORDERS as readonly string[]).includes(text);
}

const ORDER_TITLES: Record<EventOrder, string> = {
  'child-writes-first': 'child writes first',
  'parent-writes-first': 'parent writes first',
  'child-exits-then-parent-writes': 'child exits, then parent writes',
  'pin-after-fork': 'pin taken after fork()',
};

export interface Protections {
  /** madvise(MADV_DONTFORK) on the pinned range before fork(). */
  dontfork: boolean;
  /** madvise(MADV_WIPEONFORK) on the pinned range before fork(). */
  wipeonfork: boolean;
  /** The driver keeps the device mapping in sync with an mmu notifier (ODP/HMM style). */
  notifier: boolean;
}

export interface ScenarioInput {
  kernel: KernelVersion;
  ref: RefKind;
  access: Access;
  longterm: boolean;
  /** The pin outlives one I/O (registered memory, a mapped ring) rather than being dropped when the I/O completes. */
  longLived: boolean;
  protections: Protections;
  /** The buffer is hugetlb memory: early COW covered hugetlb only from v5.12 (4eae4efa2c29). */
  hugetlb?: boolean;
  /** The user buffer as the code names it (the pin's start address), for the steps' wording; ptr1 when absent. */
  buffer?: string;
  /** The kernel rejects the pin call with -EINVAL (its invalid flag combination, FS011): nothing is pinned. */
  rejected?: string;
  /** Force a kernel era by id instead of deriving it from `kernel` (for eras that never shipped alone). */
  eraId?: EraId;
}

export interface Scenario {
  /** Stable id, e.g. "5.4/get/write/parent-writes-first". */
  id: string;
  order: EventOrder;
  title: string;
  input: ScenarioInput;
  eraId: EraId;
  events: SimEvent[];
}

/** The orders worth showing for these facts, most telling first. */
export function ordersFor(input: ScenarioInput): EventOrder[] {
  const orders: EventOrder[] = ['child-writes-first', 'parent-writes-first'];
  if (input.longLived) {
    // A long-lived pin outlives the child; whether the parent's next write still copies is era-specific.
    orders.push('child-exits-then-parent-writes');
  }
  if (input.access === 'read') {
    // A read-only pin on a page still shared with a child is what v5.19's unshare-on-pin fixed.
    orders.push('pin-after-fork');
  }
  return orders;
}

function setupEvents(p: Protections): SimEvent[] {
  const events: SimEvent[] = [];
  if (p.dontfork) {
    events.push({ kind: 'madvise', advice: 'dontfork' });
  }
  if (p.wipeonfork) {
    events.push({ kind: 'madvise', advice: 'wipeonfork' });
  }
  if (p.notifier) {
    events.push({ kind: 'register-notifier' });
  }
  return events;
}

/** The event list of one order; the device's DMA direction follows the pin's access. */
export function eventsFor(input: ScenarioInput, order: EventOrder): SimEvent[] {
  const pin: SimEvent = { kind: 'pin', ref: input.ref, access: input.access, longterm: input.longterm, ...(input.rejected ? { rejected: input.rejected } : {}) };
  const dma: SimEvent = { kind: input.access === 'write' ? 'dma-write' : 'dma-read' };
  const parentWrite: SimEvent = { kind: 'cpu-write', who: 'parent' };
  const parentRead: SimEvent = { kind: 'cpu-read', who: 'parent' };
  const childRead: SimEvent = { kind: 'cpu-read', who: 'child' };
  const fork: SimEvent = { kind: 'fork' };
  let body: SimEvent[];
  switch (order) {
    case 'child-writes-first':
      body = [pin, fork, { kind: 'cpu-write', who: 'child' }, parentWrite, dma, parentRead, childRead];
      break;
    case 'parent-writes-first':
      body = [pin, fork, parentWrite, dma, parentRead, childRead];
      break;
    case 'child-exits-then-parent-writes':
      body = [pin, fork, { kind: 'child-exit' }, parentWrite, dma, parentRead];
      break;
    case 'pin-after-fork':
      body = [fork, pin, parentWrite, dma, parentRead, childRead];
      break;
  }
  // A short-lived pin is dropped when its I/O completes; a long-lived one is still held at the end.
  const tail: SimEvent[] = input.longLived ? [] : [{ kind: 'unpin' }];
  return [...setupEvents(input.protections), ...body, ...tail];
}

export function eraIdFor(input: ScenarioInput): EraId {
  if (input.eraId !== undefined && eraById(input.eraId)) {
    return input.eraId;
  }
  return eraFor(input.kernel).id;
}

export function buildScenario(input: ScenarioInput, order: EventOrder): Scenario {
  const protections = (Object.keys(input.protections) as Array<keyof Protections>).filter((k) => input.protections[k]);
  const idParts = [formatKernelVersion(input.kernel), input.ref, input.access, order];
  if (protections.length > 0) {
    idParts.splice(3, 0, protections.join('+'));
  }
  return {
    id: idParts.join('/'),
    order,
    title: ORDER_TITLES[order],
    input,
    eraId: eraIdFor(input),
    events: eventsFor(input, order),
  };
}

/** One scenario per event order worth showing for this finding. */
export function buildScenarios(input: ScenarioInput): Scenario[] {
  return ordersFor(input).map((order) => buildScenario(input, order));
}
