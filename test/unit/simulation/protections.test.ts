import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { buildScenario } from '../../../server/src/simulation/scenario';
import { NO_PROTECTIONS, frameOf, inputFor, stepLabelled } from './helpers';

describe('simulation: protections', () => {
  describe('MADV_DONTFORK (VM_DONTCOPY)', () => {
    const input = inputFor('4.19', { protections: { ...NO_PROTECTIONS, dontfork: true } });

    it('the child has no mapping at all, and touching the range kills it with SIGSEGV instead of reading zeros', () => {
      const result = simulateFork(buildScenario(input, 'child-writes-first'));
      const fork = stepLabelled(result, 'fork()');
      assert.equal(fork.state.child.status, 'running');
      assert.equal(fork.state.child.hasVma, false);
      assert.equal(fork.state.child.mapping, undefined);
      assert.equal(fork.state.parent.mapping?.writable, true, 'the parent PTE is not write-protected');
      const touch = stepLabelled(result, 'child writes');
      assert.equal(touch.state.child.status, 'killed');
      assert.match(touch.effects.fault ?? '', /SIGSEGV/);
      assert.equal(result.verdict.faults.length, 1);
      assert.equal(result.verdict.diverges, false);
      assert.equal(result.verdict.dmaWritesLandIn, 'parent');
    });

    it('a child read faults too', () => {
      const result = simulateFork(buildScenario(input, 'parent-writes-first'));
      const read = stepLabelled(result, 'child reads');
      assert.equal(read.state.child.status, 'killed');
      assert.equal(read.state.child.mapping, undefined);
      assert.equal(result.verdict.childCanReadParentData, false);
    });
  });

  describe('MADV_WIPEONFORK', () => {
    const input = inputFor('4.19', { protections: { ...NO_PROTECTIONS, wipeonfork: true } });

    it('the child reads zeros from the zero page', () => {
      const result = simulateFork(buildScenario(input, 'parent-writes-first'));
      const fork = stepLabelled(result, 'fork()');
      assert.equal(fork.state.child.hasVma, true);
      assert.equal(fork.state.child.mapping, undefined);
      const read = stepLabelled(result, 'child reads');
      assert.equal(read.state.child.mapping?.frame, 0);
      assert.equal(read.state.child.mapping?.contents, 'zeros');
      assert.equal(result.verdict.diverges, false);
      assert.equal(result.verdict.childCanReadParentData, false);
    });

    it('a child write gets a fresh zeroed page, never the pinned one', () => {
      const result = simulateFork(buildScenario(input, 'child-writes-first'));
      const write = stepLabelled(result, 'child writes');
      assert.equal(frameOf(write, 'child'), 0xdead);
      assert.equal(write.state.child.mapping?.origin, 'child');
      assert.equal(frameOf(write, 'parent'), 0xcafe);
      assert.equal(result.verdict.dmaWritesLandIn, 'parent');
    });
  });

  describe('mmu notifier', () => {
    it('fork() and the parent\'s COW invalidate the device, which re-faults onto the parent\'s new page', () => {
      const input = inputFor('4.19', { protections: { ...NO_PROTECTIONS, notifier: true } });
      const result = simulateFork(buildScenario(input, 'parent-writes-first'));
      const write = stepLabelled(result, 'parent writes');
      assert.equal(frameOf(write, 'parent'), 0xbeef);
      assert.equal(write.state.device.status, 'invalidated');
      const dma = stepLabelled(result, 'device DMA write');
      assert.deepEqual(dma.effects.refault, { frame: 0xbeef });
      assert.equal(frameOf(dma, 'device'), 0xbeef);
      assert.equal(dma.effects.dmaWriteLanded, 'parent');
      assert.equal(result.verdict.diverges, false);
      assert.equal(result.verdict.childCanReadParentData, false);
      assert.equal(result.verdict.parentReadsStale, false);
    });

    it('follows the parent in the refcount era after the child exits, too', () => {
      const input = inputFor('6.1', { protections: { ...NO_PROTECTIONS, notifier: true } });
      const result = simulateFork(buildScenario(input, 'child-exits-then-parent-writes'));
      assert.equal(result.verdict.diverges, false);
      assert.equal(result.verdict.dmaWritesLandIn, 'parent');
    });
  });
});
