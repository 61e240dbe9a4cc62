// Kernel versions and the copy-on-write policy of each kernel era, with the commits that define them.

export interface KernelVersion {
  major: number;
  minor: number;
}

/** Accepts "5.4", "6.1.12", "v4.19", "4.19.0-rc3", "Linux 5.10"; anything else is undefined. */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const match = /^\s*(?:linux\s+)?v?(\d{1,2})\.(\d{1,3})(?:\.\d+)?(?:[-+~][\w.+~-]*)?\s*$/i.exec(text);
  if (!match) {
    return undefined;
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major < 2 || major > 99) {
    return undefined;
  }
  return { major, minor };
}

export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}

export function compareKernelVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function kernelAtLeast(v: KernelVersion, major: number, minor: number): boolean {
  return compareKernelVersions(v, { major, minor }) >= 0;
}

/** The newest kernel whose behaviour this model has been checked against. */
export const NEWEST_MODELLED_KERNEL: KernelVersion = { major: 6, minor: 12 };

/** A kernel newer than the newest modelled one: accepted, and simulated with the newest era's rules. */
export function isNewerThanModelled(version: KernelVersion): boolean {
  return compareKernelVersions(version, NEWEST_MODELLED_KERNEL) > 0;
}

/** Said wherever a kernel newer than the model is simulated: accepted, with the rules of the newest era. */
export function newerThanModelledNote(version: KernelVersion): string | undefined {
  if (!isNewerThanModelled(version)) return undefined;
  return `kernel ${formatKernelVersion(version)} is newer than the newest modelled kernel (${formatKernelVersion(NEWEST_MODELLED_KERNEL)}): ` +
    'simulated with the newest era\'s rules; `forksafe probe` checks them on a running kernel';
}

/** FOLL_PIN adds this to the page refcount (include/linux/mm.h, since 3faa52c03f44, v5.7). */
export const GUP_PIN_COUNTING_BIAS = 1024;

/** What the era policies may look at when deciding about one page. */
export interface FrameFacts {
  refcount: number;
  mapcount: number;
  pincount: number;
  /** PageAnonExclusive: only meaningful in eras that track it. */
  anonExclusive: boolean;
}

export interface ForkContext {
  /** mm->has_pinned (008cfe4418b3), later the MMF_HAS_PINNED flag: set by the first FOLL_PIN. */
  mmHasPinned: boolean;
  hugetlb: boolean;
  kernel: KernelVersion;
}

/** What GUP does first when asked for read access to a write-protected anonymous page. */
export type GupReadFault = 'none' | 'write-fault' | 'unshare';

export type EraId = 'mapcount' | 'gup-breaks-cow' | 'refcount' | 'early-cow' | 'anon-exclusive';

export interface KernelEra {
  id: EraId;
  name: string;
  /** First mainline release with this behaviour. */
  from: KernelVersion;
  /** The commit that defines the era (abbreviated id and subject). */
  commit: string;
  /** Further commits the behaviour depends on. */
  relatedCommits: readonly string[];
  /** False for behaviour that only existed between release candidates and never shipped in a release. */
  shipped: boolean;
  summary: string;
  /** Write fault on a present, write-protected anonymous page: keep the page (true) or copy it (false)? */
  reusesOnWriteFault(page: FrameFacts): boolean;
  /** During fork(): copy this page into the child now instead of sharing it write-protected? */
  copiesAtFork(page: FrameFacts, ctx: ForkContext): boolean;
  /** GUP without FOLL_WRITE on a write-protected anonymous page. */
  gupReadFault(ref: 'get' | 'pin'): GupReadFault;
  /** Whether a write fault that reuses the page, or a copy, marks it exclusive (PageAnonExclusive). */
  tracksAnonExclusive: boolean;
}

function maybeDmaPinned(page: FrameFacts): boolean {
  // page_maybe_dma_pinned() on a small page: refcount >= GUP_PIN_COUNTING_BIAS. It can be a false
  // positive (1024 plain references), never a false negative for FOLL_PIN.
  return page.refcount >= GUP_PIN_COUNTING_BIAS;
}

// do_wp_page() reused an anonymous page when reuse_swap_page() found it mapped once (mapcount plus
// swap count). Extra references, such as a get_user_pages() reference, were not looked at, so after
// fork() the first of parent and child to write gets the copy and the other keeps the pinned page.
// This is the behaviour since before git history (v2.6.12, 1da177e4c3f4) up to v5.8.
const MAPCOUNT_ERA: KernelEra = {
  id: 'mapcount',
  name: 'mapcount reuse (before 5.8)',
  from: { major: 2, minor: 6 },
  commit: '1da177e4c3f4 (v2.6.12 import; mapcount-based reuse in do_wp_page/reuse_swap_page)',
  relatedCommits: [],
  shipped: true,
  summary:
    'A write fault on a COW-shared anonymous page copies unless the page is mapped once (reuse_swap_page); ' +
    'GUP references are ignored, so the first writer after fork() moves to a new page and which one writes first is a race.',
  reusesOnWriteFault: (page) => page.mapcount === 1,
  copiesAtFork: () => false,
  gupReadFault: () => 'none',
  tracksAnonExclusive: false,
};

// 17839856fd58 "gup: document and work around 'COW can break either way' issue" (v5.8) made GUP on a
// COW mapping take FOLL_WRITE even for reads, so a pin taken after fork() lands on the caller's own copy.
// A pin taken before fork() is still shared at fork() and reuse stays mapcount-based.
// Stable kernels 4.4 to 5.4 received backports of this commit in 2021.
const GUP_BREAKS_COW_ERA: KernelEra = {
  id: 'gup-breaks-cow',
  name: 'GUP breaks COW on read (5.8)',
  from: { major: 5, minor: 8 },
  commit: '17839856fd58 gup: document and work around "COW can break either way" issue',
  relatedCommits: [],
  shipped: true,
  summary:
    'As before, but get_user_pages()/pin_user_pages() on a COW mapping always breaks COW first, even for read access; ' +
    'reuse after fork() is still mapcount-based.',
  reusesOnWriteFault: (page) => page.mapcount === 1,
  copiesAtFork: () => false,
  gupReadFault: () => 'write-fault',
  tracksAnonExclusive: false,
};

// 09854ba94c6a "mm: do_wp_page() simplification" (v5.9-rc4): reuse only when page_count() == 1, so any
// extra reference (a GUP pin, even after the child exited) forces a copy. a308c71bf1e6 removed the
// GUP-side COW break of 5.8 in the same series. Linus merged early COW (70e806e4e645) before v5.9 shipped,
// so this era on its own only existed in 5.9-rc4..rc7; it still describes FOLL_GET references on every
// later kernel, because early COW does not see them.
const REFCOUNT_ERA: KernelEra = {
  id: 'refcount',
  name: 'refcount reuse without early COW (5.9-rc4..rc7 only)',
  from: { major: 5, minor: 9 },
  commit: '09854ba94c6a mm: do_wp_page() simplification',
  relatedCommits: ['a308c71bf1e6 mm/gup: Remove enfornced COW mechanism'],
  shipped: false,
  summary:
    'A write fault reuses a page only when its refcount is 1; any GUP reference forces a copy on every write fault ' +
    'to a write-protected page, even after the child has exited.',
  reusesOnWriteFault: (page) => page.refcount === 1,
  copiesAtFork: () => false,
  gupReadFault: () => 'none',
  tracksAnonExclusive: false,
};

// 70e806e4e645 "mm: Do early cow for pinned pages during fork() for ptes" (v5.9): copy_present_page()
// gives the child its own copy of a page that may be DMA-pinned, in an mm that has ever used FOLL_PIN,
// and leaves the parent's PTE writable. hugetlb followed in 4eae4efa2c29 (v5.12). FOLL_GET references
// do not make a page "maybe DMA pinned", so they are still shared and broken by the refcount rule.
const EARLY_COW_ERA: KernelEra = {
  id: 'early-cow',
  name: 'early COW at fork for FOLL_PIN (5.9)',
  from: { major: 5, minor: 9 },
  commit: '70e806e4e645 mm: Do early cow for pinned pages during fork() for ptes',
  relatedCommits: [
    '09854ba94c6a mm: do_wp_page() simplification',
    '008cfe4418b3 mm: Introduce mm_struct.has_pinned',
    'd042035eaf5f mm/thp: Split huge pmds/puds if they\'re pinned when fork()',
    '4eae4efa2c29 hugetlb: do early cow when page pinned on src mm (v5.12)',
  ],
  shipped: true,
  summary:
    'fork() copies pages that may be DMA-pinned (FOLL_PIN) into the child at once, so the parent and the device keep ' +
    'the pinned page; FOLL_GET references are not seen and still break on the refcount rule.',
  reusesOnWriteFault: (page) => page.refcount === 1,
  copiesAtFork: (page, ctx) =>
    ctx.mmHasPinned && maybeDmaPinned(page) && (!ctx.hugetlb || kernelAtLeast(ctx.kernel, 5, 12)),
  gupReadFault: () => 'none',
  tracksAnonExclusive: false,
};

// David Hildenbrand's "COW fixes part 2" series (v5.19): PageAnonExclusive records that a page is mapped
// by exactly one process (6c287605fd56). A write fault on an exclusive page always reuses it; fork()
// copies exclusive pages that may be pinned and otherwise clears the flag (fb3d824d1a46); and a
// read-only FOLL_PIN on a page that is not exclusive first unshares it (a7f226604170), so the pin lands
// on a page only the caller maps. Before this, a read-only pin taken while the page was COW-shared
// pinned the shared page and the parent's next write moved the parent away from it.
const ANON_EXCLUSIVE_ERA: KernelEra = {
  id: 'anon-exclusive',
  name: 'PageAnonExclusive and unshare on R/O pin (5.19)',
  from: { major: 5, minor: 19 },
  commit: '6c287605fd56 mm: remember exclusively mapped anonymous pages with PG_anon_exclusive',
  relatedCommits: [
    'a7f226604170 mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page',
    'c89357e27f20 mm: support GUP-triggered unsharing of anonymous pages',
    'fb3d824d1a46 mm/rmap: split page_dup_rmap() into page_dup_file_rmap() and page_try_dup_anon_rmap()',
  ],
  shipped: true,
  summary:
    'Read-only FOLL_PIN pins stay coherent too: pinning a possibly shared anonymous page read-only unshares it first, ' +
    'and exclusive pinned pages are copied for the child at fork(); FOLL_GET is still not covered.',
  reusesOnWriteFault: (page) => page.anonExclusive || page.refcount === 1,
  copiesAtFork: (page, ctx) => page.anonExclusive && ctx.mmHasPinned && maybeDmaPinned(page),
  gupReadFault: (ref) => (ref === 'pin' ? 'unshare' : 'none'),
  tracksAnonExclusive: true,
};

/** Oldest first. */
export const KERNEL_ERAS: readonly KernelEra[] = [
  MAPCOUNT_ERA,
  GUP_BREAKS_COW_ERA,
  REFCOUNT_ERA,
  EARLY_COW_ERA,
  ANON_EXCLUSIVE_ERA,
];

// hugetlb_cow() (hugetlb_wp() from 6.0) reuses an anonymous huge page that is mapped once, whatever other references
// it has: it never looked at the refcount, in any era (checked in 6.1's mm/hugetlb.c and on a running 6.18 by the
// kernel probe). So a FOLL_GET reference on hugetlb memory behaves as in the mapcount era on every kernel.
/** Write fault on a present, write-protected anonymous page of this kind: keep the page (true) or copy it (false)? */
export function reusesOnWriteFault(era: KernelEra, page: FrameFacts, hugetlb: boolean): boolean {
  return hugetlb ? page.mapcount === 1 : era.reusesOnWriteFault(page);
}

/** The era a released kernel of this version belongs to (eras that never shipped are skipped). */
export function eraFor(version: KernelVersion): KernelEra {
  let chosen = KERNEL_ERAS[0];
  for (const era of KERNEL_ERAS) {
    if (era.shipped && compareKernelVersions(version, era.from) >= 0) {
      chosen = era;
    }
  }
  return chosen;
}

export function eraById(id: string): KernelEra | undefined {
  return KERNEL_ERAS.find((era) => era.id === id);
}
