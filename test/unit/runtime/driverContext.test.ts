// The driver context the editor asks for on every edit (runtime/driverContext.ts): with a freshness window the
// loader trusts its stats and listings for that long, a watched-file eviction shows a change at once, and without a
// window every call looks at the disk.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DriverContextLoader, type ContextOptions } from '../../../server/src/runtime/driverContext';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import type { CSyntax } from '../../../server/src/analysis/parser';

const OPTS: ContextOptions = { maxFileBytes: 1 << 20, budgetMs: 5000, scope: 'directory' };
const PIN = 'int drv_pin(unsigned long a, struct page **p)\n{\n\treturn get_user_pages_fast(a, 1, DRV_FLAGS, p);\n}\n';

describe('driver context: stats and listings trusted for a freshness window', function () {
  let syntax: CSyntax;
  let dir: string;
  before(async () => { syntax = await loadSyntax(); });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-ctx-'));
    fs.writeFileSync(path.join(dir, 'pin.c'), PIN);
    fs.writeFileSync(path.join(dir, 'flags.h'), '#define DRV_FLAGS 0\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const names = (loader: DriverContextLoader): string[] => (loader.contextFor(path.join(dir, 'pin.c'), OPTS).files ?? []).map((f) => path.basename(new URL(f.uri).pathname)).sort();
  const flagsText = (loader: DriverContextLoader): string | undefined => loader.contextFor(path.join(dir, 'pin.c'), OPTS).files?.find((f) => f.uri.endsWith('flags.h'))?.text;

  it('within the window a new file and a changed file are not seen; an eviction shows both at once', function () {
    const loader = new DriverContextLoader(syntax, 60_000);
    try {
      assert.deepEqual(names(loader), ['flags.h']);
      fs.writeFileSync(path.join(dir, 'notifier.c'), 'static const struct mmu_interval_notifier_ops ops;\n');
      fs.writeFileSync(path.join(dir, 'flags.h'), '#define DRV_FLAGS FOLL_WRITE\n');
      assert.deepEqual(names(loader), ['flags.h'], 'the listing is trusted');
      assert.equal(flagsText(loader), '#define DRV_FLAGS 0\n', 'the stat is trusted');
      loader.evict(path.join(dir, 'notifier.c'));
      loader.evict(path.join(dir, 'flags.h'));
      assert.deepEqual(names(loader), ['flags.h', 'notifier.c']);
      assert.equal(flagsText(loader), '#define DRV_FLAGS FOLL_WRITE\n');
    } finally {
      loader.dispose();
    }
  });

  it('without a window (the scan) every call sees the disk; after the window the editor does too', async function () {
    const scan = new DriverContextLoader(syntax);
    const editor = new DriverContextLoader(syntax, 20);
    try {
      assert.deepEqual(names(scan), ['flags.h']);
      assert.deepEqual(names(editor), ['flags.h']);
      fs.writeFileSync(path.join(dir, 'notifier.c'), 'static const struct mmu_interval_notifier_ops ops;\n');
      fs.writeFileSync(path.join(dir, 'flags.h'), '#define DRV_FLAGS FOLL_WRITE /* changed */\n');
      assert.deepEqual(names(scan), ['flags.h', 'notifier.c']);
      assert.equal(flagsText(scan), '#define DRV_FLAGS FOLL_WRITE /* changed */\n');
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.deepEqual(names(editor), ['flags.h', 'notifier.c']);
      assert.equal(flagsText(editor), '#define DRV_FLAGS FOLL_WRITE /* changed */\n');
    } finally {
      scan.dispose();
      editor.dispose();
    }
  });
});

describe('driver context: the trees a scan holds stay under a budget of text', function () {
  let syntax: CSyntax;
  let dir: string;
  before(async () => { syntax = await loadSyntax(); });
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-held-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lets the least recently used trees go, counts a tree parsed again, and frees a quarter of the budget once over it', function () {
    // Ten files of 1,000 characters each; a budget of 4,000 characters.
    const files = Array.from({ length: 10 }, (_, i) => {
      const file = path.join(dir, `f${i}.c`);
      fs.writeFileSync(file, `int f${i}(void) { return ${i}; }\n`.padEnd(999, ' ') + '\n');
      return file;
    });
    const loader = new DriverContextLoader(syntax);
    try {
      const loaded = files.map((f) => loader.load(f, OPTS, false)!);
      const held = (): number[] => loaded.flatMap((l, i) => (l.source!.held ? [i] : []));
      assert.deepEqual(held(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      loader.keepTreesUnder(10_000);
      assert.equal(held().length, 10, 'under the budget: nothing goes');
      loader.keepTreesUnder(4000);
      // Over the budget, trees go in the order they were used until at most 3,000 characters are held.
      assert.deepEqual(held(), [7, 8, 9]);
      // A tree asked for again is parsed again and counted: 4,000 held, at the budget, so nothing goes.
      void loaded[0]!.tree;
      loader.keepTreesUnder(4000);
      assert.deepEqual(held(), [0, 7, 8, 9]);
      void loaded[1]!.tree;
      loader.keepTreesUnder(4000);
      // 5,000 held: the least recently used (7, then 8) go until 3,000 remain.
      assert.deepEqual(held(), [0, 1, 9]);
    } finally {
      loader.dispose();
    }
  });
});
