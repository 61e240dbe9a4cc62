// Scale: a 50,000-line file and a folder of 5,000 files go through the CLI without error, with every planted pin found.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/lspProcess';

const CLI = path.join(REPO_ROOT, 'server', 'dist', 'cli.js');

/** A plain driver function of `lines` lines with no pin: loops, a switch, error gotos. */
function filler(name: string, lines: number): string {
  const body: string[] = [`static int ${name}(struct ctx *c, int n)`, '{', '\tint i, ret = 0;'];
  while (body.length < lines - 3) {
    body.push('\tfor (i = 0; i < n; i++) {', '\t\tif (c->regs[i] & BIT(3))', '\t\t\tgoto out;', '\t\tc->acc += readl(c->base + i * 4);', '\t}');
  }
  body.push('out:', '\treturn ret;', '}', '');
  return body.join('\n');
}

const PINNED = (name: string): string => [
  `static int ${name}(struct mr *mr, unsigned long start, int n)`,
  '{',
  '\treturn get_user_pages(start, n, FOLL_WRITE, mr->pages);',
  '}',
  '',
].join('\n');

function scan(args: string[]): { code: number | null; out: { findings: { path: string; code: string; line: number }[]; errors: unknown[] }; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'scan', '--format', 'json', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('scale', function () {
  this.timeout(240000);
  let dir: string;
  before(function () { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-scale-')); });
  after(function () { fs.rmSync(dir, { recursive: true, force: true }); });

  it('analyses a 50,000-line file and finds each of its 10 pins', function () {
    const parts: string[] = ['#include <linux/mm.h>', ''];
    for (let i = 0; i < 10; i++) { parts.push(filler(`work_${i}`, 4996)); parts.push(PINNED(`pin_${i}`)); }
    const text = parts.join('\n');
    assert.ok(text.split('\n').length >= 50000, `${text.split('\n').length} lines`);
    const file = path.join(dir, 'big.c');
    fs.writeFileSync(file, text);
    const r = scan([file]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.out.errors, []);
    assert.deepEqual(r.out.findings.map((f) => f.code), Array(10).fill('FS001'), r.stderr);
  });

  it('scans a tree of 5,000 files in 50 driver folders and finds exactly the planted pins', function () {
    const root = path.join(dir, 'tree');
    let planted = 0;
    for (let d = 0; d < 50; d++) {
      const sub = path.join(root, `drv${d}`);
      fs.mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 100; f++) {
        const pin = (d * 100 + f) % 250 === 7;
        if (pin) planted++;
        fs.writeFileSync(path.join(sub, `f${f}.${f % 10 === 0 ? 'h' : 'c'}`), pin ? PINNED(`pin_${d}_${f}`) : filler(`work_${d}_${f}`, 40));
      }
    }
    const r = scan([root]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.out.errors, []);
    assert.equal(planted, 20);
    assert.equal(r.out.findings.length, planted, r.stderr);
    assert.ok(r.out.findings.every((f) => f.code === 'FS001'));
  });
});
