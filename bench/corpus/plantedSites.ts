// The pin sites planted in the corpus (and the decoys around them), each with what forksafe and a literal rule should see.
//
// Lines ending in a `@@site:ID@@` or `@@literal:ID@@` marker are where forksafe should report site ID, or
// where a literal rule (a pin call whose arguments spell FOLL_WRITE) can match it; the assembler strips the
// markers and records the line numbers in the manifest.

export type SiteKind =
  | 'literal-write-kept'        // get_user_pages*(..., FOLL_WRITE | ..., obj->pages): the case a literal rule exists for
  | 'literal-pin-longterm'      // pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM): fork-safe on copy-on-fork kernels
  | 'literal-write-short'       // pages released before return on every path
  | 'flags-variable'            // gup_flags built in a local, FOLL_WRITE added under a condition
  | 'flags-macro'               // #define DRV_GUP_FLAGS (FOLL_WRITE | FOLL_LONGTERM)
  | 'macro-wrapper'             // a function-like #define that calls get_user_pages_fast with FOLL_WRITE
  | 'function-wrapper-write'    // a static helper forwarding its gup_flags parameter; this caller passes FOLL_WRITE
  | 'function-wrapper-read'     // the same helper; this caller passes FOLL_LONGTERM only (read-only, kept)
  | 'readonly-kept'             // get_user_pages_fast(FOLL_LONGTERM) kept: read-only, stale after fork
  | 'notifier-protected'        // FOLL_WRITE pin followed by an mmu interval notifier in the same file
  | 'cross-file-direct'         // an exported wrapper in another file of the driver, called with FOLL_WRITE
  | 'cross-file-macro-only';    // that wrapper reached through a header macro from a file naming no pin API or FOLL_ flag

export interface Planted {
  /** Text of one or more top-level units (with markers). */
  text: string;
  kinds: Record<string, { kind: SiteKind; api: string; expect: string[]; note: string }>;
}

export interface SiteNames {
  prefix: string;
  tag: string;
}

export const site = (id: string): string => `@@site:${id}@@`;
const literal = (id: string): string => `@@literal:${id}@@`;

/** get_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) into a userptr object kept until it is destroyed. */
export function literalWriteKept(n: SiteNames, id: string, useLockedForm: boolean): Planted {
  const call = useLockedForm
    ? `\tmmap_read_lock(current->mm);\n\tpinned = get_user_pages(start & PAGE_MASK, npages, FOLL_WRITE | FOLL_LONGTERM, up->pages);${site(id)}${literal(id)}\n\tmmap_read_unlock(current->mm);`
    : `\tpinned = get_user_pages_fast(start & PAGE_MASK, npages, FOLL_WRITE | FOLL_LONGTERM, up->pages);${site(id)}${literal(id)}`;
  return {
    text: `struct ${n.tag}_userptr {
	struct page **pages;
	unsigned long npages;
	u64 gpu_addr;
};

int ${n.tag}_userptr_pin(struct ${n.tag}_userptr *up, unsigned long start, unsigned long npages)
{
	long pinned;

	up->pages = kvcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!up->pages)
		return -ENOMEM;

${call}
	if (pinned < 0) {
		kvfree(up->pages);
		up->pages = NULL;
		return pinned;
	}
	if (pinned != npages) {
		release_pages(up->pages, pinned);
		kvfree(up->pages);
		up->pages = NULL;
		return -EFAULT;
	}
	up->npages = npages;
	return 0;
}

void ${n.tag}_userptr_unpin(struct ${n.tag}_userptr *up)
{
	unsigned long i;

	for (i = 0; i < up->npages; i++) {
		set_page_dirty_lock(up->pages[i]);
		put_page(up->pages[i]);
	}
	kvfree(up->pages);
	up->pages = NULL;
}

`,
    kinds: { [id]: { kind: 'literal-write-kept', api: useLockedForm ? 'get_user_pages' : 'get_user_pages_fast', expect: ['FS001'], note: 'writable FOLL_GET pin kept in the object' } },
  };
}

/** pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM): what the literal rule flags, but FOLL_PIN pages are copied at fork from 5.9. */
export function literalPinLongterm(n: SiteNames, id: string): Planted {
  return {
    text: `int ${n.tag}_dma_region_pin(struct ${n.prefix}_dma_region *region, unsigned long uaddr, int nr)
{
	int pinned;

	region->pages = kvcalloc(nr, sizeof(*region->pages), GFP_KERNEL);
	if (!region->pages)
		return -ENOMEM;

	pinned = pin_user_pages_fast(uaddr, nr, FOLL_WRITE | FOLL_LONGTERM, region->pages);${site(id)}${literal(id)}
	if (pinned != nr) {
		if (pinned > 0)
			unpin_user_pages(region->pages, pinned);
		kvfree(region->pages);
		region->pages = NULL;
		return pinned < 0 ? pinned : -EFAULT;
	}
	region->nr_pages = nr;
	return 0;
}

void ${n.tag}_dma_region_unpin(struct ${n.prefix}_dma_region *region)
{
	unpin_user_pages_dirty_lock(region->pages, region->nr_pages, true);
	kvfree(region->pages);
	region->pages = NULL;
}

`,
    kinds: { [id]: { kind: 'literal-pin-longterm', api: 'pin_user_pages_fast', expect: [], note: 'FOLL_PIN + FOLL_LONGTERM: safe on the newest modelled kernel (pinned pages are copied at fork)' } },
  };
}

/** A write pin released on every path before return (copy-engine bounce): short-lived. */
export function literalWriteShort(n: SiteNames, id: string): Planted {
  const max = `${n.tag.toUpperCase()}_MAX_PAGES`;
  return {
    text: `#define ${max} 32

int ${n.tag}_copy_to_user_pages(const void *src, unsigned long uaddr, size_t len)
{
	struct page *pages[${max}];
	unsigned int off = offset_in_page(uaddr);
	int nr = DIV_ROUND_UP(off + len, PAGE_SIZE);
	size_t done = 0;
	int got, i, ret = 0;

	if (nr > ${max})
		return -E2BIG;

	got = get_user_pages_fast(uaddr & PAGE_MASK, nr, FOLL_WRITE, pages);${site(id)}${literal(id)}
	if (got < 0)
		return got;
	if (got != nr) {
		ret = -EFAULT;
		goto out;
	}

	for (i = 0; i < nr; i++) {
		size_t chunk = min_t(size_t, PAGE_SIZE - off, len - done);

		memcpy_to_page(pages[i], off, src + done, chunk);
		done += chunk;
		off = 0;
	}
out:
	release_pages(pages, got);
	return ret;
}

`,
    kinds: { [id]: { kind: 'literal-write-short', api: 'get_user_pages_fast', expect: ['FS007'], note: 'released on every path before return' } },
  };
}

/** Flags built in a local: FOLL_WRITE is added under a condition, the call passes the variable. */
export function flagsVariable(n: SiteNames, id: string): Planted {
  return {
    text: `int ${n.tag}_gem_userptr_get_pages(struct ${n.prefix}_gem_object *obj, unsigned long start, unsigned long npages)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	long pinned;

	if (!(obj->userptr.flags & ${n.prefix.toUpperCase()}_USERPTR_READONLY))
		gup_flags |= FOLL_WRITE;

	obj->userptr.pages = kvmalloc_array(npages, sizeof(struct page *), GFP_KERNEL);
	if (!obj->userptr.pages)
		return -ENOMEM;

	pinned = get_user_pages_fast(start, npages, gup_flags, obj->userptr.pages);${site(id)}
	if (pinned < 0)
		goto err_free;
	if (pinned < npages) {
		release_pages(obj->userptr.pages, pinned);
		pinned = -EFAULT;
		goto err_free;
	}
	obj->userptr.npages = npages;
	return 0;

err_free:
	kvfree(obj->userptr.pages);
	obj->userptr.pages = NULL;
	return pinned;
}

`,
    kinds: { [id]: { kind: 'flags-variable', api: 'get_user_pages_fast', expect: ['FS001'], note: 'FOLL_WRITE is set in a variable under a condition' } },
  };
}

/** Flags behind an object-like macro. */
export function flagsMacro(n: SiteNames, id: string): Planted {
  const flags = `${n.tag.toUpperCase()}_GUP_FLAGS`;
  return {
    text: `#define ${flags} (FOLL_WRITE | FOLL_LONGTERM)

int ${n.tag}_doorbell_map_user(struct ${n.prefix}_doorbell_page *db, unsigned long uaddr, int nr)
{
	long got;

	db->pages = kcalloc(nr, sizeof(*db->pages), GFP_KERNEL);
	if (!db->pages)
		return -ENOMEM;

	mmap_read_lock(current->mm);
	got = get_user_pages(uaddr & PAGE_MASK, nr, ${flags}, db->pages);${site(id)}
	mmap_read_unlock(current->mm);
	if (got != nr) {
		while (got > 0)
			put_page(db->pages[--got]);
		kfree(db->pages);
		db->pages = NULL;
		return -EFAULT;
	}
	db->nr_pages = nr;
	return 0;
}

`,
    kinds: { [id]: { kind: 'flags-macro', api: 'get_user_pages', expect: ['FS001'], note: 'FOLL_WRITE comes from an object-like macro' } },
  };
}

/** A function-like macro hides the pin; the pin site is the macro's use. */
export function macroWrapper(n: SiteNames, id: string): Planted {
  const mac = `${n.tag}_gup_rw`;
  return {
    text: `#define ${mac}(addr, n, pages) \\
	get_user_pages_fast((addr) & PAGE_MASK, (n), FOLL_WRITE | FOLL_LONGTERM, (pages))${literal(id)}

int ${n.tag}_ring_attach_user(struct ${n.prefix}_user_ring *ring, unsigned long uaddr, int nr)
{
	int got;

	ring->pages = kcalloc(nr, sizeof(*ring->pages), GFP_KERNEL);
	if (!ring->pages)
		return -ENOMEM;

	got = ${mac}(uaddr, nr, ring->pages);${site(id)}
	if (got != nr) {
		while (got > 0)
			put_page(ring->pages[--got]);
		kfree(ring->pages);
		ring->pages = NULL;
		return -EFAULT;
	}
	ring->nr_pages = nr;
	return 0;
}

`,
    kinds: { [id]: { kind: 'macro-wrapper', api: 'get_user_pages_fast', expect: ['FS001'], note: 'the pin is inside a function-like macro; the site is its use' } },
  };
}

/** A static helper forwarding its gup_flags; one caller writes, one reads. Two sites. */
export function functionWrapper(n: SiteNames, writeId: string, readId: string): Planted {
  const helper = `${n.tag}_pin_slot`;
  return {
    text: `static int ${helper}(struct ${n.prefix}_slot *slot, unsigned long uaddr, int nr, unsigned int gup_flags)
{
	int got;

	slot->pages = kcalloc(nr, sizeof(*slot->pages), GFP_KERNEL);
	if (!slot->pages)
		return -ENOMEM;

	got = get_user_pages_fast(uaddr & PAGE_MASK, nr, gup_flags, slot->pages);
	if (got != nr) {
		while (got > 0)
			put_page(slot->pages[--got]);
		kfree(slot->pages);
		slot->pages = NULL;
		return -EFAULT;
	}
	slot->nr_pages = nr;
	return 0;
}

int ${n.tag}_attach_output(struct ${n.prefix}_slot *slot, unsigned long uaddr, int nr)
{
	return ${helper}(slot, uaddr, nr, FOLL_WRITE | FOLL_LONGTERM);${site(writeId)}
}

int ${n.tag}_attach_input(struct ${n.prefix}_slot *slot, unsigned long uaddr, int nr)
{
	return ${helper}(slot, uaddr, nr, FOLL_LONGTERM);${site(readId)}
}

`,
    kinds: {
      [writeId]: { kind: 'function-wrapper-write', api: 'get_user_pages_fast', expect: ['FS001'], note: 'a helper forwards gup_flags; this caller passes FOLL_WRITE' },
      [readId]: { kind: 'function-wrapper-read', api: 'get_user_pages_fast', expect: ['FS002'], note: 'the same helper, read-only caller' },
    },
  };
}

/** Read-only long-lived FOLL_GET pin. */
export function readonlyKept(n: SiteNames, id: string): Planted {
  return {
    text: `int ${n.tag}_fw_window_pin(struct ${n.prefix}_fw_window *win, unsigned long uaddr, int nr)
{
	int got;

	win->pages = kcalloc(nr, sizeof(*win->pages), GFP_KERNEL);
	if (!win->pages)
		return -ENOMEM;

	got = get_user_pages_fast(uaddr & PAGE_MASK, nr, FOLL_LONGTERM, win->pages);${site(id)}
	if (got != nr) {
		while (got > 0)
			put_page(win->pages[--got]);
		kfree(win->pages);
		win->pages = NULL;
		return -EFAULT;
	}
	win->nr_pages = nr;
	return 0;
}

`,
    kinds: { [id]: { kind: 'readonly-kept', api: 'get_user_pages_fast', expect: ['FS002'], note: 'read-only FOLL_GET pin kept: the device reads stale pages after fork' } },
  };
}

/** A FOLL_WRITE pin whose object is registered with an mmu interval notifier in the same file. */
export function notifierProtected(n: SiteNames, id: string): Planted {
  return {
    text: `struct ${n.tag}_bo {
	struct mmu_interval_notifier notifier;
	unsigned long addr;
	unsigned long npages;
	struct page **pages;
};

static bool ${n.tag}_bo_invalidate(struct mmu_interval_notifier *mni,
				const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct ${n.tag}_bo *bo = container_of(mni, struct ${n.tag}_bo, notifier);

	mmu_interval_set_seq(mni, cur_seq);
	${n.tag}_bo_drop_pages(bo);
	return true;
}

static const struct mmu_interval_notifier_ops ${n.tag}_bo_notifier_ops = {
	.invalidate = ${n.tag}_bo_invalidate,
};

int ${n.tag}_bo_bind_user(struct ${n.tag}_bo *bo, unsigned long addr, unsigned long npages)
{
	long got;
	int ret;

	bo->addr = addr;
	bo->npages = npages;
	ret = mmu_interval_notifier_insert(&bo->notifier, current->mm, addr,
					   npages << PAGE_SHIFT, &${n.tag}_bo_notifier_ops);
	if (ret)
		return ret;

	bo->pages = kvcalloc(npages, sizeof(*bo->pages), GFP_KERNEL);
	if (!bo->pages)
		return -ENOMEM;

	mmap_read_lock(current->mm);
	got = get_user_pages(addr, npages, FOLL_WRITE, bo->pages);${site(id)}${literal(id)}
	mmap_read_unlock(current->mm);
	if (got != npages) {
		while (got > 0)
			put_page(bo->pages[--got]);
		kvfree(bo->pages);
		bo->pages = NULL;
		return -EFAULT;
	}
	return 0;
}

`,
    kinds: { [id]: { kind: 'notifier-protected', api: 'get_user_pages', expect: ['FS004'], note: 'protected by an mmu interval notifier in the same file; FS004 suggests pin_user_pages' } },
  };
}
