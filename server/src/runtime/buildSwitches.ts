// Build switches nothing in a driver's tree sets (a test hook under `#ifdef NVFS_TEST_GPFS_CALLBACK`): no build of the tree compiles what they guard, so the analysis takes them as undefined (docs/build.md).
import * as fs from 'fs';
import * as path from 'path';
import { isCSourcePath } from './sourceFiles';

/**
 * A tree with more files than this is not searched, and its switches stay the build's to decide: the kernel's own
 * switches are CONFIG_ options (autoconf.h decides them, docs/build.md), and an out-of-tree driver is a few hundred
 * files at most.
 */
export const MAX_TREE_FILES = 5000;
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

const CONDITIONAL_LINE = /^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|elifdef|elifndef)\b.*$/gm;
const TESTED_IFDEF = /^[ \t]*#[ \t]*(?:ifdef|ifndef|elifdef|elifndef)[ \t]+([A-Za-z_]\w*)/gm;
const TESTED_DEFINED = /\bdefined[ \t]*\(?[ \t]*([A-Za-z_]\w*)/g;
const DEFINE_NAME = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)/gm;
const IDENTIFIER = /[A-Za-z_]\w*/g;
const COMPILER_FLAG = /-[DU]([A-Za-z_]\w*)/g;

/** The macro names a text tests with `#ifdef`/`#ifndef` or `defined(...)` in an `#if`/`#elif`, each once. */
export function testedSwitches(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(TESTED_IFDEF)) out.add(m[1]!);
  for (const line of text.match(CONDITIONAL_LINE) ?? []) for (const m of line.matchAll(TESTED_DEFINED)) out.add(m[1]!);
  return [...out];
}

/** `NVFS_` of `NVFS_TEST_GPFS_CALLBACK`: the name up to its first underscore after a letter or digit; undefined without one. */
export function prefixOf(name: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*_)./.exec(name);
  return m ? m[1] : undefined;
}

/** What a tree says about its switches: every identifier used outside `#if`-family lines, and its own macro prefixes. */
export interface TreeSwitchFacts {
  /** Whether the tree was searched (false: too many files; no switch is taken as unset). */
  searched: boolean;
  /** Identifiers anywhere in the tree (C sources, Makefiles, Kbuild, configure scripts, ...) outside `#if`-family lines. */
  mentioned: ReadonlySet<string>;
  /** Prefixes of at least OWN_PREFIX_DEFINES macros the tree's C sources define, less the kernel's namespaces. */
  ownPrefixes: ReadonlySet<string>;
}

const NOT_SEARCHED: TreeSwitchFacts = { searched: false, mentioned: new Set(), ownPrefixes: new Set() };

/**
 * Searches `root` (its files, any kind, but dot-folders and node_modules): where each identifier is used outside a
 * conditional line (a `-DX` in a Makefile, a `#define X`, a configure script writing it), and which macro prefixes
 * the driver owns. Unreadable and binary files are skipped; a tree of more than MAX_TREE_FILES files is not searched.
 */
export function searchTree(root: string): TreeSwitchFacts {
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
  if (!walk(root)) return NOT_SEARCHED;
  const mentioned = new Set<string>();
  const defines = new Map<string, number>();
  for (const file of files) {
    let bytes: Buffer;
    try {
      if (fs.statSync(file).size > MAX_FILE_BYTES) continue;
      bytes = fs.readFileSync(file);
    } catch { continue; }
    if (bytes.subarray(0, 8192).includes(0)) continue;
    const text = bytes.toString('latin1').replace(CONDITIONAL_LINE, '');
    for (const m of text.match(IDENTIFIER) ?? []) mentioned.add(m);
    if (!isCSourcePath(file)) {
      // A compiler flag glues the name to its option: `-DNVFS_BATCH_SUPPORT=y`, `-UX`.
      for (const m of text.matchAll(COMPILER_FLAG)) mentioned.add(m[1]!);
      continue;
    }
    for (const m of text.matchAll(DEFINE_NAME)) {
      const p = prefixOf(m[1]!);
      if (p) defines.set(p, (defines.get(p) ?? 0) + 1);
    }
  }
  const ownPrefixes = new Set([...defines].filter(([p, n]) => n >= OWN_PREFIX_DEFINES && !KERNEL_PREFIXES.has(p)).map(([p]) => p));
  return { searched: true, mentioned, ownPrefixes };
}

/**
 * The switches `text` tests that nothing in its tree sets: in the driver's own namespace (ownPrefixes), and used
 * nowhere in the tree or in `text` (its unsaved edits) outside `#if`-family lines. Asked of the tree only when the
 * text tests such a name (`facts` is called then, once).
 */
export function unsetSwitches(text: string, facts: () => TreeSwitchFacts): string[] {
  const candidates = testedSwitches(text).filter((n) => !KERNEL_PREFIXES.has(prefixOf(n) ?? '') && !n.startsWith('_') && prefixOf(n) !== undefined);
  if (candidates.length === 0) return [];
  const tree = facts();
  if (!tree.searched) return [];
  const own = new Set(text.replace(CONDITIONAL_LINE, '').match(IDENTIFIER) ?? []);
  return candidates.filter((n) => tree.ownPrefixes.has(prefixOf(n)!) && !tree.mentioned.has(n) && !own.has(n)).sort();
}
