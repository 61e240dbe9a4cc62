// Hover markdown pieces: user code can never become markup, and the before/after table follows the trace.
import { strict as assert } from 'assert';
import { beforeAfterTable, escapeMarkdown, inlineCode, isHoverKeyword, keywordHover } from '../../../server/src/explain/hover';
import { simulateFinding } from '../../../server/src/simulation/outcome';

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

  it('knows the flag, madvise and notifier names, and nothing else', function () {
    for (const w of ['FOLL_WRITE', 'FOLL_LONGTERM', 'FOLL_PIN', 'MADV_DONTFORK', 'VM_DONTCOPY', 'mmu_interval_notifier_insert', 'mmu_notifier_register']) assert.ok(isHoverKeyword(w), w);
    assert.equal(isHoverKeyword('get_user_pages'), false);
    assert.equal(isHoverKeyword('toString'), false, 'no prototype names');
    assert.equal(keywordHover('constructor', { version: { major: 6, minor: 1 }, source: '' }), undefined);
    assert.match(keywordHover('MADV_DONTFORK', { version: { major: 5, minor: 4 }, source: 'from settings' }) ?? '', /analysed for kernel 5\.4 \(from settings\): \*mapcount reuse/);
  });
});
