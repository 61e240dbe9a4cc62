/* Example: a DMA engine character device with two paths.
 * - read(): synchronous device-to-user copy; the pages are put before returning, so the pin is
 *   short-lived: FS007 (hint).
 * - ioctl(EXDMA_SUBMIT_TX): asynchronous user-to-device transfer; the read-only pages stay in a
 *   request until the completion callback runs. A long-lived read-only FOLL_GET pin diverges
 *   after fork() (the parent's next write moves it off the page the engine reads): FS002. */
#include <linux/completion.h>
#include <linux/dmaengine.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#define EXDMA_MAX_PAGES		64
#define EXDMA_SUBMIT_TX		_IOW('x', 1, struct exdma_tx)

struct exdma_dev {
	struct dma_chan *chan;
	spinlock_t lock;
	struct list_head inflight;
};

struct exdma_tx {
	__u64 uaddr;
	__u64 len;
};

struct exdma_req {
	struct list_head node;
	struct exdma_dev *ed;
	struct page **pages;
	int nr_pages;
};

int exdma_run_sync(struct exdma_dev *ed, struct page **pages, int nr, size_t len);
int exdma_queue_async(struct exdma_dev *ed, struct exdma_req *req, size_t len,
		      dma_async_tx_callback done);

static ssize_t exdma_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct exdma_dev *ed = file->private_data;
	unsigned long uaddr = (unsigned long)ubuf;
	struct page *pages[EXDMA_MAX_PAGES];
	int nr = DIV_ROUND_UP(offset_in_page(uaddr) + len, PAGE_SIZE);
	ssize_t ret;
	int got, i;

	if (nr > EXDMA_MAX_PAGES)
		return -EINVAL;

	got = get_user_pages_fast(uaddr & PAGE_MASK, nr, FOLL_WRITE, pages);
	// expect: FS007
	if (got < 0)
		return got;

	ret = got == nr ? exdma_run_sync(ed, pages, nr, len) : -EFAULT;

	for (i = 0; i < got; i++) {
		set_page_dirty_lock(pages[i]);
		put_page(pages[i]);
	}
	return ret ? ret : len;
}

static void exdma_tx_done(void *arg)
{
	struct exdma_req *req = arg;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&req->ed->lock, flags);
	list_del(&req->node);
	spin_unlock_irqrestore(&req->ed->lock, flags);

	for (i = 0; i < req->nr_pages; i++)
		put_page(req->pages[i]);
	kfree(req->pages);
	kfree(req);
}

static long exdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct exdma_dev *ed = file->private_data;
	struct exdma_req *req;
	struct exdma_tx tx;
	int nr, got;

	if (cmd != EXDMA_SUBMIT_TX)
		return -ENOTTY;
	if (copy_from_user(&tx, (void __user *)arg, sizeof(tx)))
		return -EFAULT;

	nr = DIV_ROUND_UP(offset_in_page(tx.uaddr) + tx.len, PAGE_SIZE);
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	req->ed = ed;
	req->pages = kcalloc(nr, sizeof(*req->pages), GFP_KERNEL);
	if (!req->pages) {
		kfree(req);
		return -ENOMEM;
	}

	got = get_user_pages_fast(tx.uaddr & PAGE_MASK, nr, 0, req->pages);
	// expect: FS002
	if (got != nr) {
		while (got > 0)
			put_page(req->pages[--got]);
		kfree(req->pages);
		kfree(req);
		return -EFAULT;
	}
	req->nr_pages = nr;

	spin_lock_irq(&ed->lock);
	list_add_tail(&req->node, &ed->inflight);
	spin_unlock_irq(&ed->lock);
	return exdma_queue_async(ed, req, tx.len, exdma_tx_done);
}

static const struct file_operations exdma_fops = {
	.owner = THIS_MODULE,
	.read = exdma_read,
	.unlocked_ioctl = exdma_ioctl,
};
