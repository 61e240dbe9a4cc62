// hugetlb memory in the simulator, as the kernel probe found it on a running 6.18 and 6.1's mm/hugetlb.c reads:
// write faults reuse a huge page mapped once whatever other references it has, and MADV_WIPEONFORK fails with EINVAL.
import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { describeOutcome } from '../../../server/src/simulation/outcome';
import { buildScenario } from '../../../server/src/simulation/scenario';
import { NO_PROTECTIONS, inputFor, stepLabelled } from './helpers';

describe('simulation: hugetlb memory', () => {
  for (const kernel of ['4.19', '5.10', '6.1', '6.12']) {
    it(`${kernel}: a FOLL_GET reference on hugetlb stays with the parent when the child writes first (hugetlb_wp reuses a page mapped once)`, () => {
      const hugetlb = simulateFork(buildScenario(inputFor(kernel, { ref: 'get', access: 'read', hugetlb: true }), 'child-writes-first'));
      assert.equal(hugetlb.verdict.deviceSharesWithParent, true);
      assert.match(stepLabelled(hugetlb, 'parent writes').detail, /hugetlb page mapped once \(mapcount 1\), so hugetlb_wp\(\) reuses it/);
      // The same reference on a small page parts from the parent from 5.9 (refcount rule): hugetlb is the exception.
      const small = simulateFork(buildScenario(inputFor(kernel, { ref: 'get', access: 'read' }), 'child-writes-first'));
      assert.equal(small.verdict.deviceSharesWithParent, kernel === '4.19');
    });

    it(`${kernel}: ...and parts from it when the parent writes first (mapped twice, so the parent copies)`, () => {
      const r = simulateFork(buildScenario(inputFor(kernel, { ref: 'get', access: 'read', hugetlb: true }), 'parent-writes-first'));
      assert.equal(r.verdict.deviceSharesWithParent, false);
      assert.match(stepLabelled(r, 'parent writes').detail, /hugetlb page mapped 2 times, so hugetlb_wp\(\) copies it/);
    });
  }

  it('the child exits, then the parent writes: a hugetlb page mapped once again is reused, the device keeps following', () => {
    const r = simulateFork(buildScenario(inputFor('6.12', { ref: 'get', access: 'read', hugetlb: true }), 'child-exits-then-parent-writes'));
    assert.equal(r.verdict.deviceSharesWithParent, true);
    assert.match(describeOutcome(r), /reuses 0xCAFE/);
  });

  it('MADV_WIPEONFORK fails with EINVAL on hugetlb memory: nothing is set and the pin is as unprotected as without it', () => {
    const protections = { ...NO_PROTECTIONS, wipeonfork: true };
    const r = simulateFork(buildScenario(inputFor('6.12', { ref: 'get', access: 'read', hugetlb: true, protections }), 'parent-writes-first'));
    const madvise = stepLabelled(r, 'madvise(MADV_WIPEONFORK)');
    assert.equal(madvise.effects.madviseRejected, 'EINVAL on hugetlb memory');
    assert.match(madvise.detail, /fails with EINVAL/);
    assert.equal(r.steps[r.steps.length - 1]!.state.vma.wipeonfork, false);
    assert.equal(r.verdict.deviceSharesWithParent, false);
    assert.doesNotMatch(describeOutcome(r), /MADV_WIPEONFORK gives the child/);
    // On small pages the same advice is applied and protects.
    const small = simulateFork(buildScenario(inputFor('6.12', { ref: 'get', access: 'read', protections }), 'parent-writes-first'));
    assert.equal(small.verdict.deviceSharesWithParent, true);
    assert.match(describeOutcome(small), /MADV_WIPEONFORK gives the child the range empty/);
  });
});
