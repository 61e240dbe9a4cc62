import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { buildScenario } from '../../../server/src/simulation/scenario';
import { colourForFrame, escapeXml, renderTimelineSvg } from '../../../server/src/simulation/timelineSvg';
import { inputFor } from './helpers';

function cells(svg: string): string[] {
  return svg.match(/<rect class="cell"[^>]*>/g) ?? [];
}

describe('simulation/timelineSvg', () => {
  const result = simulateFork(buildScenario(inputFor('4.19'), 'parent-writes-first'));

  it('draws one cell per row and step', () => {
    const svg = renderTimelineSvg(result);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.equal(cells(svg).length, 3 * result.steps.length);
    for (const row of ['parent', 'child', 'device']) {
      for (const step of result.steps) {
        assert.ok(svg.includes(`data-row="${row}" data-step="${step.index}"`), `${row}/${step.index}`);
      }
    }
  });

  it('colours cells by frame with a fixed palette', () => {
    const svg = renderTimelineSvg(result);
    const fills = new Map<string, Set<string>>();
    for (const cell of cells(svg)) {
      const title = /data-row="(\w+)" data-step="(\d+)"/.exec(cell);
      const fill = /fill="(#[0-9a-f]{6})"/.exec(cell)?.[1];
      assert.ok(title && fill);
      const step = result.steps[Number(title[2])];
      const row = title[1] as 'parent' | 'child' | 'device';
      const frame = row === 'device' ? step?.state.device.mapping?.frame : step?.state[row].mapping?.frame;
      const key = frame === undefined ? 'none' : String(frame);
      fills.set(key, (fills.get(key) ?? new Set()).add(fill));
    }
    assert.deepEqual([...(fills.get(String(0xcafe)) ?? [])], [colourForFrame(0xcafe)]);
    assert.deepEqual([...(fills.get(String(0xbeef)) ?? [])], [colourForFrame(0xbeef)]);
    assert.notEqual(colourForFrame(0xcafe), colourForFrame(0xbeef));
    assert.notEqual(colourForFrame(0xcafe), colourForFrame(0xdead));
  });

  it('highlights the divergence step, and only when there is one', () => {
    const svg = renderTimelineSvg(result);
    assert.equal((svg.match(/class="divergence"/g) ?? []).length, 1);
    const safe = simulateFork(buildScenario(inputFor('4.19'), 'child-writes-first'));
    assert.equal(safe.verdict.diverges, false);
    assert.equal((renderTimelineSvg(safe).match(/class="divergence"/g) ?? []).length, 0);
  });

  it('labels every step under its column', () => {
    const svg = renderTimelineSvg(result);
    assert.equal((svg.match(/class="step-label"/g) ?? []).length, result.steps.length);
    assert.ok(svg.includes('fork()'));
  });

  it('escapes every text it writes', () => {
    assert.equal(escapeXml(`a<b>&"c"'d`), 'a&lt;b&gt;&amp;&quot;c&quot;&apos;d');
    const hostile = structuredClone(result);
    const step = hostile.steps[1];
    assert.ok(step);
    step.label = '<script>alert("x")</script> & more';
    hostile.scenario.title = 'title <b>&</b>';
    const svg = renderTimelineSvg(hostile);
    assert.ok(!svg.includes('<script>'));
    assert.ok(!svg.includes('<b>'));
    assert.ok(svg.includes('&lt;script&gt;'));
    assert.ok(svg.includes('title &lt;b&gt;&amp;&lt;/b&gt;'));
    // No bare ampersand anywhere: every & starts an entity.
    assert.equal(/&(?!(amp|lt|gt|quot|apos);)/.test(svg), false);
  });
});
