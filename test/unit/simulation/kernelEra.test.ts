import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  KERNEL_ERAS,
  NEWEST_MODELLED_KERNEL,
  compareKernelVersions,
  eraById,
  eraFor,
  formatKernelVersion,
  parseKernelVersion,
} from '../../../server/src/simulation/kernelEra';

describe('simulation/kernelEra', () => {
  it('parses the version spellings found in Makefiles, uname and docs', () => {
    assert.deepEqual(parseKernelVersion('5.4'), { major: 5, minor: 4 });
    assert.deepEqual(parseKernelVersion('6.1.12'), { major: 6, minor: 1 });
    assert.deepEqual(parseKernelVersion('v4.19'), { major: 4, minor: 19 });
    assert.deepEqual(parseKernelVersion('5.19.0-rc3'), { major: 5, minor: 19 });
    assert.deepEqual(parseKernelVersion(' Linux 5.10 '), { major: 5, minor: 10 });
  });

  it('rejects what is not a version', () => {
    for (const text of ['', 'five', '5', '5.x', '4.19abc', '1.2', 'v', '5..4']) {
      assert.equal(parseKernelVersion(text), undefined, text);
    }
  });

  it('formats what it parses', () => {
    for (const text of ['4.19', '5.9', '6.12']) {
      const v = parseKernelVersion(text);
      assert.ok(v);
      assert.equal(formatKernelVersion(v), text);
    }
    assert.equal(formatKernelVersion(NEWEST_MODELLED_KERNEL), '6.12');
  });

  it('puts each released kernel in the era of the commits it contains', () => {
    const cases: Array<[string, string]> = [
      ['2.6', 'mapcount'],
      ['4.19', 'mapcount'],
      ['5.7', 'mapcount'],
      ['5.8', 'gup-breaks-cow'],
      // 09854ba94c6a and 70e806e4e645 both shipped in 5.9, so no release has refcount reuse without early COW.
      ['5.9', 'early-cow'],
      ['5.18', 'early-cow'],
      ['5.19', 'anon-exclusive'],
      ['6.12', 'anon-exclusive'],
      ['7.3', 'anon-exclusive'],
    ];
    for (const [version, era] of cases) {
      const v = parseKernelVersion(version);
      assert.ok(v);
      assert.equal(eraFor(v).id, era, version);
    }
  });

  it('lists eras oldest first, each with a commit id, and finds them by id', () => {
    for (let i = 1; i < KERNEL_ERAS.length; i += 1) {
      const prev = KERNEL_ERAS[i - 1];
      const era = KERNEL_ERAS[i];
      assert.ok(prev && era);
      assert.ok(compareKernelVersions(prev.from, era.from) <= 0, `${prev.id} before ${era.id}`);
    }
    for (const era of KERNEL_ERAS) {
      assert.match(era.commit, /^[0-9a-f]{12} /, era.id);
      assert.equal(eraById(era.id), era);
    }
    assert.equal(eraById('nonsense'), undefined);
  });

  it('is documented: docs/simulation.md names every era commit and its first version', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../../../docs/simulation.md'), 'utf8');
    for (const era of KERNEL_ERAS) {
      const id = era.commit.slice(0, 12);
      assert.ok(doc.includes(id), `docs/simulation.md lacks ${id} (${era.id})`);
      assert.ok(doc.includes(formatKernelVersion(era.from)), `docs/simulation.md lacks ${formatKernelVersion(era.from)}`);
    }
  });
});
