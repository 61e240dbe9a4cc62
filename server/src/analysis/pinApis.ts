// The one table of user-page pinning and release APIs: their reference kind and argument layout per kernel version.
//
// Every layout names the commit (or the public record) that proves it. Facts were checked against
// DepSurf's per-version signature dumps (Ubuntu builds of 4.4, 4.8, 4.10, 4.13, 4.15, 4.18, 5.0, 5.3,
// 5.4, 5.8, 5.11, 5.13, 5.15, 5.19, 6.2, 6.5, 6.8), against out-of-tree driver compatibility probes
// that record `git describe` positions of the changing commits (NVIDIA conftest.sh, AMD amdgpu-dkms
// m4), and against the patch mails and merge lists in the public list archives. Where a fact could
// not be pinned down, the entry says so in `unverified`. docs/pin-apis.md is the readable version.

export interface KernelVersionLite {
  major: number;
  minor: number;
}

/** 'get' = plain page reference (FOLL_GET, released with put_page); 'pin' = FOLL_PIN pin (released with unpin_user_page*). */
export type RefKind = 'get' | 'pin';

/** How the access mode is passed: a gup_flags word, an int/bool `write`, `write` + `force`, or not at all. */
export type FlagsArgStyle = 'gup_flags' | 'write_int' | 'write_force_ints' | 'none';

export interface PinApiSignature {
  /** [from, until): until is exclusive; omitted = still current. */
  from: KernelVersionLite;
  until?: KernelVersionLite;
  /** Parameter names in order, spelled as the kernel spells them. */
  params: string[];
  flagsStyle: FlagsArgStyle;
  /** Index of gup_flags, or of the `write` int/bool. */
  flagsIndex?: number;
  /** Index of the `force` int/bool (forms before 4.9). */
  forceIndex?: number;
  /** Index of the struct page ** out-array. */
  pagesIndex?: number;
  /** Index of the struct frame_vector * (get_vaddr_frames only). */
  frameVectorIndex?: number;
  startIndex: number;
  nrPagesIndex: number;
  vmasIndex?: number;
  lockedIndex?: number;
  mmIndex?: number;
  taskIndex?: number;
  /** Flags the API adds by itself, whatever the caller passes. */
  impliedFlags?: string[];
  /** Overrides PinApi.ref for this era (get_vaddr_frames took plain references before 5.8 and pins after). */
  ref?: RefKind;
  /**
   * Set when the layout existed only in a stable series, not in a mainline release. Such layouts are
   * skipped by signatureFor (which answers for mainline) but matched by signatureForArgCount, because
   * drivers written for that stable series call them.
   */
  backport?: string;
  /** Commit id / version note proving this layout. */
  source: string;
  /** What could not be verified about this entry, if anything. */
  unverified?: string;
}

export interface PinApi {
  name: string;
  ref: RefKind;
  kind: 'pages' | 'frame_vector';
  /** Not meant for drivers (static or unexported for most of its life), but old out-of-tree code calls it. */
  internal?: boolean;
  signatures: PinApiSignature[];
  /** The pin_user_pages* name to convert a get_user_pages* call to. */
  pinEquivalent?: string;
  note?: string;
}

export interface ReleaseEra {
  from: KernelVersionLite;
  until?: KernelVersionLite;
  releases: RefKind;
}

export interface ReleaseApi {
  name: string;
  /** What it releases in its latest era; see `eras` when that changed. */
  releases: RefKind;
  /** True when the API marks the pages dirty (unconditionally or through a make_dirty argument). */
  dirties?: boolean;
  form: 'single' | 'array' | 'range' | 'frame_vector';
  from?: KernelVersionLite;
  until?: KernelVersionLite;
  /** Index of the struct page * / struct page ** argument (the frame_vector for put_vaddr_frames). */
  pagesIndex?: number;
  /** Index of the count argument, when there is one. */
  countIndex?: number;
  /** When the kind of reference it releases changed over time. */
  eras?: ReleaseEra[];
  note?: string;
  source: string;
  unverified?: string;
}

export interface FollFlag {
  name: string;
  from?: KernelVersionLite;
  meaning: string;
  source: string;
  unverified?: string;
}

function v(major: number, minor: number): KernelVersionLite {
  return { major, minor };
}

type LayoutExtras = Pick<PinApiSignature, 'until' | 'impliedFlags' | 'ref' | 'backport' | 'unverified'>;

/** Builds a signature from its parameter names, so an index can never disagree with the name list. */
function layout(from: KernelVersionLite, params: string[], source: string, extras: LayoutExtras = {}): PinApiSignature {
  const at = (name: string): number | undefined => {
    const i = params.indexOf(name);
    return i < 0 ? undefined : i;
  };
  const gupFlags = at('gup_flags');
  const write = at('write');
  const force = at('force');
  const flagsStyle: FlagsArgStyle =
    gupFlags !== undefined ? 'gup_flags' : write !== undefined && force !== undefined ? 'write_force_ints' : write !== undefined ? 'write_int' : 'none';
  const sig: PinApiSignature = {
    from,
    params,
    flagsStyle,
    startIndex: at('start') ?? 0,
    nrPagesIndex: at('nr_pages') ?? at('nr_frames') ?? 1,
    source,
    ...extras,
  };
  const optional: Array<[keyof PinApiSignature, number | undefined]> = [
    ['flagsIndex', gupFlags ?? write],
    ['forceIndex', force],
    ['pagesIndex', at('pages')],
    ['frameVectorIndex', at('vec')],
    ['vmasIndex', at('vmas')],
    ['lockedIndex', at('locked')],
    ['mmIndex', at('mm')],
    ['taskIndex', at('tsk')],
  ];
  for (const [key, value] of optional) if (value !== undefined) Object.assign(sig, { [key]: value });
  return sig;
}

// The 4.9 write/force -> gup_flags conversion was one series by Lorenzo Stoakes (posted 2016-10-13);
// its get_user_pages and get_user_pages_remote commits are the ones the compat probes name.
const GUP_FLAGS_SERIES_49 = "Lorenzo Stoakes' write/force -> gup_flags series, v4.9";
// The 6.5 vmas removal was one series by Lorenzo Stoakes (mm pull for v6.5).
const VMAS_SERIES_65 = "Lorenzo Stoakes' vmas-removal series, v6.5";

export const PIN_APIS: readonly PinApi[] = [
  {
    name: 'get_user_pages',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages',
    signatures: [
      layout(v(2, 6), ['tsk', 'mm', 'start', 'nr_pages', 'write', 'force', 'pages', 'vmas'],
        'DepSurf 4.4 signature; replaced by cde70140fed8 (v4.6)',
        { until: v(4, 6), unverified: 'start of this form not checked before 3.x (a 3.x-era copy and the 4.4 header both show it)' }),
      // 4.4.168 cherry-picked 768ae309a961 without the tsk/mm removal (NVIDIA conftest; 8e50b8b07f46 in linux-4.4.y).
      layout(v(4, 4), ['tsk', 'mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas'],
        '8e50b8b07f46 in linux-4.4.y (4.4.168+), a backport of 768ae309a961',
        { until: v(4, 5), backport: 'linux-4.4.y from 4.4.168' }),
      // cde70140fed8 added a macro that still accepted 8 arguments (with a deprecation warning); c12d2da56d0e
      // removed that macro in v4.6-rc3, so v4.6 final takes only this 6-argument form.
      layout(v(4, 6), ['start', 'nr_pages', 'write', 'force', 'pages', 'vmas'],
        'cde70140fed8 + c12d2da56d0e (v4.6); DepSurf 4.8', { until: v(4, 9) }),
      layout(v(4, 9), ['start', 'nr_pages', 'gup_flags', 'pages', 'vmas'],
        `768ae309a961 (v4.8-14095, in v4.9; ${GUP_FLAGS_SERIES_49}); DepSurf 4.10-6.2`, { until: v(6, 5) }),
      layout(v(6, 5), ['start', 'nr_pages', 'gup_flags', 'pages'], `54d020692b34 (v6.4-rc4-53, in v6.5; ${VMAS_SERIES_65}); DepSurf 6.5, 6.8`),
    ],
  },
  {
    name: 'get_user_pages_remote',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_remote',
    note: 'Added in v4.6 to carry the tsk/mm pair that get_user_pages lost.',
    signatures: [
      layout(v(4, 6), ['tsk', 'mm', 'start', 'nr_pages', 'write', 'force', 'pages', 'vmas'],
        '1e9877902dc7 (v4.5-rc4-71, in v4.6); DepSurf 4.8', { until: v(4, 9) }),
      layout(v(4, 9), ['tsk', 'mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas'],
        `9beae1ea8930 (v4.8-14096, in v4.9; ${GUP_FLAGS_SERIES_49})`, { until: v(4, 10) }),
      layout(v(4, 10), ['tsk', 'mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'],
        '5b56d49fc31d (v4.9-7744, in v4.10); DepSurf 4.10-5.8', { until: v(5, 9) }),
      layout(v(5, 9), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'],
        '64019a2e467a (v5.8-12463, in v5.9); DepSurf 5.11-6.2', { until: v(6, 5) }),
      layout(v(6, 5), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'locked'], `ca5e863233e8 (v6.5; ${VMAS_SERIES_65}); DepSurf 6.5, 6.8`),
    ],
  },
  {
    name: 'get_user_pages_fast',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_fast',
    signatures: [
      layout(v(2, 6), ['start', 'nr_pages', 'write', 'pages'], 'DepSurf 4.4-5.0; replaced by 73b0140bf0fe (v5.2)',
        { until: v(5, 2), unverified: 'first version with this API not checked (it predates 3.0)' }),
      layout(v(5, 2), ['start', 'nr_pages', 'gup_flags', 'pages'],
        '73b0140bf0fe (in Linus\' tree for the v5.2 merge window per linux-next 2019-05-17); DepSurf 5.3-6.8'),
    ],
  },
  {
    name: 'get_user_pages_unlocked',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_unlocked',
    note: 'From v4.9 gup_flags comes after pages, unlike every other gup_flags form.',
    signatures: [
      layout(v(4, 0), ['tsk', 'mm', 'start', 'nr_pages', 'write', 'force', 'pages'], 'f0818f472d8d (v4.0); DepSurf 4.4', { until: v(4, 6) }),
      layout(v(4, 6), ['start', 'nr_pages', 'write', 'force', 'pages'], 'cde70140fed8 (v4.6); DepSurf 4.8', { until: v(4, 9) }),
      layout(v(4, 9), ['start', 'nr_pages', 'pages', 'gup_flags'], `${GUP_FLAGS_SERIES_49}; DepSurf 4.10-6.8`,
        { unverified: 'commit id of the get_user_pages_unlocked patch in that series not verified' }),
    ],
  },
  {
    name: 'get_user_pages_locked',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_locked',
    note: 'Removed in v5.18 together with pin_user_pages_locked; from then on use pin_user_pages_remote or pin_user_pages_unlocked.',
    signatures: [
      layout(v(4, 0), ['tsk', 'mm', 'start', 'nr_pages', 'write', 'force', 'pages', 'locked'], 'f0818f472d8d (v4.0); DepSurf 4.4', { until: v(4, 6) }),
      layout(v(4, 6), ['start', 'nr_pages', 'write', 'force', 'pages', 'locked'], 'cde70140fed8 (v4.6); DepSurf 4.8', { until: v(4, 9) }),
      layout(v(4, 9), ['start', 'nr_pages', 'gup_flags', 'pages', 'locked'],
        `${GUP_FLAGS_SERIES_49}; removed by 73fd16d8080f (v5.18); DepSurf 4.10-5.15, absent 5.19`,
        { until: v(5, 18), unverified: 'commit id of the get_user_pages_locked patch in the 4.9 series not verified' }),
    ],
  },
  {
    name: 'get_user_pages_longterm',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages',
    note: 'Replaced by get_user_pages(..., gup_flags | FOLL_LONGTERM) in v5.2; the pin conversion is pin_user_pages with FOLL_LONGTERM.',
    signatures: [
      layout(v(4, 15), ['start', 'nr_pages', 'gup_flags', 'pages', 'vmas'],
        '2bb6d2837083 (v4.15); removed by 932f4a630a69 (v5.2); DepSurf 4.15-5.0',
        { until: v(5, 2), impliedFlags: ['FOLL_LONGTERM'], unverified: 'stable backports (it was Cc: stable) not tracked' }),
    ],
  },
  {
    name: '__get_user_pages',
    ref: 'get',
    kind: 'pages',
    internal: true,
    note: 'Exported until late 2016 ("mm: unexport __get_user_pages()", Lorenzo Stoakes); static in mm/gup.c from v4.10 per DepSurf. The last argument is named nonblocking before v5.8 and locked after; same position.',
    signatures: [
      layout(v(3, 0), ['tsk', 'mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'],
        'DepSurf 4.4-5.8; tsk removed by 64019a2e467a (v5.9)',
        { until: v(5, 9), unverified: 'start of the 8-argument form not checked before 3.x; the unexport commit id not verified' }),
      layout(v(5, 9), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'], '64019a2e467a (v5.9); DepSurf 5.11-6.2', { until: v(6, 5) }),
      layout(v(6, 5), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'locked'], `${VMAS_SERIES_65} ("remove vmas array from internal GUP functions"); DepSurf 6.5, 6.8`,
        { unverified: 'mainline commit id of the internal-functions patch not verified' }),
    ],
  },
  {
    name: '__get_user_pages_fast',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_fast_only',
    note: 'Renamed get_user_pages_fast_only (with gup_flags) in v5.8.',
    signatures: [
      layout(v(2, 6), ['start', 'nr_pages', 'write', 'pages'], 'DepSurf 4.4-5.4, absent 5.8; replaced by dadbb612f6e5 (v5.8)',
        { until: v(5, 8), unverified: 'first version with this API not checked (it predates 3.0)' }),
    ],
  },
  {
    name: 'get_user_pages_fast_only',
    ref: 'get',
    kind: 'pages',
    pinEquivalent: 'pin_user_pages_fast_only',
    signatures: [
      layout(v(5, 8), ['start', 'nr_pages', 'gup_flags', 'pages'], 'dadbb612f6e5 (v5.8 merge window, June 2020); DepSurf 5.8-6.8'),
    ],
  },
  {
    name: 'pin_user_pages',
    ref: 'pin',
    kind: 'pages',
    signatures: [
      layout(v(5, 6), ['start', 'nr_pages', 'gup_flags', 'pages', 'vmas'], 'eddb1c228f79 (v5.6); DepSurf 5.8-6.2',
        { until: v(6, 5), impliedFlags: ['FOLL_PIN'] }),
      layout(v(6, 5), ['start', 'nr_pages', 'gup_flags', 'pages'], `4c630f307455 (v6.5; ${VMAS_SERIES_65})`, { impliedFlags: ['FOLL_PIN'] }),
    ],
  },
  {
    name: 'pin_user_pages_fast',
    ref: 'pin',
    kind: 'pages',
    signatures: [
      layout(v(5, 6), ['start', 'nr_pages', 'gup_flags', 'pages'], 'eddb1c228f79 (v5.6)', { impliedFlags: ['FOLL_PIN'] }),
    ],
  },
  {
    name: 'pin_user_pages_remote',
    ref: 'pin',
    kind: 'pages',
    signatures: [
      layout(v(5, 6), ['tsk', 'mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'], 'eddb1c228f79 (v5.6); DepSurf 5.8',
        { until: v(5, 9), impliedFlags: ['FOLL_PIN'] }),
      layout(v(5, 9), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked'], '64019a2e467a (v5.9); DepSurf 5.11-6.2',
        { until: v(6, 5), impliedFlags: ['FOLL_PIN'] }),
      layout(v(6, 5), ['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'locked'], `0b295316b3a9 (v6.5; ${VMAS_SERIES_65}); DepSurf 6.5, 6.8`,
        { impliedFlags: ['FOLL_PIN'] }),
    ],
  },
  {
    name: 'pin_user_pages_unlocked',
    ref: 'pin',
    kind: 'pages',
    signatures: [
      layout(v(5, 8), ['start', 'nr_pages', 'pages', 'gup_flags'], 'John Hubbard, "mm/gup: introduce pin_user_pages_unlocked" (posted May 2020); DepSurf absent 5.4, present 5.8-6.8',
        { impliedFlags: ['FOLL_PIN'], unverified: 'mainline commit id not verified' }),
    ],
  },
  {
    name: 'pin_user_pages_fast_only',
    ref: 'pin',
    kind: 'pages',
    signatures: [
      layout(v(5, 8), ['start', 'nr_pages', 'gup_flags', 'pages'], 'John Hubbard, "mm/gup: introduce pin_user_pages_fast_only()" (posted May 2020); DepSurf absent 5.4, present 5.8-6.8',
        { impliedFlags: ['FOLL_PIN'], unverified: 'mainline commit id not verified' }),
    ],
  },
  {
    name: 'pin_user_pages_locked',
    ref: 'pin',
    kind: 'pages',
    note: 'Added for get_vaddr_frames; unused after that moved to pin_user_pages_fast, removed in v5.18.',
    signatures: [
      layout(v(5, 8), ['start', 'nr_pages', 'gup_flags', 'pages', 'locked'], '420c2091b65a (v5.8); removed by ad6c441266dc (v5.18); DepSurf 5.8-5.15, absent 5.19',
        { until: v(5, 18), impliedFlags: ['FOLL_PIN'] }),
    ],
  },
  {
    name: 'get_vaddr_frames',
    ref: 'get',
    kind: 'frame_vector',
    note: 'mm/frame_vector.c until v5.11; drivers/media/common/videobuf2/frame_vector.c (videobuf2 module) after. Before v5.12 a VM_IO/VM_PFNMAP range was returned as raw pfns with no reference at all.',
    signatures: [
      layout(v(4, 3), ['start', 'nr_frames', 'write', 'force', 'vec'], '8025e5ddf9c1 (media tree, July 2015); DepSurf 4.4, 4.8',
        { until: v(4, 9), unverified: 'v4.3 inferred from the merge date, not from a tag' }),
      layout(v(4, 9), ['start', 'nr_frames', 'gup_flags', 'vec'], `${GUP_FLAGS_SERIES_49} ("replace get_vaddr_frames() write/force parameters"); DepSurf 4.10-5.4`,
        { until: v(5, 8), unverified: 'commit id of this patch not verified' }),
      // 55a650c35fea switched the internal call to pin_user_pages_locked and the release to unpin_user_pages.
      layout(v(5, 8), ['start', 'nr_frames', 'gup_flags', 'vec'], '55a650c35fea (v5.8) made it pin; DepSurf 5.8, 5.11',
        { until: v(5, 12), ref: 'pin', impliedFlags: ['FOLL_PIN'] }),
      layout(v(5, 12), ['start', 'nr_frames', 'vec'],
        'Daniel Vetter, "mm/frame-vector: Use FOLL_LONGTERM" + move into drivers/media; internally pin_user_pages_fast(FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM); 3-argument form is the base of e2fc6edd37ba',
        { until: v(6, 2), ref: 'pin', impliedFlags: ['FOLL_PIN', 'FOLL_LONGTERM', 'FOLL_FORCE', 'FOLL_WRITE'],
          unverified: 'commit ids and exact version: DepSurf 5.11 still shows the gup_flags form, and the vmlinux symbol is gone by 5.13 (module), so 5.12 is inferred' }),
      layout(v(6, 2), ['start', 'nr_frames', 'write', 'vec'],
        'e2fc6edd37ba (media pull for v6.2-rc1); FOLL_FORCE dropped in the same window by David Hildenbrand\'s "mm/frame-vector: remove FOLL_FORCE usage"',
        { ref: 'pin', impliedFlags: ['FOLL_PIN', 'FOLL_LONGTERM'], unverified: 'mainline id of the FOLL_FORCE-removal patch not verified' }),
    ],
  },
];

export const RELEASE_APIS: readonly ReleaseApi[] = [
  { name: 'put_page', releases: 'get', form: 'single', pagesIndex: 0, source: 'core mm API present in every kernel covered' },
  {
    name: 'release_pages', releases: 'get', form: 'array', pagesIndex: 0, countIndex: 1,
    note: '(pages, nr, cold) until v4.15, (pages, nr) v4.15-v5.19, (release_pages_arg, nr) by v6.2; pages and count keep positions 0 and 1.',
    source: 'DepSurf: cold present 4.13, gone 4.15; release_pages_arg union present 6.2, absent 5.19',
    unverified: 'commit ids of both signature changes not verified',
  },
  {
    name: 'put_user_page', releases: 'get', form: 'single', pagesIndex: 0, from: v(5, 2), until: v(5, 6),
    note: 'A placeholder that called put_page; renamed unpin_user_page in v5.6.',
    source: 'fc1d8e7cca2d; renamed by f1f6a7dd9b53 (v5.6)', unverified: 'v5.2 vs v5.3 start: DepSurf shows absent 5.0, present 5.3',
  },
  {
    name: 'put_user_pages', releases: 'get', form: 'array', pagesIndex: 0, countIndex: 1, from: v(5, 2), until: v(5, 6),
    source: 'fc1d8e7cca2d; renamed by f1f6a7dd9b53 (v5.6); DepSurf 5.3, 5.4', unverified: 'v5.2 vs v5.3 start: DepSurf shows absent 5.0, present 5.3',
  },
  {
    name: 'put_user_pages_dirty', releases: 'get', dirties: true, form: 'array', pagesIndex: 0, countIndex: 1, from: v(5, 2), until: v(5, 4),
    source: 'fc1d8e7cca2d; folded into put_user_pages_dirty_lock(.., make_dirty) by 2d15eb31b50a (v5.4); DepSurf present 5.3, absent 5.4',
    unverified: 'v5.2 vs v5.3 start',
  },
  {
    name: 'put_user_pages_dirty_lock', releases: 'get', dirties: true, form: 'array', pagesIndex: 0, countIndex: 1, from: v(5, 2), until: v(5, 6),
    note: '(pages, npages) before v5.4, (pages, npages, make_dirty) from v5.4.',
    source: 'fc1d8e7cca2d; make_dirty added by 2d15eb31b50a (v5.4, DepSurf 5.3 vs 5.4); renamed by f1f6a7dd9b53 (v5.6)',
    unverified: 'v5.2 vs v5.3 start',
  },
  { name: 'unpin_user_page', releases: 'pin', form: 'single', pagesIndex: 0, from: v(5, 6), source: 'f1f6a7dd9b53 (v5.6, pin_user_pages series)' },
  { name: 'unpin_user_pages', releases: 'pin', form: 'array', pagesIndex: 0, countIndex: 1, from: v(5, 6), source: 'f1f6a7dd9b53 (v5.6)' },
  {
    name: 'unpin_user_pages_dirty_lock', releases: 'pin', dirties: true, form: 'array', pagesIndex: 0, countIndex: 1, from: v(5, 6),
    note: '(pages, npages, make_dirty); dirties only when make_dirty is true.', source: 'f1f6a7dd9b53 (v5.6)',
  },
  {
    name: 'unpin_user_page_range_dirty_lock', releases: 'pin', dirties: true, form: 'range', pagesIndex: 0, countIndex: 1, from: v(5, 12),
    note: '(first page, npages, make_dirty) over a physically contiguous range.',
    source: '458a4f788f86 (posted Feb 2021, v5.12 window); DepSurf absent 5.11, present 5.13', unverified: 'v5.12 inferred from the merge window',
  },
  {
    name: 'put_vaddr_frames', releases: 'pin', form: 'frame_vector', pagesIndex: 0, from: v(4, 3),
    eras: [
      { from: v(4, 3), until: v(5, 8), releases: 'get' },
      { from: v(5, 8), releases: 'pin' },
    ],
    note: 'Pairs with get_vaddr_frames; drops nothing when the vector holds raw pfns.',
    source: '8025e5ddf9c1 (v4.3); unpin_user_pages inside since 55a650c35fea (v5.8)',
  },
];

export const FOLL_FLAGS: readonly FollFlag[] = [
  { name: 'FOLL_WRITE', meaning: 'Ask for write access; GUP breaks COW first, so the page is private to the caller when the call returns.', source: 'present in the 4.4-era include/linux/mm.h read directly', unverified: 'first version not checked (predates 3.0)' },
  { name: 'FOLL_FORCE', meaning: 'Allow access the VMA permissions deny (debugger semantics); the old `force` int became this flag in v4.9.', source: 'present in the 4.4-era header; 768ae309a961 (v4.9) moved callers to it', unverified: 'first version not checked (predates 3.0)' },
  { name: 'FOLL_GET', meaning: 'Take a plain page reference (what get_user_pages* does).', source: 'present in the 4.4-era header', unverified: 'first version not checked (predates 3.0)' },
  { name: 'FOLL_TOUCH', meaning: 'Mark the page accessed.', source: 'present in the 4.4-era header', unverified: 'first version not checked (predates 3.0)' },
  { name: 'FOLL_NOWAIT', from: v(2, 6), meaning: 'Start I/O for a missing page but return instead of waiting.', source: '318b275fbca1 (2011-03-22, v2.6.39 window)' },
  { name: 'FOLL_COW', from: v(4, 9), meaning: 'Internal: the COW was broken for this read-only VMA (Dirty COW fix).', source: 'present in a 4.4.y-era header with the Dirty COW backport', unverified: 'commit id and mainline version not verified' },
  { name: 'FOLL_LONGTERM', from: v(5, 2), meaning: 'The pin lives for an unbounded, userspace-controlled time (DMA/RDMA); checks that the memory may be pinned long-term.', source: '932f4a630a69 (v5.2), which replaced get_user_pages_longterm' },
  { name: 'FOLL_PIN', from: v(5, 6), meaning: 'Internal: set by pin_user_pages*; the pages must be released with unpin_user_page*. Callers must not pass it.', source: 'eddb1c228f79 (v5.6)' },
  { name: 'FOLL_FAST_ONLY', from: v(5, 8), meaning: 'Internal: gup-fast without the slow fall-back (behind *_fast_only).', source: 'added with pin_user_pages_fast_only (John Hubbard, posted May 2020); DepSurf 5.8', unverified: 'commit id not verified' },
  { name: 'FOLL_NOFAULT', from: v(5, 16), meaning: 'Do not fault pages in; fail instead.', source: '55b8fe703bc5 (gfs2 page-fault deadlock series)', unverified: 'v5.16 inferred from the series, not from a tag' },
];

/** PIN_API_EARLIEST_PIN_USER_PAGES: pin_user_pages, pin_user_pages_fast and pin_user_pages_remote appear in v5.6 (eddb1c228f79). */
export const PIN_API_EARLIEST_PIN_USER_PAGES: KernelVersionLite = v(5, 6);

/** Orders versions; negative when a is older. */
export function compareKernelVersions(a: KernelVersionLite, b: KernelVersionLite): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function isVersionInRange(version: KernelVersionLite, from: KernelVersionLite, until?: KernelVersionLite): boolean {
  return compareKernelVersions(version, from) >= 0 && (until === undefined || compareKernelVersions(version, until) < 0);
}

/** Each name's first entry in `list`: the lookups below are asked for every call of a file on every analysis. */
function byName<T extends { name: string }>(list: readonly T[]): ReadonlyMap<string, T> {
  const map = new Map<string, T>();
  for (const entry of list) if (!map.has(entry.name)) map.set(entry.name, entry);
  return map;
}

const PIN_API_BY_NAME = byName(PIN_APIS);
const RELEASE_API_BY_NAME = byName(RELEASE_APIS);

export function findPinApi(name: string): PinApi | undefined {
  return PIN_API_BY_NAME.get(name);
}

export function findReleaseApi(name: string): ReleaseApi | undefined {
  return RELEASE_API_BY_NAME.get(name);
}

/** The mainline layout in force at `version`, or undefined when the API does not exist there. */
export function signatureFor(api: PinApi, version: KernelVersionLite): PinApiSignature | undefined {
  return api.signatures.find((s) => s.backport === undefined && isVersionInRange(version, s.from, s.until));
}

/** The reference kind a call takes under a given layout (get_vaddr_frames changed in v5.8). */
export function refKindOf(api: PinApi, sig: PinApiSignature): RefKind {
  return sig.ref ?? api.ref;
}

/** What a release API drops at `version` (put_vaddr_frames dropped plain references before v5.8). */
export function releaseKindAt(api: ReleaseApi, version: KernelVersionLite): RefKind {
  return api.eras?.find((e) => isVersionInRange(version, e.from, e.until))?.releases ?? api.releases;
}

// A flat ordinal makes "how far is this version from that range" a subtraction; minors stay below 100.
function ordinal(version: KernelVersionLite): number {
  return version.major * 100 + version.minor;
}

function distanceToRange(version: KernelVersionLite, sig: PinApiSignature): number {
  const x = ordinal(version);
  const lo = ordinal(sig.from);
  if (x < lo) return lo - x;
  if (sig.until !== undefined && x >= ordinal(sig.until)) return x - ordinal(sig.until) + 1;
  return 0;
}

/** Better-first order: closest to the version, mainline before stable-only backports, newest last resort. */
function byVersionFit(version: KernelVersionLite | undefined): (a: PinApiSignature, b: PinApiSignature) => number {
  return (a, b) => {
    if (version !== undefined) {
      const d = distanceToRange(version, a) - distanceToRange(version, b);
      if (d !== 0) return d;
    }
    const backport = Number(a.backport !== undefined) - Number(b.backport !== undefined);
    if (backport !== 0) return backport;
    return compareKernelVersions(b.from, a.from);
  };
}

/**
 * The layout whose parameter count equals the call's argument count. Real drivers carry #ifdef'd calls
 * for several kernels, so the argument count is the stronger evidence; the version only breaks ties
 * (and without one, the newest mainline layout wins). Undefined when no layout has that many parameters.
 */
export function signatureForArgCount(api: PinApi, argCount: number, version?: KernelVersionLite): PinApiSignature | undefined {
  const candidates = api.signatures.filter((s) => s.params.length === argCount);
  return [...candidates].sort(byVersionFit(version))[0];
}

/**
 * For calls no layout fits (a wrapper macro, a vendor kernel): the layout with the nearest parameter
 * count, tie-broken by version. `exact` says whether the count matched, so the engine can say it guessed.
 */
export function nearestSignature(api: PinApi, argCount: number, version?: KernelVersionLite): { signature: PinApiSignature; exact: boolean } | undefined {
  const exact = signatureForArgCount(api, argCount, version);
  if (exact) return { signature: exact, exact: true };
  const fit = byVersionFit(version);
  const best = [...api.signatures].sort((a, b) => Math.abs(a.params.length - argCount) - Math.abs(b.params.length - argCount) || fit(a, b))[0];
  return best ? { signature: best, exact: false } : undefined;
}

/**
 * Whether `api` called with `argCount` arguments compiles on `version`: a mainline layout with that many parameters
 * is in force there (a stable-only backport counts inside its series). Branch feasibility reads this: an arm that
 * calls an API the kernel lacks, or with the wrong number of arguments, is not the arm that kernel compiles.
 */
export function compilesOn(api: PinApi, argCount: number, version: KernelVersionLite): boolean {
  return api.signatures.some((s) => s.params.length === argCount && isVersionInRange(version, s.from, s.until));
}

/** The first kernel that has `api` at all: among arms a build could take, the newer API is the one a feature test picks. */
export function introducedIn(api: PinApi): KernelVersionLite {
  return api.signatures.reduce((a, s) => (compareKernelVersions(s.from, a) < 0 ? s.from : a), api.signatures[0].from);
}

/** Whether a release API exists on `version` (unpin_user_page* from 5.6, put_user_page* 5.2 to 5.6). */
export function releaseExistsOn(api: ReleaseApi, version: KernelVersionLite): boolean {
  return (!api.from || compareKernelVersions(version, api.from) >= 0) && (!api.until || compareKernelVersions(version, api.until) < 0);
}

/** Whether a FOLL_ flag is defined on `version` (undefined: not a flag this table knows). */
export function follFlagExistsOn(name: string, version: KernelVersionLite): boolean | undefined {
  const flag = FOLL_FLAGS.find((f) => f.name === name);
  if (!flag) return undefined;
  return !flag.from || compareKernelVersions(version, flag.from) >= 0;
}

/**
 * Mainline releases the analysis describes ranges over ("kernels 5.6 and later"): every minor of the 3.x, 4.x and
 * 5.x series and 6.x up to the newest one named here. Only used to word a range, never to decide.
 */
export const KERNEL_RELEASES: readonly KernelVersionLite[] = [
  v(2, 6),
  ...Array.from({ length: 20 }, (_, i) => v(3, i)),
  ...Array.from({ length: 21 }, (_, i) => v(4, i)),
  ...Array.from({ length: 20 }, (_, i) => v(5, i)),
  ...Array.from({ length: 19 }, (_, i) => v(6, i)),
];

/** A flag a kernel refuses in a pin call's gup_flags: the call WARNs and returns -EINVAL, and nothing is pinned. */
export interface GupFlagRule {
  /** The flag the caller passed. */
  flag: string;
  /** The calls that refuse it: get_user_pages*() (FOLL_GET) or pin_user_pages*() (FOLL_PIN). */
  ref: RefKind;
  from: KernelVersionLite;
  /** Why, as the message says it. */
  why: string;
  source: string;
  unverified?: string;
}

// The 6.3 check is is_valid_gup_args(), added by Jason Gunthorpe's series that made the external GUP functions
// check their arguments in one place (mm pull for v6.3).
const GUP_ARGS_63 = "is_valid_gup_args() (v6.3, Jason Gunthorpe's GUP interface clean-up series)";

export const GUP_FLAG_RULES: readonly GupFlagRule[] = [
  { flag: 'FOLL_GET', ref: 'pin', from: v(5, 6), why: 'FOLL_GET and FOLL_PIN are mutually exclusive: pin_user_pages*() refuses FOLL_GET',
    source: 'eddb1c228f79 (v5.6): pin_user_pages*() WARN_ON_ONCE(gup_flags & FOLL_GET) and return -EINVAL' },
  { flag: 'FOLL_PIN', ref: 'get', from: v(5, 6), why: 'FOLL_PIN is set only by pin_user_pages*() itself: get_user_pages*() refuses it from a caller',
    source: 'eddb1c228f79 (v5.6): get_user_pages*() WARN_ON_ONCE(gup_flags & FOLL_PIN) and return -EINVAL' },
  { flag: 'FOLL_PIN', ref: 'pin', from: v(6, 3), why: 'FOLL_PIN is an internal GUP flag: callers must not pass it, pin_user_pages*() sets it itself',
    source: `${GUP_ARGS_63}: internal flags from a caller are refused`, unverified: 'mainline commit id not verified' },
  { flag: 'FOLL_LONGTERM', ref: 'get', from: v(6, 3), why: 'FOLL_LONGTERM is only valid with FOLL_PIN: a get_user_pages*() call with it is refused (use pin_user_pages*())',
    source: `${GUP_ARGS_63}: WARN_ON_ONCE(!(gup_flags & FOLL_PIN) && (gup_flags & FOLL_LONGTERM))`, unverified: 'mainline commit id not verified' },
];

/** The rules a call of reference kind `ref` breaks on `version` when its caller passes `flags`. */
export function refusedFlags(ref: RefKind, flags: ReadonlySet<string>, version: KernelVersionLite): GupFlagRule[] {
  return GUP_FLAG_RULES.filter((r) => r.ref === ref && flags.has(r.flag) && compareKernelVersions(version, r.from) >= 0);
}
