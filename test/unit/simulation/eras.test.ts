import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { buildScenario } from '../../../server/src/simulation/scenario';
import { frameOf, inputFor, stepLabelled } from './helpers';

describe('simulation: kernel eras', () => {
  describe('before 5.8: mapcount-based reuse', () => {
    it('the first writer after fork() gets the copy, so the two orders end differently', () => {
      const input = inputFor('5.4');
      const childFirst = simulateFork(buildScenario(input, 'child-writes-first'));
      const parentFirst = simulateFork(buildScenario(input, 'parent-writes-first'));
      assert.equal(childFirst.verdict.diverges, false);
      assert.equal(parentFirst.verdict.diverges, true);
      // After the child's copy the page is mapped once, so the parent's write reuses it despite the GUP reference.
      const parentWrite = stepLabelled(childFirst, 'parent writes');
      assert.deepEqual(parentWrite.effects.reused, { who: 'parent', frame: 0xcafe });
      assert.equal(parentWrite.state.frames.find((f) => f.frame === 0xcafe)?.refcount, 2);
    });

    it('once the child has exited, the parent reuses the pinned page', () => {
      const result = simulateFork(buildScenario(inputFor('4.19'), 'child-exits-then-parent-writes'));
      const write = stepLabelled(result, 'parent writes');
      assert.equal(frameOf(write, 'parent'), 0xcafe);
      assert.equal(write.effects.cow, undefined);
      assert.equal(result.verdict.dmaWritesLandIn, 'parent');
    });
  });

  describe('5.9+: refcount-based reuse (09854ba94c6a)', () => {
    it('a FOLL_GET reference forces a copy on the parent\'s write even after the child has exited', () => {
      for (const kernel of ['5.10', '6.1']) {
        const result = simulateFork(buildScenario(inputFor(kernel), 'child-exits-then-parent-writes'));
        const write = stepLabelled(result, 'parent writes');
        const cafe = result.steps[write.index - 1]?.state.frames.find((f) => f.frame === 0xcafe);
        assert.equal(cafe?.mapcount, 1, 'the parent is the only mapper');
        assert.deepEqual(write.effects.cow, { who: 'parent', from: 0xcafe, to: 0xbeef }, kernel);
        assert.equal(frameOf(write, 'device'), 0xcafe);
        assert.equal(result.verdict.dmaWritesLandIn, 'nowhere', kernel);
        assert.equal(result.verdict.parentReadsStale, true);
      }
    });

    it('the child writing first no longer saves the parent', () => {
      const result = simulateFork(buildScenario(inputFor('5.10'), 'child-writes-first'));
      assert.equal(frameOf(stepLabelled(result, 'child writes'), 'child'), 0xdead);
      assert.equal(frameOf(stepLabelled(result, 'parent writes'), 'parent'), 0xbeef);
      assert.equal(result.verdict.diverges, true);
    });

    it('without early COW (5.9-rc4..rc7 only) a FOLL_PIN pin breaks the same way', () => {
      const input = inputFor('5.9', { ref: 'pin', eraId: 'refcount' });
      const result = simulateFork(buildScenario(input, 'child-exits-then-parent-writes'));
      assert.equal(result.era.id, 'refcount');
      assert.equal(result.verdict.diverges, true);
    });
  });

  describe('5.9+: early COW at fork for FOLL_PIN (70e806e4e645)', () => {
    it('fork() copies a pinned page into the child; the parent keeps it writable and shares it with the device', () => {
      const result = simulateFork(buildScenario(inputFor('5.9', { ref: 'pin' }), 'parent-writes-first'));
      const pin = stepLabelled(result, 'pin_user_pages(FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM)');
      assert.equal(pin.state.mmHasPinned, true);
      assert.equal(pin.state.frames.find((f) => f.frame === 0xcafe)?.refcount, 1 + 1024);
      const fork = stepLabelled(result, 'fork()');
      assert.deepEqual(fork.effects.earlyCopy, { to: 0xdead });
      assert.equal(frameOf(fork, 'child'), 0xdead);
      assert.equal(fork.state.parent.mapping?.writable, true);
      assert.equal(frameOf(stepLabelled(result, 'parent writes'), 'parent'), 0xcafe);
      assert.equal(result.verdict.diverges, false);
      assert.equal(result.verdict.dmaWritesLandIn, 'parent');
    });

    it('FOLL_GET references are not covered', () => {
      const result = simulateFork(buildScenario(inputFor('5.9', { ref: 'get' }), 'parent-writes-first'));
      assert.equal(stepLabelled(result, 'fork()').effects.earlyCopy, undefined);
      assert.equal(result.verdict.dmaWritesLandIn, 'child');
    });

    it('hugetlb pages are copied early only from 5.12 (4eae4efa2c29)', () => {
      const early = simulateFork(buildScenario(inputFor('5.10', { ref: 'pin', hugetlb: true }), 'parent-writes-first'));
      const later = simulateFork(buildScenario(inputFor('5.12', { ref: 'pin', hugetlb: true }), 'parent-writes-first'));
      assert.equal(early.verdict.diverges, true);
      assert.equal(later.verdict.diverges, false);
    });
  });

  describe('5.8: GUP breaks COW even for reads (17839856fd58)', () => {
    it('a read pin taken after fork() lands on the parent\'s own copy in 5.8, but not in 5.7', () => {
      const in58 = simulateFork(buildScenario(inputFor('5.8', { access: 'read' }), 'pin-after-fork'));
      const pin = stepLabelled(in58, 'get_user_pages(FOLL_GET|FOLL_LONGTERM)');
      assert.deepEqual(pin.effects.cow, { who: 'parent', from: 0xcafe, to: 0xbeef });
      assert.equal(in58.verdict.diverges, false);
      const in57 = simulateFork(buildScenario(inputFor('5.7', { access: 'read' }), 'pin-after-fork'));
      assert.equal(in57.verdict.diverges, true);
      assert.equal(in57.verdict.deviceReadsStale, true);
    });
  });

  describe('5.19+: PageAnonExclusive and unshare on read-only FOLL_PIN (6c287605fd56, a7f226604170)', () => {
    it('a read-only FOLL_PIN taken while the page is shared stays coherent from 5.19 on', () => {
      const before = simulateFork(buildScenario(inputFor('5.18', { ref: 'pin', access: 'read' }), 'pin-after-fork'));
      assert.equal(before.verdict.diverges, true);
      assert.equal(before.verdict.deviceReadsStale, true);

      const after = simulateFork(buildScenario(inputFor('5.19', { ref: 'pin', access: 'read' }), 'pin-after-fork'));
      const pin = stepLabelled(after, 'pin_user_pages(FOLL_PIN|FOLL_LONGTERM)');
      assert.deepEqual(pin.effects.unshare, { from: 0xcafe, to: 0xbeef });
      assert.equal(pin.state.parent.mapping?.writable, false, 'unsharing does not make the page writable');
      const write = stepLabelled(after, 'parent writes');
      assert.deepEqual(write.effects.reused, { who: 'parent', frame: 0xbeef });
      assert.equal(after.verdict.diverges, false);
      assert.equal(after.verdict.deviceReadsStale, false);
    });

    it('read-only FOLL_GET references are still not unshared', () => {
      const result = simulateFork(buildScenario(inputFor('6.1', { ref: 'get', access: 'read' }), 'pin-after-fork'));
      assert.equal(result.verdict.diverges, true);
    });
  });
});
