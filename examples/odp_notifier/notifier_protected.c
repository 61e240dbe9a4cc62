/* Example: an ODP/HMM-like driver that never pins. The user range is tracked with
 * mmu_interval_notifier_insert() and faulted on demand with hmm_range_fault(); when fork()
 * write-protects the parent's PTEs (or anything else changes the range) the invalidate
 * callback tears the device mapping down and the next device fault re-reads the current pages.
 * No pin, no stale page: no diagnostic. */
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

struct exodp_mr {
	struct mmu_interval_notifier notifier;
	struct mutex lock;		/* serialises device page-table updates */
	unsigned long start;
	unsigned long npages;
	unsigned long *pfns;
	bool writable;
};

void exodp_hw_zap(struct exodp_mr *mr, unsigned long start, unsigned long end);
int exodp_hw_map(struct exodp_mr *mr, const struct hmm_range *range);

static bool exodp_invalidate(struct mmu_interval_notifier *mni,
			     const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct exodp_mr *mr = container_of(mni, struct exodp_mr, notifier);

	if (!mmu_notifier_range_blockable(range))
		return false;

	mutex_lock(&mr->lock);
	mmu_interval_set_seq(mni, cur_seq);
	exodp_hw_zap(mr, range->start, range->end);
	mutex_unlock(&mr->lock);
	return true;
}

static const struct mmu_interval_notifier_ops exodp_ops = {
	.invalidate = exodp_invalidate,
};

int exodp_mr_init(struct exodp_mr *mr, unsigned long start, unsigned long len, bool writable)
{
	mr->start = start;
	mr->npages = len >> PAGE_SHIFT;
	mr->writable = writable;
	mutex_init(&mr->lock);

	mr->pfns = kvcalloc(mr->npages, sizeof(*mr->pfns), GFP_KERNEL);
	if (!mr->pfns)
		return -ENOMEM;

	return mmu_interval_notifier_insert(&mr->notifier, current->mm, start, len, &exodp_ops);
}

/* Called from the device page-fault interrupt thread. */
int exodp_mr_fault(struct exodp_mr *mr, unsigned long addr, unsigned long npages)
{
	struct mm_struct *mm = mr->notifier.mm;
	struct hmm_range range = {
		.notifier = &mr->notifier,
		.start = addr,
		.end = addr + (npages << PAGE_SHIFT),
		.hmm_pfns = mr->pfns + ((addr - mr->start) >> PAGE_SHIFT),
		.default_flags = HMM_PFN_REQ_FAULT | (mr->writable ? HMM_PFN_REQ_WRITE : 0),
	};
	int ret;

	if (!mmget_not_zero(mm))
		return -EFAULT;

	do {
		range.notifier_seq = mmu_interval_read_begin(&mr->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret)
			continue;

		mutex_lock(&mr->lock);
		if (mmu_interval_read_retry(&mr->notifier, range.notifier_seq)) {
			mutex_unlock(&mr->lock);
			ret = -EBUSY;
			continue;
		}
		ret = exodp_hw_map(mr, &range);
		mutex_unlock(&mr->lock);
	} while (ret == -EBUSY);

	mmput(mm);
	return ret;
}

void exodp_mr_destroy(struct exodp_mr *mr)
{
	mmu_interval_notifier_remove(&mr->notifier);
	kvfree(mr->pfns);
}
