// The kbuild checker mode (issue 13): a real make, driving a stub kernel build tree made here the way kbuild does with C=1, runs `forksafe check` once per compiled file; the verdict follows that build's kernel and macros.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CLI, runCli, scratchTree } from './runCli';

/** pin_user_pages_fast() from 5.6 or where the conftest header says so; get_user_pages_fast() otherwise. */
const DRIVER = [
  '#include <linux/version.h>',
  'struct mr { struct page **pages; };',
  'int reg(struct mr *mr, unsigned long a, int n)',
  '{',
  '#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0) && !defined(DRV_FORCE_GUP)',
  '\treturn pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);',
  '#else',
  '\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);',
  '#endif',
  '}',
  '',
].join('\n');

/**
 * A stub of kbuild's checker step: for each object of the module's Kbuild, run $(CHECK) $(CHECKFLAGS) $(c_flags) on its
 * source from the kernel build directory, with kbuild's own flags (relative -I paths, -include kconfig.h, CHECKFLAGS
 * sparse options forksafe ignores).
 */
const STUB_KBUILD = [
  'include $(M)/Kbuild',
  'c_flags = -nostdinc -I./arch/x86/include -I./include -include ./include/linux/kconfig.h -D__KERNEL__ -DMODULE $(ccflags-y) -DKBUILD_MODNAME=\'"drv"\'',
  'CHECKFLAGS = -D__linux__ -Dlinux -D__STDC__ -Dunix -D__unix__ -Wbitwise -Wno-return-void -Wno-unknown-attribute -D__x86_64__ --arch=x86 -mlittle-endian -m64',
  'modules:',
  '\t@for o in $(obj-m); do src=$(M)/$${o%.o}.c; echo "  CC [M]  $$src"; if [ "$(C)" = 1 ]; then $(CHECK) $(CHECKFLAGS) $(c_flags) $$src || exit 1; fi; done',
  '',
].join('\n');

describe('cli: forksafe check, driven by make C=1', function () {
  this.timeout(60000);
  let dir: string;
  let remove: () => void;
  before(function () {
    ({ dir, remove } = scratchTree({
      'k54/Makefile': STUB_KBUILD,
      'k54/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_CODE 328704\n',
      'k54/include/linux/kconfig.h': '#include <generated/autoconf.h>\n',
      'k54/include/generated/autoconf.h': '#define CONFIG_MMU 1\n',
      'k66/Makefile': STUB_KBUILD,
      'k66/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_MAJOR 6\n#define LINUX_VERSION_PATCHLEVEL 6\n',
      'k66/include/linux/kconfig.h': '#include <generated/autoconf.h>\n',
      'k66/include/generated/autoconf.h': '#define CONFIG_MMU 1\n',
      'drv/Kbuild': 'obj-m += drv.o\n',
      'drv/drv.c': DRIVER,
    }));
  });
  after(function () { remove(); });

  function make(kernel: string, extra: string[] = [], check = `${process.execPath} ${CLI} check`): { code: number | null; out: string } {
    const r = spawnSync('make', ['-s', '-C', path.join(dir, kernel), `M=${path.join(dir, 'drv')}`, 'C=1', `CHECK=${check}`, ...extra, 'modules'], { encoding: 'utf8', env: { ...process.env, KDIR: '' } });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  }

  it('against a 5.4 build: the get_user_pages_fast() arm, FS001 as a gcc line in the make output, and the build goes on (exit 0)', function () {
    const r = make('k54');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /CC \[M\]/);
    assert.match(r.out, new RegExp(`${path.join(dir, 'drv', 'drv.c').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:8:9: error: get_user_pages_fast\\(\\) pins mr->pages writable .*kernel 5\\.4 \\(from .*k54.*version\\.h \\(the kernel this compile command builds against; \\d+ macros from the compile command, CONFIG_\\* from .*autoconf\\.h\\)\\).* \\[FS001\\]`));
  });

  it('against a 6.6 build: the pin_user_pages_fast() arm, nothing to say; a -D from the build (ccflags-y) switches the arm back', function () {
    const clean = make('k66');
    assert.equal(clean.code, 0, clean.out);
    assert.doesNotMatch(clean.out, /\[FS\d{3}\]/);
    const forced = make('k66', ['ccflags-y=-DDRV_FORCE_GUP']);
    assert.match(forced.out, /drv\.c:8:9: error: .*\[FS001\]/);
  });

  it('--fail-on in CHECK makes a finding stop the build, as asked', function () {
    const r = make('k54', [], `${process.execPath} ${CLI} check --fail-on error`);
    assert.notEqual(r.code, 0, r.out);
    assert.match(r.out, /\[FS001\]/);
  });

  it('without a C file among the arguments: a usage error naming what it got', function () {
    const r = runCli(['check', '-D__KERNEL__', '-I./include'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /forksafe check: no C file among the arguments/);
    assert.ok(fs.existsSync(path.join(dir, 'drv', 'drv.c')));
  });
});
