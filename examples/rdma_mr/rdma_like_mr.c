/* Example: an RDMA-like memory registration. A helper pins the range into the MR with
 * get_user_pages() and FOLL_WRITE; the registration keeps the MR until deregistration. FOLL_GET
 * pages are not copied at fork even on 6.x (the copy-on-fork of 70e806e4e645 covers FOLL_PIN
 * only), so after fork() the parent's first write COWs it away from the page the HCA keeps
 * writing: FS001, on the pin call in the helper. Fix: pin_user_pages() with FOLL_LONGTERM, or
 * mark the range VM_DONTCOPY. */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/slab.h>
#include <rdma/ib_verbs.h>

struct ex_mr {
	struct ib_mr ibmr;
	struct page **pages;
	unsigned long npages;
	u64 iova;
	bool writable;
};

static struct ex_mr *to_ex_mr(struct ib_mr *ibmr)
{
	return container_of(ibmr, struct ex_mr, ibmr);
}

/* Pins the MR's range into mr->pages; the caller keeps them for the MR's lifetime. */
static long ex_pin_range(struct ex_mr *mr, u64 start, unsigned long npages, unsigned int gup_flags)
{
	long pinned;

	mmap_read_lock(current->mm);
	pinned = get_user_pages(start & PAGE_MASK, npages, gup_flags, mr->pages);
	// expect: FS001
	mmap_read_unlock(current->mm);
	return pinned;
}

static struct ib_mr *ex_reg_user_mr(struct ib_pd *pd, u64 start, u64 length, u64 virt_addr,
				    int access, struct ib_udata *udata)
{
	unsigned long npages = DIV_ROUND_UP(offset_in_page(start) + length, PAGE_SIZE);
	unsigned int gup_flags = 0;
	struct ex_mr *mr;
	long pinned = 0;

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);

	mr->pages = kvcalloc(npages, sizeof(struct page *), GFP_KERNEL);
	if (!mr->pages)
		goto err_free_mr;

	/* The HCA writes into the MR for RDMA WRITE and RECV. */
	mr->writable = access & (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE);
	if (mr->writable)
		gup_flags |= FOLL_WRITE;

	pinned = ex_pin_range(mr, start, npages, gup_flags);
	if (pinned != npages)
		goto err_put_pages;

	mr->npages = npages;
	mr->iova = virt_addr;
	return &mr->ibmr;

err_put_pages:
	while (pinned > 0)
		put_page(mr->pages[--pinned]);
	kvfree(mr->pages);
err_free_mr:
	kfree(mr);
	return ERR_PTR(-EFAULT);
}

static int ex_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct ex_mr *mr = to_ex_mr(ibmr);
	unsigned long i;

	for (i = 0; i < mr->npages; i++) {
		if (mr->writable)
			set_page_dirty_lock(mr->pages[i]);
		put_page(mr->pages[i]);
	}
	kvfree(mr->pages);
	kfree(mr);
	return 0;
}

static const struct ib_device_ops ex_dev_ops = {
	.reg_user_mr = ex_reg_user_mr,
	.dereg_mr = ex_dereg_mr,
};
