// Where a finding stands and how many a pin gets (docs/analysis.md): on the pin call, one per pin, the strongest code winning.
import { strict as assert } from 'assert';
import { analyze, Report } from '../../../server/src/engine';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../../server/src/settings';
import { analyzeText } from '../../helpers/syntax';

/** Analyses `target` of a multi-file driver with the other files as its context. */
async function analyzeDriver(files: Record<string, string>, target: string, settings: object = {}): Promise<Report> {
  const syntax = await loadSyntax();
  const parsed = Object.entries(files).map(([name, text]) => ({ uri: `file:///d/${name}`, text, tree: syntax.parse(text).tree! }));
  try {
    const me = parsed.find((f) => f.uri.endsWith(`/${target}`))!;
    return analyze(syntax, { uri: me.uri, text: me.text }, resolveSettings(settings), { files: parsed.filter((f) => f !== me) });
  } finally {
    for (const f of parsed) f.tree.delete();
  }
}

const lines = (r: Report): Array<[string, number]> => r.findings.map((f) => [f.code, f.span.start.line]);

// A helper pins into the array it is given; each caller decides by storing it (kept) or putting every page (short).
const HELPER = 'static int pin_buf(unsigned long a, int n, struct page **pages)\n{\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, pages);\n}\n';
const KEEP = (name: string) => `int ${name}(struct buf *b, unsigned long a, int n)\n{\n\tb->pages = kcalloc(n, sizeof(*b->pages), GFP_KERNEL);\n\treturn pin_buf(a, n, b->pages);\n}\n`;
const SYNC = 'int rd(unsigned long a, int n)\n{\n\tstruct page *pages[4];\n\tint got = pin_buf(a, n, pages), i;\n\tfor (i = 0; i < got; i++)\n\t\tput_page(pages[i]);\n\treturn 0;\n}\n';

describe('placement: one finding per pin, on the pin call', function () {
  it('a helper kept by two callers: one finding on the pin, each caller a related location', async function () {
    const r = await analyzeText(HELPER + KEEP('reg_a') + KEEP('reg_b'));
    assert.deepEqual(lines(r), [['FS001', 2]]);
    const callers = r.findings[0].related.filter((x) => /calls pin_buf\(\) and keeps the pages/.test(x.message));
    assert.deepEqual(callers.map((x) => x.span.start.line), [7, 12]);
    assert.match(r.findings[0].message, /\(in reg_a\(\) \(drv\.c:8\)\)/, 'the message names the caller that keeps the pages');
    assert.deepEqual(r.findings[0].site?.callers.map((c) => c.name), ['reg_a', 'reg_b']);
  });

  // Issue 28: one finding per pin even when callers disagree (two findings on one line were the field's
  // vchiq_arm.c:301 and kvm_main.c:2549 once each caller was judged on its own lifetime).
  it('callers that disagree on lifetime: one finding on the pin, the keeping caller first, the others related', async function () {
    const one = await analyzeText(HELPER + SYNC + KEEP('reg_a'));
    assert.deepEqual(lines(one), [['FS001', 2]], 'the short-lived caller adds no finding of its own');
    assert.match(one.findings[0].related[0].message, /^reg_a\(\) calls pin_buf\(\) and keeps the pages/);
    assert.ok(one.findings[0].related.some((x) => /^rd\(\) calls pin_buf\(\) and releases the pages before returning/.test(x.message)));

    const two = await analyzeText(HELPER + SYNC + KEEP('reg_a') + KEEP('reg_b'));
    assert.deepEqual(lines(two), [['FS001', 2]]);
    const related = two.findings[0].related.map((x) => x.message);
    assert.match(related[0], /^reg_a\(\) calls pin_buf\(\) and keeps the pages/);
    assert.ok(related.some((m) => /^reg_b\(\) calls pin_buf\(\) and keeps the pages/.test(m)));
    assert.ok(related.some((m) => /^rd\(\) calls pin_buf\(\) and releases the pages before returning/.test(m)));
  });

  it('callers that pass different flags: the strongest code stands, the other is related information', async function () {
    const helper = 'static int pin_fl(struct buf *b, unsigned long a, int n, unsigned int fl)\n{\n\treturn get_user_pages_fast(a, n, fl, b->pages);\n}\n';
    const r = await analyzeText(`${helper}int rd(struct buf *b, unsigned long a)\n{\n\treturn pin_fl(b, a, 1, 0);\n}\nint wr(struct buf *b, unsigned long a)\n{\n\treturn pin_fl(b, a, 1, FOLL_WRITE);\n}\n`);
    assert.deepEqual(lines(r), [['FS001', 2]]);
    assert.ok(r.findings[0].related.some((x) => /^FS002 for the call in rd\(\)/.test(x.message)), JSON.stringify(r.findings[0].related));
  });

  it('FS003 and FS004 on one pin: FS004 stands and holds FS003; with FS004 off, FS003 stands', async function () {
    // An assumed protection (the userspace madvise contract) gives both: verify it (FS003), and convert (FS004).
    const files = {
      'dma.c': 'int reg(struct mr *mr, unsigned long a)\n{\n\t// forksafe-assume dontfork: userspace calls madvise(MADV_DONTFORK) on the buffer\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, mr->pages);\n}\n',
    };
    const r = await analyzeDriver(files, 'dma.c');
    assert.deepEqual(lines(r), [['FS004', 3]]);
    assert.ok(r.findings[0].related.some((x) => /^also FS003 /.test(x.message)));
    assert.deepEqual(lines(await analyzeDriver(files, 'dma.c', { severity: { FS004: 'off' } })), [['FS003', 3]]);
  });

  it('a VM_DONTCOPY in another file that is not on the pinned range is evidence on FS001, not a downgrade', async function () {
    const files = {
      'dma.c': 'int reg(struct mr *mr, unsigned long a)\n{\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, mr->pages);\n}\n',
      'mmap.c': 'static int m(struct file *f, struct vm_area_struct *vma)\n{\n\tvma->vm_flags |= VM_DONTCOPY;\n\treturn 0;\n}\n',
    };
    const r = await analyzeDriver(files, 'dma.c');
    assert.deepEqual(lines(r), [['FS001', 2]]);
    assert.ok(r.findings[0].related.some((x) => x.uri.endsWith('/mmap.c') && /not tied to this pin/.test(x.message)));
  });

  it('a pin in another file: reported in the helper\'s file, nothing in the caller\'s, whose hover site names the pin', async function () {
    const files = { 'pin.c': HELPER.replace('static ', ''), 'main.c': KEEP('reg_a') };
    const pin = await analyzeDriver(files, 'pin.c');
    const main = await analyzeDriver(files, 'main.c');
    assert.deepEqual(lines(pin), [['FS001', 2]]);
    assert.deepEqual(main.findings, []);
    const seen = main.sites?.find((s) => s.from.uri.endsWith('/main.c'));
    assert.ok(seen, 'the caller\'s file keeps the site for its hover');
    assert.deepEqual([seen.uri.replace(/^.*\//, ''), seen.call.start.line, seen.codes], ['pin.c', 2, ['FS001']]);
  });

  it('a wrapper that pins twice (two queues): each pin is its own site, each reported on its own call', async function () {
    const helper = 'static int get_queues(struct q *p, struct q *c, unsigned long pa, unsigned long ca)\n{\n' +
      '\tif (get_user_pages_fast(pa, 1, FOLL_WRITE, p->pages) < 1)\n\t\treturn -1;\n' +
      '\treturn get_user_pages_fast(ca, 1, FOLL_WRITE, c->pages);\n}\n';
    const r = await analyzeText(`${helper}int attach(struct qp *qp, unsigned long a, unsigned long b)\n{\n\treturn get_queues(qp->produce, qp->consume, a, b);\n}\n`);
    assert.deepEqual(lines(r), [['FS001', 2], ['FS001', 4]]);
  });

  it('a static inline shim in a header: reported at the driver\'s call of it, never in the header', async function () {
    const files = {
      'compat.h': 'static inline int shim_pin(unsigned long a, int n, unsigned int fl, struct page **p)\n{\n\treturn get_user_pages_fast(a, n, fl, p);\n}\n',
      'drv.c': '#include "compat.h"\nint reg(struct mr *mr, unsigned long a)\n{\n\treturn shim_pin(a, 1, FOLL_WRITE, mr->pages);\n}\n',
    };
    assert.deepEqual(lines(await analyzeDriver(files, 'drv.c')), [['FS001', 3]]);
    assert.deepEqual(lines(await analyzeDriver(files, 'compat.h')), []);
    assert.deepEqual(lines(await analyzeText(files['compat.h'], {}, 'file:///d/compat.h')), [], 'nor when its users are outside the analysed scope');
    const fixed = 'static inline int shim_fixed(struct page **p)\n{\n\treturn get_user_pages_fast(0, 1, FOLL_WRITE, p);\n}\n';
    assert.deepEqual(lines(await analyzeText(fixed.replace('struct page **p', 'void').replace(', p)', ', global_pages)'), {}, 'file:///d/own.h')), [['FS001', 2]],
      'a header function that forwards nothing of its own is not a shim: its pin is reported where it is');
  });

  it('a helper written once per kernel range: the finding stands in the definition the selected kernel compiles', async function () {
    const text = [
      '#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)',
      'static int pin_lt(unsigned long a, int n, unsigned int fl, struct page **p)',
      '{',
      '\treturn pin_user_pages_fast(a, n, fl | FOLL_LONGTERM, p);',
      '}',
      '#else',
      'static int pin_lt(unsigned long a, int n, unsigned int fl, struct page **p)',
      '{',
      '\treturn get_user_pages(a, n, fl | FOLL_LONGTERM, p, NULL);',
      '}',
      '#endif',
      'int reg(struct mr *mr, unsigned long a)',
      '{',
      '\treturn pin_lt(a, 1, FOLL_WRITE, mr->pages);',
      '}',
      '',
    ].join('\n');
    assert.deepEqual(lines(await analyzeText(text, { kernelVersion: '5.4' })), [['FS001', 8]]);
    assert.deepEqual(lines(await analyzeText(text, { kernelVersion: '5.8' })), [['FS001', 3]]);
    assert.deepEqual(lines(await analyzeText(text, { kernelVersion: '6.12' })), []);
  });

  it('a suppression at a caller\'s call (where findings stood before) still applies, to that caller only', async function () {
    const keepQuiet = KEEP('reg_a').replace('\treturn pin_buf', '\t// forksafe-ignore FS001: buffer registered before any fork, documented in the ABI\n\treturn pin_buf');
    const r = await analyzeText(HELPER + keepQuiet + KEEP('reg_b'));
    assert.deepEqual(lines(r), [['FS001', 2]], 'reg_b still keeps the pages');
    assert.match(r.findings[0].message, /\(in reg_b\(\) \(drv\.c:\d+\)\)/, 'the finding is reg_b\'s: reg_a contributes nothing');
    const quiet = await analyzeText(HELPER + keepQuiet);
    assert.deepEqual(lines(quiet), [], 'its only caller suppressed it');
  });

  it('a completion counts only for the pages of its own struct: a callback releasing another struct\'s `pages` does not make a kept MR I/O-bounded', async function () {
    const callback = 'static void req_done(struct io_req *req)\n{\n\tput_page(req->pages[0]);\n}\nvoid req_setup(struct io_req *req)\n{\n\treq->done = req_done;\n}\n';
    const mr = 'int reg_mr(struct my_mr *mr, unsigned long a)\n{\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, mr->pages);\n}\n';
    assert.deepEqual(lines(await analyzeText(callback + mr)), [['FS001', 10]]);
    const same = mr.replace(/struct my_mr \*mr/, 'struct io_req *mr');
    assert.deepEqual(lines(await analyzeText(callback + same)), [['FS010', 10]], 'the same struct: released when the request completes');
  });
});
