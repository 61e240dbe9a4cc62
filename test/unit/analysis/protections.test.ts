// Protection search on its own: what counts as VM_DONTCOPY/MADV_DONTFORK/notifier, and at which scope it is found.
import { strict as assert } from 'assert';
import { ProtectionFinder, protectionsInFile } from '../../../server/src/analysis/protections';
import { assumptionApplies, readAssumptions, readSuppressions, suppresses } from '../../../server/src/analysis/annotations';
import { Harness } from '../../helpers/analysisHarness';
import { readFileSync } from 'fs';
import { join } from 'path';
import { analyze } from '../../../server/src/engine';
import { resolveSettings } from '../../../server/src/settings';
import { syntax } from '../../helpers/syntax';

async function kindsIn(src: string): Promise<string[]> {
  const h = await Harness.of({ 'a.c': src });
  try {
    return protectionsInFile(h.workspace.files[0]).map((p) => p.kind).sort();
  } finally {
    h.dispose();
  }
}

describe('protections: what counts', function () {
  it('setting VM_DONTCOPY with |=, = ... |, vm_flags_set and vm_flags_mod counts', async function () {
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vma->vm_flags |= VM_DONTCOPY | VM_IO; return 0; }'), ['dontfork']);
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND); return 0; }'), ['dontfork']);
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vm_flags_mod(vma, VM_DONTCOPY, VM_MAYWRITE); return 0; }'), ['dontfork']);
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vma->vm_flags |= VM_WIPEONFORK; return 0; }'), ['wipeonfork']);
  });

  it('clearing or testing VM_DONTCOPY does not count', async function () {
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vma->vm_flags &= ~VM_DONTCOPY; return 0; }'), []);
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ if (vma->vm_flags & VM_DONTCOPY) return 1; return 0; }'), []);
    assert.deepEqual(await kindsIn('int m(struct vm_area_struct *vma){ vm_flags_mod(vma, VM_IO, VM_DONTCOPY); return 0; }'), []);
  });

  it('kernel-side madvise counts; a switch case on MADV_DONTFORK does not', async function () {
    assert.deepEqual(await kindsIn('int m(unsigned long a, size_t l){ return do_madvise(current->mm, a, l, MADV_DONTFORK); }'), ['dontfork']);
    assert.deepEqual(await kindsIn('int m(int adv){ switch (adv) { case MADV_DONTFORK: return 1; } return 0; }'), []);
  });

  it('mmu notifiers: registration calls, hmm_range_fault, and ops with an invalidate callback', async function () {
    assert.deepEqual(await kindsIn('int r(struct ctx *c){ return mmu_interval_notifier_insert(&c->n, current->mm, 0, 4096, &ops); }'), ['notifier']);
    assert.deepEqual(await kindsIn('int r(struct hmm_range *r){ return hmm_range_fault(r); }'), ['notifier']);
    assert.deepEqual(await kindsIn('static const struct mmu_interval_notifier_ops ops = { .invalidate = inv };'), ['notifier']);
    assert.deepEqual(await kindsIn('static const struct mmu_notifier_ops ops = { .release = rel };'), []);
  });

  it('finds the nearest scope: same function, same file, another file of the driver', async function () {
    const h = await Harness.of({
      'a.c': 'int pin(struct page **p){ return get_user_pages(0, 1, FOLL_WRITE, p); }\nint m(struct vm_area_struct *v){ v->vm_flags |= VM_DONTCOPY; return 0; }',
      'b.c': 'int r(struct ctx *c){ return mmu_notifier_register(&c->mn, current->mm); }',
    });
    try {
      const { call, file } = h.call('get_user_pages');
      const found = new ProtectionFinder(h.workspace).find(file, [call.fn]);
      assert.deepEqual(found.map((p) => [p.kind, p.place]), [['dontfork', 'file'], ['notifier', 'driver']]);
    } finally {
      h.dispose();
    }
  });

  it('annotations: assume kinds and suppressions with and without reasons', async function () {
    const h = await Harness.of({ 'a.c': '// forksafe-assume dontfork: libibverbs calls madvise\n/* forksafe-ignore FS001, FS004: never forked */\n// forksafe-ignore FS002\nint x;' });
    try {
      const comments = h.workspace.files[0].index.comments;
      assert.deepEqual(readAssumptions(comments).map((a) => [a.kind, a.reason]), [['dontfork', 'libibverbs calls madvise']]);
      const s = readSuppressions(comments);
      assert.deepEqual(s.map((x) => [x.codes, x.reason]), [[['FS001', 'FS004'], 'never forked'], [['FS002'], undefined]]);
      assert.equal(suppresses(s[0], 'FS001', 2), true);
      assert.equal(suppresses(s[0], 'FS002', 2), false);
      assert.equal(suppresses(s[1], 'FS002', 3), false, 'no reason, no suppression');
    } finally {
      h.dispose();
    }
  });
});

describe('annotations: malformed suppressions', function () {
  it('a suppression naming no rule, or a lowercase code, is handled rather than silently ignored', async function () {
    const h = await Harness.of({ 'a.c': '// forksafe-ignore: looks fine\n// forksafe-ignore fs001: never forked\nint x;' });
    try {
      const s = readSuppressions(h.workspace.files[0].index.comments);
      assert.deepEqual(s.map((x) => [x.codes, x.reason]), [[[], undefined], [['FS001'], 'never forked']]);
    } finally {
      h.dispose();
    }
  });
});

describe('annotations: where an assumption applies', function () {
  it('through a stacked block of comments above the pin, but not across code', async function () {
    const src = [
      'int reg(struct mr *mr)',                              // 0
      '{',                                                   // 1
      '\t// forksafe-assume dontfork: libibverbs madvises',  // 2
      '\t// forksafe-ignore FS004: audited',                 // 3
      '\tget_user_pages(0, 1, FOLL_WRITE, mr->pages);',      // 4
      '\tmr->n = 1;',                                        // 5
      '\tget_user_pages(0, 1, FOLL_WRITE, mr->more);',       // 6
      '\treturn 0;',
      '}',
    ].join('\n');
    const h = await Harness.of({ 'a.c': src });
    try {
      const comments = h.workspace.files[0].index.comments;
      const [a] = readAssumptions(comments);
      const fn = h.call('get_user_pages').call.fn!.node;
      assert.equal(assumptionApplies(a, 4, fn, comments), true);
      assert.equal(assumptionApplies(a, 6, fn, comments), false);
    } finally {
      h.dispose();
    }
  });
});

describe('protections: tied to the pin, or evidence only', function () {
  const dir = join(__dirname, '../../../../test/fixtures/drivers/multi_rdma_core_odp');
  const read = (name: string) => ({ uri: `file://${join(dir, name)}`, text: readFileSync(join(dir, name), 'utf8') });

  it('the ordinary registration path of an RDMA-core-like folder is FS001 on 4.19, 5.4, 5.10 and the newest kernel, the ODP notifier as evidence', async function () {
    const s = await syntax();
    const files = ['rc.h', 'rc_umem.c', 'rc_umem_odp.c'].map(read).map((f) => ({ ...f, tree: s.parse(f.text).tree! }));
    try {
      for (const kernel of ['4.19', '5.4', '5.10', 'auto']) {
        const [main, ...others] = [files[1], files[0], files[2]];
        const report = analyze(s, { uri: main.uri, text: main.text, tree: main.tree }, resolveSettings(kernel === 'auto' ? {} : { kernelVersion: kernel }), { files: others });
        assert.deepEqual(report.findings.map((f) => [f.code, f.span.start.line + 1]), [['FS001', 18]], kernel);
        const related = report.findings[0].related.map((r) => r.message);
        assert.ok(related.some((m) => /mmu_interval_notifier_insert\(\).*not tied to this pin/.test(m)), `${kernel}: ${related.join(' | ')}`);
        // The ODP file itself pins nothing and is quiet.
        const odp = analyze(s, { uri: files[2].uri, text: files[2].text, tree: files[2].tree }, resolveSettings(kernel === 'auto' ? {} : { kernelVersion: kernel }), { files: [files[0], files[1]] });
        assert.deepEqual(odp.findings, [], kernel);
      }
    } finally {
      for (const f of files) f.tree.delete();
    }
  });
});
