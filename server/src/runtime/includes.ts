// The headers a driver's files include from outside its folder (`#include "..."`), resolved as a Kbuild build finds them: a compat header in a sibling folder often holds the macro the driver pins through.
import * as fs from 'fs';
import * as path from 'path';
import { CR, DQUOTE, HASH, LF, SPACE, TAB } from './charCodes';
import { asBuffer, isCSourcePath } from './sourceFiles';

/**
 * At most this many headers from outside a driver's folder join its context (each brings its own includes, followed
 * the same way). A driver folder of the kernel includes a handful; the cap keeps a folder that includes half a tree
 * from reading it all.
 */
export const MAX_INCLUDED_HEADERS = 64;

const INCLUDE_WORD = 'include';
const INCLUDE_BYTES = Buffer.from(INCLUDE_WORD, 'latin1');

/**
 * The names of a text's `#include "name"` lines, in order and each once: a line that starts (after spaces and tabs)
 * with `#`, then `include`, then the quoted name on the same line. Angle-bracket includes name the kernel's headers
 * and are left out. A line inside a block comment counts too (a header read for nothing, never a finding).
 * quotedIncludesInBytes gives the same names from a file's bytes.
 */
export function quotedIncludes(text: string): string[] {
  return scanIncludes(text.length, (i) => text.charCodeAt(i), (from) => text.indexOf(INCLUDE_WORD, from), (s, e) => text.slice(s, e));
}

/** quotedIncludes on the bytes of a file (every delimiter is ASCII; a name is decoded as UTF-8). */
export function quotedIncludesInBytes(bytes: Uint8Array): string[] {
  const b = asBuffer(bytes);
  return scanIncludes(b.length, (i) => b[i]!, (from) => b.indexOf(INCLUDE_BYTES, from), (s, e) => b.toString('utf8', s, e));
}

function scanIncludes(length: number, code: (i: number) => number, find: (from: number) => number, slice: (s: number, e: number) => string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let at = find(0); at >= 0; at = find(at + INCLUDE_WORD.length)) {
    // Backwards: blanks, '#', blanks, then the start of the line.
    let i = at - 1;
    while (i >= 0 && isBlank(code(i))) i--;
    if (i < 0 || code(i) !== HASH) continue;
    i--;
    while (i >= 0 && isBlank(code(i))) i--;
    if (i >= 0 && code(i) !== LF && code(i) !== CR) continue;
    // Forwards: blanks, then the quoted name on this line.
    let j = at + INCLUDE_WORD.length;
    while (j < length && isBlank(code(j))) j++;
    if (j >= length || code(j) !== DQUOTE) continue;
    const start = j + 1;
    let end = start;
    while (end < length && code(end) !== DQUOTE && code(end) !== LF && code(end) !== CR) end++;
    if (end >= length || code(end) !== DQUOTE || end === start) continue;
    const name = slice(start, end);
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Finds the file a quoted include names, the way a Kbuild build finds it: first beside the including file (the
 * compiler's rule for quotes, `../common/x.h` included); then in each folder above it, nearest first, up to the
 * boundary folder (out-of-tree Kbuild files add `-I$(src)/..` and the like, so `utils/compact.h` in `linux/vdma/memory.c`
 * is `linux/utils/compact.h`). Only C sources (.c, .h) that are regular files; absolute names are never followed. The
 * existence checks are kept for the resolver's life (one scan batch, one editor context).
 */
export class IncludeResolver {
  private readonly known = new Map<string, boolean>();
  private readonly listings = new Map<string, Map<string, 'file' | 'dir' | 'other'>>();
  /** Answers by folder and name: a folder's files include mostly the same names. */
  private readonly answers = new Map<string, string | null>();

  /** `boundaryOf`: the highest folder to look in above a folder (an absolute path that holds it, or the folder itself). */
  constructor(private readonly boundaryOf: (dir: string) => string) {}

  resolve(fromFile: string, name: string): string | undefined {
    return this.resolveIn(path.dirname(path.resolve(fromFile)), name);
  }

  /**
   * resolve for a file in the folder `dir` (absolute, resolved). `sources`, when given, is every C source of `dir` by
   * name (a driver folder's members): a plain name is then looked up there instead of on disk.
   */
  resolveIn(dir: string, name: string, sources?: ReadonlySet<string>): string | undefined {
    if (name.length === 0 || path.isAbsolute(name) || name.includes('\0') || !isCSourcePath(name)) return undefined;
    const key = `${dir}\0${name}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = this.find(dir, name, sources) ?? null;
      this.answers.set(key, answer);
    }
    return answer ?? undefined;
  }

  private find(dir: string, name: string, sources?: ReadonlySet<string>): string | undefined {
    // Beside the file: a plain name among the folder's sources when known, else as in the folders above.
    const plain = !/[\\/]/.test(name);
    if (plain && sources ? sources.has(name) : this.isFileIn(dir, name)) return path.resolve(dir, name);
    const boundary = path.resolve(this.boundaryOf(dir));
    if (!isInside(dir, boundary)) return undefined;
    for (let above = dir; above !== boundary; ) {
      const up = path.dirname(above);
      if (up === above) break;
      above = up;
      if (this.isFileIn(above, name)) return path.resolve(above, name);
    }
    return undefined;
  }

  /**
   * Whether `name` names a regular file from the folder `dir` above a file. Its first segment is looked up in `dir`'s
   * listing (read once per folder: a tree's folders ask about the same few folders above them), and only a name whose
   * first folder is there is stat'ed; a name starting with `..` is stat'ed (each path once).
   */
  private isFileIn(dir: string, name: string): boolean {
    const slash = name.search(/[\\/]/);
    const first = slash < 0 ? name : name.slice(0, slash);
    if (first !== '..' && first !== '.') {
      const kind = this.listing(dir).get(first);
      if (slash < 0) return kind === 'file';
      if (kind === undefined || kind === 'file') return false;
    }
    return this.isFileAt(path.resolve(dir, name));
  }

  private isFileAt(file: string): boolean {
    let yes = this.known.get(file);
    if (yes === undefined) {
      yes = fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
      this.known.set(file, yes);
    }
    return yes;
  }

  /** A folder's entries: regular files, folders, and the rest (symlinks, which a lookup stats). */
  private listing(dir: string): Map<string, 'file' | 'dir' | 'other'> {
    let entries = this.listings.get(dir);
    if (!entries) {
      entries = new Map();
      try {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) entries.set(e.name, e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other');
      } catch { /* unreadable: nothing found there */ }
      this.listings.set(dir, entries);
    }
    return entries;
  }
}

/**
 * Text that can make an included header matter to a driver's verdicts (fileRelevance.ts's RELEVANT_TEXT, on the bytes:
 * every alternative is ASCII): a pin API, a gup flag, a protection. A header without any is only passed through.
 */
export function mayMatterBytes(bytes: Uint8Array, relevant: RegExp): boolean {
  return relevant.test(asBuffer(bytes).toString('latin1'));
}

/** Whether `dir` is `root` or inside it (both absolute and resolved). */
function isInside(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The boundary for a folder: the deepest of `roots` (the scanned folders, the editor's workspace folders) that holds
 * it; a folder under none of them looks only in itself.
 */
export function boundaryIn(roots: readonly string[]): (dir: string) => string {
  const resolved = roots.map((r) => path.resolve(r)).sort((a, b) => b.length - a.length);
  return (dir) => resolved.find((r) => isInside(dir, r)) ?? dir;
}

/**
 * The headers outside `members` that their quoted includes reach, transitively, in the order found (breadth first,
 * members in order), at most `limit`. `includesOf` gives a file's include names (undefined when it cannot be read);
 * it is asked once per member and once per header found. Paths are compared resolved; the headers come back resolved.
 */
export function includedOutside(
  members: readonly string[],
  includesOf: (file: string) => readonly string[] | undefined,
  resolver: IncludeResolver,
  limit = MAX_INCLUDED_HEADERS,
  memo?: (file: string, headers: () => readonly string[] | undefined) => readonly string[] | undefined,
): string[] {
  const inGroup = new Set(members.map((m) => path.resolve(m)));
  // The members are every C source of their folders: a plain name beside one is looked up among them.
  const sourcesOf = new Map<string, Set<string>>();
  for (const m of inGroup) {
    const dir = path.dirname(m);
    let names = sourcesOf.get(dir);
    if (!names) sourcesOf.set(dir, (names = new Set()));
    names.add(path.basename(m));
  }
  /** The files a file's includes name, resolved (kept by `memo` when given: the editor asks on every keystroke). */
  const headersOf = (file: string): readonly string[] | undefined => {
    const names = includesOf(file);
    if (!names) return undefined;
    const dir = path.dirname(path.resolve(file));
    return names.flatMap((name) => resolver.resolveIn(dir, name, sourcesOf.get(dir)) ?? []);
  };
  const found: string[] = [];
  const seen = new Set<string>();
  const queue: string[] = [...members];
  for (let q = 0; q < queue.length && found.length < limit; q++) {
    const file = queue[q]!;
    const headers = memo ? memo(file, () => headersOf(file)) : headersOf(file);
    if (!headers) continue;
    for (const header of headers) {
      if (inGroup.has(header) || seen.has(header)) continue;
      seen.add(header);
      found.push(header);
      queue.push(header);
      if (found.length >= limit) break;
    }
  }
  return found;
}
