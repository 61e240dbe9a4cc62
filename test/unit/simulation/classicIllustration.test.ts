import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { buildScenario } from '../../../server/src/simulation/scenario';
import { frameOf, inputFor, stepLabelled } from './helpers';

// Before fork, parent CPU and device map ptr1 to 0xCAFE. After fork either the child moves to 0xDEAD
// (parent and device stay on 0xCAFE) or the parent moves to 0xBEEF (child and device stay on 0xCAFE).
describe('simulation: the classic illustration (4.19, get_user_pages for DMA writes)', () => {
  const input = inputFor('4.19');

  it('before fork, the parent and the device both map 0xCAFE', () => {
    const result = simulateFork(buildScenario(input, 'parent-writes-first'));
    const fork = stepLabelled(result, 'fork()');
    const beforeFork = result.steps[fork.index - 1];
    assert.ok(beforeFork);
    assert.equal(frameOf(beforeFork, 'parent'), 0xcafe);
    assert.equal(frameOf(beforeFork, 'device'), 0xcafe);
    assert.equal(frameOf(beforeFork, 'child'), undefined);
    assert.equal(frameOf(fork, 'child'), 0xcafe);
  });

  it('child writes first: the child moves to 0xDEAD, parent and device stay on 0xCAFE', () => {
    const result = simulateFork(buildScenario(input, 'child-writes-first'));
    const write = stepLabelled(result, 'child writes');
    assert.equal(frameOf(write, 'child'), 0xdead);
    assert.equal(frameOf(write, 'parent'), 0xcafe);
    assert.equal(frameOf(write, 'device'), 0xcafe);
    assert.deepEqual(write.effects.cow, { who: 'child', from: 0xcafe, to: 0xdead });
    const dma = stepLabelled(result, 'device DMA write');
    assert.equal(dma.effects.dmaWriteLanded, 'parent');
    assert.equal(result.verdict.diverges, false);
    assert.equal(result.verdict.deviceSharesWithParent, true);
  });

  it('parent writes first: the parent moves to 0xBEEF, child and device stay on 0xCAFE, DMA lands in the child', () => {
    const result = simulateFork(buildScenario(input, 'parent-writes-first'));
    const write = stepLabelled(result, 'parent writes');
    assert.equal(frameOf(write, 'parent'), 0xbeef);
    assert.equal(frameOf(write, 'child'), 0xcafe);
    assert.equal(frameOf(write, 'device'), 0xcafe);
    assert.equal(write.diverged, true);
    const dma = stepLabelled(result, 'device DMA write');
    assert.equal(dma.effects.dmaWriteLanded, 'child');
    const cafe = dma.state.frames.find((f) => f.frame === 0xcafe);
    assert.deepEqual(cafe?.mappedBy, ['child', 'device']);
    assert.equal(result.verdict.dmaWritesLandIn, 'child');
    assert.equal(result.verdict.childCanReadParentData, true);
    assert.equal(result.verdict.parentReadsStale, true);
    assert.equal(result.verdict.divergenceStep, write.index);
  });
});
