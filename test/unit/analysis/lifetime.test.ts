// Lifetime on its own: when pinned pages outlive the call and when every success path releases them.
import { strict as assert } from 'assert';
import { LifetimeAnalyzer } from '../../../server/src/analysis/lifetime/lifetime';
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
      ['int f(struct page ***out){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); *out = p; return 0; }', 'out-param'],
      ['struct page **f(void){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); return p; }', 'returned'],
      ['int f(struct req *rq){ struct page **p = alloc(); get_user_pages(0, 1, 0, p); sg_alloc_table_from_pages(&rq->sgt, p, 1, 0, 4096, 0); return 0; }', 'mapped'],
    ];
    for (const [src, reason] of cases) {
      const r = await lifetimeOf(src);
      assert.deepEqual([r.longLived, r.reason], [true, reason], src);
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

  it('a release under a condition the pin is not under does not count', async function () {
    const r = await lifetimeOf('int f(int n, int bad){ struct page *p[8]; get_user_pages(0, n, 0, p); if (bad) release_pages(p, n); return 0; }');
    assert.equal(r.longLived, true);
  });

  it("a parameter array belongs to the caller unless released here", async function () {
    const kept = await lifetimeOf('int f(struct page **p){ return get_user_pages(0, 1, 0, p); }');
    assert.deepEqual([kept.longLived, kept.reason], [true, 'caller-array']);
    const released = await lifetimeOf('int f(struct page **p){ get_user_pages(0, 1, 0, p); put_page(p[0]); return 0; }');
    assert.equal(released.longLived, false);
  });

  it("a driver's own release helper counts as a release", async function () {
    const r = await lifetimeOf('static void drop(struct page **pg, int n){ release_pages(pg, n); }\nint f(int n){ struct page *p[8]; get_user_pages(0, n, 0, p); drop(p, n); return 0; }');
    assert.equal(r.longLived, false);
  });
});
