// Hand-back functions and the GUP implementation (issue 28): judged by the callers that keep the pages, quiet when
// the callers are outside the analysed code, and a compat definition of a missing API is not the GUP implementation.
import { strict as assert } from 'assert';
import { analyzeText } from '../../helpers/syntax';
import { siteHover } from '../../../server/src/explain/hover';
import { simulateFinding } from '../../../server/src/simulation/outcome';

const HELPER = 'struct page *hb_get(unsigned long a)\n{\n\tstruct page *page;\n\n\tif (get_user_pages_fast(a, 1, FOLL_WRITE, &page) != 1)\n\t\treturn NULL;\n\treturn page;\n}\n';

describe('hand-back functions and the GUP implementation', function () {
  it('no caller in the analysed code: no finding, and the hover says the callers decide', async function () {
    const r = await analyzeText(HELPER);
    assert.deepEqual(r.findings, []);
    const site = r.sites?.[0];
    assert.ok(site, 'the site is still explained');
    assert.equal(site.facts.lifetimeReason, 'handed-back');
    assert.match(siteHover(site, simulateFinding(site.scenario).worst, {}), /handed back to callers outside the analysed code/);
  });

  it('a caller that keeps the page makes the pin loud, on the pin, that caller first among the related locations', async function () {
    const r = await analyzeText(`${HELPER}struct ctx { struct page *ring; };\nint ctx_setup(struct ctx *c, unsigned long a)\n{\n\tc->ring = hb_get(a);\n\treturn c->ring ? 0 : -EFAULT;\n}\n`);
    assert.deepEqual(r.findings.map((f) => [f.code, f.span.start.line]), [['FS001', 4]]);
    assert.ok(r.findings[0].related.some((x) => x.span.start.line === 11 && /ring/.test(x.message)), JSON.stringify(r.findings[0].related.map((x) => x.message)));
  });

  it('a caller that releases at once leaves a short-lived pin (FS007 hint at most)', async function () {
    const r = await analyzeText(`${HELPER}int peek(unsigned long a)\n{\n\tstruct page *p = hb_get(a);\n\n\tif (!p)\n\t\treturn -EFAULT;\n\tput_page(p);\n\treturn 0;\n}\n`);
    assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['FS007', 'hint']]);
  });

  it('a file defining the pin APIs the kernel has is the GUP implementation; a compat definition for an older kernel is not', async function () {
    const impl = 'int get_user_pages_fast(unsigned long s, int n, unsigned int f, struct page **p)\n{\n\treturn walk(s, n, f, p);\n}\nstruct page *dump_page(unsigned long a)\n{\n\tstruct page *p;\n\tget_user_pages_fast(a, 1, FOLL_WRITE, &p);\n\tg_dump = p;\n\treturn 0;\n}\n';
    assert.deepEqual((await analyzeText(impl.replace('g_dump = p;\n\treturn 0;', 'return p;'))).findings, []);
    assert.deepEqual((await analyzeText(impl)).findings, [], 'even a pin kept in a global is how the implementation works');
    // On 5.4 pin_user_pages_fast() does not exist: a driver defining it is a compat shim, and its own pins are judged.
    const shim = '#include <linux/version.h>\n#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 6, 0)\nlong pin_user_pages_fast(unsigned long s, int n, unsigned int f, struct page **p)\n{\n\treturn get_user_pages_fast(s, n, f, p);\n}\n#endif\nstruct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a)\n{\n\treturn pin_user_pages_fast(a, 1, FOLL_WRITE, mr->pages);\n}\n';
    const old = await analyzeText(shim, { kernelVersion: '5.4' });
    assert.ok(old.findings.some((f) => f.code === 'FS001' || f.code === 'FS005'), JSON.stringify(old.findings.map((f) => [f.code, f.span.start.line])));
  });
});
