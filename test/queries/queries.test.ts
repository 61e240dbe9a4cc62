// Query files: every .scm compiles against the shipped grammar, and each captures what its name promises on a small fixture.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';

const QUERY_DIR = path.resolve(__dirname, '..', '..', '..', 'grammars', 'queries', 'c');

const SAMPLE = [
  '#define GUP_W(s, n, p) get_user_pages_fast((s), (n), FOLL_WRITE, (p))',
  '#define DRV_FLAGS (FOLL_WRITE | FOLL_LONGTERM)',
  '/* forksafe-assume dontfork: userspace madvises */',
  'static const struct mmu_interval_notifier_ops ops = { .invalidate = inv };',
  'struct page **grab(struct mr *mr, int n)',
  '{',
  '\tmr->vma->vm_flags |= VM_DONTCOPY;',
  '\tget_user_pages(mr->start, n, DRV_FLAGS, mr->pages);',
  '\treturn mr->pages;',
  '}',
].join('\n');

describe('queries', function () {
  it('every query file compiles and is loaded by name', async function () {
    const syntax = await loadSyntax();
    const files = fs.readdirSync(QUERY_DIR).filter((f) => f.endsWith('.scm')).map((f) => path.basename(f, '.scm')).sort();
    assert.deepEqual(syntax.queryNames().sort(), files);
    assert.ok(files.length >= 4);
    // Compiled when first asked for, once.
    for (const f of files) assert.equal(syntax.query(f), syntax.query(f), f);
    assert.ok(syntax.queriesTogether(files));
    for (const name of ['nope', 'constructor', 'toString', '__proto__']) {
      assert.throws(() => syntax.query(name), /query '.*' is not loaded/, name);
      assert.throws(() => syntax.queriesTogether(['calls', name]), /query '.*' is not loaded/, name);
    }
  });

  it('captures calls, definitions, comments and protection markers in a sample', async function () {
    const syntax = await loadSyntax();
    const tree = syntax.parse(SAMPLE).tree!;
    try {
      const caps = (q: string, name: string) => syntax.query(q).captures(tree.rootNode).filter((c) => c.name === name).map((c) => c.node.text);
      assert.deepEqual(caps('calls', 'call.name'), ['get_user_pages']);
      assert.deepEqual(caps('definitions', 'macro.name'), ['GUP_W', 'DRV_FLAGS']);
      assert.equal(caps('definitions', 'function').length, 1, 'struct page **grab(...) is a function definition');
      assert.deepEqual(caps('comments', 'comment'), ['/* forksafe-assume dontfork: userspace madvises */']);
      assert.deepEqual(caps('protections', 'protection.flag'), ['VM_DONTCOPY']);
      assert.deepEqual(caps('protections', 'protection.notifierOps'), ['mmu_interval_notifier_ops']);
    } finally {
      tree.delete();
    }
  });
});
