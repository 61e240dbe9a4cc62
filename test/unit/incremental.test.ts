// The editor's fast path (server/src/incremental.ts): whenever it reuses a report after an edit, that report equals a
// full analysis of the edited text (findings, messages, related locations, quick fixes, sites and watch names), on
// every fixture driver under random edits aimed at function bodies; and it does apply to most edits of ordinary code.
import { strict as assert } from 'assert';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { analyze, Report } from '../../server/src/engine';
import { reuseReport } from '../../server/src/incremental';
import type { CSyntax, Tree } from '../../server/src/analysis/parser';
import { DocumentTrees } from '../../server/src/lsp/documentTrees';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { listFixtureDrivers } from '../helpers/fixtures';
import { countFromEnv, Random, seedFromEnv } from '../helpers/random';
import { functionBodies, randomChanges } from '../helpers/randomEdits';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0x1ec2e7);
const EDITS_PER_FILE = countFromEnv('FORKSAFE_INCREMENTAL_EDITS', 24);

function comparable(r: Report): unknown {
  return { findings: r.findings, sites: r.sites, notes: r.notes, kernel: r.kernel, watchNames: [...(r.watchNames ?? [])].sort(), findingNames: [...(r.findingNames ?? [])].sort(), fixesOmitted: r.fixesOmitted };
}

interface Tally { edits: number; reused: number; refused: Map<string, number> }

/**
 * Opens `text`, then for each episode applies `perEpisode` random didChanges from the original text (so damage such as
 * an unclosed comment does not pile up), and checks every reused report against a full analysis of the same text.
 */
function exercise(syntax: CSyntax, uri: string, original: string, settings: ReturnType<typeof resolveSettings>,
  context: { files: Array<{ uri: string; text: string; tree: Tree }> }, episodes: number, perEpisode: number,
  pickChanges: (doc: TextDocument, tree: Tree | undefined) => TextDocumentContentChangeEvent[], tally: Tally, label: string): void {
  const trees = new DocumentTrees(syntax);
  try {
    for (let e = 0; e < episodes; e++) {
      trees.close(uri);
      let doc = TextDocument.create(uri, 'c', 1, original);
      let tree = trees.treeFor(doc, 5000).tree;
      let previous = analyze(syntax, { uri, text: original, tree, watchNames: true }, settings, context);
      for (let i = 0; i < perEpisode; i++) {
        const changes = pickChanges(doc, tree);
        doc = trees.update(doc, changes, doc.version + 1);
        tree = trees.treeFor(doc, 5000).tree;
        const text = doc.getText();
        const fresh = analyze(syntax, { uri, text, tree, watchNames: true }, settings, context);
        const change = trees.changeTo(uri, doc.version);
        tally.edits++;
        if (tree && change) {
          const result = reuseReport({ previous, previousText: change.previousText, text, tree, edit: change.edit, changedRanges: change.changedRanges, oldRegion: change.oldRegion });
          if ('report' in result) {
            tally.reused++;
            assert.deepStrictEqual(comparable(result.report), comparable(fresh), `${label}, episode ${e}, edit ${i}: ${JSON.stringify(changes)}`);
            previous = result.report;
            continue;
          }
          tally.refused.set(result.reason, (tally.refused.get(result.reason) ?? 0) + 1);
        }
        previous = fresh;
      }
    }
  } finally {
    trees.close(uri);
  }
}

function summary(t: Tally): string {
  return `${t.reused} of ${t.edits} reused; refused: ${[...t.refused.entries()].map(([r, n]) => `${n} ${r}`).join('; ')}`;
}

/** An ordinary driver function that pins nothing: what most of a large file is. */
function coldFunction(i: number): string {
  return `static int helper_${i}(struct xdev *xd, unsigned int reg)\n{\n\tu32 val = readl(xd->mmio + reg);\n\tint ret = 0;\n\n` +
    `\tif (val & 0x${(i * 37 % 255).toString(16)}) {\n\t\tret = -EIO;\n\t\tgoto out;\n\t}\n` +
    (i % 2 ? '#ifdef CONFIG_PM\n\tval |= XDEV_PM_BIT;\n#endif\n' : '') + `\twritel(val | ${i}, xd->mmio + reg);\nout:\n\treturn ret;\n}\n\n`;
}

describe('incremental: a reused report equals a full analysis', function () {
  this.timeout(600_000);
  let syntax: CSyntax;
  before(async () => { syntax = await loadSyntax(); });

  it(`on every fixture driver, random edits aimed at function bodies (${EDITS_PER_FILE} per file, seed ${SEED.toString(16)})`, function () {
    const rng = new Random(SEED);
    const tally: Tally = { edits: 0, reused: 0, refused: new Map() };
    for (const driver of listFixtureDrivers()) {
      const kernel = driver.files.map((x) => x.expectations.kernel).find((k) => k !== undefined);
      const settings = resolveSettings(kernel ? { kernelVersion: kernel } : {});
      const parsed = driver.files.map((f) => ({ f, uri: `file://${f.path}`, tree: syntax.parse(f.text).tree! }));
      try {
        for (const file of driver.files) {
          const context = { files: parsed.filter((p) => p.f !== file).map((p) => ({ uri: p.uri, text: p.f.text, tree: p.tree })) };
          exercise(syntax, `file://${file.path}`, file.text, settings, context, Math.ceil(EDITS_PER_FILE / 4), 4,
            (doc, tree) => randomChanges(doc, tree, rng), tally, file.name);
        }
      } finally {
        for (const p of parsed) p.tree.delete();
      }
    }
    // Fixture files are small and nearly every function in them pins, releases or protects: few edits can be reused,
    // but those must be exact, and the refusals must come for all the reasons.
    if (process.env.FORKSAFE_VERBOSE) console.log(summary(tally));
    assert.ok(tally.reused >= 20, summary(tally));
    // Which refusals random edits reach depends on the fixture set; the annotation refusal has its own test below.
    for (const reason of ['names a pin', 'preprocessor']) {
      assert.ok([...tally.refused.keys()].some((r) => r.includes(reason)), `no refusal because ${reason}: ${summary(tally)}`);
    }
  });

  it('an edit that moves lines next to a forksafe comment outside function bodies is refused', function () {
    const text = [
      'static int open_count;',
      '// forksafe-assume dontfork: userspace calls madvise(MADV_DONTFORK) on the buffer',
      'int x_pin(unsigned long uaddr, struct page **pages)',
      '{',
      '\treturn get_user_pages_fast(uaddr, 4, FOLL_WRITE, pages);',
      '}',
      '',
    ].join('\n');
    const tally: Tally = { edits: 0, reused: 0, refused: new Map() };
    // A new line after `static int open_count;`: inert text, but the comment and the pin below it move down.
    exercise(syntax, 'file:///t/annotated.c', text, resolveSettings({}), { files: [] }, 1, 1,
      () => [{ range: { start: { line: 0, character: 22 }, end: { line: 0, character: 22 } }, text: '\n' }], tally, 'annotated.c');
    assert.deepEqual([...tally.refused.keys()], ['the edit moves lines next to a forksafe comment'], summary(tally));
  });

  it('removing the call of a release helper from a completion callback is not an inert edit', function () {
    // xreq_free() puts the pages; the callback hands it over as a value. Deleting that line turns FS010 into FS001.
    const text = [
      'struct xreq { struct kref ref; struct page **pages; int n; };',
      'static void xreq_free(struct kref *ref)',
      '{',
      '\tstruct xreq *req = container_of(ref, struct xreq, ref);',
      '\tint i;',
      '\tfor (i = 0; i < req->n; i++)',
      '\t\tput_page(req->pages[i]);',
      '}',
      'static void xreq_done(void *param)',
      '{',
      '\tstruct xreq *req = param;',
      '\tkref_put(&req->ref, xreq_free);',
      '}',
      'int xreq_submit(struct xreq *req, unsigned long uaddr)',
      '{',
      '\tif (get_user_pages_fast(uaddr, 4, FOLL_WRITE, req->pages) != 4)',
      '\t\treturn -EFAULT;',
      '\treq->n = 4;',
      '\tx_start(req, xreq_done);',
      '\treturn 0;',
      '}',
      'static struct x_ops ops = { .complete = xreq_done };',
      '',
    ].join('\n');
    const tally: Tally = { edits: 0, reused: 0, refused: new Map() };
    exercise(syntax, 'file:///t/kref.c', text, resolveSettings({}), { files: [] }, 1, 1,
      () => [{ range: { start: { line: 11, character: 0 }, end: { line: 12, character: 0 } }, text: '' }], tally, 'kref.c');
    assert.equal(tally.reused, 0, summary(tally));
  });

  it('an edit of where a tied protection\'s range comes from is not inert (the tie may break)', function () {
    // The pin's address is recorded by up_set(); the notifier is inserted on the same `addr` by up_register().
    const text = [
      'struct up { struct mmu_interval_notifier n; unsigned long userptr; struct page **pages; };',
      'static bool up_inval(struct mmu_interval_notifier *mn, const struct mmu_notifier_range *r, unsigned long seq)',
      '{',
      '\tup_evict(container_of(mn, struct up, n));',
      '\treturn true;',
      '}',
      'static const struct mmu_interval_notifier_ops up_ops = { .invalidate = up_inval };',
      'static void up_set(struct up *u, unsigned long addr) { u->userptr = addr; }',
      'static int up_register(struct up *u, unsigned long addr) { return mmu_interval_notifier_insert(&u->n, current->mm, addr, 4096, &up_ops); }',
      'int up_pin(struct up *u) { return get_user_pages_fast(u->userptr, 1, FOLL_WRITE, u->pages); }',
      'static void up_prepare(struct up *u, unsigned long addr)',
      '{',
      '\tup_set(u, addr);',
      '}',
      'int up_ioctl(struct up *u, unsigned long addr)',
      '{',
      '\tup_prepare(u, addr);',
      '\treturn up_register(u, addr);',
      '}',
      '',
    ].join('\n');
    const tally: Tally = { edits: 0, reused: 0, refused: new Map() };
    // In up_prepare(), which names no pin, release or protection: `up_set(u, addr)` becomes `up_set(u, 0)`, and the
    // pinned range is no longer the notifier's (FS004 becomes FS001).
    exercise(syntax, 'file:///t/tie.c', text, resolveSettings({}), { files: [] }, 1, 1,
      () => [{ range: { start: { line: 12, character: 11 }, end: { line: 12, character: 15 } }, text: '0' }], tally, 'tie.c');
    assert.equal(tally.reused, 0, summary(tally));
  });

  it('in a large file of ordinary functions around real pin sites, most edits reuse the report and it stays exact', function () {
    const rng = new Random(SEED ^ 0x5a5a);
    const tally: Tally = { edits: 0, reused: 0, refused: new Map() };
    const drivers = listFixtureDrivers().filter((d) => d.files.length === 1).slice(0, 12);
    for (const driver of drivers) {
      const file = driver.files[0];
      const cold = Array.from({ length: 30 }, (_, i) => coldFunction(i));
      const text = cold.slice(0, 15).join('') + file.text + '\n' + cold.slice(15).join('');
      const kernel = file.expectations.kernel;
      exercise(syntax, `file://${file.path}`, text, resolveSettings(kernel ? { kernelVersion: kernel } : {}), { files: [] }, 3, 8, (doc, tree) => {
        // What a user types inside an ordinary function: letters, spaces, new lines, a statement, a deletion.
        const bodies = tree ? functionBodies(tree).filter((b) => /helper_\d+\(struct xdev/.test(b.parent?.text.slice(0, 60) ?? '')) : [];
        const body = rng.pick(bodies);
        const at = TextDocument.create(doc.uri, 'c', doc.version, doc.getText());
        const a = rng.int(body.startIndex + 1, body.endIndex - 2);
        const deleting = rng.chance(0.25) && /\w/.test(doc.getText()[a] ?? '');
        const typed = rng.pick([' ', '\n', '\t', 'v', 'al', 'int z = 1;\n', 'ret = 0;', 'z']);
        return [{ range: { start: at.positionAt(a), end: at.positionAt(deleting ? a + 1 : a) }, text: deleting ? '' : typed }];
      }, tally, file.name);
    }
    if (process.env.FORKSAFE_VERBOSE) console.log(summary(tally));
    assert.ok(tally.reused >= tally.edits * 0.8, summary(tally));
  });
});
