// The language server takes the kernel from the build too (issue 13): the driver's KDIR, or the forksafe.kernelDir setting, decides which compat arm is judged.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { EDITOR_CAPABILITIES, LspProcess } from '../helpers/lspProcess';
import type { StatusParams } from '../../server/src/lsp/protocol';

const COMPAT = '#include <linux/version.h>\nstruct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)\n\treturn pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);\n#else\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);\n#endif\n}\n';

describe('protocol: the kernel from the build', function () {
  let dir: string;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-kbuild-lsp-'));
    const write = (rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    };
    write('kbuild-5.4/include/generated/uapi/linux/version.h', '#define LINUX_VERSION_CODE 328704\n');
    write('kbuild-6.6/include/generated/uapi/linux/version.h', '#define LINUX_VERSION_CODE 394752\n');
    write('old/Makefile', 'KDIR ?= ../kbuild-5.4\nall:\n\t$(MAKE) -C $(KDIR) M=$(PWD)\n');
    write('old/drv.c', COMPAT);
    // An out-of-tree module whose Kbuild names the kernel (the Makefile only builds).
    write('new/Kbuild', 'obj-m += drv.o\nKDIR := ../kbuild-6.6\n');
    write('new/drv.c', COMPAT);
  });
  after(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  it("each driver is judged for the kernel its Makefile's KDIR names, and the status says where it came from", async function () {
    const server = new LspProcess();
    try {
      await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(dir).toString(), name: 'drivers' }]);
      const oldUri = pathToFileURL(path.join(dir, 'old', 'drv.c')).toString();
      const newUri = pathToFileURL(path.join(dir, 'new', 'drv.c')).toString();
      await server.open(oldUri, COMPAT);
      await server.open(newUri, COMPAT);
      const old = await server.diagnosticsForCurrentVersion(oldUri);
      assert.deepEqual(old.map((d) => d.code), ['FS001']);
      assert.match(old[0].message as string, /kernel 5\.4 \(from .*kbuild-5\.4.*version\.h \(KDIR in .*Makefile\)\)/);
      assert.deepEqual(await server.diagnosticsForCurrentVersion(newUri), []);
      const status = await server.notification<StatusParams>('forksafe/status', (p) => p.uri === newUri);
      assert.equal(status.kernel, '6.6');
      assert.match(status.kernelSource, /kbuild-6\.6.*version\.h \(KDIR in .*new.Kbuild\)/);
    } finally {
      assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    }
  });

  it('a changed Makefile (workspace/didChangeWatchedFiles) re-detects the kernel and re-analyses the open driver', async function () {
    const server = new LspProcess();
    const makefile = path.join(dir, 'old', 'Makefile');
    const before = fs.readFileSync(makefile, 'utf8');
    try {
      await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(dir).toString(), name: 'drivers' }]);
      const oldUri = pathToFileURL(path.join(dir, 'old', 'drv.c')).toString();
      await server.open(oldUri, COMPAT);
      assert.deepEqual((await server.diagnosticsForCurrentVersion(oldUri)).map((d) => d.code), ['FS001']);
      fs.writeFileSync(makefile, before.replace('kbuild-5.4', 'kbuild-6.6'));
      const next = server.diagnostics(oldUri, (p) => p.diagnostics.length === 0);
      await server.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(makefile).toString(), type: 2 }] });
      assert.deepEqual((await next).diagnostics, [], 'judged for the 6.6 build now');
    } finally {
      fs.writeFileSync(makefile, before);
      assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    }
  });

  it('forksafe.compileCommands names a database outside the driver: its -include\'d conftest header picks the arm', async function () {
    const feature = 'struct mr { struct page **pages; };\nint reg(struct mr *mr, unsigned long a, int n)\n{\n#ifdef NV_PIN_USER_PAGES_PRESENT\n\treturn pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, mr->pages);\n#else\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, mr->pages);\n#endif\n}\n';
    fs.mkdirSync(path.join(dir, 'feat'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'feat', 'drv.c'), feature);
    const run = async (conftest: string): Promise<string[]> => {
      fs.writeFileSync(path.join(dir, 'out', 'conftest.h'), conftest);
      fs.writeFileSync(path.join(dir, 'out', 'compile_commands.json'), JSON.stringify([{ directory: path.join(dir, 'kbuild-6.6'), file: path.join(dir, 'feat', 'drv.c'),
        arguments: ['gcc', '-I./include', '-include', path.join(dir, 'out', 'conftest.h'), '-c', path.join(dir, 'feat', 'drv.c')] }]));
      const server = new LspProcess();
      server.configuration = { compileCommands: 'out' };
      try {
        await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(dir).toString(), name: 'drivers' }]);
        const uri = pathToFileURL(path.join(dir, 'feat', 'drv.c')).toString();
        await server.open(uri, feature);
        return (await server.diagnosticsForCurrentVersion(uri)).map((d) => `${d.code}@${d.range.start.line}`);
      } finally {
        assert.equal(await server.shutdown(), 0, server.stderr.join(''));
      }
    };
    assert.deepEqual(await run('#undef NV_PIN_USER_PAGES_PRESENT\n'), ['FS001@6'], 'the conftest says no pin_user_pages: the get_user_pages_fast() arm');
    assert.deepEqual(await run('#define NV_PIN_USER_PAGES_PRESENT 1\n'), [], 'the pin_user_pages_fast() arm');
  });

  it('the forksafe.kernelDir setting (relative to the workspace folder) decides before the Makefile', async function () {
    const server = new LspProcess();
    server.configuration = { kernelDir: 'kbuild-6.6' };
    try {
      await server.initialize(EDITOR_CAPABILITIES, [{ uri: pathToFileURL(dir).toString(), name: 'drivers' }]);
      const oldUri = pathToFileURL(path.join(dir, 'old', 'drv.c')).toString();
      await server.open(oldUri, COMPAT);
      assert.deepEqual(await server.diagnosticsForCurrentVersion(oldUri), []);
    } finally {
      assert.equal(await server.shutdown(), 0, server.stderr.join(''));
    }
  });
});
