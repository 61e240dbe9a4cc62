// Which files a scan reports on: folders walked in order, include/exclude globs (picomatch), .gitignore rules (ignore) when asked.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { scratchTree } from './runCli';
import { collectScanTargets } from '../../../server/src/runtime/scanTargets';
import { listDriverFiles } from '../../../server/src/runtime/driverContext';

describe('scan targets', function () {
  let dir: string;
  let remove: () => void;
  before(function () {
    ({ dir, remove } = scratchTree({
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'generated/\n*.gen.c\n',
      'drivers/a.c': '', 'drivers/a.h': '', 'drivers/notes.txt': '', 'drivers/x.gen.c': '',
      'drivers/generated/g.c': '', 'drivers/sub/.gitignore': 'local.c\n!keep.gen.c\n', 'drivers/sub/local.c': '', 'drivers/sub/keep.gen.c': '',
      'drivers/sub/b.c': '', 'drivers/test/t.c': '', 'node_modules/m.c': '',
    }));
  });
  after(function () { remove(); });

  const rel = (files: string[]): string[] => files.map((f) => path.relative(dir, f).split(path.sep).join('/'));
  const defaults = { include: ['**/*.c', '**/*.h'], exclude: ['**/node_modules/**', '**/.git/**'], gitignore: false };

  it('walks folders for .c and .h files, sorted, skipping node_modules and .git', function () {
    const t = collectScanTargets([dir], { ...defaults, root: dir });
    assert.deepEqual(rel(t.files), ['drivers/a.c', 'drivers/a.h', 'drivers/generated/g.c', 'drivers/sub/b.c', 'drivers/sub/keep.gen.c', 'drivers/sub/local.c', 'drivers/test/t.c', 'drivers/x.gen.c']);
    assert.deepEqual(t.errors, []);
  });

  it('exclude globs prune folders and drop files; include globs select', function () {
    const t = collectScanTargets([dir], { ...defaults, include: ['**/*.c'], exclude: [...defaults.exclude, '**/test/**', 'drivers/generated'], root: dir });
    assert.deepEqual(rel(t.files), ['drivers/a.c', 'drivers/sub/b.c', 'drivers/sub/keep.gen.c', 'drivers/sub/local.c', 'drivers/x.gen.c']);
  });

  it('--gitignore applies every .gitignore from the repository root down, negations included', function () {
    const t = collectScanTargets([path.join(dir, 'drivers')], { ...defaults, gitignore: true, root: dir });
    assert.deepEqual(rel(t.files), ['drivers/a.c', 'drivers/a.h', 'drivers/sub/b.c', 'drivers/sub/keep.gen.c', 'drivers/test/t.c']);
  });

  it('files named on the command line go through the same rules; the ones left out are listed', function () {
    const t = collectScanTargets([path.join(dir, 'drivers', 'notes.txt'), path.join(dir, 'drivers', 'x.gen.c'), path.join(dir, 'drivers', 'a.c')], { ...defaults, gitignore: true, root: dir });
    assert.deepEqual(rel(t.files), ['drivers/a.c']);
    assert.deepEqual(rel(t.leftOut), ['drivers/notes.txt', 'drivers/x.gen.c']);
  });

  it('globs see each file relative to the root inside it and to the input folder outside it, however deep the walk', function () {
    const { dir: d, remove: rm } = scratchTree({
      'top.c': '', 'other/top.c': '', 'proj/top.c': '', 'proj/sub/x.c': '', 'proj/..odd.c': '', 'outside/sub/x.c': '', 'outside/top.c': '',
    });
    try {
      const scan = (input: string, root: string): string[] => collectScanTargets([path.join(d, input)], {
        include: ['top.c', 'sub/*.c', '..odd.c', 'proj/..odd.c'], exclude: [], gitignore: false, root: path.join(d, root),
      }).files.map((f) => path.relative(d, f).split(path.sep).join('/'));
      assert.deepEqual(scan('.', 'proj'), ['proj/..odd.c', 'proj/sub/x.c', 'proj/top.c', 'top.c'], 'root below the input');
      assert.deepEqual(scan('outside', 'proj'), ['outside/sub/x.c', 'outside/top.c'], 'input outside the root');
      assert.deepEqual(scan('proj', '.'), ['proj/..odd.c'], 'input below the root');
      assert.deepEqual(scan('proj', 'proj'), ['proj/..odd.c', 'proj/sub/x.c', 'proj/top.c'], "input at the root ('..odd.c' is textually outside it)");
    } finally { rm(); }
  });

  it('each file once, however it is named', function () {
    const t = collectScanTargets([path.join(dir, 'drivers', 'sub'), path.join(dir, 'drivers', 'sub', 'b.c'), `${dir}/drivers/./sub/b.c`], { ...defaults, root: dir });
    assert.deepEqual(rel(t.files), ['drivers/sub/b.c', 'drivers/sub/keep.gen.c', 'drivers/sub/local.c']);
  });

  it("each walked folder's C sources are what the driver context lists there, for a folder given resolved, relative or unnormalised", function () {
    const cwd = process.cwd();
    // A symlinked source is a target (the walk follows it) but not context (listDriverFiles lists regular files only).
    const link = path.join(dir, 'drivers', 'linked.c');
    fs.symlinkSync(path.join(dir, 'drivers', 'a.c'), link);
    process.chdir(path.dirname(dir));
    try {
      for (const input of [dir, path.basename(dir), `${dir}/drivers/../drivers`, `./${path.basename(dir)}/drivers/`]) {
        const t = collectScanTargets([input], { ...defaults, root: dir });
        let compared = 0;
        for (const [folder, sources] of t.folderSources) {
          // The plan takes these instead of listDriverFiles for a target of the folder (scanPlan.ts groupTargets).
          const target = t.files.find((f) => path.dirname(path.resolve(f)) === folder);
          if (!target) continue;
          assert.deepEqual(sources.filter((f) => f !== target), listDriverFiles(target, 'directory'), `${input}: ${folder}`);
          assert.ok(sources.includes(target), `${input}: ${target} among its folder's sources`);
          compared++;
        }
        assert.ok(compared >= 4, `${input}: ${compared} folders compared`);
        assert.ok(t.files.some((f) => path.resolve(f) === link), `${input}: the symlinked source is a target`);
      }
    } finally { process.chdir(cwd); fs.rmSync(link); }
  });
});
