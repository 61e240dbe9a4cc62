// Switches nothing in a driver's tree sets (server/src/runtime/buildSwitches.ts): a pin under `#ifdef` of such a switch
// is in code no build of the tree compiles (NVIDIA/gds-nvidia-fs src/nvfs-rdma.c:174/176, under
// NVFS_TEST_GPFS_CALLBACK, labelled not-built in docs/field-eval.md); a switch a Makefile, a configure script or a
// #define sets, or one in a kernel namespace, stays the build's to decide.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { prefixOf, testedSwitches, TreeSwitches, unsetSwitches } from '../../../server/src/runtime/buildSwitches';
import { DriverContextLoader, type ContextOptions } from '../../../server/src/runtime/driverContext';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { analyze } from '../../../server/src/engine';
import { resolveSettings } from '../../../server/src/settings';
import { runCli, scratchTree } from '../cli/runCli';

const DRIVER = (guard: string): string => '#include <linux/mm.h>\n#include "drv.h"\n' +
  'struct drv_ctx { struct page **pages; };\n' +
  `int drv_hook(struct drv_ctx *c, unsigned long a)\n{\n${guard}\n\treturn get_user_pages_fast(a, 1, FOLL_WRITE, c->pages);\n#endif\n\treturn 0;\n}\n`;
const HEADER = '#define DRV_MAX_DEVS 8\n#define DRV_NAME "drv"\n#define DRV_BLOCK 4096\n';

describe('build switches: what a tree never sets', function () {
  it('lists the names tested by #ifdef, #ifndef and defined(), once each', function () {
    const text = '#ifdef A_X\n#endif\n#if defined(B_Y) && !defined C_Z\n#elif defined ( D_W )\n#endif\n#ifndef A_X\n#endif\nint defined_e(int E_V);\n';
    assert.deepEqual(testedSwitches(text).sort(), ['A_X', 'B_Y', 'C_Z', 'D_W']);
    assert.equal(prefixOf('NVFS_TEST_GPFS_CALLBACK'), 'NVFS_');
    assert.equal(prefixOf('DEBUG'), undefined);
    assert.equal(prefixOf('_PRIVATE_X'), undefined);
  });

  it('takes as unset only a switch in the tree\'s own namespace that nothing outside #if lines names', function () {
    const tree = scratchTree({ 'src/a.c': DRIVER('#ifdef DRV_TEST_HOOK'), 'src/drv.h': HEADER, 'src/Makefile': 'ccflags-y += -DDRV_WITH_STATS\n', 'src/configure': 'echo "#define DRV_HAVE_FEATURE 1"\n',
      'src/notes.c': '/* OTHER_ONE */\n#define OTHER_A 1\n#define OTHER_B 2\n' });
    try {
      const file = path.join(tree.dir, 'src/a.c');
      const text = '#ifdef DRV_TEST_HOOK\n#endif\n#ifdef DRV_WITH_STATS\n#endif\n#if defined(DRV_HAVE_FEATURE)\n#endif\n#ifdef VM_RESERVED\n#endif\n#ifdef OTHER_X\n#endif\n#ifdef ELSE_Y\n#endif\n';
      const switches = new TreeSwitches(tree.dir);
      assert.equal(switches.searchable, true);
      assert.deepEqual(unsetSwitches(text, file, () => switches), ['DRV_TEST_HOOK'], 'OTHER_ has two defines, ELSE_ none');
      assert.deepEqual(unsetSwitches(`${text}#define DRV_TEST_HOOK 1\n`, file, () => new TreeSwitches(tree.dir)), [], 'an unsaved #define sets it');
      assert.deepEqual(unsetSwitches('#ifdef DRV_TEST_HOOK\n#endif\n#ifdef OTHER_Z\n#endif\n', file, () => switches), ['DRV_TEST_HOOK'], 'asked again: the same answers');
      let asked = 0;
      assert.deepEqual(unsetSwitches('#ifdef CONFIG_X\n#endif\n#ifdef DEBUG\n#endif\n', file, () => { asked++; return switches; }), []);
      assert.equal(asked, 0, 'the tree is searched only when the text tests a candidate');
    } finally {
      tree.remove();
    }
  });

  it('does not search a tree of more than 2,000 files', function () {
    const files: Record<string, string> = { 'a.c': DRIVER('#ifdef DRV_TEST_HOOK'), 'drv.h': HEADER };
    for (let i = 0; i < 2001; i++) files[`many/f${i}.txt`] = '';
    const tree = scratchTree(files);
    try {
      const switches = new TreeSwitches(tree.dir);
      assert.equal(switches.searchable, false);
      assert.deepEqual(unsetSwitches('#ifdef DRV_TEST_HOOK\n#endif\n', path.join(tree.dir, 'a.c'), () => switches), []);
    } finally {
      tree.remove();
    }
  });
});

describe('build switches: a pin under a switch nothing sets', function () {
  const findings = (dir: string, args: string[]): string[] => {
    const r = runCli(['scan', '--format', 'json', '--fail-on', 'none', '--kernel', '5.4', ...args], dir);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { findings: Array<{ code: string; path: string; line: number }> }).findings.map((f) => `${f.code} ${f.path}:${f.line}`);
  };

  it('the scan leaves it out; set by a Makefile, or in a kernel namespace, it is reported', function () {
    const hook = scratchTree({ 'drv/a.c': DRIVER('#ifdef DRV_TEST_HOOK'), 'drv/drv.h': HEADER, 'drv/Makefile': 'obj-m += drv.o\n' });
    const set = scratchTree({ 'drv/a.c': DRIVER('#ifdef DRV_TEST_HOOK'), 'drv/drv.h': HEADER, 'drv/Makefile': 'ccflags-$(CONFIG_DRV_TEST) += -DDRV_TEST_HOOK\n' });
    const kernel = scratchTree({ 'drv/a.c': DRIVER('#ifdef FOLL_LONGTERM'), 'drv/drv.h': HEADER });
    try {
      assert.deepEqual(findings(hook.dir, ['drv']), []);
      assert.deepEqual(findings(hook.dir, ['--no-prefilter', '-j', '2', 'drv']), []);
      assert.deepEqual(findings(set.dir, ['drv']), ['FS001 drv/a.c:7']);
      assert.deepEqual(findings(kernel.dir, ['drv']), ['FS001 drv/a.c:7']);
    } finally {
      hook.remove();
      set.remove();
      kernel.remove();
    }
  });

  it('the editor takes the same switches as unset, from the workspace folder', async function () {
    const tree = scratchTree({ 'drv/a.c': DRIVER('#ifdef DRV_TEST_HOOK'), 'drv/drv.h': HEADER });
    const syntax = await loadSyntax();
    const loader = new DriverContextLoader(syntax, 60_000);
    try {
      const file = path.join(tree.dir, 'drv/a.c');
      const opts: ContextOptions = { maxFileBytes: 1 << 20, budgetMs: 5000, scope: 'directory', workspaceRoots: [tree.dir] };
      const text = fs.readFileSync(file, 'utf8');
      const unset = loader.unsetSwitchesOf(file, opts, text);
      assert.deepEqual(unset, ['DRV_TEST_HOOK']);
      const settings = resolveSettings({ kernelVersion: '5.4' });
      const uri = pathToFileURL(file).toString();
      assert.deepEqual(analyze(syntax, { uri, text }, settings, { ...loader.contextFor(file, opts), unsetSwitches: unset }).findings.map((f) => f.code), []);
      assert.deepEqual(analyze(syntax, { uri, text }, settings, loader.contextFor(file, opts)).findings.map((f) => f.code), ['FS001'], 'without the tree\'s answer the pin is judged');
      fs.writeFileSync(path.join(tree.dir, 'drv/Makefile'), 'ccflags-y += -DDRV_TEST_HOOK\n');
      assert.deepEqual(loader.unsetSwitchesOf(file, opts, text), ['DRV_TEST_HOOK'], 'kept until a file changes');
      loader.evict(path.join(tree.dir, 'drv/Makefile'));
      assert.deepEqual(loader.unsetSwitchesOf(file, opts, text), []);
    } finally {
      loader.dispose();
      tree.remove();
    }
  });
});
