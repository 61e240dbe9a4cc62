// Which kernel a driver builds against, from what the build left: version headers, a KDIR in the driver's Makefile or the environment, compile_commands.json (issue 13).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  compileArgumentsFor, findCompileCommands, kdirOfDriver, kernelOfBuildDir, kernelOfCompileArguments, kernelVersionFromVersionHeader,
} from '../../../server/src/runtime/kernelBuild';

function tree(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-kbuild-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describe('runtime/kernelBuild: the kernel a driver is built against', function () {
  it('reads a generated version.h in both forms (LINUX_VERSION_MAJOR/PATCHLEVEL, else LINUX_VERSION_CODE)', function () {
    assert.deepEqual(kernelVersionFromVersionHeader('#define LINUX_VERSION_CODE 328704\n'), { major: 5, minor: 4 });
    assert.deepEqual(kernelVersionFromVersionHeader('#define LINUX_VERSION_CODE 393473\n#define LINUX_VERSION_MAJOR 6\n#define LINUX_VERSION_PATCHLEVEL 1\n'), { major: 6, minor: 1 });
    assert.equal(kernelVersionFromVersionHeader('#define SOMETHING 1\n'), undefined);
  });

  it('a build directory: version.h, else utsrelease.h, else its Makefile (following the include Debian headers use)', function () {
    const t = tree({
      'a/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_CODE 394752\n',
      'b/include/generated/utsrelease.h': '#define UTS_RELEASE "5.10.0-28-amd64"\n',
      'c/Makefile': 'include ../common/Makefile\n',
      'common/Makefile': 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n',
    });
    try {
      assert.deepEqual(kernelOfBuildDir(path.join(t.dir, 'a'))?.version, { major: 6, minor: 6 });
      assert.deepEqual(kernelOfBuildDir(path.join(t.dir, 'b'))?.version, { major: 5, minor: 10 });
      const c = kernelOfBuildDir(path.join(t.dir, 'c'));
      assert.deepEqual(c?.version, { major: 6, minor: 1 });
      assert.equal(c?.source, path.join(t.dir, 'common', 'Makefile'));
      assert.equal(kernelOfBuildDir(path.join(t.dir, 'missing')), undefined);
    } finally { t.remove(); }
  });

  it("the driver's KDIR: ?= yields to the environment, = does not; make -C with $(shell uname -r); parent folders", function () {
    const t = tree({
      'soft/Makefile': 'obj-m += d.o\nKDIR ?= /lib/modules/$(shell uname -r)/build\nall:\n\t$(MAKE) -C $(KDIR) M=$(PWD) modules\n',
      'hard/Makefile': 'KERNELDIR := ../kernels/5.4\nall:\n\t$(MAKE) -C $(KERNELDIR) M=$(PWD)\n',
      'direct/Makefile': 'all:\n\tmake -C /usr/src/linux-headers-$(shell uname -r) M=$(CURDIR) modules\n',
      'nested/Kbuild': 'KSRC = ../src\n',
      'nested/sub/x.c': '',
      'none/Makefile': 'all:\n\techo nothing\n',
    });
    try {
      assert.deepEqual(kdirOfDriver(path.join(t.dir, 'soft'), {}, '6.1.0-13-amd64'), { dir: '/lib/modules/6.1.0-13-amd64/build', source: `KDIR in ${path.join(t.dir, 'soft', 'Makefile')}` });
      assert.deepEqual(kdirOfDriver(path.join(t.dir, 'soft'), { KDIR: '/opt/k' }, '6.1'), { dir: '/opt/k', source: 'KDIR in the environment' });
      assert.equal(kdirOfDriver(path.join(t.dir, 'hard'), { KERNELDIR: '/opt/k' }, '6.1')?.dir, path.join(t.dir, 'kernels', '5.4'));
      assert.equal(kdirOfDriver(path.join(t.dir, 'direct'), {}, '5.10.0-9')?.dir, '/usr/src/linux-headers-5.10.0-9');
      assert.equal(kdirOfDriver(path.join(t.dir, 'nested', 'sub'), {}, '6.1')?.dir, path.join(t.dir, 'src'));
      assert.equal(kdirOfDriver(path.join(t.dir, 'none'), {}, '6.1'), undefined);
      assert.equal(kdirOfDriver(path.join(t.dir, 'none'), { KERNEL_SRC: '/k' }, '6.1')?.dir, '/k');
    } finally { t.remove(); }
  });

  it("compile_commands.json: the entry for the file (or its folder), and the kernel its -I paths belong to", function () {
    const t = tree({
      'k/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_MAJOR 5\n#define LINUX_VERSION_PATCHLEVEL 15\n',
      'drv/a.c': '',
      'drv/b.c': '',
    });
    try {
      const db = path.join(t.dir, 'build', 'compile_commands.json');
      fs.mkdirSync(path.dirname(db));
      fs.writeFileSync(db, JSON.stringify([{ directory: path.join(t.dir, 'k'), file: path.join(t.dir, 'drv', 'a.c'), arguments: ['gcc', '-nostdinc', '-I./arch/x86/include', '-I', './include', '-c', path.join(t.dir, 'drv', 'a.c')] }]));
      assert.equal(findCompileCommands(path.join(t.dir, 'drv')), db);
      for (const f of ['a.c', 'b.c']) {
        const entry = compileArgumentsFor(db, path.join(t.dir, 'drv', f));
        assert.ok(entry, f);
        assert.deepEqual(kernelOfCompileArguments(entry.args, entry.directory)?.version, { major: 5, minor: 15 }, f);
      }
      fs.writeFileSync(db, '{ not json');
      assert.equal(compileArgumentsFor(db, path.join(t.dir, 'drv', 'a.c')), undefined, 'a broken database is no answer, not a crash');
    } finally { t.remove(); }
  });
});
