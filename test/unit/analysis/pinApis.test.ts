// Checks the pin/release API table: that it is self-consistent, and that call shapes from real drivers resolve to the right layout.
import { strict as assert } from 'node:assert';
import {
  FOLL_FLAGS,
  PIN_APIS,
  PIN_API_EARLIEST_PIN_USER_PAGES,
  RELEASE_APIS,
  compareKernelVersions,
  findPinApi,
  findReleaseApi,
  nearestSignature,
  refKindOf,
  releaseKindAt,
  signatureFor,
  signatureForArgCount,
  type KernelVersionLite,
  type PinApi,
  type PinApiSignature,
} from '../../../server/src/analysis/pinApis';

const v = (major: number, minor: number): KernelVersionLite => ({ major, minor });

function api(name: string): PinApi {
  const found = findPinApi(name);
  assert.ok(found, `${name} is in the table`);
  return found;
}

function mainline(a: PinApi): PinApiSignature[] {
  return a.signatures.filter((s) => s.backport === undefined);
}

describe('pinApis table', () => {
  it('has unique API names', () => {
    const names = PIN_APIS.map((a) => a.name);
    assert.equal(new Set(names).size, names.length);
    const releases = RELEASE_APIS.map((r) => r.name);
    assert.equal(new Set(releases).size, releases.length);
  });

  for (const a of PIN_APIS) {
    describe(a.name, () => {
      it('has mainline ranges ordered, non-empty and non-overlapping', () => {
        const sigs = mainline(a);
        assert.ok(sigs.length > 0);
        for (const s of sigs) {
          if (s.until) assert.ok(compareKernelVersions(s.from, s.until) < 0, `${a.name}: empty range at ${s.params.join(',')}`);
        }
        for (let i = 1; i < sigs.length; i++) {
          const prev = sigs[i - 1]!;
          const cur = sigs[i]!;
          assert.ok(prev.until, `${a.name}: only the last layout may be open-ended`);
          assert.ok(compareKernelVersions(prev.until, cur.from) <= 0, `${a.name}: layouts overlap at ${cur.from.major}.${cur.from.minor}`);
        }
      });

      it('has every index inside its parameter list and pointing at the right name', () => {
        for (const s of a.signatures) {
          const n = s.params.length;
          const check = (index: number | undefined, names: string[], what: string): void => {
            if (index === undefined) return;
            assert.ok(index >= 0 && index < n, `${a.name}: ${what} index ${index} out of range`);
            assert.ok(names.includes(s.params[index]!), `${a.name}: ${what} points at ${s.params[index]}`);
          };
          check(s.startIndex, ['start'], 'start');
          check(s.nrPagesIndex, ['nr_pages', 'nr_frames'], 'nr_pages');
          check(s.flagsIndex, s.flagsStyle === 'gup_flags' ? ['gup_flags'] : ['write'], 'flags');
          check(s.forceIndex, ['force'], 'force');
          check(s.pagesIndex, ['pages'], 'pages');
          check(s.frameVectorIndex, ['vec'], 'frame vector');
          check(s.vmasIndex, ['vmas'], 'vmas');
          check(s.lockedIndex, ['locked'], 'locked');
          check(s.mmIndex, ['mm'], 'mm');
          check(s.taskIndex, ['tsk'], 'tsk');
          if (s.flagsStyle === 'none') assert.equal(s.flagsIndex, undefined);
          else assert.notEqual(s.flagsIndex, undefined, `${a.name}: ${s.flagsStyle} without flagsIndex`);
          assert.equal(s.forceIndex !== undefined, s.flagsStyle === 'write_force_ints');
          if (a.kind === 'pages') assert.notEqual(s.pagesIndex, undefined, `${a.name}: no pages out-array`);
          else assert.notEqual(s.frameVectorIndex, undefined, `${a.name}: no frame vector`);
          assert.ok(s.source.length > 0);
        }
      });

      it('names an existing pin API as its pin equivalent', () => {
        if (a.pinEquivalent === undefined) return;
        const target = api(a.pinEquivalent);
        assert.equal(target.ref, 'pin');
      });

      it('marks pin APIs as implying FOLL_PIN', () => {
        for (const s of a.signatures) {
          if (refKindOf(a, s) === 'pin') assert.ok(s.impliedFlags?.includes('FOLL_PIN'), `${a.name} from ${s.from.major}.${s.from.minor}`);
        }
      });
    });
  }

  it('gives every get_user_pages* API that a pin variant replaces a pin equivalent', () => {
    for (const name of ['get_user_pages', 'get_user_pages_fast', 'get_user_pages_remote', 'get_user_pages_unlocked', 'get_user_pages_fast_only']) {
      assert.ok(api(name).pinEquivalent, `${name} has no pinEquivalent`);
    }
  });

  it('starts pin_user_pages* at v5.6', () => {
    assert.deepEqual(PIN_API_EARLIEST_PIN_USER_PAGES, v(5, 6));
    for (const name of ['pin_user_pages', 'pin_user_pages_fast', 'pin_user_pages_remote']) {
      assert.deepEqual(api(name).signatures[0]!.from, PIN_API_EARLIEST_PIN_USER_PAGES);
    }
    assert.equal(signatureFor(api('pin_user_pages'), v(5, 5)), undefined);
  });

  it('keeps release API ranges and eras consistent', () => {
    for (const r of RELEASE_APIS) {
      if (r.from && r.until) assert.ok(compareKernelVersions(r.from, r.until) < 0, r.name);
      assert.ok(r.source.length > 0);
    }
    assert.equal(findReleaseApi('unpin_user_pages')?.releases, 'pin');
    assert.equal(findReleaseApi('put_page')?.releases, 'get');
    const pvf = findReleaseApi('put_vaddr_frames');
    assert.ok(pvf);
    assert.equal(releaseKindAt(pvf, v(5, 4)), 'get');
    assert.equal(releaseKindAt(pvf, v(6, 1)), 'pin');
  });

  it('dates the FOLL flags the engine relies on', () => {
    const flag = (name: string) => FOLL_FLAGS.find((f) => f.name === name);
    assert.deepEqual(flag('FOLL_LONGTERM')?.from, v(5, 2));
    assert.deepEqual(flag('FOLL_PIN')?.from, v(5, 6));
    assert.ok(flag('FOLL_WRITE'));
    assert.ok(flag('FOLL_FORCE'));
  });
});

describe('signatureFor', () => {
  it('answers with the mainline layout of the era', () => {
    assert.equal(signatureFor(api('get_user_pages'), v(4, 4))?.params.length, 8);
    assert.equal(signatureFor(api('get_user_pages'), v(4, 8))?.flagsStyle, 'write_force_ints');
    assert.equal(signatureFor(api('get_user_pages'), v(5, 10))?.vmasIndex, 4);
    assert.equal(signatureFor(api('get_user_pages'), v(6, 5))?.vmasIndex, undefined);
    assert.equal(signatureFor(api('get_user_pages_locked'), v(5, 18)), undefined);
    assert.equal(signatureFor(api('get_user_pages_longterm'), v(5, 2)), undefined);
    assert.deepEqual(signatureFor(api('get_user_pages_longterm'), v(4, 19))?.impliedFlags, ['FOLL_LONGTERM']);
  });

  it('knows get_vaddr_frames pins from v5.8', () => {
    const gvf = api('get_vaddr_frames');
    assert.equal(refKindOf(gvf, signatureFor(gvf, v(5, 4))!), 'get');
    assert.equal(refKindOf(gvf, signatureFor(gvf, v(5, 10))!), 'pin');
    assert.ok(signatureFor(gvf, v(6, 6))?.impliedFlags?.includes('FOLL_LONGTERM'));
  });
});

describe('signatureForArgCount', () => {
  it('reads get_user_pages_fast(addr, n, 1, pages) as write at 5.1 and as gup_flags at 5.4', () => {
    const gupf = api('get_user_pages_fast');
    assert.equal(signatureForArgCount(gupf, 4, v(5, 1))?.flagsStyle, 'write_int');
    assert.equal(signatureForArgCount(gupf, 4, v(5, 4))?.flagsStyle, 'gup_flags');
    assert.equal(signatureForArgCount(gupf, 4, v(5, 4))?.flagsIndex, 2);
    assert.equal(signatureForArgCount(gupf, 4, v(5, 4))?.pagesIndex, 3);
  });

  it('reads an 8-argument get_user_pages as the old task/mm form whatever the version', () => {
    const gup = api('get_user_pages');
    for (const version of [undefined, v(3, 10), v(6, 8)]) {
      const s = signatureForArgCount(gup, 8, version);
      assert.equal(s?.taskIndex, 0);
      assert.equal(s?.mmIndex, 1);
      assert.equal(s?.flagsIndex, 4);
      assert.equal(s?.forceIndex, 5);
      assert.equal(s?.pagesIndex, 6);
      assert.equal(s?.vmasIndex, 7);
    }
  });

  it('tells the 5-argument get_user_pages forms apart: vmas until 6.5, none at 6.5 with 4', () => {
    const gup = api('get_user_pages');
    const five = signatureForArgCount(gup, 5, v(6, 5));
    assert.equal(five?.flagsStyle, 'gup_flags');
    assert.equal(five?.vmasIndex, 4);
    const four = signatureForArgCount(gup, 4, v(6, 5));
    assert.equal(four?.vmasIndex, undefined);
    assert.equal(four?.pagesIndex, 3);
  });

  it('reads the 6-argument get_user_pages as write/force (v4.6-v4.8)', () => {
    const s = signatureForArgCount(api('get_user_pages'), 6);
    assert.equal(s?.flagsStyle, 'write_force_ints');
    assert.deepEqual([s?.flagsIndex, s?.forceIndex, s?.pagesIndex], [2, 3, 4]);
  });

  it('matches the 4.4.y stable backport for a 7-argument get_user_pages', () => {
    const s = signatureForArgCount(api('get_user_pages'), 7, v(4, 4));
    assert.ok(s?.backport);
    assert.equal(s?.flagsStyle, 'gup_flags');
    assert.equal(s?.flagsIndex, 4);
    assert.equal(signatureFor(api('get_user_pages'), v(4, 4))?.backport, undefined);
  });

  it('picks get_user_pages_remote layouts by count and version', () => {
    const r = api('get_user_pages_remote');
    assert.equal(signatureForArgCount(r, 8, v(4, 8))?.flagsStyle, 'write_force_ints');
    assert.equal(signatureForArgCount(r, 8, v(5, 4))?.lockedIndex, 7);
    assert.equal(signatureForArgCount(r, 7, v(5, 10))?.taskIndex, undefined);
    assert.equal(signatureForArgCount(r, 7, v(5, 10))?.mmIndex, 0);
    assert.equal(signatureForArgCount(r, 7, v(4, 9))?.taskIndex, 0);
    assert.equal(signatureForArgCount(r, 6, v(6, 6))?.lockedIndex, 5);
  });

  it('finds gup_flags after pages in get_user_pages_unlocked from 4.9', () => {
    const s = signatureForArgCount(api('get_user_pages_unlocked'), 4);
    assert.deepEqual([s?.pagesIndex, s?.flagsIndex], [2, 3]);
  });

  it('tells the two 4-argument get_vaddr_frames forms apart by version', () => {
    const gvf = api('get_vaddr_frames');
    assert.equal(signatureForArgCount(gvf, 4, v(5, 4))?.flagsStyle, 'gup_flags');
    assert.equal(signatureForArgCount(gvf, 4, v(6, 8))?.flagsStyle, 'write_int');
    assert.equal(signatureForArgCount(gvf, 3)?.flagsStyle, 'none');
    assert.equal(signatureForArgCount(gvf, 5)?.forceIndex, 3);
  });

  it('returns undefined when no layout has that many parameters', () => {
    assert.equal(signatureForArgCount(api('pin_user_pages_fast'), 3), undefined);
  });
});

describe('nearestSignature', () => {
  it('says when it matched exactly', () => {
    const r = nearestSignature(api('pin_user_pages_fast'), 4, v(6, 1));
    assert.equal(r?.exact, true);
  });

  it('falls back to the nearest count and version, and says so', () => {
    const r = nearestSignature(api('get_user_pages'), 3, v(6, 8));
    assert.equal(r?.exact, false);
    assert.equal(r?.signature.params.length, 4);
    const far = nearestSignature(api('get_user_pages'), 9, v(6, 8));
    assert.equal(far?.exact, false);
    assert.equal(far?.signature.params.length, 8);
  });
});
