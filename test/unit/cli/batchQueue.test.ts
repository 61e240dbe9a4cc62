// The order folder batches are handed to scan workers in (BatchQueue, cli/folderWorkers.ts): never two heavy batches
// out at once (without the prefilter a heavy batch holds a folder of generated headers whole), light batches in queue
// order, every batch handed out exactly once, and no worker left waiting for ever.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BatchQueue, batchBytes } from '../../../server/src/cli/folderWorkers';
import { Random, seedFromEnv } from '../../helpers/random';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0xba7c4);

describe('BatchQueue: which folder batch a scan worker takes next', () => {
  it('hands out light batches in order and holds a heavy one back while another is out', () => {
    const q = new BatchQueue();
    [false, true, true, false, false, true].forEach((heavy, id) => q.push(id, heavy));
    assert.equal(q.take(), 0);
    assert.equal(q.take(), 1); // heavy, none out
    assert.equal(q.take(), 3); // 2 is heavy and 1 is out: the light ones after it go first
    assert.equal(q.take(), 4);
    assert.equal(q.take(), undefined); // only heavy ones wait
    assert.equal(q.done(3), false);
    assert.equal(q.done(1), true);
    assert.equal(q.take(), 2);
    assert.equal(q.take(), undefined);
    assert.equal(q.size, 1);
    assert.deepStrictEqual(q.drain(), [5]);
    assert.equal(q.size, 0);
  });

  it(`simulated workers: every batch once, at most one heavy out, light ones in order, never stuck (seed ${SEED.toString(16)})`, () => {
    const r = new Random(SEED);
    for (let round = 0; round < 200; round++) {
      const q = new BatchQueue();
      const count = r.int(0, 40);
      const heavy = Array.from({ length: count }, () => r.chance(0.3));
      const queuedAtStart = r.int(0, count);
      for (let id = 0; id < queuedAtStart; id++) q.push(id, heavy[id]!);
      let queued = queuedAtStart;
      const workers: number[][] = Array.from({ length: r.int(1, 3) }, () => []);
      const given: number[] = [];
      let heavyOut = 0;
      for (let steps = 0; given.length < count || workers.some((w) => w.length > 0); steps++) {
        assert.ok(steps < 10000, `round ${round}: stuck with ${q.size} waiting`);
        // The queue grows while the walk goes on; every worker tops up to two batches; one finishes its first.
        if (queued < count && r.chance(0.5)) { q.push(queued, heavy[queued]!); queued++; }
        for (const w of workers) {
          while (w.length < 2) {
            const id = q.take();
            if (id === undefined) break;
            if (heavy[id]) heavyOut++;
            assert.ok(heavyOut <= 1, `round ${round}: two heavy batches out`);
            w.push(id);
            given.push(id);
          }
        }
        const busy = workers.filter((w) => w.length > 0);
        if (busy.length > 0) {
          const id = r.pick(busy).shift()!;
          if (q.done(id)) heavyOut--;
        } else if (queued === count) {
          assert.equal(q.size, 0, `round ${round}: batches wait with every worker idle`);
        }
      }
      assert.deepStrictEqual([...given].sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i), `round ${round}: each batch once`);
      const light = given.filter((id) => !heavy[id]);
      assert.deepStrictEqual(light, [...light].sort((a, b) => a - b), `round ${round}: light batches out of order`);
    }
  });

  it('weighs a batch by the sources of its folders within the size limit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-weigh-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.c'), 'x'.repeat(100));
      fs.writeFileSync(path.join(dir, 'b.h'), 'x'.repeat(5000));
      const batch = { targets: [path.join(dir, 'a.c')], folderSources: [[dir, [path.join(dir, 'a.c'), path.join(dir, 'b.h'), path.join(dir, 'gone.c')]]] as Array<[string, string[]]> };
      assert.equal(batchBytes(batch, 10000), 5100);
      assert.equal(batchBytes(batch, 1000), 100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
