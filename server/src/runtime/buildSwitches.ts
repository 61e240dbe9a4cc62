// Build switches nothing in a driver's tree sets (a test hook under `#ifdef NVFS_TEST_GPFS_CALLBACK`): no build of the tree compiles what they guard, so the analysis takes them as undefined (docs/build.md).
import * as fs from 'fs';
import * as path from 'path';
import { isWordCode } from '../analysis/syntaxTools';
import { CR, LF, SPACE, TAB } from './charCodes';
import { binaryError, isCSourcePath } from './sourceFiles';

/**
 * A tree with more files than this is not searched, and its switches stay the build's to decide: the kernel's own
 * switches are CONFIG_ options (autoconf.h decides them, docs/build.md); the field set's out-of-tree drivers have 27 to
 * 467 files, and NVIDIA's 3,708-file tree, whose switches its conftest script sets, cost 0.1-0.15 s to search.
 */
export const MAX_TREE_FILES = 2000;
/** Larger files are not read for the search (generated register headers; no build file is this large). */
const MAX_FILE_BYTES = 2 << 20;
/** A prefix is the driver's own when the tree defines at least this many macros with it (`NVFS_`: dozens). */
const OWN_PREFIX_DEFINES = 3;
/**
 * Kernel namespaces that a driver's compat code also defines macros in (`#define VM_RESERVED ...`): a switch there
 * may come from the kernel's headers, which are not in the tree, so it is never taken as unset.
 */
const KERNEL_PREFIXES = new Set(['CONFIG_', 'HAVE_', 'LINUX_', 'KERNEL_', 'VM_', 'FOLL_', 'MADV_', 'PAGE_', 'PCI_', 'DMA_',
  'GFP_', 'MODULE_', 'ARCH_', 'CPU_', 'IRQ_', 'MMU_', 'SZ_', 'NR_', 'BITS_', 'UTS_', 'RHEL_', 'SLE_', 'MAX_', 'MIN_', 'IS_', 'HAS_']);

const IFDEF_LINE = /^#[ \t]*(?:ifdef|ifndef|elifdef|elifndef)[ \t]+([A-Za-z_]\w*)/;
const IF_LINE = /^#[ \t]*(?:if|elif)\b/;
const TESTED_DEFINED = /\bdefined[ \t]*\(?[ \t]*([A-Za-z_]\w*)/g;
const CONDITIONAL_START = /^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef)\b/;
const DEFINE_BEFORE = /^[ \t]*#[ \t]*define[ \t]+$/;
const UPPER_D = 0x44;
const UPPER_U = 0x55;
const DASH = 0x2d;

/**
 * The macro names a text tests with `#ifdef`/`#ifndef` or `defined(...)` in an `#if`/`#elif`, each once. Found from
 * each '#' that starts a line (the editor asks on every keystroke: a regular expression over a 10,000-line file took
 * milliseconds, this a fraction of one).
 */
export function testedSwitches(text: string): string[] {
  const out = new Set<string>();
  for (let at = text.indexOf('#'); at >= 0; at = text.indexOf('#', at + 1)) {
    if (!atLineStart(text, at)) continue;
    const end = lineEnd(text, at);
    const line = text.slice(at, end);
    const ifdef = IFDEF_LINE.exec(line);
    if (ifdef) out.add(ifdef[1]!);
    else if (IF_LINE.test(line)) for (const m of line.matchAll(TESTED_DEFINED)) out.add(m[1]!);
    at = end;
  }
  return [...out];
}

/** Only blanks between the line's start and `at`. */
function atLineStart(text: string, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === LF || c === CR) return true;
    if (c !== SPACE && c !== TAB) return false;
  }
  return true;
}

function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl;
}

/** `name` occurs in `text` as a whole word on a line that is not an `#if`-family directive (usedOutsideConditionals). */
function usedInText(text: string, name: string): boolean {
  return usedOutside(text.length, (i) => text.charCodeAt(i), (from) => text.indexOf(name, from), name.length,
    (at) => text.slice(text.lastIndexOf('\n', at) + 1, at));
}

/** `NVFS_` of `NVFS_TEST_GPFS_CALLBACK`: the name up to its first underscore after a letter or digit; undefined without one. */
export function prefixOf(name: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*_)./.exec(name);
  return m ? m[1] : undefined;
}

/**
 * One tree's answers about its switches, searched name by name and kept: which files it holds (walked once; dot-folders
 * and node_modules left out; more than MAX_TREE_FILES and the tree is not searched), whether a name is used anywhere
 * outside an `#if`-family line (a `-DX`/`-UX` in a Makefile, a `#define X`, a configure script writing it, a use in
 * code), and whether a prefix is the driver's own. The asking file's folder is read first, then build files (anything
 * not a C source), then the rest, and the search stops as soon as every name asked is found used: a switch that is set costs a few files, only one set nowhere costs
 * the whole tree (an out-of-tree driver's few hundred files). Unreadable, binary and over-2-MB files are skipped.
 */
export class TreeSwitches {
  private files: string[] | null | undefined;
  /** Per name: unset (true) or set somewhere (false). */
  private readonly answers = new Map<string, boolean>();
  /** Per prefix: how many `#define`s of the tree's C sources use it, counted up to OWN_PREFIX_DEFINES. */
  private readonly prefixDefines = new Map<string, number>();

  constructor(readonly root: string) {}

  /** Whether the tree can be searched (it holds at most MAX_TREE_FILES files). */
  get searchable(): boolean {
    return this.list() !== null;
  }

  /** The names among `names` nothing in the tree sets and whose prefix is the driver's own; `near` is read first. */
  unset(names: readonly string[], near: string): string[] {
    const files = this.list();
    if (files === null) return [];
    const todo = names.filter((n) => !this.answers.has(n));
    if (todo.length > 0) this.search(files, todo, near);
    return names.filter((n) => this.answers.get(n) === true);
  }

  private list(): string[] | null {
    if (this.files !== undefined) return this.files;
    const files: string[] = [];
    const walk = (dir: string): boolean => {
      let entries: fs.Dirent[];
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return true; }
      for (const e of entries) {
        if (e.name.startsWith('.') || e.name === 'node_modules') continue;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) { if (!walk(full)) return false; } else if (e.isFile()) {
          files.push(full);
          if (files.length > MAX_TREE_FILES) return false;
        }
      }
      return true;
    };
    this.files = walk(this.root) ? files : null;
    return this.files;
  }

  private search(files: readonly string[], names: readonly string[], near: string): void {
    const pending = new Set(names);
    // Prefixes not yet counted to the end (a count is kept only once it reached the threshold or the whole tree was read).
    const counting = new Map([...new Set(names.map((n) => prefixOf(n)!))].filter((p) => !this.prefixDefines.has(p)).map((p) => [p, 0]));
    const nearDir = path.dirname(path.resolve(near));
    // The asking file's folder first (its own headers), then build files (where -D flags and configure probes live),
    // then the rest.
    const rank = (f: string): number => (path.dirname(f) === nearDir ? 0 : !isCSourcePath(f) ? 1 : 2);
    const ordered = [...files].sort((a, b) => rank(a) - rank(b));
    const needles = new Map([...pending].map((n) => [n, Buffer.from(n, 'latin1')]));
    let whole = true;
    for (const file of ordered) {
      if (pending.size === 0) { whole = false; break; }
      let bytes: Buffer;
      try {
        if (fs.statSync(file).size > MAX_FILE_BYTES) continue;
        bytes = fs.readFileSync(file);
      } catch { continue; }
      if (binaryError(bytes)) continue;
      for (const name of [...pending]) if (usedOutsideConditionals(bytes, needles.get(name)!)) pending.delete(name);
      if (!isCSourcePath(file)) continue;
      for (const [p, n] of counting) {
        if (n >= OWN_PREFIX_DEFINES) continue;
        counting.set(p, n + definesWithPrefix(bytes, p, OWN_PREFIX_DEFINES - n));
      }
    }
    for (const [p, n] of counting) if (whole || n >= OWN_PREFIX_DEFINES) this.prefixDefines.set(p, n);
    for (const n of names) this.answers.set(n, pending.has(n) && (this.prefixDefines.get(prefixOf(n)!) ?? 0) >= OWN_PREFIX_DEFINES);
  }
}

/** The name occurs as a whole word (or as `-DNAME`/`-UNAME`) on a line that is not an `#if`-family directive. */
function usedOutsideConditionals(bytes: Buffer, name: Buffer): boolean {
  return usedOutside(bytes.length, (i) => bytes[i]!, (from) => bytes.indexOf(name, from), name.length,
    (at) => bytes.toString('latin1', bytes.lastIndexOf(LF, at) + 1, at));
}

/**
 * The one check behind usedInText and usedOutsideConditionals, over a text or a file's bytes (every character it
 * reads is ASCII): an occurrence counts when it is a whole word, or glued to a `-D`/`-U` flag, and what precedes it on
 * its line does not open an `#if`-family directive.
 */
function usedOutside(length: number, code: (i: number) => number, find: (from: number) => number, size: number, before: (at: number) => string): boolean {
  for (let at = find(0); at >= 0; at = find(at + 1)) {
    if (at + size < length && isWordCode(code(at + size))) continue;
    const flag = at > 1 && (code(at - 1) === UPPER_D || code(at - 1) === UPPER_U) && code(at - 2) === DASH;
    if (at > 0 && isWordCode(code(at - 1)) && !flag) continue;
    if (!CONDITIONAL_START.test(before(at).slice(0, 200))) return true;
  }
  return false;
}

/** How many `#define PREFIX...` lines `bytes` holds, counted up to `limit`. */
function definesWithPrefix(bytes: Buffer, prefix: string, limit: number): number {
  const needle = Buffer.from(prefix, 'latin1');
  let n = 0;
  for (let at = bytes.indexOf(needle); at >= 0 && n < limit; at = bytes.indexOf(needle, at + 1)) {
    if (at > 0 && isWordCode(bytes[at - 1]!)) continue;
    const lineStart = bytes.lastIndexOf(LF, at) + 1;
    if (DEFINE_BEFORE.test(bytes.toString('latin1', lineStart, at))) n++;
  }
  return n;
}

/**
 * The switches `text` tests that nothing in its tree sets: in the driver's own namespace (a prefix of the tree's own
 * macros, none of the kernel's), and used nowhere in the tree or in `text` (its unsaved edits) outside `#if`-family
 * lines. The tree is asked only when the text tests such a name.
 */
export function unsetSwitches(text: string, file: string, tree: () => TreeSwitches): string[] {
  const candidates = testedSwitches(text).filter((n) => !n.startsWith('_') && prefixOf(n) !== undefined && !KERNEL_PREFIXES.has(prefixOf(n)!));
  if (candidates.length === 0) return [];
  const open = candidates.filter((n) => !usedInText(text, n));
  return open.length === 0 ? [] : tree().unset(open, file).sort();
}
