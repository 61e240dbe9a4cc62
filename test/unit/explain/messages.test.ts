// The first sentence of a pin finding names the call, the buffer and the consequence, so that findings in one file
// read differently in a Problems panel (issue 16).
import { strict as assert } from 'assert';
import { analyzeText } from '../../helpers/syntax';
import { headlineOf } from '../../../server/src/cli/explainFinding';

const DRIVER = [
  'struct mr { struct page **pages; struct page **ring; struct page *hdr; };',
  'int reg(struct mr *mr, unsigned long a, unsigned long b, unsigned long c)',
  '{',
  '\tget_user_pages(a, 4, FOLL_WRITE, mr->pages);',
  '\tget_user_pages_fast(b, 4, 0, mr->ring);',
  '\tpin_user_pages_fast(c, 1, FOLL_WRITE, &mr->hdr);',
  '\treturn 0;',
  '}',
  '',
].join('\n');

describe('explain/messages: headlines', function () {
  it('each finding opens with its call, its buffer and what fork() does, short enough for one Problems row', async function () {
    const r = await analyzeText(DRIVER, { kernelVersion: '6.1' });
    const heads = r.findings.map((f) => [f.code, headlineOf(f.message)]);
    assert.deepEqual(heads.map(([c]) => c), ['FS001', 'FS002', 'FS005']);
    assert.match(heads[0][1], /^get_user_pages\(\) pins mr->pages writable past the call: after fork\(\) /);
    assert.match(heads[1][1], /^get_user_pages_fast\(\) pins mr->ring read-only past the call: .*stale data\.$/);
    assert.match(heads[2][1], /^pin_user_pages_fast\(\) keeps mr->hdr pinned past the call without FOLL_LONGTERM\.$/);
    for (const [, h] of heads) assert.ok(h.length <= 130, `${h.length} characters: ${h}`);
    assert.equal(new Set(heads.map(([, h]) => h)).size, heads.length, 'no two headlines alike');
    // The simulated outcome, the why and the fix still follow.
    assert.match(r.findings[0].message, /After fork\(\), a parent write .* Why: .* Fix: /);
  });
});
