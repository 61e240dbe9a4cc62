// Quick fixes from the command line (issue 16): scan --fix-dry-run prints a git-style diff, scan --fix / forksafe fix write the safe fixes, forksafe fix --format-patch writes a series that git am applies.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, scratchTree } from './runCli';

/** A driver whose long-lived pin is released in another file (the MR's destroy path), with a put_page loop. */
const MR_C = [
  '#include <linux/mm.h>',
  '#include "mr.h"',
  '',
  'int ex_reg_mr(struct ex_mr *mr, unsigned long start)',
  '{',
  '\tlong pinned = get_user_pages_fast(start, mr->npages, FOLL_WRITE, mr->pages);',
  '',
  '\tif (pinned != mr->npages)',
  '\t\treturn -EFAULT;',
  '\treturn 0;',
  '}',
  '',
].join('\n');
const MR_H = 'struct ex_mr { struct page **pages; unsigned long npages; };\nint ex_reg_mr(struct ex_mr *mr, unsigned long start);\nvoid ex_dereg_mr(struct ex_mr *mr);\n';
const RELEASE_C = [
  '#include <linux/mm.h>',
  '#include "mr.h"',
  '',
  'void ex_dereg_mr(struct ex_mr *mr)',
  '{',
  '\tunsigned long i;',
  '',
  '\t/* the device is quiesced before this */',
  '\tfor (i = 0; i < mr->npages; i++)',
  '\t\tput_page(mr->pages[i]);',
  '\tkfree(mr->pages);',
  '}',
  '',
].join('\n');
/** A second driver: a stored pin released with release_pages(). */
const DMA_C = [
  'struct req { struct page **pages; int n; };',
  'int submit(struct req *rq, unsigned long uaddr)',
  '{',
  '\treturn get_user_pages_fast(uaddr, rq->n, FOLL_WRITE, rq->pages);',
  '}',
  'void done(struct req *rq)',
  '{',
  '\trelease_pages(rq->pages, rq->n);',
  '}',
  '',
].join('\n');

function tree(): { dir: string; remove: () => void } {
  return scratchTree({ 'drivers/exmr/mr.c': MR_C, 'drivers/exmr/mr.h': MR_H, 'drivers/exmr/release.c': RELEASE_C, 'drivers/exdma/dma.c': DMA_C });
}

function git(args: string[], cwd: string): string {
  const r = spawnSync('git', ['-c', 'user.name=Fixture Author', '-c', 'user.email=author@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('cli: quick fixes from the command line', function () {
  this.timeout(60000);

  it('--fix-dry-run prints a git-style diff converting the pin and its release in another file, and writes nothing', function () {
    const { dir, remove } = tree();
    try {
      const r = runCli(['scan', '--kernel', '6.1', '--fix-dry-run', 'drivers'], dir);
      assert.equal(r.code, 1, `the findings are still there: ${r.stderr}`);
      assert.match(r.stdout, /^diff --git a\/drivers\/exdma\/dma\.c b\/drivers\/exdma\/dma\.c\n--- a\/drivers\/exdma\/dma\.c\n\+\+\+ b\/drivers\/exdma\/dma\.c\n@@ /m);
      assert.match(r.stdout, /^-\tlong pinned = get_user_pages_fast\(start, mr->npages, FOLL_WRITE, mr->pages\);\n\+\tlong pinned = pin_user_pages_fast\(start, mr->npages, FOLL_WRITE \| FOLL_LONGTERM, mr->pages\);$/m);
      // The release in release.c: the loop collapses into one call, its index declaration goes (-Wunused-variable), the comment stays.
      assert.match(r.stdout, /^-\tfor \(i = 0; i < mr->npages; i\+\+\)\n-\t\tput_page\(mr->pages\[i\]\);\n\+\tunpin_user_pages\(mr->pages, mr->npages\);$/m);
      assert.match(r.stdout, /^-\tunsigned long i;$/m);
      assert.match(r.stdout, /^ \t\/\* the device is quiesced before this \*\/$/m);
      assert.match(r.stdout, /^-\trelease_pages\(rq->pages, rq->n\);\n\+\tunpin_user_pages\(rq->pages, rq->n\);$/m);
      assert.match(r.stderr, /--fix-dry-run: 2 fixes would change 3 files; nothing was written/);
      assert.equal(fs.readFileSync(path.join(dir, 'drivers/exmr/mr.c'), 'utf8'), MR_C, 'nothing written');
      // The diff applies as it stands.
      git(['init', '-q'], dir);
      fs.writeFileSync(path.join(dir, 'fix.diff'), r.stdout);
      git(['apply', '--check', 'fix.diff'], dir);
    } finally { remove(); }
  });

  it('--fix writes the safe fixes, the tree then scans clean, and a second run changes nothing', function () {
    const { dir, remove } = tree();
    try {
      fs.writeFileSync(path.join(dir, 'drivers/exdma/latin1.c'), Buffer.from('/* caf\xe9 */\nstruct q { struct page **p; };\nint f(struct q *q, unsigned long u) { return get_user_pages_fast(u, 1, FOLL_WRITE, q->p); }\nvoid g(struct q *q) { put_page(q->p[0]); }\n', 'latin1'));
      const r = runCli(['scan', '--kernel', '6.1', '--fix', 'drivers'], dir);
      assert.match(r.stderr, /--fix applied 2 fixes in 3 files: drivers\/exdma\/dma\.c, drivers\/exmr\/mr\.c, drivers\/exmr\/release\.c/);
      assert.match(r.stderr, /drivers\/exdma\/latin1\.c: not fixed: not valid UTF-8/);
      // What is left: only the file it would not rewrite.
      assert.equal(r.code, 1);
      assert.deepEqual(r.stdout.split('\n').filter((l) => /^\S/.test(l)), ['drivers/exdma/latin1.c']);
      const mr = fs.readFileSync(path.join(dir, 'drivers/exmr/mr.c'), 'utf8');
      assert.match(mr, /pin_user_pages_fast\(start, mr->npages, FOLL_WRITE \| FOLL_LONGTERM, mr->pages\)/);
      assert.equal(fs.readFileSync(path.join(dir, 'drivers/exmr/release.c'), 'utf8'), RELEASE_C.replace('\tunsigned long i;\n\n', '').replace('\tfor (i = 0; i < mr->npages; i++)\n\t\tput_page(mr->pages[i]);', '\tunpin_user_pages(mr->pages, mr->npages);'));
      fs.rmSync(path.join(dir, 'drivers/exdma/latin1.c'));
      const clean = runCli(['scan', '--kernel', '6.1', 'drivers'], dir);
      assert.equal(clean.code, 0, `no FS001 and no FS006 left: ${clean.stdout}`);
      const again = runCli(['fix', '--kernel', '6.1', 'drivers'], dir);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /--fix applied 0 fixes in 0 files/);
    } finally { remove(); }
  });

  it('fix --format-patch writes one git am-able patch per driver; applied, the tree scans clean', function () {
    const { dir, remove } = tree();
    try {
      git(['init', '-q'], dir);
      git(['add', '-A'], dir);
      git(['commit', '-qm', 'drivers'], dir);
      const out = path.join(dir, 'out');
      const r = runCli(['fix', '--kernel', '6.1', '--format-patch', 'out', '--author', 'Jane Maintainer <jane@example.org>', 'drivers'], dir);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '', 'the report goes to -o only');
      const patches = fs.readdirSync(out).sort();
      assert.deepEqual(patches, ['0001-exdma-use-pin-user-pages-fast-for-long-lived-dma-pin.patch', '0002-exmr-use-pin-user-pages-fast-for-long-lived-dma-pins.patch']);
      const first = fs.readFileSync(path.join(out, patches[0]), 'utf8');
      assert.match(first, /^From 0{40} Mon Sep 17 00:00:00 2001\nFrom: Jane Maintainer <jane@example.org>\nDate: .+\nSubject: \[PATCH 1\/2\] exdma: use pin_user_pages_fast\(\) for long-lived DMA pins\n\n/);
      assert.match(first, /fork\(\)/);
      assert.match(first, /commit 70e806e4e645 \("mm: Do early cow for pinned pages during fork\(\) for ptes"\)/);
      assert.match(first, /drivers\/exdma\/dma\.c:4 \(FS001\): get_user_pages_fast\(\) -> pin_user_pages_fast\(\) with FOLL_LONGTERM, 1 release converted/);
      for (const body of [first, fs.readFileSync(path.join(out, patches[1]), 'utf8')]) {
        for (const line of body.slice(0, body.indexOf('\n---\n')).split('\n').slice(4)) assert.ok(line.length <= 72 || line.startsWith('  '), `changelog line over 72 columns: ${line}`);
      }
      assert.equal(fs.readFileSync(path.join(dir, 'drivers/exmr/mr.c'), 'utf8'), MR_C, 'the tree is not changed');
      fs.rmSync(out, { recursive: true, force: true });
      // Written outside the work tree, applied inside it.
      const outside = fs.mkdtempSync(path.join(path.dirname(dir), 'forksafe-patches-'));
      try {
        assert.equal(runCli(['fix', '--kernel', '6.1', '--format-patch', outside, 'drivers'], dir).code, 1);
        git(['am', ...fs.readdirSync(outside).sort().map((p) => path.join(outside, p))], dir);
      } finally { fs.rmSync(outside, { recursive: true, force: true }); }
      assert.deepEqual(git(['log', '--format=%s'], dir).trim().split('\n'), ['exmr: use pin_user_pages_fast() for long-lived DMA pins', 'exdma: use pin_user_pages_fast() for long-lived DMA pins', 'drivers']);
      const clean = runCli(['scan', '--kernel', '6.1', 'drivers'], dir);
      assert.equal(clean.code, 0, clean.stdout);
    } finally { remove(); }
  });

  it('usage errors exit 2', function () {
    const { dir, remove } = tree();
    try {
      for (const args of [['scan', '--fix', '--fix-dry-run', 'drivers'], ['scan', '--format-patch', 'x', 'drivers'], ['fix', '--dry-run', '--format-patch', 'x', 'drivers'],
        ['fix', '--author', 'Jane <j@e>', 'drivers'], ['fix', '--format-patch', 'x', '--author', 'nobody', 'drivers']]) {
        const r = runCli(args, dir);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, /^forksafe (scan|fix): /, args.join(' '));
      }
      assert.equal(fs.existsSync(path.join(dir, 'x')), false);
    } finally { remove(); }
  });
});
