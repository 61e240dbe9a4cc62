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
