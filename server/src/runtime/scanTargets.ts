// Expands the scanner's inputs into the C files to report on: folder walking, include/exclude globs (picomatch) and optional .gitignore rules (ignore).
import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import ignore from 'ignore';
import { describeFsError, isCSourcePath } from './sourceFiles';

export interface InputError { path: string; error: string }

export interface TargetOptions {
  include: string[];
  exclude: string[];
  /** Apply .gitignore files (from the repository root down) as git would. */
  gitignore: boolean;
  /** Paths are matched relative to this folder when they are inside it, else relative to the input folder. */
  root: string;
}

export interface CollectedTargets {
  /** Sorted, each file once. */
  files: string[];
  errors: InputError[];
  /** Files named on the command line that the include/exclude/.gitignore rules leave out. */
  leftOut: string[];
  /**
   * Every C source directly in each walked folder (by its resolved path), whatever the include/exclude
   * rules, sorted: what listDriverFiles(file, 'directory') reads from disk for a file there, without reading it again.
   */
  folderSources: Map<string, string[]>;
}

/** Directories never walked, whatever the globs say. */
const ALWAYS_SKIPPED = new Set(['node_modules', '.git']);

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** The .gitignore rules in force for paths under a directory: its own file and every ancestor's up to the repository root. */
class GitignoreRules {
  private readonly perDir = new Map<string, ignore.Ignore | null>();
  private readonly repoRoots = new Map<string, string>();

  private rulesIn(dir: string): ignore.Ignore | null {
    let rules = this.perDir.get(dir);
    if (rules === undefined) {
      rules = null;
      try { rules = ignore().add(fs.readFileSync(path.join(dir, '.gitignore'), 'utf8')); } catch { /* no .gitignore here */ }
      this.perDir.set(dir, rules);
    }
    return rules;
  }

  /** The nearest folder upwards holding .git (the repository root); `start` itself when there is none. */
  private repoRoot(start: string): string {
    const cached = this.repoRoots.get(start);
    if (cached) return cached;
    let found = start;
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, '.git'))) { found = dir; break; }
      if (path.dirname(dir) === dir) break;
    }
    this.repoRoots.set(start, found);
    return found;
  }

  /** True when git would ignore `absolute` (a directory when `isDir`): the deepest .gitignore with a verdict wins. */
  ignores(absolute: string, isDir: boolean): boolean {
    const top = this.repoRoot(path.dirname(absolute));
    const chain: string[] = [];
    for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
      chain.push(dir);
      if (dir === top || path.dirname(dir) === dir) break;
    }
    for (const dir of chain) {
      const rules = this.rulesIn(dir);
      if (!rules) continue;
      const rel = toPosix(path.relative(dir, absolute)) + (isDir ? '/' : '');
      const verdict = rules.test(rel);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
  }
}

/** A walked folder, as soon as its entries are done: the targets found directly in it (each file once in the whole walk). */
export interface WalkedFolder {
  /** Resolved path: the key of CollectedTargets.folderSources, which already holds this folder's C sources. */
  dir: string;
  targets: string[];
  /** Its entry in folderSources (the C sources directly in it). */
  sources: readonly string[];
}

/**
 * Expands files and folders into the C sources to scan (sorted, each once). Folders are walked without
 * following a symlinked directory twice, so symlink loops end; unreadable folders are reported and skipped.
 */
export function collectScanTargets(inputs: string[], opts: TargetOptions): CollectedTargets {
  const walk = walkScanTargets(inputs, opts);
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
  }
}

/**
 * collectScanTargets one folder at a time: yields each walked folder when its entries are done (after its
 * subfolders), so a scan can start on the first folders while the walk goes on; returns what collectScanTargets
 * returns. Files named as inputs are in the result only.
 */
export function* walkScanTargets(inputs: string[], opts: TargetOptions): Generator<WalkedFolder, CollectedTargets, void> {
  const included = picomatch(opts.include, { dot: true });
  const excluded = opts.exclude.length > 0 ? picomatch(opts.exclude, { dot: true }) : () => false;
  const gitignore = opts.gitignore ? new GitignoreRules() : undefined;
  const root = path.resolve(opts.root);
  const files = new Map<string, string>();
  const errors: InputError[] = [];
  const leftOut: string[] = [];
  const seenDirs = new Set<string>();
  const folderSources = new Map<string, string[]>();

  const matchPath = (file: string, base: string): string => {
    const abs = path.resolve(file);
    const rel = path.relative(root, abs);
    return toPosix(rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.relative(base, abs) || path.basename(abs));
  };
  /** `key`: the file's resolved path, when the caller has it (a walked folder's entries); `file` is then already normalised. */
  const add = (file: string, key?: string): boolean => {
    if (key === undefined) {
      key = path.resolve(file);
      file = path.normalize(file);
    }
    if (files.has(key)) return false;
    files.set(key, file);
    return true;
  };

  /**
   * `dirRel` is matchPath(dir, base). An entry's match path is its folder's plus its name (readdir names hold no
   * separator and are never '.' or '..'), so each folder is resolved once, not each file: inside the root it is
   * relative to the root, outside it relative to `base`; in the root itself (or in `base` outside the root) it is the
   * name alone. A name starting with '..' goes through matchPath (its textual test counts it as outside the root).
   */
  const walk = function* (dir: string, base: string, dirRel: string): Generator<WalkedFolder, void, void> {
    let real: string;
    try { real = fs.realpathSync.native(dir); } catch (err) { errors.push({ path: dir, error: describeFsError(err) }); return; }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch (err) { errors.push({ path: dir, error: describeFsError(err) }); return; }
    const abs = path.resolve(dir);
    const fromRoot = path.relative(root, abs);
    const inRoot = fromRoot !== '' && !fromRoot.startsWith('..') && !path.isAbsolute(fromRoot);
    const atTop = abs === root || (!inRoot && abs === base);
    // An entry's resolved path is its folder's plus its name (a name holds no separator and is never '.' or '..').
    const absPrefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Each entry's path, made once and shared by the folder's sources, its targets and the walk's file table (three
    // copies of every path of a 55,000-file tree were a third of the scan's main thread heap). For a folder given by its
    // resolved path, path.join would make the resolved path's string again: the two are the same text.
    const fulls = entries.map((e) => (dir === abs ? absPrefix + e.name : path.join(dir, e.name)));
    // As listDriverFiles lists them (cSourcesIn): regular files (not symlinks) with a C source name, joined to the
    // folder, sorted (entries sorted by name give their paths sorted, as the folder's part is the same).
    const sources = fulls.filter((_, i) => entries[i]!.isFile() && isCSourcePath(entries[i]!.name));
    folderSources.set(abs, sources);
    const targets: string[] = [];
    for (const [i, entry] of entries.entries()) {
      if (ALWAYS_SKIPPED.has(entry.name)) continue;
      const full = fulls[i]!;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try { const st = fs.statSync(full); isDir = st.isDirectory(); isFile = st.isFile(); } catch (err) { errors.push({ path: full, error: describeFsError(err) }); continue; }
      }
      const rel = entry.name.startsWith('..') ? matchPath(full, base) : atTop ? entry.name : `${dirRel}/${entry.name}`;
      if (isDir) {
        if (excluded(rel) || gitignore?.ignores(absPrefix + entry.name, true)) continue;
        yield* walk(full, base, rel);
      } else if (isFile && included(rel) && !excluded(rel) && !gitignore?.ignores(absPrefix + entry.name, false)) {
        // path.join normalises: `full` is what path.normalize would make of it.
        if (add(full, dir === abs ? full : absPrefix + entry.name)) targets.push(full);
      }
    }
    yield { dir: abs, targets, sources };
  };

  for (const input of inputs) {
    let st: fs.Stats;
    try { st = fs.statSync(input); } catch (err) { errors.push({ path: input, error: describeFsError(err) }); continue; }
    if (st.isDirectory()) { yield* walk(input, path.resolve(input), matchPath(input, path.resolve(input))); continue; }
    const rel = matchPath(input, path.dirname(path.resolve(input)));
    if (included(rel) && !excluded(rel) && !gitignore?.ignores(path.resolve(input), false)) add(input);
    else leftOut.push(input);
  }
  return { files: [...files.values()].sort(), errors, leftOut, folderSources };
}
