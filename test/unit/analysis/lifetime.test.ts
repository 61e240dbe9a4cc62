// Lifetime on its own: when pinned pages outlive the call and when every success path releases them.
import { strict as assert } from 'assert';
import { LifetimeAnalyzer, summaryCacheStats } from '../../../server/src/analysis/lifetime/lifetime';
import { analyze } from '../../../server/src/engine';
import { resolveSettings } from '../../../server/src/settings';
import { syntax } from '../../helpers/syntax';
import { Harness } from '../../helpers/analysisHarness';

async function lifetimeOf(body: string, pagesIndex = 3, extra: Record<string, string> = {}) {
  const h = await Harness.of({ 'a.c': body, ...extra });
  try {
    const { call, scope } = h.call('get_user_pages');
    const l = new LifetimeAnalyzer(h.workspace).analyze(call.args[pagesIndex], scope, call.node, 'never', undefined);
    return { longLived: l.longLived, reason: l.reason, releases: l.releases.map((r) => r.api), evidence: l.evidence.map((e) => e.message) };
  } finally {
    h.dispose();
  }
}

describe('lifetime: long-lived or released', function () {
  it('pages written straight into a struct field are stored', async function () {
    const r = await lifetimeOf('int f(struct mr *mr){ return get_user_pages(0, 1, 0, mr->pages); }');
    assert.deepEqual([r.longLived, r.reason], [true, 'stored']);
  });

  it('a local array assigned to a field, a global, an out-pointer or returned escapes', async function () {
    const cases: Array<[string, string]> = [
      ['int f(struct mr *mr){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); mr->pages = p; return 0; }', 'stored'],
      ['struct page **g; int f(void){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); g = p; return 0; }', 'global'],
      // Handed out or returned: the caller decides (issue 28), here a caller that keeps them in its object.
      ['int f(struct page ***out){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); *out = p; return 0; }\nint g(struct mr *mr){ return f(&mr->pages); }', 'stored'],
      ['struct page **f(void){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); return p; }\nint g(struct mr *mr){ mr->pages = f(); return 0; }', 'stored'],
      ['int f(struct req *rq){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); sg_alloc_table_from_pages(&rq->sgt, p, 1, 0, 4096, 0); return 0; }', 'mapped'],
    ];
    for (const [src, reason] of cases) {
      const r = await lifetimeOf(src);
      assert.deepEqual([r.longLived, r.reason], [true, reason], src);
    }
    // With no caller in the analysed code, the callers elsewhere decide: handed back, no verdict of its own.
    for (const src of ['int f(struct page ***out){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); *out = p; return 0; }',
      'struct page **f(void){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); return p; }',
      'void *f(void){ struct page *p; get_user_pages(0, 1, 0, &p); return page_address(p) + 16; }',
      'int f(unsigned long *pfn){ struct page *p; get_user_pages(0, 1, 0, &p); *pfn = page_to_pfn(p); return 0; }']) {
      const r = await lifetimeOf(src);
      assert.deepEqual([r.longLived, r.reason], [false, 'handed-back'], src);
    }
  });

  it('an sg table on the stack does not make the pages outlive the call', async function () {
    const r = await lifetimeOf('int f(void){ struct sg_table sgt; struct page *p[4]; get_user_pages(0, 4, 0, p); sg_alloc_table_from_pages(&sgt, p, 4, 0, 4096, 0); release_pages(p, 4); return 0; }');
    assert.deepEqual([r.longLived, r.reason], [false, 'released']);
  });

  it('released on the success path: put_page loop, release_pages, unpin_user_pages', async function () {
    for (const rel of ['for (i = 0; i < n; i++) put_page(p[i]);', 'release_pages(p, n);', 'unpin_user_pages(p, n);']) {
      const r = await lifetimeOf(`int f(int n){ struct page *p[8]; int i; get_user_pages(0, n, 0, p); do_io(p); ${rel} return 0; }`);
      assert.deepEqual([r.longLived, r.reason], [false, 'released'], rel);
    }
  });

  it('released only on the error path (after a return, behind a goto label) is kept', async function () {
    const src = 'int f(struct ctx *c, int n){ struct page **p = alloc(); int got = get_user_pages(0, n, 0, p); if (got != n) goto err; c->count = n; return 0; err: release_pages(p, got); return -EFAULT; }';
    const r = await lifetimeOf(src);
    assert.equal(r.longLived, true);
    assert.equal(r.reason, 'kept');
    assert.deepEqual(r.releases, ['release_pages']);
  });

  it('a success path that jumps over the error label with goto keeps the pages; a goto onto the release reaches it', async function () {
    // hailo-ai/hailort-drivers' prepare_sg_table(): `ret = 0; goto exit;` skips the `release_pages:` loop.
    const over = 'int f(struct sg_table *t, int n){ struct page **p = alloc(); int got = get_user_pages(0, n, 0, p); int ret; int i; if (got != n) goto rel; ' +
      'ret = sg_alloc_table_from_pages(t, p, n, 0, 4096, 0); if (ret) goto rel; ret = 0; goto out; rel: for (i = 0; i < got; i++) put_page(p[i]); out: kfree(p); return ret; }\n' +
      'struct buf { struct sg_table sgt; }; int g(struct buf *b){ return f(&b->sgt, 4); }';
    const kept = await lifetimeOf(over);
    assert.equal(kept.longLived, true, JSON.stringify(kept));
    const onto = 'int f(int n){ struct page *p[8]; int i; int got = get_user_pages(0, n, 0, p); do_io(p); goto done; other: n++; done: for (i = 0; i < got; i++) put_page(p[i]); return 0; }';
    assert.deepEqual([(await lifetimeOf(onto)).longLived, (await lifetimeOf(onto)).reason], [false, 'released']);
    const unknown = 'int f(int n){ struct page *p[8]; int i; int got = get_user_pages(0, n, 0, p); do_io(p); goto elsewhere; for (i = 0; i < got; i++) put_page(p[i]); return 0; }';
    assert.equal((await lifetimeOf(unknown)).longLived, true, 'a goto to a label not at the top level is not followed');
  });

  it('a release under a condition the pin is not under does not count', async function () {
    const r = await lifetimeOf('int f(int n, int bad){ struct page *p[8]; get_user_pages(0, n, 0, p); if (bad) release_pages(p, n); return 0; }');
    assert.equal(r.longLived, true);
  });

  it("a parameter array belongs to the caller unless released here", async function () {
    const handed = await lifetimeOf('int f(struct page **p){ return get_user_pages(0, 1, 0, p); }');
    assert.deepEqual([handed.longLived, handed.reason], [false, 'handed-back'], 'no caller in the analysed code: its callers decide (issue 28)');
    const kept = await lifetimeOf('int f(struct page **p){ return get_user_pages(0, 1, 0, p); }\nint g(struct mr *mr){ return f(mr->pages); }');
    assert.deepEqual([kept.longLived, kept.reason], [true, 'stored']);
    const released = await lifetimeOf('int f(struct page **p){ get_user_pages(0, 1, 0, p); put_page(p[0]); return 0; }');
    assert.equal(released.longLived, false);
  });

  it("a driver's own release helper counts as a release", async function () {
    const r = await lifetimeOf('static void drop(struct page **pg, int n){ release_pages(pg, n); }\nint f(int n){ struct page *p[8]; get_user_pages(0, n, 0, p); drop(p, n); return 0; }');
    assert.equal(r.longLived, false);
  });
});

describe('lifetime: release summaries kept across analyses', function () {
  // The pin is in a.c, whose x_unmap() calls x_done() in b.c: whether x_done releases the pages decides between
  // FS007 and FS001, and x_unmap's summary (cached on a.c's unchanged tree) depends on it.
  const pinner = [
    'struct rq { struct page **pages; int n; };',
    'static void x_unmap(struct rq *r) { x_done(r); }',
    'static ssize_t x_write(struct file *f, const char __user *buf, size_t count, loff_t *pos)',
    '{',
    '\tstruct rq r;',
    '\tget_user_pages_fast((unsigned long)buf, 4, FOLL_WRITE, r.pages);',
    '\tx_submit_and_wait(&r);',
    '\tx_unmap(&r);',
    '\treturn count;',
    '}',
    'static const struct file_operations x_fops = { .write = x_write };',
  ].join('\n');
  const releasing = 'void x_done(struct rq *r) { int i; for (i = 0; i < r->n; i++) put_page(r->pages[i]); }\n';
  const forgetting = 'void x_done(struct rq *r) { r->n = 0; }\n';

  it('an edit of the helper in another file changes the verdict of the unchanged pinning file', async function () {
    const s = await syntax();
    const a = s.parse(pinner).tree!;
    const b1 = s.parse(releasing).tree!;
    const b2 = s.parse(forgetting).tree!;
    try {
      const settings = resolveSettings({});
      const run = (b: { text: string; tree: typeof b1 }) => analyze(s, { uri: 'file:///d/a.c', text: pinner, tree: a }, settings,
        { files: [{ uri: 'file:///d/b.c', text: b.text, tree: b.tree }] }).findings.map((f) => f.code);
      assert.deepEqual(run({ text: releasing, tree: b1 }), ['FS007']);
      // Same a.c tree (its summaries are cached), new b.c tree: the summary that read x_done must be recomputed.
      assert.deepEqual(run({ text: forgetting, tree: b2 }), ['FS001']);
      assert.deepEqual(run({ text: releasing, tree: b1 }), ['FS007']);
    } finally {
      a.delete(); b1.delete(); b2.delete();
    }
  });

  it('analysing unchanged trees again reuses every summary instead of recomputing it', async function () {
    const s = await syntax();
    const a = s.parse(pinner).tree!;
    const b = s.parse(releasing).tree!;
    try {
      const settings = resolveSettings({});
      const run = () => analyze(s, { uri: 'file:///d/a.c', text: pinner, tree: a }, settings, { files: [{ uri: 'file:///d/b.c', text: releasing, tree: b }] });
      run();
      const before = { ...summaryCacheStats };
      const again = run();
      assert.deepEqual(again.findings.map((f) => f.code), ['FS007']);
      assert.equal(summaryCacheStats.computed, before.computed, 'no summary recomputed');
      assert.ok(summaryCacheStats.reused > before.reused, 'the cached summary of x_done was used');
    } finally {
      a.delete(); b.delete();
    }
  });
});
