// Headers included from outside a driver's folder (server/src/runtime/includes.ts): the quoted include lines of a text
// and of its bytes, where a Kbuild build finds each, and a pin macro in a sibling folder's compat header reported at
// the driver's call by the scan (prefilter or not) and by the editor's context alike (hailo-ai/hailort-drivers:
// linux/vdma/memory.c pins through get_user_pages_compact of linux/utils/compact.h, docs/field-eval.md).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { boundaryIn, includedOutside, IncludeResolver, quotedIncludes, quotedIncludesInBytes } from '../../../server/src/runtime/includes';
import { DriverContextLoader, type ContextOptions } from '../../../server/src/runtime/driverContext';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { analyze } from '../../../server/src/engine';
import { resolveSettings } from '../../../server/src/settings';
import { listFixtureDrivers } from '../../helpers/fixtures';
import { Random } from '../../helpers/random';
import { runCli, scratchTree } from '../cli/runCli';

describe('includes: quoted #include lines', function () {
  it('lists each quoted name once, in order, with blanks around # and include, on LF or CRLF lines', function () {
    const text = '#include "a.h"\n  #  include\t"../b/c.h"\r\n#include <linux/mm.h>\n#include "a.h"\n#include"d.h"\n';
    assert.deepEqual(quotedIncludes(text), ['a.h', '../b/c.h', 'd.h']);
  });

  it('leaves out what is no include line: mid-line, unterminated, empty, a macro name, other directives', function () {
    const text = 'x #include "mid.h"\n#include "open.h\n#include ""\n#include HDR\n#define include "no.h"\n#includes "no2.h"\n// #include "comment.h"\n';
    assert.deepEqual(quotedIncludes(text), []);
  });

  it('gives the same names from the bytes as from the decoded text: every fixture file, and 2,000 random soups', function () {
    let files = 0;
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        const bytes = fs.readFileSync(file.path);
        assert.deepEqual(quotedIncludesInBytes(bytes), quotedIncludes(bytes.toString('utf8')), file.path);
        files++;
      }
    }
    assert.ok(files > 20);
    const rng = new Random(0x1c1d);
    const pieces = ['#', 'include', ' ', '\t', '"', 'a.h', '../x/é.h', '\n', '\r\n', '<', '>', 'x', '/*', '*/',
      '\n#include "', '#include "b.h"\n', '\n# include\t"ü/c.h"', '"\n'];
    let nonEmpty = 0;
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let n = rng.int(1, 30); n > 0; n--) text += rng.pick(pieces);
      const fromBytes = quotedIncludesInBytes(Buffer.from(text, 'utf8'));
      assert.deepEqual(fromBytes, quotedIncludes(text), JSON.stringify(text));
      if (fromBytes.length > 0) nonEmpty++;
    }
    assert.ok(nonEmpty > 50, `the soups hold includes (${nonEmpty})`);
  });
});

describe('includes: where a quoted include is found', function () {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-inc-'));
    for (const f of ['tree/linux/vdma/memory.c', 'tree/linux/vdma/memory.h', 'tree/linux/utils/compact.h', 'tree/common/ioctl.h', 'tree/outer.h', 'top.h', 'tree/linux/notes.txt']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), '');
    }
    fs.mkdirSync(path.join(dir, 'tree/linux/vdma/dir.h'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('beside the file first, then in each folder above it up to the boundary, never above it', function () {
    const at = (p: string): string => path.join(dir, p);
    const r = new IncludeResolver(boundaryIn([at('tree')]));
    const from = at('tree/linux/vdma/memory.c');
    assert.equal(r.resolve(from, 'memory.h'), at('tree/linux/vdma/memory.h'));
    assert.equal(r.resolve(from, 'utils/compact.h'), at('tree/linux/utils/compact.h'), 'found from linux/, above vdma/');
    assert.equal(r.resolve(from, '../../common/ioctl.h'), at('tree/common/ioctl.h'), 'a relative name beside the file');
    assert.equal(r.resolve(from, 'outer.h'), at('tree/outer.h'), 'the boundary folder itself');
    assert.equal(r.resolve(from, 'top.h'), undefined, 'above the boundary');
    assert.equal(r.resolve(from, '../../../top.h'), at('top.h'), 'a relative name is the compiler\'s, wherever it leads');
    assert.equal(r.resolve(from, 'notes.txt'), undefined, 'not a C source');
    assert.equal(r.resolve(from, 'dir.h'), undefined, 'a folder');
    assert.equal(r.resolve(from, at('tree/outer.h')), undefined, 'an absolute name');
    const alone = new IncludeResolver(boundaryIn([]));
    assert.equal(alone.resolve(from, 'utils/compact.h'), undefined, 'outside every root: beside the file only');
    assert.equal(alone.resolve(from, 'memory.h'), at('tree/linux/vdma/memory.h'));
  });

  it('follows the headers found in turn, skips the members, stops at the limit', function () {
    const at = (p: string): string => path.join(dir, p);
    const includes: Record<string, string[]> = {
      [at('tree/linux/vdma/memory.c')]: ['memory.h', 'utils/compact.h'],
      [at('tree/linux/vdma/memory.h')]: ['../../common/ioctl.h'],
      [at('tree/linux/utils/compact.h')]: ['outer.h', 'missing.h'],
      [at('tree/outer.h')]: ['utils/compact.h'],
    };
    const r = new IncludeResolver(boundaryIn([at('tree')]));
    const members = [at('tree/linux/vdma/memory.c'), at('tree/linux/vdma/memory.h')];
    const asked: string[] = [];
    const found = includedOutside(members, (f) => { asked.push(f); return includes[f]; }, r);
    assert.deepEqual(found, [at('tree/linux/utils/compact.h'), at('tree/common/ioctl.h'), at('tree/outer.h')]);
    assert.equal(new Set(asked).size, asked.length, 'each file asked once');
    assert.deepEqual(includedOutside(members, (f) => includes[f], r, 1), [at('tree/linux/utils/compact.h')]);
  });
});

/** An out-of-tree layout: the pin macro lives in a compat header of a sibling folder, one arm per kernel. */
const SPLIT: Record<string, string> = {
  'drv/linux/vdma/memory.c': '#include "utils/compact.h"\n#include "../common/hdr.h"\n' +
    'struct buf { struct page **pages; };\n' +
    'int map_buf(struct buf *b, unsigned long a, int n)\n{\n\treturn drv_gup_compat(a, n, FOLL_WRITE, b->pages);\n}\n',
  'drv/linux/utils/compact.h': '#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)\n#define drv_gup_compat get_user_pages\n#else\n' +
    '#define drv_gup_compat(s, n, f, p) get_user_pages(s, n, f, p, NULL)\n#endif\n',
  'drv/linux/common/hdr.h': '#define DRV_NOTHING 0\n',
};

describe('includes: a pin macro in a sibling folder\'s header', function () {
  let tree: { dir: string; remove: () => void };
  before(() => { tree = scratchTree(SPLIT); });
  after(() => tree.remove());

  const findings = (args: string[]): Array<{ code: string; path: string; line: number }> => {
    const r = runCli(['scan', '--format', 'json', '--fail-on', 'none', '--kernel', '6.12', ...args], tree.dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { findings: Array<{ code: string; path: string; line: number }> };
    return out.findings.map((f) => ({ code: f.code, path: f.path, line: f.line }));
  };

  it('the scan reports FS001 at the driver\'s call, with the prefilter or without, on one thread or two', function () {
    const expected = [{ code: 'FS001', path: 'drv/linux/vdma/memory.c', line: 6 }];
    assert.deepEqual(findings(['drv']), expected);
    assert.deepEqual(findings(['--no-prefilter', 'drv']), expected);
    assert.deepEqual(findings(['-j', '2', 'drv']), expected);
    assert.deepEqual(findings(['--driver-scope', 'workspace', 'drv/linux/vdma']).length, 0, 'utils/ is above the scanned folder');
    assert.deepEqual(findings(['--driver-scope', 'file', 'drv']), [], 'the file scope is the file alone');
  });

  it('the editor\'s context holds the header and the analysis reports the same finding', async function () {
    const syntax = await loadSyntax();
    const loader = new DriverContextLoader(syntax, 60_000);
    try {
      const file = path.join(tree.dir, 'drv/linux/vdma/memory.c');
      const opts: ContextOptions = { maxFileBytes: 1 << 20, budgetMs: 5000, scope: 'directory', workspaceRoots: [tree.dir] };
      const context = loader.contextFor(file, opts);
      assert.deepEqual(context.files?.map((f) => path.relative(tree.dir, new URL(f.uri).pathname)), [path.join('drv', 'linux', 'utils', 'compact.h')]);
      const text = fs.readFileSync(file, 'utf8');
      const settings = resolveSettings({ kernelVersion: "6.12" });
      const report = analyze(syntax, { uri: pathToFileURL(file).toString(), text }, settings, context);
      assert.deepEqual(report.findings.map((f) => [f.code, f.span.start.line + 1]), [['FS001', 6]]);
      const outside = loader.contextFor(file, { ...opts, workspaceRoots: [path.join(tree.dir, 'drv/linux/vdma')] });
      assert.deepEqual(outside.files, [], 'utils/ is above the workspace folder');
    } finally {
      loader.dispose();
    }
  });
});
