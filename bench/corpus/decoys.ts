// Decoys: text that mentions pin APIs or protections without pinning (comments, strings, look-alike names, hmm_range_fault).
import type { SiteNames } from './plantedSites';

/** Text that mentions pin APIs or protections without pinning: a prefilter selects these files, the analysis finds nothing. */
export function decoy(n: SiteNames, variant: number): string {
  switch (variant % 4) {
    case 0:
      return `/*
 * ${n.tag}: buffers used to be pinned with get_user_pages(FOLL_WRITE) here; they are now
 * allocated by the kernel and mapped to userspace, so nothing is pinned on this path.
 */
`;
    case 1:
      return `static void ${n.tag}_report_fallback(struct ${n.prefix}_device *adev)
{
	dev_dbg(adev->dev, "pin_user_pages_fast() path disabled, using bounce buffers\\n");
}

`;
    case 2:
      return `static unsigned long ${n.tag}_count_user_pages(unsigned long start, size_t len)
{
	return DIV_ROUND_UP(offset_in_page(start) + len, PAGE_SIZE);
}

`;
    default:
      return `static int ${n.tag}_svm_range_fault(struct ${n.prefix}_svm_range *range, struct mm_struct *mm)
{
	struct hmm_range hmm = {
		.notifier = &range->notifier,
		.start = range->start,
		.end = range->end,
		.hmm_pfns = range->pfns,
		.default_flags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
	};
	int ret;

	hmm.notifier_seq = mmu_interval_read_begin(&range->notifier);
	mmap_read_lock(mm);
	ret = hmm_range_fault(&hmm);
	mmap_read_unlock(mm);
	return ret;
}

`;
  }
}
