// Quick fixes computed by the engine: every offered fix, applied to the fixture driver, adds no syntax error and removes the finding it fixes; argument conversion per kernel era.
import { strict as assert } from 'assert';
import type { Finding, Fix } from '../../../server/src/analysis/finding';
import { analyze, Report } from '../../../server/src/engine';
import { applyTextEdits, combineFixes, editsByUri } from '../../../server/src/explain/textEdits';
import { resolveSettings } from '../../../server/src/settings';
import { analyzeDriver, FixtureDriver, listFixtureDrivers } from '../../helpers/fixtures';
import { countSyntaxErrors } from '../../helpers/syntaxErrors';
import { syntax, analyzeText } from '../../helpers/syntax';

function codeCounts(reports: Iterable<Report>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of reports) for (const f of r.findings) out.set(f.code, (out.get(f.code) ?? 0) + 1);
  return out;
}

/** The driver with `edits` applied to its files (by uri). */
function applied(driver: FixtureDriver, fix: Fix): FixtureDriver {
  const byUri = editsByUri(fix.edits);
  return {
    name: driver.name,
    files: driver.files.map((f) => {
      const edits = byUri.get(`file://${f.path}`);
      return edits ? { ...f, text: applyTextEdits(f.text, edits) } : f;
    }),
  };
}

describe('explain/fixes on the fixture drivers', function () {
  const drivers = listFixtureDrivers();
  let checked = 0;
  const kinds = new Set<string>();

  for (const driver of drivers) {
    it(driver.name, async function () {
      const s = await syntax();
      const before = await analyzeDriver(driver);
      const beforeCounts = codeCounts(before.values());
      const findings: Finding[] = [...before.values()].flatMap((r) => r.findings);
      for (const finding of findings) {
        for (const fix of finding.fixes) {
          if (fix.disabledReason) {
            assert.equal(fix.edits.length, 0, `${fix.title}: a disabled fix carries no edits`);
            continue;
          }
          assert.ok(fix.edits.length > 0, `${fix.title}: an enabled fix edits something`);
          const fixed = applied(driver, fix);
          for (const [i, f] of fixed.files.entries()) {
            if (f.text === driver.files[i].text) continue;
            assert.ok(countSyntaxErrors(s, f.text) <= countSyntaxErrors(s, driver.files[i].text), `${fix.title} adds a syntax error in ${f.name}:\n${f.text}`);
          }
          const after = codeCounts((await analyzeDriver(fixed)).values());
          if (fix.resolves) {
            assert.ok((after.get(finding.code) ?? 0) < (beforeCounts.get(finding.code) ?? 0),
              `${driver.name}: "${fix.title}" should remove ${finding.code}; before ${JSON.stringify([...beforeCounts])}, after ${JSON.stringify([...after])}`);
          }
          if (fix.safe) {
            for (const [code, n] of after) assert.ok(n <= (beforeCounts.get(code) ?? 0), `${driver.name}: safe fix "${fix.title}" adds ${code}`);
          }
          checked++;
          kinds.add(fix.kind);
        }
      }
    });
  }

  it('exercised every kind of fix', function () {
    assert.ok(checked > 40, `only ${checked} fixes checked`);
    assert.deepEqual([...kinds].sort(), ['addLongterm', 'assumeContract', 'convertToPin', 'fixRelease', 'suppress', 'vmDontcopy']);
  });
});

async function fixesOf(text: string, kernel: string, code = 'FS001'): Promise<{ report: Report; finding: Finding; convert: Fix }> {
  const report = await analyzeText(text, { kernelVersion: kernel });
  const finding = report.findings.find((f) => f.code === code);
  assert.ok(finding, `no ${code} in ${JSON.stringify(report.findings.map((f) => f.code))}`);
  const convert = finding.fixes.find((f) => f.kind === 'convertToPin');
  assert.ok(convert, 'no conversion offered');
  return { report, finding, convert };
}

function applyTo(text: string, fix: Fix): string {
  return applyTextEdits(text, fix.edits.filter((e) => e.uri === 'file:///t/drv.c'));
}

describe('explain/fixes: converting the arguments for the kernel era', function () {
  it('old write/force ints become gup_flags, and vmas stay where pin_user_pages still takes them (5.8)', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n, struct vm_area_struct **vmas)\n{\n\treturn get_user_pages(a, n, 1, 0, mr->pages, vmas);\n}\n';
    const { convert } = await fixesOf(text, '5.8');
    assert.equal(applyTo(text, convert).split('\n')[3], '\treturn pin_user_pages(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages, vmas);');
    assert.equal(convert.resolves, false, 'on 5.8 a FOLL_PIN pin still diverges (early COW is 5.9)');
    assert.equal(convert.safe, false);
    assert.match(convert.title, /keep a protection too/);
  });

  it('a non-constant write int becomes a conditional FOLL_WRITE', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n, int w)\n{\n\treturn get_user_pages(a, n, w, 0, mr->pages, NULL);\n}\n';
    const { convert } = await fixesOf(text, '6.1');
    assert.equal(applyTo(text, convert).split('\n')[3], '\treturn pin_user_pages(a, n, (w ? FOLL_WRITE : 0) | FOLL_LONGTERM, mr->pages, NULL);');
  });

  it('get_user_pages_remote with tsk, mm, vmas and locked becomes the 6.5 pin_user_pages_remote(mm, ..., locked)', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, struct mm_struct *mm, unsigned long a, int n, int *locked)\n{\n\treturn get_user_pages_remote(NULL, mm, a, n, FOLL_WRITE, mr->pages, NULL, locked);\n}\n';
    const { convert } = await fixesOf(text, '6.6');
    assert.equal(applyTo(text, convert).split('\n')[3], '\treturn pin_user_pages_remote(mm, a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages, locked);');
  });

  it('dropping a real vmas array is said in the title and never applied by fix-all', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n, struct vm_area_struct **v)\n{\n\treturn get_user_pages(a, n, FOLL_WRITE, mr->pages, v);\n}\n';
    const { convert } = await fixesOf(text, '6.8');
    assert.match(convert.title, /takes no vmas array: v is no longer filled/);
    assert.equal(convert.safe, false);
    assert.equal(applyTo(text, convert).split('\n')[3], '\treturn pin_user_pages(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);');
  });

  it('a dropped vmas array that the driver reads refuses the conversion, naming the read (VS Code lists it under "show disabled")', async function () {
    const text = 'struct mr { struct page **pages; unsigned long flags; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n\tstruct vm_area_struct **vmas;\n\tint i, got;\n\n\tvmas = kcalloc(n, sizeof(*vmas), GFP_KERNEL);\n\tif (!vmas)\n\t\treturn -ENOMEM;\n\tgot = get_user_pages(a, n, FOLL_WRITE, mr->pages, vmas);\n\tfor (i = 0; i < got; i++)\n\t\tmr->flags |= vmas[i]->vm_flags;\n\tkfree(vmas);\n\treturn got;\n}\n';
    const { convert } = await fixesOf(text, '6.8');
    assert.deepEqual(convert.edits, []);
    assert.match(convert.disabledReason ?? '', /fills no vmas array, and vmas is read at line 12 \(mr->flags \|= vmas\[i\]->vm_flags;\): look each vma up with vma_lookup\(\)/);
  });

  it('a dropped vmas array nothing reads goes with its allocation, NULL check, free and declaration', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n\tstruct vm_area_struct **vmas;\n\tint got;\n\n\tvmas = kcalloc(n, sizeof(*vmas), GFP_KERNEL);\n\tif (!vmas)\n\t\treturn -ENOMEM;\n\tgot = get_user_pages(a, n, FOLL_WRITE, mr->pages, vmas);\n\tkfree(vmas);\n\treturn got;\n}\nvoid drop(struct mr *mr) { release_pages(mr->pages, 1); }\n';
    const { convert } = await fixesOf(text, '6.8');
    assert.doesNotMatch(convert.title, /vmas/, convert.title);
    assert.equal(convert.safe, true, convert.title);
    const fixed = applyTo(text, convert);
    assert.equal(fixed, 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n\tint got;\n\n\tgot = pin_user_pages(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);\n\treturn got;\n}\nvoid drop(struct mr *mr) { unpin_user_pages(mr->pages, 1); }\n');
  });

  it('is refused with a reason before 5.6, where pin_user_pages does not exist', async function () {
    const text = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);\n}\n';
    const { convert } = await fixesOf(text, '5.4');
    assert.deepEqual(convert.edits, []);
    assert.match(convert.disabledReason ?? '', /does not exist before 5\.6/);
  });

  it('rewrites a put_page loop in another function of the file into unpin_user_pages_dirty_lock with the loop\'s condition', async function () {
    const text = [
      'struct mr { struct page **pages; int n; bool dirty; };',
      'int reg(struct mr *mr, unsigned long a)',
      '{',
      '\treturn get_user_pages_fast(a, mr->n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);',
      '}',
      'void dereg(struct mr *mr)',
      '{',
      '\tint i;',
      '\tfor (i = 0; i < mr->n; i++) {',
      '\t\tif (mr->dirty)',
      '\t\t\tset_page_dirty_lock(mr->pages[i]);',
      '\t\tput_page(mr->pages[i]);',
      '\t}',
      '}',
      '',
    ].join('\n');
    const { convert } = await fixesOf(text, '6.1');
    assert.equal(convert.safe, true, convert.title);
    const fixed = applyTo(text, convert);
    assert.match(fixed, /\tunpin_user_pages_dirty_lock\(mr->pages, mr->n, mr->dirty\);\n\}/);
    assert.match(fixed, /pin_user_pages_fast\(a, mr->n, FOLL_WRITE \| FOLL_LONGTERM, mr->pages\)/);
    const again = await analyzeText(fixed, { kernelVersion: '6.1' });
    assert.deepEqual(again.findings.map((f) => f.code), [], 'fixed driver is clean: no FS001 and no FS006');
  });

  it('a helper shared by a caller that pins only for the call keeps its flags: FOLL_LONGTERM is left out, said, and FS005 is what is left', async function () {
    const text = [
      'struct mr { struct page **pages; int n; };',
      'static int pin_buf(unsigned long a, int n, struct page **pages)',
      '{',
      '\treturn get_user_pages_fast(a, n, FOLL_WRITE, pages);',
      '}',
      'int reg_mr(struct mr *mr, unsigned long a) { return pin_buf(a, mr->n, mr->pages); }',
      'void dereg_mr(struct mr *mr) { release_pages(mr->pages, mr->n); }',
      'int copy_once(unsigned long a, struct page **tmp)',
      '{',
      '\tint got = pin_buf(a, 1, tmp);',
      '\tif (got == 1)',
      '\t\tput_page(tmp[0]);',
      '\treturn got;',
      '}',
      '',
    ].join('\n');
    const { convert } = await fixesOf(text, '6.1');
    assert.equal(convert.title, 'Convert to pin_user_pages_fast() and release with unpin_user_pages() (FOLL_LONGTERM is left out because copy_once() at drv.c:10 pins only for the call: pass it from the callers that keep the pages)');
    assert.equal(convert.safe, false, 'never applied by fix-all');
    assert.deepEqual(convert.leaves, ['FS005']);
    const fixed = applyTo(text, convert);
    assert.match(fixed, /\treturn pin_user_pages_fast\(a, n, FOLL_WRITE, pages\);/);
    assert.match(fixed, /unpin_user_pages\(mr->pages, mr->n\)/);
    assert.match(fixed, /\t\tunpin_user_page\(tmp\[0\]\);/, 'the short caller\'s release is converted too');
    const again = await analyzeText(fixed, { kernelVersion: '6.1' });
    assert.deepEqual(again.findings.map((f) => f.code), ['FS005'], 'what is left: the long-lived pin without FOLL_LONGTERM');
  });

  it('converts the release that walks the scatterlist table built from the pages, in another function (put_page(sg_page(sg)))', async function () {
    const text = [
      'struct xmr { struct sg_table sgt; struct page **pages; int n; };',
      'int xreg(struct xmr *mr, unsigned long a)',
      '{',
      '\tint got = get_user_pages_fast(a, mr->n, FOLL_WRITE, mr->pages);',
      '\tif (got != mr->n)',
      '\t\treturn -EFAULT;',
      '\treturn sg_alloc_table_from_pages(&mr->sgt, mr->pages, mr->n, 0, mr->n << PAGE_SHIFT, GFP_KERNEL);',
      '}',
      'void xrelease(struct xmr *mr)',
      '{',
      '\tstruct scatterlist *sg;',
      '\tint i;',
      '',
      '\tfor_each_sg(mr->sgt.sgl, sg, mr->sgt.nents, i)',
      '\t\tput_page(sg_page(sg));',
      '\tsg_free_table(&mr->sgt);',
      '}',
      '',
    ].join('\n');
    const { convert } = await fixesOf(text, '6.1');
    assert.equal(convert.title, 'Convert to pin_user_pages_fast() with FOLL_LONGTERM and release with unpin_user_pages()', 'the release was found: no caveat');
    assert.equal(convert.safe, true);
    const fixed = applyTo(text, convert);
    assert.match(fixed, /\t\tunpin_user_page\(sg_page\(sg\)\);/);
  });

  it('a page pinned into a local and copied into an object is released where that field is (through a helper); a 0/1 flags expression becomes FOLL_WRITE', async function () {
    // google/gasket-driver's gasket_perform_mapping(): get_user_pages_fast(addr, 1, dir != DMA_TO_DEVICE, &page); ptes[i].page = page;
    const text = [
      'struct pte { struct page *page; };',
      'static bool release_one(struct page *page)',
      '{',
      '\tif (!page)',
      '\t\treturn false;',
      '\tput_page(page);',
      '\treturn true;',
      '}',
      'int map_one(struct pte *ptes, int i, unsigned long a, int dir)',
      '{',
      '\tstruct page *page;',
      '\tint ret = get_user_pages_fast(a, 1, dir != DMA_TO_DEVICE, &page);',
      '\tif (ret <= 0)',
      '\t\treturn ret;',
      '\tptes[i].page = page;',
      '\treturn 0;',
      '}',
      'void unmap_one(struct pte *ptes, int i) { release_one(ptes[i].page); }',
      '',
    ].join('\n');
    const { convert } = await fixesOf(text, '6.12');
    const fixed = applyTo(text, convert);
    assert.match(fixed, /\tint ret = pin_user_pages_fast\(a, 1, \(dir != DMA_TO_DEVICE \? FOLL_WRITE : 0\) \| FOLL_LONGTERM, &page\);/);
    assert.match(fixed, /\tunpin_user_page\(page\);/, 'the helper the copy is released through');
    assert.match(convert.title, /a release helper that may serve other pins is changed too/);
    const again = await analyzeText(fixed, { kernelVersion: '6.12' });
    assert.deepEqual(again.findings.map((f) => f.code), []);
  });

  it("converts only the releases of the pinned object's struct, not another struct's field of the same name", async function () {
    // Found in the editor e2e: converting rdma_like_mr.c's mr->pages also rewrote dma_engine_chardev.c's req->pages releases.
    const text = [
      'struct mr { struct page **pages; int n; };',
      'struct req { struct page **pages; int n; };',
      'int reg_mr(struct mr *mr, unsigned long a) { return get_user_pages_fast(a, mr->n, FOLL_WRITE, mr->pages); }',
      'void dereg_mr(struct mr *mr) { release_pages(mr->pages, mr->n); }',
      'void req_done(struct req *req) { release_pages(req->pages, req->n); }',
      '',
    ].join('\n');
    const { convert } = await fixesOf(text, '6.1');
    const fixed = applyTo(text, convert);
    assert.match(fixed, /void dereg_mr\(struct mr \*mr\) \{ unpin_user_pages\(mr->pages, mr->n\); \}/);
    assert.match(fixed, /void req_done\(struct req \*req\) \{ release_pages\(req->pages, req->n\); \}/, 'the other struct keeps its release');
  });

  it('sets VM_DONTCOPY in the mmap handler that creates the pinned mapping: the way each kernel writes vm_flags, and the finding goes', async function () {
    const text = [
      'struct region { unsigned long uaddr; struct page **pages; long n; };',
      'static int region_mmap(struct file *file, struct vm_area_struct *vma)',
      '{',
      '\tstruct region *rg = file->private_data;',
      '',
      '\trg->uaddr = vma->vm_start;',
      '\treturn 0;',
      '}',
      'static long region_pin(struct file *file)',
      '{',
      '\tstruct region *rg = file->private_data;',
      '',
      '\treturn get_user_pages_fast(rg->uaddr, rg->n, FOLL_WRITE, rg->pages);',
      '}',
      'static const struct file_operations fops = { .mmap = region_mmap, .unlocked_ioctl = region_pin };',
      '',
    ].join('\n');
    for (const [kernel, line, after] of [['4.19', '\tvma->vm_flags |= VM_DONTCOPY;', []], ['6.12', '\tvm_flags_set(vma, VM_DONTCOPY);', ['FS004']]] as const) {
      const report = await analyzeText(text, { kernelVersion: kernel });
      const fix = report.findings.find((f) => f.code === 'FS001')?.fixes.find((f) => f.kind === 'vmDontcopy');
      assert.ok(fix, `offered on ${kernel}`);
      assert.equal(fix.safe, false, 'the child loses the mapping: a person decides');
      const fixed = applyTo(text, fix);
      assert.equal(fixed.split('\n')[5], line, fixed);
      const again = await analyzeText(fixed, { kernelVersion: kernel });
      assert.deepEqual(again.findings.map((f) => f.code), after, `on ${kernel} the protection is seen (from 5.6 FS004 still suggests converting)`);
    }
  });

  it('source.fixAll merges the safe fixes of a file and is idempotent', async function () {
    const text = [
      'struct a { struct page **pages; };',
      'int one(struct a *x, unsigned long u) { return get_user_pages_fast(u, 1, FOLL_WRITE, x->pages); }',
      'int two(struct a *x, unsigned long u) { return pin_user_pages_fast(u, 1, FOLL_WRITE, x->pages); }',
      'void drop(struct a *x) { put_page(x->pages[0]); }',
      '',
    ].join('\n');
    const s = await syntax();
    const settings = resolveSettings({ kernelVersion: '6.1' });
    const run = (t: string): string => {
      const r = analyze(s, { uri: 'file:///t/drv.c', text: t }, settings);
      return applyTextEdits(t, combineFixes(r.findings.flatMap((f) => f.fixes.filter((x) => x.safe))));
    };
    const once = run(text);
    assert.notEqual(once, text);
    assert.equal(run(once), once, 'a second fix-all changes nothing');
    assert.equal(countSyntaxErrors(s, once), countSyntaxErrors(s, text));
  });
});
