// The kernel a scan analyses for comes from the build (issue 13): the driver's KDIR, the environment, --kernel-dir, compile_commands.json; the verdict of a compat #if follows it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, scratchTree } from './runCli';

/** pin_user_pages_fast() from 5.6, get_user_pages_fast() before: FS001 only where the older arm compiles. */
const COMPAT = [
  '#include <linux/version.h>',
  'struct mr { struct page **pages; };',
  'int reg(struct mr *mr, unsigned long a, int n)',
  '{',
  '#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)',
  '\treturn pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);',
  '#else',
  '\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);',
  '#endif',
  '}',
  '',
].join('\n');

/** A conftest-style feature macro chooses the pin (NVIDIA's NV_*_PRESENT, a HAVE_* probe): only the build knows. */
const FEATURE = [
  'struct mr { struct page **pages; };',
  'int reg(struct mr *mr, unsigned long a, int n)',
  '{',
  '#if defined(NV_PIN_USER_PAGES_PRESENT)',
  '\treturn pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);',
  '#else',
  '\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);',
  '#endif',
  '}',
  '#if IS_ENABLED(CONFIG_EXAMPLE_DEBUG)',
  'int dbg(struct mr *mr, unsigned long a) { return get_user_pages_fast(a, 1, FOLL_WRITE, mr->pages); }',
  '#endif',
  '',
].join('\n');

describe('cli: the kernel from the build', function () {
  let dir: string;
  let remove: () => void;
  before(function () {
    ({ dir, remove } = scratchTree({
      'kbuild-5.4/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_CODE 328704\n',
      'kbuild-6.6/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_MAJOR 6\n#define LINUX_VERSION_PATCHLEVEL 6\n',
      'drv/Makefile': 'obj-m += drv.o\nKDIR ?= ../kbuild-5.4\n\nall:\n\t$(MAKE) -C $(KDIR) M=$(PWD) modules\n',
      'drv/drv.c': COMPAT,
    }));
  });
  after(function () { remove(); });

  it("the driver's KDIR (a 5.4 build): the get_user_pages_fast() arm compiles, FS001, and --explain names where the kernel came from", function () {
    const r = runCli(['scan', '--explain', 'drv'], dir, { KDIR: '' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /FS001/);
    assert.match(r.stdout, /kernel 5\.4 \(from .*kbuild-5\.4.*version\.h \(KDIR in .*drv.Makefile\)\)/);
  });

  it('KDIR in the environment beats the Makefile\'s ?= (as make does), and --kernel-dir beats both: a 6.6 build, no finding', function () {
    assert.equal(runCli(['scan', 'drv'], dir, { KDIR: path.join(dir, 'kbuild-6.6') }).code, 0);
    assert.equal(runCli(['scan', '--kernel-dir', 'kbuild-6.6', 'drv'], dir, { KDIR: '' }).code, 0);
    const missing = runCli(['scan', '--kernel-dir', 'nowhere', 'drv'], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--kernel-dir nowhere: no such folder/);
    const noDb = runCli(['scan', '--compile-commands', 'nowhere.json', 'drv'], dir);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /--compile-commands nowhere\.json: no such file or folder/);
  });

  it('compile_commands.json beside the driver decides before KDIR; an explicit --kernel decides before everything', function () {
    const db = path.join(dir, 'drv', 'compile_commands.json');
    fs.writeFileSync(db, JSON.stringify([{ directory: path.join(dir, 'kbuild-6.6'), file: path.join(dir, 'drv', 'drv.c'), command: 'gcc -nostdinc -I./arch/x86/include -I./include -D__KERNEL__ -DMODULE -c -o drv.o ../drv/drv.c' }]));
    try {
      const r = runCli(['scan', '--format', 'json', 'drv'], dir, { KDIR: '' });
      assert.equal(r.code, 0, r.stdout);
      // The same database named by --compile-commands from elsewhere.
      fs.renameSync(db, path.join(dir, 'elsewhere.json'));
      assert.equal(runCli(['scan', 'drv'], dir, { KDIR: '' }).code, 1, 'without it: the KDIR 5.4 build');
      assert.equal(runCli(['scan', '--compile-commands', 'elsewhere.json', 'drv'], dir, { KDIR: '' }).code, 0);
      fs.renameSync(path.join(dir, 'elsewhere.json'), db);
      assert.equal(runCli(['scan', '--kernel', '5.4', 'drv'], dir, { KDIR: '' }).code, 1);
    } finally { fs.rmSync(db); }
  });

  it("a compile command's -include'd conftest header and the kernel's autoconf.h decide feature and CONFIG_ arms", function () {
    const t = scratchTree({
      'k/include/generated/uapi/linux/version.h': '#define LINUX_VERSION_CODE 393728\n',
      'k/include/generated/autoconf.h': '#define CONFIG_MMU 1\n#define CONFIG_EXAMPLE_DEBUG_MODULE 1\n',
      'feat/drv.c': FEATURE,
      'feat/conftest-yes.h': '#define NV_PIN_USER_PAGES_PRESENT\n',
      'feat/conftest-no.h': '#undef NV_PIN_USER_PAGES_PRESENT\n',
    });
    try {
      const db = path.join(t.dir, 'feat', 'compile_commands.json');
      const run = (conftest: string): ReturnType<typeof runCli> => {
        fs.writeFileSync(db, JSON.stringify([{ directory: path.join(t.dir, 'k'), file: path.join(t.dir, 'feat', 'drv.c'),
          arguments: ['gcc', '-I./include', '-include', path.join(t.dir, 'feat', conftest), '-DMODULE', '-c', path.join(t.dir, 'feat', 'drv.c')] }]));
        return runCli(['scan', '--format', 'gcc', '--explain', 'feat'], t.dir, { KDIR: '' });
      };
      const yes = run('conftest-yes.h');
      // The pin_user_pages_fast() arm compiles: only the debug helper (CONFIG_EXAMPLE_DEBUG=m) pins with FOLL_GET.
      assert.deepEqual(yes.stdout.split('\n').filter((l) => /\[FS\d{3}\]$/.test(l)).map((l) => l.split(':')[1]), ['11']);
      assert.match(yes.stdout, /kernel 6\.2 \(from .*version\.h \(the kernel .*compile_commands\.json compiles against; 2 macros from compile_commands\.json, CONFIG_\* from .*autoconf\.h\)\)/);
      const no = run('conftest-no.h');
      assert.deepEqual(no.stdout.split('\n').filter((l) => /\[FS\d{3}\]$/.test(l)).map((l) => l.split(':')[1]).sort(), ['11', '7']);
      assert.doesNotMatch(no.stdout, /other arm/, 'the build decided the arm: no alternative is named');
    } finally { t.remove(); }
  });
});
