// Hover markdown pieces: user code can never become markup, and the before/after table follows the trace.
import { strict as assert } from 'assert';
import { beforeAfterTable, escapeMarkdown, inlineCode, isHoverKeyword, keywordHover } from '../../../server/src/explain/hover';
import { simulateFinding } from '../../../server/src/simulation/outcome';
import { siteHover } from '../../../server/src/explain/hover';
import { analyzeText } from '../../helpers/syntax';

describe('explain/hover', function () {
  it('inline code fences outlast any backtick run in the code and flatten newlines', function () {
    assert.equal(inlineCode('a`b'), '``a`b``');
    assert.equal(inlineCode('`x`'), '`` `x` ``');
    assert.equal(inlineCode('f(a,\n\t b)'), '`f(a, b)`');
  });

  it('escapes markdown and HTML punctuation in plain text', function () {
    assert.equal(escapeMarkdown('<img src=x> *a* [l](u) a|b'), '&lt;img src=x&gt; \\*a\\* \\[l\\](u) a\\|b');
  });

  it('the table shows the frames before fork(), where the device and the parent part, and at the end', function () {
    const { worst } = simulateFinding({ kernel: { major: 4, minor: 19 }, ref: 'get', access: 'write', longterm: false, longLived: true, protections: { dontfork: false, wipeonfork: false, notifier: false } });
    const lines = beforeAfterTable(worst).split('\n');
    assert.equal(lines[0], `| | before fork() | step ${worst.verdict.divergenceStep}: parent writes | after step ${worst.steps.length - 1} |`);
    assert.match(lines[2], /^\| \*\*parent\*\* \| 0xCAFE rw: parent data #1 \| 0xBEEF rw/);
    assert.match(lines[4], /^\| \*\*device\*\* \| 0xCAFE: parent data #1 \|/);
    const safe = simulateFinding({ kernel: { major: 6, minor: 1 }, ref: 'get', access: 'write', longterm: false, longLived: true, protections: { dontfork: true, wipeonfork: false, notifier: false } });
    assert.equal(beforeAfterTable(safe.worst).split('\n')[0], `| | before fork() | after step ${safe.worst.steps.length - 1} |`, 'no divergence column when nothing parts');
  });

  it('names what the flags resolve to (a conditional FOLL_WRITE too), a single page passed by address, and which flag a condition adds (issue 16)', async function () {
    const text = [
      'struct umem { struct page *page; bool writable; };',
      'int reg(struct umem *umem, unsigned long a)',
      '{',
      '\tunsigned int gup_flags = FOLL_LONGTERM;',
      '',
      '\tif (umem->writable)',
      '\t\tgup_flags |= FOLL_WRITE;',
      '\tif (!umem->writable)',
      '\t\tgup_flags |= FOLL_FORCE;',
      '\treturn get_user_pages_fast(a, 1, gup_flags, &umem->page);',
      '}',
      '',
    ].join('\n');
    const report = await analyzeText(text, { kernelVersion: '6.1' });
    const site = report.sites?.find((x) => x.api === 'get_user_pages_fast');
    assert.ok(site, 'the site');
    const md = siteHover(site, simulateFinding(site.scenario).worst, {});
    assert.match(md, /\*\*flags:\*\* `gup_flags` \(FOLL_WRITE on some paths; FOLL_LONGTERM\)/, md);
    assert.match(md, /\*\*pages:\*\* written into `umem->page` \(passed as `&umem->page`\)/, md);
    const all = JSON.stringify(report);
    assert.match(all, /FOLL_FORCE is added only when !umem->writable/);
    assert.doesNotMatch(all, /set only when !umem->writable/);
  });

  it('knows the flag, madvise and notifier names, and nothing else', function () {
    for (const w of ['FOLL_WRITE', 'FOLL_LONGTERM', 'FOLL_PIN', 'MADV_DONTFORK', 'VM_DONTCOPY', 'mmu_interval_notifier_insert', 'mmu_notifier_register']) assert.ok(isHoverKeyword(w), w);
    assert.equal(isHoverKeyword('get_user_pages'), false);
    assert.equal(isHoverKeyword('toString'), false, 'no prototype names');
    assert.equal(keywordHover('constructor', { version: { major: 6, minor: 1 }, source: '' }), undefined);
    assert.match(keywordHover('MADV_DONTFORK', { version: { major: 5, minor: 4 }, source: 'from settings' }) ?? '', /analysed for kernel 5\.4 \(from settings\): \*mapcount reuse/);
  });
});
