import * as assert from 'node:assert/strict';
import { simulateFork } from '../../../server/src/simulation/fork';
import { describeOutcome, simulateFinding } from '../../../server/src/simulation/outcome';
import { buildScenario, buildScenarios } from '../../../server/src/simulation/scenario';
import { severityOf } from '../../../server/src/simulation/verdict';
import { NO_PROTECTIONS, inputFor } from './helpers';

describe('simulation/outcome', () => {
  it('builds the orders worth showing from the finding\'s facts', () => {
    const orders = (input: Parameters<typeof buildScenarios>[0]) => buildScenarios(input).map((s) => s.order);
    assert.deepEqual(orders(inputFor('5.4', { longLived: false })), ['child-writes-first', 'parent-writes-first']);
    assert.deepEqual(orders(inputFor('5.4')), ['child-writes-first', 'parent-writes-first', 'child-exits-then-parent-writes']);
    assert.deepEqual(orders(inputFor('5.4', { access: 'read', longLived: false })), [
      'child-writes-first',
      'parent-writes-first',
      'pin-after-fork',
    ]);
  });

  it('ends a short-lived pin with an unpin and keeps a long-lived one', () => {
    const short = buildScenario(inputFor('5.4', { longLived: false }), 'parent-writes-first');
    const long = buildScenario(inputFor('5.4'), 'parent-writes-first');
    assert.equal(short.events[short.events.length - 1]?.kind, 'unpin');
    assert.notEqual(long.events[long.events.length - 1]?.kind, 'unpin');
    assert.equal(simulateFork(short).verdict.window, 'short-io');
    assert.equal(simulateFork(long).verdict.window, 'pin-lifetime');
  });

  it('puts protections before the pin', () => {
    const s = buildScenario(inputFor('5.4', { protections: { dontfork: true, wipeonfork: false, notifier: true } }), 'child-writes-first');
    assert.deepEqual(s.events.slice(0, 3).map((e) => e.kind), ['madvise', 'register-notifier', 'pin']);
  });

  it('picks the worst order: the parent writing first on a mapcount kernel', () => {
    const { results, worst } = simulateFinding(inputFor('4.19'));
    assert.equal(results.length, 3);
    assert.equal(worst.scenario.order, 'parent-writes-first');
    for (const r of results) {
      assert.ok(severityOf(r.verdict) <= severityOf(worst.verdict));
    }
  });

  it('on a refcount kernel, a leak into the live child outranks data lost after the child exits', () => {
    const { worst } = simulateFinding(inputFor('6.1', { longLived: true }));
    // Parent writing first leaks into the live child, which outranks losing the data.
    assert.equal(worst.scenario.order, 'parent-writes-first');
    assert.equal(worst.verdict.childCanReadParentData, true);
  });

  it('says in one sentence how fork() splits the device from the parent', () => {
    const result = simulateFork(buildScenario(inputFor('4.19'), 'parent-writes-first'));
    const sentence = describeOutcome(result);
    assert.match(sentence, /parent write moves the parent to a new page \(0xBEEF\)/);
    assert.match(sentence, /keeps writing the old one \(0xCAFE\), now the child's\.$/);
    assert.equal(sentence.split('. ').length, 1, 'one sentence');
  });

  it('says why a safe outcome is safe', () => {
    const early = simulateFork(buildScenario(inputFor('6.1', { ref: 'pin' }), 'parent-writes-first'));
    assert.match(describeOutcome(early), /copies the pinned page for the child at once \(0xDEAD\)/);
    const dontfork = simulateFork(
      buildScenario(inputFor('4.19', { protections: { ...NO_PROTECTIONS, dontfork: true } }), 'child-writes-first'),
    );
    assert.match(describeOutcome(dontfork), /MADV_DONTFORK.*SIGSEGV/);
    const wipe = simulateFork(
      buildScenario(inputFor('4.19', { protections: { ...NO_PROTECTIONS, wipeonfork: true } }), 'parent-writes-first'),
    );
    assert.match(describeOutcome(wipe), /MADV_WIPEONFORK/);
    const notifier = simulateFork(
      buildScenario(inputFor('4.19', { protections: { ...NO_PROTECTIONS, notifier: true } }), 'parent-writes-first'),
    );
    assert.match(describeOutcome(notifier), /re-faults onto the parent's current page \(0xBEEF\)/);
    const lucky = simulateFork(buildScenario(inputFor('4.19'), 'child-writes-first'));
    assert.match(describeOutcome(lucky), /only because the child wrote first/);
  });

  it('says where the data goes when no process maps the device\'s page any more', () => {
    const result = simulateFork(buildScenario(inputFor('6.1'), 'child-exits-then-parent-writes'));
    assert.match(describeOutcome(result), /no process maps any more \(the child has exited\)/);
  });
});
