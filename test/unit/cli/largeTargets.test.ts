// A scan target over the size limit is read in parts (runtime/sourceFiles.ts readInParts), never whole: the parts must
// give the same decoded length, pin API byte test and suppression test as the whole bytes, whatever the part size, on
// text with multi-byte characters, invalid UTF-8, byte order marks, long identifiers and the names cut anywhere.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LargeTargetFacts, readGroup } from '../../../server/src/cli/groupReader';
import { holdsSuppression, mentionsPinApiBytes } from '../../../server/src/runtime/fileRelevance';
import { ByteArena, decodedLength, readInParts, readScanBytes } from '../../../server/src/runtime/sourceFiles';
import { Random, seedFromEnv } from '../../helpers/random';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0x1a59e);

const PIECES: ReadonlyArray<string | number[]> = [
  'get_user_pages(', 'pin_user_pages_fast', 'os_lock_user_pages', 'get_user_pages_fastx', ' forksafe-ignore ', 'forksafe-', 'ignore',
  '#define REG_FIELD__SHIFT 0x0000001fL\n', ' ', '\n', '(', ')', ';', '_', 'a', 'Z9', 'x'.repeat(70),
  '\u00e9', '\u{1F600}', '\u4e2d', [0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
];

function randomBytes(r: Random): Buffer {
  const out: Buffer[] = [];
  const boms = r.pick([0, 0, 0, 1, 2]);
  for (let i = 0; i < boms; i++) out.push(Buffer.from([0xef, 0xbb, 0xbf]));
  const n = r.int(0, 120);
  for (let i = 0; i < n; i++) {
    const p = r.pick(PIECES);
    out.push(typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p));
  }
  return Buffer.concat(out);
}

describe('cli: a target over the size limit read in parts', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-parts-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`the parts give the whole bytes' length, pin test and suppression test (seed ${SEED.toString(16)})`, () => {
    const r = new Random(SEED);
    const file = path.join(dir, 'big.h');
    for (let round = 0; round < 400; round++) {
      const bytes = randomBytes(r);
      fs.writeFileSync(file, bytes);
      const pieceBytes = r.int(1, 48);
      const facts = new LargeTargetFacts();
      const seen: Buffer[] = [];
      const fd = fs.openSync(file, 'r');
      try {
        assert.equal(readInParts(fd, pieceBytes, (part) => { seen.push(Buffer.from(part)); facts.add(part); }), undefined);
      } finally {
        fs.closeSync(fd);
      }
      const label = `round ${round}, pieces of ${pieceBytes}: ${JSON.stringify(bytes.toString('latin1'))}`;
      assert.ok(Buffer.concat(seen).equals(bytes), `${label}: the parts are the file`);
      for (const part of seen.slice(0, -1)) {
        const last = part[part.length - 1]!;
        assert.ok(last < 0x80 && !/[A-Za-z0-9_]/.test(String.fromCharCode(last)), `${label}: a part ends after an ASCII non-word byte`);
      }
      assert.equal(facts.measured.length, decodedLength(bytes), `${label}: length`);
      assert.equal(facts.pin, mentionsPinApiBytes(bytes), `${label}: pin API`);
      assert.equal(facts.suppression, holdsSuppression(bytes), `${label}: suppression`);
    }
  });

  it('a binary file is refused from its first bytes, as when read whole', () => {
    const file = path.join(dir, 'blob.h');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('int x;\n'), Buffer.from([0]), Buffer.alloc(20000, 0x41)]));
    const read = readScanBytes(file, undefined, { over: 100, onPart: () => undefined });
    assert.equal(read.ok, false);
    assert.deepEqual(read, readScanBytes(file));
  });

  it('readGroup reports a target over the limit from its parts: the same FS009 length and pin answer as read whole', () => {
    const r = new Random(SEED ^ 0x55);
    for (let round = 0; round < 60; round++) {
      const bytes = Buffer.concat([randomBytes(r), Buffer.from(' '.repeat(300)), randomBytes(r)]);
      const target = path.join(dir, `t${round}.h`);
      const other = path.join(dir, `o${round}.c`);
      fs.writeFileSync(target, bytes);
      fs.writeFileSync(other, 'int f(void) { return 0; }\n');
      const read = readGroup({ targets: [target, other], members: [target, other] }, { maxBytes: 200, prefilter: true, pieceBytes: r.int(1, 64) }, new ByteArena());
      const member = read.members.find((m) => m.path === target);
      const label = `round ${round}`;
      assert.ok(member, label);
      const length = decodedLength(bytes) ?? new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '').length;
      assert.deepEqual(member.oversize?.length, length > 200 ? length : undefined, `${label}: FS009 length`);
      assert.equal(read.mayPin, mentionsPinApiBytes(bytes), `${label}: may pin`);
    }
  });
});
