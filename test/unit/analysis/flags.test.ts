// Flag resolution on its own: what FOLL_WRITE/FOLL_LONGTERM look like after literals, macros, locals, ternaries and callers.
import { strict as assert } from 'assert';
import { FlagResolver, tri, truthTri } from '../../../server/src/analysis/flags';
import { Harness } from '../../helpers/analysisHarness';

async function flagsOf(files: Record<string, string>, argIndex = 2, n = 0, call = 'get_user_pages') {
  const h = await Harness.of(files);
  try {
    const { call: c, scope } = h.call(call, n);
    const v = new FlagResolver(h.workspace).evaluate(c.args[argIndex], scope);
    // Read evidence text while the trees are alive.
    const origins = new Map([...v.origins].map(([flag, e]) => [flag, { text: e.node.text, uri: e.uri }]));
    const conditions = v.conditions.map((e) => e.node.text);
    return { write: tri(v, 'FOLL_WRITE'), longterm: tri(v, 'FOLL_LONGTERM'), truth: truthTri(v), origins, conditions, unknown: v.unknown };
  } finally {
    h.dispose();
  }
}

describe('flags: resolution', function () {
  it('literal constants and | chains', async function () {
    const r = await flagsOf({ 'a.c': 'void f(struct page **p){ get_user_pages(0, 1, FOLL_WRITE | FOLL_LONGTERM, p); }' });
    assert.deepEqual([r.write, r.longterm], ['always', 'always']);
    assert.equal(r.origins.get('FOLL_WRITE')?.text, 'FOLL_WRITE');
  });

  it('write ? FOLL_WRITE : 0 is conditional, with the condition as evidence', async function () {
    const r = await flagsOf({ 'a.c': 'void f(int write, struct page **p){ get_user_pages(0, 1, (write ? FOLL_WRITE : 0) | FOLL_LONGTERM, p); }' });
    assert.deepEqual([r.write, r.longterm], ['conditional', 'always']);
    assert.ok(r.conditions.includes('write'));
  });

  it('the old int write argument: 1, 0, !!(access & X), a parameter', async function () {
    const one = await flagsOf({ 'a.c': 'void f(struct page **p){ get_user_pages_fast(0, 1, 1, p); }' }, 2, 0, 'get_user_pages_fast');
    const zero = await flagsOf({ 'a.c': 'void f(struct page **p){ get_user_pages_fast(0, 1, 0, p); }' }, 2, 0, 'get_user_pages_fast');
    const bang = await flagsOf({ 'a.c': 'void f(int access, struct page **p){ get_user_pages_fast(0, 1, !!(access & IB_ACCESS_LOCAL_WRITE), p); }' }, 2, 0, 'get_user_pages_fast');
    assert.deepEqual([one.truth, zero.truth, bang.truth], ['always', 'never', 'conditional']);
  });

  it('as gup_flags, a literal 1 and a 0/1 expression are FOLL_WRITE (bit 0 in every kernel); 0 and FOLL_FORCE are not', async function () {
    const gup = (arg: string) => flagsOf({ 'a.c': `void f(int write, int dir, struct page **p){ get_user_pages_fast(0, 1, ${arg}, p); }` }, 2, 0, 'get_user_pages_fast');
    const [one, commented, zero, bang, cmp, force, masked] = await Promise.all(
      ['1', '1 /* write */', '0', '!!write', 'dir != DMA_TO_DEVICE', 'FOLL_FORCE', 'write & FOLL_WRITE'].map(gup));
    assert.deepEqual([one.write, commented.write, zero.write, bang.write, cmp.write, force.write, masked.write],
      ['always', 'always', 'never', 'conditional', 'conditional', 'never', 'conditional']);
    assert.equal(one.origins.get('FOLL_WRITE')?.text, '1', 'the literal is the evidence');
    const three = await gup('0x11');
    assert.equal(three.write, 'always', '0x11 has bit 0 set');
    const four = await gup('4');
    assert.equal(four.write, 'never', '4 is not FOLL_WRITE');
  });

  it('a parameter the function assigns before the pin takes those writes over what the callers pass', async function () {
    const set = await flagsOf({ 'a.c': 'void f(struct mr *mr, unsigned int fl, struct page **p){ fl = FOLL_LONGTERM; if (mr->writable) fl |= FOLL_WRITE; get_user_pages(0, 1, fl, p); }\nvoid g(struct mr *mr, struct page **p){ f(mr, 0, p); }' });
    assert.deepEqual([set.write, set.longterm], ['conditional', 'always'], 'the assignment replaces the caller\'s 0');
    const added = await flagsOf({ 'a.c': 'void f(unsigned int fl, struct page **p){ fl |= FOLL_LONGTERM; get_user_pages(0, 1, fl, p); }\nvoid g(struct page **p){ f(FOLL_WRITE, p); }' });
    assert.deepEqual([added.write, added.longterm], ['always', 'always'], 'the caller\'s FOLL_WRITE stays under |=');
  });

  it('a local built with |= under a condition is conditional; unconditionally it is always', async function () {
    const cond = await flagsOf({ 'a.c': 'void f(struct mr *mr, struct page **p){ unsigned int fl = FOLL_LONGTERM; if (mr->writable) fl |= FOLL_WRITE; get_user_pages(0, 1, fl, p); }' });
    assert.deepEqual([cond.write, cond.longterm], ['conditional', 'always']);
    assert.ok(cond.conditions.includes('mr->writable'), 'names the condition');
    const always = await flagsOf({ 'a.c': 'void f(struct page **p){ unsigned int fl = FOLL_LONGTERM; fl |= FOLL_WRITE; get_user_pages(0, 1, fl, p); }' });
    assert.equal(always.write, 'always');
    const cleared = await flagsOf({ 'a.c': 'void f(struct page **p){ unsigned int fl = FOLL_WRITE | FOLL_LONGTERM; fl &= ~FOLL_WRITE; get_user_pages(0, 1, fl, p); }' });
    assert.deepEqual([cleared.write, cleared.longterm], ['never', 'always']);
  });

  it('only assignments before the call count', async function () {
    const r = await flagsOf({ 'a.c': 'void f(struct page **p){ unsigned int fl = 0; get_user_pages(0, 1, fl, p); fl = FOLL_WRITE; }' });
    assert.equal(r.write, 'never');
  });

  it('#define flag macros from another file of the driver', async function () {
    const r = await flagsOf({
      'a.c': 'void f(struct page **p){ get_user_pages(0, 1, DRV_GUP_FLAGS, p); }',
      'drv.h': '#define DRV_GUP_FLAGS (FOLL_WRITE | DRV_EXTRA)\n#define DRV_EXTRA FOLL_LONGTERM\n',
    });
    assert.deepEqual([r.write, r.longterm], ['always', 'always']);
    assert.match(r.origins.get('FOLL_WRITE')!.uri, /drv\.h$/);
  });

  it('parameters follow the callers; disagreeing callers make it conditional', async function () {
    const agree = await flagsOf({ 'a.c': 'static int pin(unsigned int fl, struct page **p){ return get_user_pages(0, 1, fl, p); }\nvoid a(struct page **p){ pin(FOLL_WRITE, p); }\nvoid b(struct page **p){ pin(FOLL_WRITE | FOLL_FORCE, p); }' });
    assert.equal(agree.write, 'always');
    const disagree = await flagsOf({ 'a.c': 'static int pin(unsigned int fl, struct page **p){ return get_user_pages(0, 1, fl, p); }\nvoid a(struct page **p){ pin(FOLL_WRITE, p); }\nvoid b(struct page **p){ pin(0, p); }' });
    assert.equal(disagree.write, 'conditional');
    const none = await flagsOf({ 'a.c': 'int exported_pin(unsigned int fl, struct page **p){ return get_user_pages(0, 1, fl, p); }' });
    assert.equal(none.write, 'conditional');
    assert.match(none.unknown.join(' '), /no caller/);
  });

  it('unknown expressions make write conditional, never silently never', async function () {
    const r = await flagsOf({ 'a.c': 'void f(struct page **p){ get_user_pages(0, 1, compute_flags(), p); }' });
    assert.equal(r.write, 'conditional');
  });

  it('recursive macros and self-referential locals terminate', async function () {
    const r = await flagsOf({ 'a.c': '#define A (B | FOLL_WRITE)\n#define B (A)\nvoid f(struct page **p){ int x = x | A; get_user_pages(0, 1, x, p); }' });
    assert.equal(r.write, 'always');
  });
});
