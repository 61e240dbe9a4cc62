// The event alphabet of the fork simulation and how each event is labelled in a trace.

export type RefKind = 'get' | 'pin';
export type Access = 'read' | 'write';
export type Actor = 'parent' | 'child';

export type SimEvent =
  /** The driver takes a reference with get_user_pages*() (FOLL_GET) or pin_user_pages*() (FOLL_PIN) and maps the page for the device. */
  | { kind: 'pin'; ref: RefKind; access: Access; longterm: boolean; rejected?: string }
  | { kind: 'madvise'; advice: 'dontfork' | 'wipeonfork' }
  /** The driver registers an mmu (interval) notifier on the parent's range, as ODP/HMM drivers do. */
  | { kind: 'register-notifier' }
  | { kind: 'fork' }
  | { kind: 'cpu-read'; who: Actor }
  | { kind: 'cpu-write'; who: Actor }
  | { kind: 'dma-read' }
  | { kind: 'dma-write' }
  | { kind: 'child-exit' }
  /** put_page()/unpin_user_page(): the driver drops its reference and the device mapping. */
  | { kind: 'unpin' }
  /** The kernel invalidates the parent's range for a reason of its own (for example page migration). */
  | { kind: 'invalidate' };

export type EventKind = SimEvent['kind'];

export function gupCallName(ref: RefKind): string {
  return ref === 'pin' ? 'pin_user_pages()' : 'get_user_pages()';
}

/** A short label for a trace column or table row. */
export function describeEvent(event: SimEvent): string {
  switch (event.kind) {
    case 'pin': {
      const flags = [event.ref === 'pin' ? 'FOLL_PIN' : 'FOLL_GET'];
      if (event.access === 'write') {
        flags.push('FOLL_WRITE');
      }
      if (event.longterm) {
        flags.push('FOLL_LONGTERM');
      }
      return `${gupCallName(event.ref).replace('()', '')}(${flags.join('|')})`;
    }
    case 'madvise':
      return event.advice === 'dontfork' ? 'madvise(MADV_DONTFORK)' : 'madvise(MADV_WIPEONFORK)';
    case 'register-notifier':
      return 'mmu notifier registered';
    case 'fork':
      return 'fork()';
    case 'cpu-read':
      return `${event.who} reads`;
    case 'cpu-write':
      return `${event.who} writes`;
    case 'dma-read':
      return 'device DMA read';
    case 'dma-write':
      return 'device DMA write';
    case 'child-exit':
      return 'child exits';
    case 'unpin':
      return 'unpin / put_page()';
    case 'invalidate':
      return 'notifier invalidation';
  }
}
