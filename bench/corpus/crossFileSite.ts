// The planted driver whose pin wrapper lives in its own file and is also reached through a header macro from a file
// that names no pin API and no FOLL_ flag: the case a one-pass text prefilter misses.
import { Planted, SiteNames, site } from './plantedSites';

/** The three parts of a driver whose wrapper lives in its own file and is reached through a header macro. */
export function crossFile(n: SiteNames, directId: string, macroOnlyId: string): { header: string; wrapper: Planted; direct: Planted; macroOnly: Planted; headerName: string } {
  const fn = `${n.tag}_pin_user_range`;
  const MAC = `${n.tag.toUpperCase()}_PIN_OUTPUT`;
  const headerName = `${n.tag}_pin.h`;
  return {
    headerName,
    header: `/* Pinning helpers of the ${n.tag} job engine (synthetic). */
#ifndef _${n.tag.toUpperCase()}_PIN_H
#define _${n.tag.toUpperCase()}_PIN_H

struct page;

int ${fn}(unsigned long start, int nr, unsigned int gup_flags, struct page **pages);
void ${n.tag}_unpin_user_range(struct page **pages, int nr, bool dirty);

/* Output buffers are written by the engine. */
#define ${MAC}(addr, nr, pages) ${fn}((addr), (nr), FOLL_WRITE, (pages))

#endif
`,
    wrapper: {
      text: `int ${fn}(unsigned long start, int nr, unsigned int gup_flags, struct page **pages)
{
	int got;

	got = get_user_pages_fast(start & PAGE_MASK, nr, gup_flags | FOLL_LONGTERM, pages);
	if (got < 0)
		return got;
	if (got != nr) {
		${n.tag}_unpin_user_range(pages, got, false);
		return -EFAULT;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(${fn});

void ${n.tag}_unpin_user_range(struct page **pages, int nr, bool dirty)
{
	while (nr > 0) {
		nr--;
		if (dirty)
			set_page_dirty_lock(pages[nr]);
		put_page(pages[nr]);
	}
}
EXPORT_SYMBOL_GPL(${n.tag}_unpin_user_range);

`,
      kinds: {},
    },
    direct: {
      text: `int ${n.tag}_queue_map_user(struct ${n.tag}_queue *q, unsigned long uaddr, int nr)
{
	int ret;

	q->pages = kcalloc(nr, sizeof(*q->pages), GFP_KERNEL);
	if (!q->pages)
		return -ENOMEM;
	ret = ${fn}(uaddr, nr, FOLL_WRITE, q->pages);${site(directId)}
	if (ret) {
		kfree(q->pages);
		q->pages = NULL;
		return ret;
	}
	q->nr_pages = nr;
	return 0;
}

`,
      kinds: { [directId]: { kind: 'cross-file-direct', api: 'get_user_pages_fast', expect: ['FS001'], note: `calls ${fn}() (another file of the driver) with FOLL_WRITE` } },
    },
    macroOnly: {
      text: `int ${n.tag}_job_attach_output(struct ${n.tag}_job *job, unsigned long uaddr, int nr)
{
	int ret;

	job->out_pages = kcalloc(nr, sizeof(*job->out_pages), GFP_KERNEL);
	if (!job->out_pages)
		return -ENOMEM;
	ret = ${MAC}(uaddr, nr, job->out_pages);${site(macroOnlyId)}
	if (ret) {
		kfree(job->out_pages);
		job->out_pages = NULL;
		return ret;
	}
	job->nr_out = nr;
	return 0;
}

`,
      kinds: { [macroOnlyId]: { kind: 'cross-file-macro-only', api: 'get_user_pages_fast', expect: ['FS001'], note: `this file names no pin API and no FOLL_ flag: ${MAC}() (header) reaches ${fn}() (another file)` } },
    },
  };
}
