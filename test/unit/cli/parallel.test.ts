// Parallel scans print the same bytes whatever the number of workers: results are ordered by path then position, not by which worker finished first.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FIXTURES, ROOT, runCli } from './runCli';
import { generateTree } from '../../helpers/generatedTree';

describe('cli: deterministic output across worker counts', function () {
  let tree: string;
  before(function () {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-tree-'));
    generateTree(tree, 11, 48);
  });
  after(function () { fs.rmSync(tree, { recursive: true, force: true }); });

  for (const format of ['gcc', 'sarif']) {
    it(`fixtures, --format ${format}: -j 1 and -j 4 print identical output`, function () {
      const outputs = ['1', '4'].map((j) => runCli(['scan', '--format', format, '--fail-on', 'none', '-j', j, FIXTURES], ROOT));
      assert.ok(outputs[0].stdout.length > 1000, 'a real report');
      for (const o of outputs) {
        assert.equal(o.code, 0, o.stderr);
        assert.equal(o.stdout, outputs[0].stdout);
      }
    });
  }

  for (const format of ['text', 'json']) {
    it(`generated tree, --format ${format}: -j 1 and -j 3 print identical output`, function () {
      const outputs = ['1', '3'].map((j) => runCli(['scan', '--format', format, '--fail-on', 'none', '-j', j, '.'], tree));
      assert.ok(outputs[0].stdout.length > 1000, 'a real report');
      assert.equal(outputs[1].stdout, outputs[0].stdout);
    });
  }

  it('generated tree, --format gcc: -j 1 and -j 3 print identical output, sorted by path then line', function () {
    const one = runCli(['scan', '--format', 'gcc', '--fail-on', 'none', '-j', '1', '.'], tree);
    const three = runCli(['scan', '--format', 'gcc', '--fail-on', 'none', '-j', '3', '.'], tree);
    assert.equal(three.stdout, one.stdout);
    const keys = one.stdout.trim().split('\n').map((l) => /^(.+?):(\d+):(\d+): /.exec(l)!).map((m) => [m[1], Number(m[2]), Number(m[3])] as const);
    assert.ok(keys.length > 10, one.stdout);
    const sorted = [...keys].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1] || a[2] - b[2]));
    assert.deepEqual(keys, sorted);
  });
});
