// Hostile C inputs for the fuzz suite: random bytes and mutated fixtures; input i of a seed is always the same text.
import { Random } from '../helpers/random';

/** The fixed seed of `npm test`; FORKSAFE_FUZZ_SEED overrides it. */
export const DEFAULT_SEED = 0x5eed_f0c5;

export interface SourceSample { name: string; text: string }

export interface HostileInput {
  /** Index in the sequence; with the seed it reproduces the input. */
  index: number;
  /** Mutation kinds applied, in order, e.g. 'truncate+crlf'. */
  kind: string;
  /** The fixture it was derived from ('' for inputs made from scratch). */
  base: string;
  text: string;
}

export type Mutation = (text: string, rng: Random) => string;

const PIN_CALL = 'get_user_pages(start, npages, FOLL_WRITE | FOLL_LONGTERM, pages);';
const PIN_FN = (body: string): string => `struct ctx { struct page **pages; };\nint reg(struct ctx *ctx, unsigned long start, int npages, struct page **pages)\n{\n${body}\n\tctx->pages = pages;\n\treturn 0;\n}\n`;

/** A C-flavoured vocabulary: token soup reaches the analysis far more often than uniform bytes. */
const C_TOKENS = [
  'get_user_pages', 'get_user_pages_fast', 'pin_user_pages', 'pin_user_pages_remote', 'unpin_user_pages', 'put_page',
  'release_pages', 'FOLL_WRITE', 'FOLL_LONGTERM', 'FOLL_FORCE', 'FOLL_GET', 'FOLL_PIN', 'VM_DONTCOPY', 'MADV_DONTFORK',
  'mmu_interval_notifier_insert', 'vm_flags_set', 'struct', 'page', '**', '*', '&', '->', '.', ',', ';', '(', ')', '{', '}',
  '[', ']', '|', '|=', '=', '?', ':', '!!', '0', '1', 'x', 'mr', 'pages', 'ctx', 'static', 'inline', 'int', 'void', 'return',
  'if', 'else', 'goto', 'out', 'for', 'while', '#define', '#if', '#ifdef', '#else', '#elif', '#endif', '#include',
  'LINUX_VERSION_CODE', 'KERNEL_VERSION(5,9,0)', '>=', '\\\n', '\n', ' ', '\t', '/*', '*/', '//', '"', "'", '__user',
  '// forksafe-ignore FS001', '// forksafe-ignore FS001: reason', '// forksafe-assume dontfork: userspace', '// expect: FS001',
];

function tokenSpans(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const re = /[A-Za-z_]\w*|\d+|\S/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push([m.index, m.index + m[0].length]);
  return out;
}

function insertAt(text: string, at: number, what: string): string {
  return text.slice(0, at) + what + text.slice(at);
}

/** Offsets of line starts, so line-level mutations land on line boundaries. */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) out.push(i + 1);
  return out;
}

function encodeUtf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function decodeLossy(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

function decodeLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Nesting `depth` levels deep, in the shapes that recurse in a parser or an analysis. */
export function deepNesting(depth: number, shape: number): string {
  switch (shape % 7) {
    case 0: return PIN_FN('\t' + '{'.repeat(depth) + PIN_CALL + '}'.repeat(depth));
    case 1: return PIN_FN(`\tget_user_pages(start, npages, ${'('.repeat(depth)}FOLL_WRITE${')'.repeat(depth)}, pages);`);
    case 2: return PIN_FN('\t' + 'if (npages) '.repeat(depth) + PIN_CALL);
    case 3: return '#if 1\n'.repeat(depth) + PIN_FN('\t' + PIN_CALL) + '#endif\n'.repeat(depth);
    case 4: return PIN_FN(`\tget_user_pages(start, npages, ${'FOLL_WRITE | '.repeat(depth)}FOLL_LONGTERM, pages);`);
    case 5: return PIN_FN(`\tget_user_pages(${'f('.repeat(depth)}start${')'.repeat(depth)}, npages, FOLL_WRITE, ${'(struct page **)'.repeat(depth)}pages);`);
    default: return PIN_FN(`\tint flags = ${'npages ? '.repeat(depth)}FOLL_WRITE${' : 0'.repeat(depth)};\n\tget_user_pages(start, npages, flags, pages);`);
  }
}

/** A single line of about `bytes` characters, in shapes that stress the lexer, the parser or the analysis. */
export function hugeLine(bytes: number, shape: number, base: string): string {
  switch (shape % 5) {
    case 0: { // the whole fixture on one line, padded with a comment
      const flat = base.replace(/\r?\n/g, ' ');
      return flat + ' /*' + 'x'.repeat(Math.max(0, bytes - flat.length - 4)) + '*/';
    }
    case 1: return `static const char *s = "${'A'.repeat(bytes)}";\n` + base;
    case 2: return `int v = ${'a+'.repeat(bytes / 2)}1;\n` + base;
    case 3: return `int ${'i'.repeat(bytes)};\n` + base;
    default: return PIN_FN(`\tget_user_pages(start, npages, FOLL_WRITE${' | FOLL_WRITE'.repeat(bytes / 13)}, pages);`);
  }
}

/** A macro of about `size` units, in shapes that stress macro and flag resolution. */
export function giantMacro(size: number, shape: number, base: string): string {
  switch (shape % 6) {
    case 0: return `#define BIG_FLAGS (${'FOLL_WRITE | '.repeat(size)}FOLL_LONGTERM)\n` + base.replace(/FOLL_WRITE/g, 'BIG_FLAGS');
    case 1: return '#define BIG_BODY \\\n' + '\tdo_something(x); \\\n'.repeat(size) + '\tget_user_pages(0, 1, FOLL_WRITE, p)\n' + base;
    case 2: { // a chain of aliases ending at the API: M0 -> M1 -> ... -> get_user_pages_fast
      let defs = '';
      for (let i = 0; i < size; i++) defs += `#define DRV_GUP${i} DRV_GUP${i + 1}\n`;
      defs += `#define DRV_GUP${size} get_user_pages_fast\n`;
      return defs + PIN_FN('\tDRV_GUP0(start, npages, FOLL_WRITE, pages);');
    }
    case 3: { // a chain of flag macros: F0 = F1 | ..., so resolution must follow it
      let defs = '';
      for (let i = 0; i < size; i++) defs += `#define DRV_F${i} (DRV_F${i + 1} | FOLL_LONGTERM)\n`;
      defs += `#define DRV_F${size} FOLL_WRITE\n`;
      return defs + PIN_FN('\tget_user_pages(start, npages, DRV_F0, pages);');
    }
    case 4: // self- and mutually-referential macros
      return '#define get_user_pages get_user_pages\n#define FOLL_WRITE FOLL_WRITE\n#define A_FLAGS B_FLAGS\n#define B_FLAGS A_FLAGS\n' +
        '#define gup(a, b, c, d) gup(a, b, c, d)\n' + PIN_FN('\tgup(start, npages, A_FLAGS, pages);\n\tget_user_pages(start, npages, B_FLAGS, pages);') + base;
    default: { // wrappers calling wrappers: f0 -> f1 -> ... -> get_user_pages with the flags forwarded
      let fns = `static long drv_pin${size}(unsigned long s, int n, unsigned int fl, struct page **p) { return get_user_pages(s, n, fl, p); }\n`;
      for (let i = size - 1; i >= 0; i--) fns += `static long drv_pin${i}(unsigned long s, int n, unsigned int fl, struct page **p) { return drv_pin${i + 1}(s, n, fl, p); }\n`;
      return fns + PIN_FN('\tdrv_pin0(start, npages, FOLL_WRITE, pages);');
    }
  }
}

export const MUTATIONS: Record<string, Mutation> = {
  truncate: (t, r) => t.slice(0, r.int(0, t.length)),
  deleteTokens: (t, r) => {
    const spans = tokenSpans(t);
    if (spans.length === 0) return t;
    const drop = new Set<number>();
    const n = r.int(1, Math.max(1, Math.min(12, Math.floor(spans.length / 10))));
    for (let i = 0; i < n; i++) drop.add(r.int(0, spans.length - 1));
    let out = '';
    let at = 0;
    for (const i of [...drop].sort((a, b) => a - b)) { out += t.slice(at, spans[i][0]); at = spans[i][1]; }
    return out + t.slice(at);
  },
  unbalancedBraces: (t, r) => {
    let out = t;
    for (let i = r.int(1, 8); i > 0; i--) out = insertAt(out, r.int(0, out.length), r.pick(['{', '}', '(', ')', '[', ']', '{{{', ')))']));
    return out;
  },
  unbalancedIfs: (t, r) => {
    const starts = lineStarts(t);
    let out = t;
    const picks = Array.from({ length: r.int(1, 6) }, () => r.pick(starts)).sort((a, b) => b - a);
    for (const at of picks) out = insertAt(out, at, r.pick(['#if 0\n', '#ifdef CONFIG_X\n', '#else\n', '#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5,9,0)\n', '#endif\n', '#if\n', '#define\n']));
    return out;
  },
  nulBytes: (t, r) => {
    let out = t;
    for (let i = r.int(1, 20); i > 0; i--) out = insertAt(out, r.int(0, out.length), r.chance(0.8) ? '\0' : '\0'.repeat(r.int(2, 64)));
    return out;
  },
  invalidUtf8: (t, r) => {
    const bytes = Array.from(encodeUtf8(t));
    for (let i = r.int(1, 16); i > 0; i--) {
      const bad = r.pick([[0xff], [0xfe], [0xc0, 0x80], [0xc1], [0xe2, 0x82], [0xf5, 0x80, 0x80, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xf0, 0x9f]]);
      bytes.splice(r.int(0, bytes.length), 0, ...bad);
    }
    // Clients decode differently: lossily (U+FFFD) or as Latin-1.
    return r.chance(0.7) ? decodeLossy(Uint8Array.from(bytes)) : decodeLatin1(Uint8Array.from(bytes));
  },
  loneSurrogates: (t, r) => {
    let out = t;
    for (let i = r.int(1, 8); i > 0; i--) out = insertAt(out, r.int(0, out.length), r.pick(['\uD800', '\uDFFF', '\uDBFF\uDBFF', '\uD83D\uDE00', '\u{1F600}\u0301', '\u2028', '\u2029', '\u0085']));
    return out;
  },
  crlf: (t, r) => {
    switch (r.int(0, 2)) {
      case 0: return t.replace(/\r?\n/g, '\r\n');
      case 1: return t.replace(/\r?\n/g, '\r');
      default: return t.replace(/\r?\n/g, () => r.pick(['\n', '\r\n', '\r', '\n\r']));
    }
  },
  bom: (t, r) => (r.chance(0.7) ? '\uFEFF' + t : insertAt(t, r.int(0, t.length), '\uFEFF'.repeat(r.int(1, 3)))),
  tokenSoup: (t, r) => {
    let soup = '';
    for (let i = r.int(1, 400); i > 0; i--) soup += r.pick(C_TOKENS) + (r.chance(0.5) ? ' ' : '');
    return r.chance(0.5) ? soup : insertAt(t, r.pick(lineStarts(t)), soup + '\n');
  },
  duplicate: (t, r) => {
    // The same driver pasted several times: many sites, repeated functions and macros.
    return Array.from({ length: r.int(2, 8) }, () => t).join('\n');
  },
  unterminated: (t, r) => insertAt(t, r.int(0, t.length), r.pick(['/*', '"', "'", '#if 1\n', '\\', 'R"(', '#define X \\'])),
};

/** Cheap mutations, chosen at random and stacked. Expensive shapes (huge lines, giant macros, deep nesting) are scheduled. */
const CHEAP = Object.keys(MUTATIONS);

export interface ScheduleOptions { seed: number; count: number; fixtures: SourceSample[]; hugeLineBytes?: number }

/**
 * Input `index` of the sequence. The first inputs visit every fixture with every mutation kind once (truncated, token-deleted, …);
 * fixed slots hold the expensive shapes so every run has them; the rest are random stacks of mutations or random bytes.
 */
export function hostileInput(index: number, opts: ScheduleOptions): HostileInput {
  const rng = new Random((opts.seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const fixtures = opts.fixtures;
  const hugeBytes = opts.hugeLineBytes ?? 5 * 1024 * 1024;
  const everyKind = fixtures.length * CHEAP.length;
  // Expensive shapes in fixed slots spread over the run, at least once each per 2,000 inputs.
  const slot = index % 250;
  if (slot === 7) {
    const shape = Math.floor(index / 250);
    return { index, kind: `deepNesting${shape % 7}x1000`, base: '', text: deepNesting(1000, shape) };
  }
  if (slot === 97) {
    const shape = Math.floor(index / 250);
    return { index, kind: `deepNesting${shape % 7}x10000`, base: '', text: deepNesting(10000, shape) };
  }
  if (slot === 131) {
    const shape = Math.floor(index / 250);
    const base = fixtures[shape % fixtures.length];
    return { index, kind: `giantMacro${shape % 6}`, base: base.name, text: giantMacro(shape % 6 === 1 ? 50000 : 5000, shape, base.text) };
  }
  if (slot === 211 && index % 1000 === 211) {
    const shape = Math.floor(index / 1000);
    const base = fixtures[shape % fixtures.length];
    return { index, kind: `hugeLine${shape % 5}`, base: base.name, text: hugeLine(hugeBytes, shape, base.text) };
  }
  if (index < everyKind) {
    const fixture = fixtures[index % fixtures.length];
    const kind = CHEAP[Math.floor(index / fixtures.length)];
    return { index, kind, base: fixture.name, text: MUTATIONS[kind](fixture.text, rng) };
  }
  return randomInput(index, rng, fixtures);
}

/** Random bytes (6%) or a fixture with one to three stacked cheap mutations. */
function randomInput(index: number, rng: Random, fixtures: SourceSample[]): HostileInput {
  if (rng.chance(0.06)) {
    const n = rng.pick([0, 1, 2, 17, 512, 4096, 65536]);
    const bytes = rng.bytes(n);
    return rng.chance(0.5)
      ? { index, kind: 'randomBytesUtf8', base: '', text: decodeLossy(bytes) }
      : { index, kind: 'randomBytesLatin1', base: '', text: decodeLatin1(bytes) };
  }
  const fixture = rng.pick(fixtures);
  const kinds: string[] = [];
  let text = fixture.text;
  for (let k = rng.int(1, 3); k > 0; k--) {
    const kind = rng.pick(CHEAP);
    // Duplicating an already duplicated text grows it geometrically; once is enough.
    if (kind === 'duplicate' && kinds.includes('duplicate')) continue;
    kinds.push(kind);
    text = MUTATIONS[kind](text, rng);
  }
  return { index, kind: kinds.join('+'), base: fixture.name, text };
}

/**
 * Input `index` of the server pass: every 50th is one of the expensive shapes in turn (1,000- and 10,000-deep nesting,
 * giant macros, 5 MB lines), the rest are random stacks of mutations or random bytes.
 */
export function serverInput(index: number, opts: ScheduleOptions): HostileInput {
  const rng = new Random((opts.seed ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const fixtures = opts.fixtures;
  const hugeBytes = opts.hugeLineBytes ?? 5 * 1024 * 1024;
  if (index % 50 !== 0) return randomInput(index, rng, fixtures);
  const k = index / 50;
  const base = fixtures[k % fixtures.length];
  switch (k % 5) {
    case 0: return { index, kind: `deepNesting${k % 7}x1000`, base: '', text: deepNesting(1000, k) };
    case 1: return { index, kind: `hugeLine${Math.floor(k / 5) % 5}`, base: base.name, text: hugeLine(hugeBytes, Math.floor(k / 5), base.text) };
    case 2: return { index, kind: `giantMacro${k % 6}`, base: base.name, text: giantMacro(k % 6 === 1 ? 50000 : 5000, k, base.text) };
    case 3: return { index, kind: `deepNesting${k % 7}x10000`, base: '', text: deepNesting(10000, k) };
    default: return { index, kind: `deepNesting${(k + 3) % 7}x1000`, base: '', text: deepNesting(1000, k + 3) };
  }
}

/** A file name for an input, for the failure artifacts. */
export function artifactName(input: HostileInput, seed: number): string {
  const safe = `${input.kind}-${input.base.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 120);
  return `seed${seed}-input${input.index}-${safe}.c`;
}
