// The kernel version decides the era: read from the tree's top-level Makefile, overridden by --kernel.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/lspProcess';
import { kernelVersionFromMakefile } from '../../server/src/analysis/kernelVersion';

const CLI = path.join(REPO_ROOT, 'server', 'dist', 'cli.js');
// A long-lived writable FOLL_PIN pin: exposed before 5.9 (no early COW at fork), safe from 5.9 (70e806e4e645).
const DRIVER = 'int reg(struct mr *mr, unsigned long s, int n)\n{\n\treturn pin_user_pages_fast(s, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);\n}\n';

function scan(cwd: string, args: string[]): { code: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, 'scan', '--format', 'gcc', ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
}

describe('kernel version detection', function () {
  let tree: string;
  before(function () {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-kver-'));
    fs.mkdirSync(path.join(tree, 'drivers', 'misc', 'mydrv'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'drivers', 'misc', 'mydrv', 'mr.c'), DRIVER);
  });
  after(function () { fs.rmSync(tree, { recursive: true, force: true }); });

  it('reads VERSION and PATCHLEVEL from a Makefile', function () {
    assert.deepEqual(kernelVersionFromMakefile('# SPDX\nVERSION = 5\nPATCHLEVEL = 8\nSUBLEVEL = 0\nEXTRAVERSION =\n'), { major: 5, minor: 8 });
    assert.equal(kernelVersionFromMakefile('obj-m += mydrv.o\n'), undefined);
  });

  it('without a Makefile the newest era applies: no diagnostic', function () {
    const r = scan(tree, ['drivers']);
    assert.equal(r.code, 0, r.stdout);
  });

  it("with the tree's Makefile at 5.8 the same pin is FS001, and the message says where the version came from", function () {
    fs.writeFileSync(path.join(tree, 'Makefile'), 'VERSION = 5\nPATCHLEVEL = 8\nSUBLEVEL = 0\n');
    const r = scan(tree, ['drivers']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /mr\.c:3:9: error: .*kernel 5\.8 \(from .*Makefile\).*\[FS001\]/);
  });

  it('--kernel overrides the Makefile', function () {
    const r = scan(tree, ['--kernel', '6.1', 'drivers']);
    assert.equal(r.code, 0, r.stdout);
  });
});
