// A deterministic generated driver tree for scanner tests: pins reached through wrappers, macros, flag headers, release helpers and protections spread over files, among many files that pin nothing.
import * as fs from 'fs';
import * as path from 'path';

/** A small seeded generator (mulberry32), so the same seed always writes the same tree. */
class Prng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0; }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(list: readonly T[]): T { return list[this.int(0, list.length - 1)]; }
  chance(p: number): boolean { return this.next() < p; }
}

const NOUNS = ['ring', 'queue', 'fence', 'ctx', 'irq', 'fw', 'buf', 'regs', 'stats', 'cmd', 'doorbell', 'mailbox'];
const VERBS = ['init', 'fini', 'reset', 'submit', 'poll', 'map', 'flush', 'enable', 'dump', 'program'];
const PIN_CALLS = ['get_user_pages_fast', 'pin_user_pages_fast', 'get_user_pages', 'pin_user_pages'];

/** C that mentions no pin, flag, protection or release API: what most of a kernel tree is. */
function noiseFile(rng: Prng, prefix: string, functions: number): string {
  const out = [`/* ${prefix}: generated filler for the forksafe scanner tests. */`, '#include <linux/kernel.h>', ''];
  for (let i = 0; i < functions; i++) {
    const name = `${prefix}_${rng.pick(VERBS)}_${rng.pick(NOUNS)}_${i}`;
    out.push(`static int ${name}(struct ${prefix}_dev *dev, u32 val)`, '{', '\tint ret = 0;', '',
      `\tif (!dev->${rng.pick(NOUNS)})`, '\t\treturn -ENODEV;', `\twritel(val, dev->base + 0x${rng.int(0, 0xfff).toString(16)});`,
      `\tret = ${prefix}_wait(dev, ${rng.int(1, 100)});`, '\treturn ret;', '}', '');
  }
  return out.join('\n');
}

/** Writes one driver folder; which pieces it gets is drawn from `rng`. Returns the file names written. */
function writeDriver(rng: Prng, dir: string, p: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  files[`${p}_core.c`] = noiseFile(rng, p, rng.int(2, 6));
  const api = rng.pick(PIN_CALLS);
  const pinArgs = (flags: string, pages: string): string =>
    api.endsWith('_fast') ? `addr, npages, ${flags}, ${pages}` : `addr, npages, ${flags}, ${pages}${api === 'get_user_pages' || api === 'pin_user_pages' ? ', NULL' : ''}`;
  // A wrapper function in one file, reached through a wrapper of the wrapper in another and a macro in a header.
  if (rng.chance(0.7)) {
    files[`${p}_pin.c`] = [`#include "${p}.h"`, '',
      `int ${p}_pin_range(unsigned long addr, int npages, unsigned int gup_flags, struct page **pages)`, '{',
      `\treturn ${api}(${pinArgs('gup_flags', 'pages')});`, '}', ''].join('\n');
    files[`${p}_mid.c`] = [`#include "${p}.h"`, '',
      `int ${p}_pin_user(struct ${p}_mr *mr, unsigned long addr, int npages, unsigned int how)`, '{',
      `\treturn ${p}_pin_range(addr, npages, how, mr->pages);`, '}', ''].join('\n');
    const flags = rng.pick(['FOLL_WRITE', `${p.toUpperCase()}_GUP_FLAGS`, 'FOLL_WRITE | FOLL_LONGTERM', '0']);
    files[`${p}_mr.c`] = [`#include "${p}.h"`, '',
      `int ${p}_reg_mr(struct ${p}_mr *mr, unsigned long addr, int npages)`, '{',
      `\treturn ${p}_pin_user(mr, addr, npages, ${flags});`, '}', '',
      `int ${p}_reg_mr_macro(struct ${p}_mr *mr, unsigned long addr, int npages)`, '{',
      `\treturn ${p.toUpperCase()}_PIN_RW(mr, addr, npages);`, '}', ''].join('\n');
  }
  // Flag macros in headers that name no FOLL_ flag, no pin API and no protection: only the macro closure finds them.
  files[`${p}.h`] = [`#define ${p.toUpperCase()}_PIN_RW(mr, a, n) ${p}_pin_user(mr, a, n, ${p.toUpperCase()}_GUP_FLAGS)`,
    `#define ${p.toUpperCase()}_NPAGES_MAX ${rng.int(16, 512)}`, ''].join('\n');
  files[`${p}_flags.h`] = [`#define ${p.toUpperCase()}_GUP_FLAGS (${p.toUpperCase()}_BASE_FLAGS)`, ''].join('\n');
  files[`${p}_base.h`] = [`#define ${p.toUpperCase()}_BASE_FLAGS ${rng.pick(['0', '1', `${p.toUpperCase()}_READ_ONLY`])}`,
    `#define ${p.toUpperCase()}_READ_ONLY 0`, ''].join('\n');
  // A direct pin whose pages go to a release helper defined in another file (short-lived) or are kept (long-lived).
  if (rng.chance(0.6)) {
    const release = rng.chance(0.5);
    files[`${p}_io.c`] = [`#include "${p}.h"`, '',
      `static int ${p}_do_io(unsigned long addr, int npages)`, '{', '\tstruct page *pages[16];', '\tint ret;', '',
      `\tret = ${api}(${pinArgs(rng.pick(['FOLL_WRITE', `${p.toUpperCase()}_GUP_FLAGS`, '0']), 'pages')});`,
      '\tif (ret < 0)', '\t\treturn ret;', release ? `\t${p}_put_pages(pages, ret);` : `\t${p}_keep(pages);`, '\treturn 0;', '}', ''].join('\n');
    files[`${p}_release.c`] = [`void ${p}_put_pages(struct page **pages, int n)`, '{', '\twhile (n--)',
      `\t\t${api.startsWith('pin') ? 'unpin_user_page' : 'put_page'}(pages[n]);`, '}', ''].join('\n');
  }
  // A protection in another file of the driver.
  if (rng.chance(0.4)) {
    files[`${p}_mmap.c`] = [`static int ${p}_mmap(struct file *f, struct vm_area_struct *vma)`, '{',
      '\tvma->vm_flags |= VM_DONTCOPY;', '\treturn 0;', '}', ''].join('\n');
  }
  // A suppression without a reason in a file that pins nothing: FS008 needs no pin.
  if (rng.chance(0.2)) files[`${p}_quirks.c`] = `/* forksafe-ignore FS001 */\nint ${p}_quirk;\n`;
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return Object.keys(files);
}

export interface GeneratedTree { root: string; files: number; drivers: number }

/**
 * Writes `drivers` driver folders (about a third of them pin memory) and as many folders of plain files under
 * `root`, from `seed`. The same arguments always write the same bytes.
 */
export function generateTree(root: string, seed: number, drivers: number): GeneratedTree {
  const rng = new Prng(seed);
  let files = 0;
  for (let i = 0; i < drivers; i++) {
    const p = `drv${i}`;
    const dir = path.join(root, 'drivers', rng.pick(['misc', 'gpu', 'infiniband/hw', 'media']), p);
    if (rng.chance(0.35)) files += writeDriver(rng, dir, p).length;
    else {
      fs.mkdirSync(dir, { recursive: true });
      for (let f = rng.int(2, 5); f > 0; f--) { fs.writeFileSync(path.join(dir, `${p}_${f}.c`), noiseFile(rng, `${p}_${f}`, rng.int(3, 10))); files++; }
      fs.writeFileSync(path.join(dir, `${p}.h`), `#define ${p.toUpperCase()}_REG 0x${rng.int(0, 0xffff).toString(16)}\n`);
      files++;
    }
  }
  return { root, files, drivers };
}
