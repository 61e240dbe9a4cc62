// The benchmark corpus generator is deterministic: the same seed writes the same bytes, and its manifest points at real pin calls.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateCorpus, generateEditFile } from '../../../bench/generateCorpus';

function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(path.relative(dir, full), fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

describe('bench: corpus generator', function () {
  let tmp: string;
  before(function () { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-corpus-')); });
  after(function () { fs.rmSync(tmp, { recursive: true, force: true }); });

  it('writes identical bytes for the same seed and different bytes for another seed', function () {
    const opts = { files: 40, mb: 1, seed: 11 };
    generateCorpus({ ...opts, out: path.join(tmp, 'a') });
    generateCorpus({ ...opts, out: path.join(tmp, 'b') });
    generateCorpus({ ...opts, seed: 12, out: path.join(tmp, 'c') });
    const a = snapshot(path.join(tmp, 'a'));
    const b = snapshot(path.join(tmp, 'b'));
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
    for (const [file, bytes] of a) assert.ok(bytes.equals(b.get(file)!), `${file} differs between two runs with the same seed`);
    const c = snapshot(path.join(tmp, 'c'));
    assert.notDeepEqual([...a.entries()].map(([k, v]) => k + v.length).sort(), [...c.entries()].map(([k, v]) => k + v.length).sort());
  });

  it('records planted sites on lines that hold a call, and the requested number of C files', function () {
    const dir = path.join(tmp, 'a');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ReturnType<typeof generateCorpus>;
    assert.equal(manifest.files, 40);
    assert.ok(manifest.sites.length >= 14);
    for (const s of manifest.sites) {
      const line = fs.readFileSync(path.join(dir, s.file), 'utf8').split('\n')[s.line - 1];
      assert.match(line, /\w+\(/, `${s.id} (${s.kind}) at ${s.file}:${s.line}: ${line}`);
      assert.doesNotMatch(line, /@@/);
      if (s.literal) assert.match(fs.readFileSync(path.join(dir, s.literal.file), 'utf8').split('\n')[s.literal.line - 1], /FOLL_WRITE/);
    }
  });

  it('writes the editor document deterministically at the requested length', function () {
    const one = generateEditFile(3, 2000);
    assert.equal(one.text, generateEditFile(3, 2000).text);
    assert.equal(one.text.split('\n').length - 1, 2000);
    assert.equal(one.sites.length, 4);
  });
});
