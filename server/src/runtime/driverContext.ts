// Builds the engine's AnalysisContext from disk: the driver's other files that can change a verdict (parsed once, cached by mtime) and the kernel version from the tree's Makefile.
import * as fs from 'fs';
import * as path from 'path';
import { buildDefines, compileArgumentsFor, definesOfCompileArguments, findCompileCommands, KernelFound, kdirOfDriver, kernelOfBuildDir, kernelOfCompileArguments, runningKernelBuildDir } from './kernelBuild';
import type { BuildDefines } from '../analysis/preprocessor';
import { pathToFileURL } from 'url';
import type { CSyntax, Tree } from '../analysis/parser';
import { makeSourceFile, releaseTree } from '../analysis/workspace';
import { HeldChars, TreeSource } from '../analysis/treeSource';
import { kernelVersionFromMakefile } from '../analysis/kernelVersion';
import type { AnalysisContext } from '../engine';
import type { DriverScope } from '../settings';
import { cSourcesIn, decodeText, readSource, readSourceBytes } from './sourceFiles';
import { Definition, definitionsFromIndex, MemberText, MemberTextMemo, RELEVANT_TEXT, selectRelevantFiles } from './fileRelevance';
import { boundaryIn, includedOutside, IncludeResolver, quotedIncludes } from './includes';
import { TreeSwitches, unsetSwitches } from './buildSwitches';

export { RELEVANT_TEXT } from './fileRelevance';

interface Entry {
  mtimeMs: number; size: number; uri: string; text: string; notes: string[]; source: TreeSource | undefined; definitions?: Definition[];
  /** When the file was last stat'ed (performance.now()). */
  checkedAt: number;
}

/** A file a caller has already read and decoded, with the stat it read it under. */
export interface ReadSource { text: string; notes: string[]; mtimeMs: number; size: number }

export interface ContextOptions {
  maxFileBytes: number; budgetMs: number; scope: DriverScope; workspaceRoots?: string[];
  /** forksafe.kernelDir / --kernel-dir: the kernel build directory to read the version from, before anything else. */
  kernelDir?: string;
  /** forksafe.compileCommands / --compile-commands: the compile_commands.json to use instead of searching for one. */
  compileCommands?: string;
}

/** A folder holding one of these builds a module (out of tree): the running kernel's build directory applies. */
const MAKEFILES_OF_MODULE = ['Kbuild', 'Makefile'];

/**
 * Where the includes of a driver's files were found is trusted this many times as long as a listing: renewing it
 * every second re-resolved a 190-file folder's includes in the middle of the typing (about 5 ms, once a second).
 */
const INCLUDE_FRESH_FACTOR = 30;

/** A parsed file. `tree` is its source's (parsed again if the scan let it go): read it when its nodes are needed, not ahead. */
export interface LoadedFile { uri: string; text: string; readonly tree: Tree; source?: TreeSource }

/** The C files of the driver `file` belongs to, other than itself: its directory, nothing, or every workspace root (deep), sorted. */
export function listDriverFiles(file: string, scope: DriverScope, workspaceRoots?: string[]): string[] {
  if (scope === 'file') return [];
  const dirs = scope === 'workspace' && workspaceRoots?.length ? workspaceRoots : [path.dirname(file)];
  const out: string[] = [];
  const self = path.resolve(file);
  const walk = (dir: string, deep: boolean, seen: Set<string>): void => {
    let real: string;
    try { real = fs.realpathSync.native(dir); } catch { return; }
    if (seen.has(real)) return;
    seen.add(real);
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    if (deep) {
      for (const e of entries) {
        if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(path.join(dir, e.name), deep, seen);
      }
    }
    for (const full of cSourcesIn(dir, entries)) if (path.resolve(full) !== self) out.push(full);
  };
  for (const d of dirs) walk(d, scope === 'workspace', new Set());
  return out.sort();
}

/**
 * path.resolve of an absolute path, kept: the editor looks every file of a driver up among the open documents on every
 * keystroke (an absolute path resolves the same whatever the working directory).
 */
function resolvedPath(p: string): string {
  if (!path.isAbsolute(p)) return path.resolve(p);
  let r = resolvedPaths.get(p);
  if (r === undefined) {
    if (resolvedPaths.size >= 50_000) resolvedPaths.clear();
    r = path.resolve(p);
    resolvedPaths.set(p, r);
  }
  return r;
}

const resolvedPaths = new Map<string, string>();

export class DriverContextLoader {
  private readonly files = new Map<string, Entry>();
  /** The text length of the trees this loader's sources hold (keepTreesUnder's budget). */
  private readonly held: HeldChars = { chars: 0 };
  /** The context selection's text tests, kept while each member's text is the same (editor: every keystroke selects). */
  private readonly textMemo = new MemberTextMemo();
  private readonly kernels = new Map<string, KernelFound | null>();
  /** detectKernel's answers by kernel directory setting and folder. */
  private readonly buildKernels = new Map<string, KernelFound | null>();

  /** The resolved includes of each file whose text was looked at (includedHeaders), with that text and resolver. */
  private readonly includeNames = new Map<string, { text: string; generation: number; headers: readonly string[] }>();
  /** Each tree's switch answers (unsetSwitchesOf), until a file changes. */
  private readonly switchFacts = new Map<string, TreeSwitches>();
  /** unsetSwitchesOf's last answer per file, with the text and tree it was for. */
  private readonly switchAnswers = new Map<string, { text: string; root: string; names: string[] }>();
  /**
   * includedHeaders' resolver, for these workspace folders, made at `at`: renewed on an eviction, or after
   * INCLUDE_FRESH_FACTOR times `freshMs` (a client without file events sees a new header that much later).
   */
  private resolver: { roots: string; at: number; generation: number; resolver: IncludeResolver } | undefined;

  /** The driver listings of `driverFiles`, by scope, folder (or roots) and file, with when they were made. */
  private readonly listings = new Map<string, { at: number; files: string[] }>();

  /**
   * `freshMs`: how long a file's stat and a driver's listing are trusted without looking at the disk again (the
   * editor: every analysis of an edit asks for the driver's context, and stat'ing and listing a 190-file folder each
   * time cost about 5 ms of the edit). A watched-file event evicts the file and the listings at once; a client that
   * sends none sees a change on disk at most `freshMs` later. 0 (the scan): always look.
   */
  constructor(private readonly syntax: CSyntax, private readonly freshMs = 0) {}

  /** The cached text of a file from disk (undefined when unreadable or over the limit). */
  private entry(file: string, opts: ContextOptions): Entry | undefined {
    const known = this.files.get(file);
    const now = performance.now();
    if (known && this.freshMs > 0 && now - known.checkedAt < this.freshMs && known.size <= opts.maxFileBytes) return known;
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch { this.drop(file); return undefined; }
    if (!st.isFile() || st.size > opts.maxFileBytes) return undefined;
    let entry = this.files.get(file);
    if (!entry || entry.mtimeMs !== st.mtimeMs || entry.size !== st.size) {
      this.drop(file);
      const read = readSource(file, opts.maxFileBytes);
      if (!read.ok) return undefined;
      entry = { mtimeMs: st.mtimeMs, size: st.size, uri: pathToFileURL(file).toString(), text: read.text, notes: read.notes, source: undefined, checkedAt: now };
      this.files.set(file, entry);
    }
    entry.checkedAt = now;
    return entry;
  }

  /**
   * Seeds the cache with a file the caller read (the scan's prefilter): it is not read again while its mtime and size
   * stay, and the tree a later load parses is kept here for every later load (the scan's analysis phase).
   */
  adopt(file: string, source: ReadSource): void {
    this.drop(file);
    this.files.set(file, { mtimeMs: source.mtimeMs, size: source.size, uri: pathToFileURL(file).toString(), text: source.text, notes: source.notes, source: undefined, checkedAt: performance.now() });
  }

  /**
   * Warms the cache for the editor's background workspace index: when `file` can matter to the analysis of another
   * file of its driver (RELEVANT_TEXT: a pin API, a gup flag, a protection), it is kept read, parsed and with its
   * definitions listed, as a driver's context selection will ask. Other files are not kept: a selection reads their
   * text again when it needs it. True when the file is now held parsed.
   */
  preload(file: string, opts: ContextOptions): boolean {
    const cached = this.files.get(file);
    if (!cached) {
      // The stat taken before the read goes with the text: a file changed since is read again at its next use.
      const read = readSourceBytes(file, opts.maxFileBytes);
      if (!read.ok) return false;
      const decoded = decodeText(read.bytes, file);
      if (!RELEVANT_TEXT.test(decoded.text)) return false;
      this.adopt(file, { text: decoded.text, notes: decoded.notes, mtimeMs: read.mtimeMs, size: read.size });
    } else if (!RELEVANT_TEXT.test(cached.text)) {
      return false;
    }
    const loaded = this.load(file, opts, false);
    const entry = this.files.get(file);
    if (!loaded || !entry) return false;
    entry.definitions ??= definitionsFromIndex(makeSourceFile(this.syntax, loaded.uri, loaded.text, loaded.tree).index, loaded.text);
    return true;
  }

  /** The text of a file and its decoding notes, from the cache or read now (undefined when unreadable or over the limit). */
  source(file: string, opts: ContextOptions): { text: string; notes: string[] } | undefined {
    const entry = this.entry(file, opts);
    return entry && { text: entry.text, notes: entry.notes };
  }

  /** A parsed file from disk (undefined when unreadable, over the limit, irrelevant or not parseable in budget). */
  load(file: string, opts: ContextOptions, requireRelevant = true): LoadedFile | undefined {
    const entry = this.entry(file, opts);
    if (!entry) return undefined;
    if (requireRelevant && !RELEVANT_TEXT.test(entry.text)) return undefined;
    if (!entry.source) {
      const tree = this.syntax.parse(entry.text, undefined, opts.budgetMs).tree;
      if (!tree) return undefined;
      entry.source = new TreeSource(this.syntax, entry.text, opts.budgetMs, tree, this.held);
    }
    const source = entry.source;
    void source.tree; // held from here (parsed again if it was let go), and counted as used
    return { uri: entry.uri, text: entry.text, get tree() { return source.tree; }, source };
  }

  /** A file changed on disk (a watched-file event): its cached text and tree go, and so do the driver listings. */
  evict(file: string): void {
    this.drop(file);
    // A file created, changed or deleted may change any listing (the workspace scope lists whole roots), and where an
    // include is found.
    this.listings.clear();
    if (this.resolver) this.resolver = { ...this.resolver, at: -Infinity };
    this.switchFacts.clear();
    this.switchAnswers.clear();
  }

  private drop(file: string): void {
    this.files.get(file)?.source?.release();
    this.files.delete(file);
  }

  /** The other C files of the driver `file` belongs to, by scope: its directory, nothing, or every workspace root. */
  driverFiles(file: string, opts: ContextOptions): string[] {
    if (this.freshMs <= 0) return listDriverFiles(file, opts.scope, opts.workspaceRoots);
    const key = `${opts.scope}\0${(opts.workspaceRoots ?? []).join('\0')}\0${path.resolve(file)}`;
    const now = performance.now();
    const known = this.listings.get(key);
    if (known && now - known.at < this.freshMs) return known.files;
    const files = listDriverFiles(file, opts.scope, opts.workspaceRoots);
    this.listings.set(key, { at: now, files });
    return files;
  }

  /**
   * The kernel `file` is built against, each answer with where it came from (docs/build.md): the kernel directory
   * given by the setting; compile_commands.json's include paths; the KDIR the driver's Makefile/Kbuild (or the
   * environment) names; the tree's own top-level Makefile (an in-tree file builds against its tree); the running
   * kernel's /lib/modules/<release>/build for an out-of-tree module (a Makefile in its folder) nothing else places.
   */
  detectKernel(file: string, build: { kernelDir?: string; compileCommands?: string } = {}): KernelFound | undefined {
    const dir = path.dirname(path.resolve(file));
    const key = `${build.kernelDir ?? ''}\0${build.compileCommands ?? ''}\0${dir}`;
    const cached = this.buildKernels.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.detectUncached(file, dir, build.kernelDir, build.compileCommands);
    this.buildKernels.set(key, found ?? null);
    return found;
  }

  /** A build file changed (compile_commands.json, a Makefile, a version header): detect every kernel again. */
  forgetKernels(): void {
    this.buildKernels.clear();
    this.kernels.clear();
    // A Makefile may set a switch (`-DX`) nothing set before.
    this.switchFacts.clear();
    this.switchAnswers.clear();
  }

  private detectUncached(file: string, dir: string, kernelDir: string | undefined, compileCommands: string | undefined): KernelFound | undefined {
    const withDefines = (found: KernelFound, how: string, defines: BuildDefines | undefined): KernelFound =>
      ({ version: found.version, source: `from ${found.source} (${how}${defines?.summary ? `; ${defines.summary}` : ''})`, ...(defines ? { defines } : {}) });
    if (kernelDir) {
      const k = kernelOfBuildDir(kernelDir);
      if (k) return withDefines(k, `kernel directory ${kernelDir} from the settings`, buildDefines(k.dir));
    }
    // The setting names the database (or its folder); else clangd's places, nearest upwards.
    const given = compileCommands && (fs.existsSync(path.join(compileCommands, 'compile_commands.json')) ? path.join(compileCommands, 'compile_commands.json') : compileCommands);
    const db = given ?? findCompileCommands(dir);
    const entry = db ? compileArgumentsFor(db, file) : undefined;
    const fromDb = entry ? kernelOfCompileArguments(entry.args, entry.directory) : undefined;
    if (db && entry && fromDb) {
      return withDefines(fromDb, `the kernel ${db} compiles against`, buildDefines(fromDb.dir, { ...definesOfCompileArguments(entry.args, entry.directory), from: 'compile_commands.json' }));
    }
    const kdir = kdirOfDriver(dir);
    const fromKdir = kdir ? kernelOfBuildDir(kdir.dir) : undefined;
    if (kdir && fromKdir) return withDefines(fromKdir, kdir.source, buildDefines(fromKdir.dir));
    const inTree = this.treeMakefileKernel(file);
    if (inTree) {
      // A built tree (include/generated/autoconf.h beside its Makefile) also says which CONFIG_ options are set.
      const defines = buildDefines(inTree.dir);
      return defines ? { ...inTree, source: `${inTree.source} (${defines.summary})`, defines } : inTree;
    }
    const running = MAKEFILES_OF_MODULE.some((m) => fs.existsSync(path.join(dir, m))) ? runningKernelBuildDir() : undefined;
    const fromRunning = running ? kernelOfBuildDir(running) : undefined;
    if (fromRunning) return withDefines(fromRunning, "the running kernel's build directory; the driver names no other", buildDefines(fromRunning.dir));
    return undefined;
  }

  /** The kernel version of the tree `file` is in: the nearest Makefile upwards that sets VERSION and PATCHLEVEL. */
  private treeMakefileKernel(file: string): KernelFound | undefined {
    const visited: string[] = [];
    let found: KernelFound | undefined;
    for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
      const cached = this.kernels.get(dir);
      if (cached !== undefined) { found = cached ?? undefined; break; }
      visited.push(dir);
      const makefile = path.join(dir, 'Makefile');
      try {
        const version = kernelVersionFromMakefile(fs.readFileSync(makefile, 'utf8').slice(0, 4096));
        if (version) { found = { version, source: `from ${makefile}`, dir }; break; }
      } catch { /* no Makefile here */ }
      if (path.dirname(dir) === dir) break;
    }
    for (const d of visited) this.kernels.set(d, found ?? null);
    return found;
  }

  /**
   * The context for analysing `file`: the driver files that can change its verdict (the two-phase selection of
   * fileRelevance.ts, shared with `forksafe scan`, plus every file RELEVANT_TEXT matches), open documents first,
   * and the detected kernel. An open document for `file` itself, when given, supplies its current text.
   */
  contextFor(file: string, opts: ContextOptions, openDocuments?: Map<string, LoadedFile>): AnalysisContext {
    const others = this.driverFiles(file, opts);
    const detectedKernel = this.detectKernel(file, opts);
    if (opts.scope === 'file') return { files: [], detectedKernel };
    const openOf = (p: string): LoadedFile | undefined => (openDocuments && openDocuments.size > 0 ? openDocuments.get(resolvedPath(p)) : undefined);
    const members: MemberText[] = [];
    const selfText = openOf(file)?.text ?? this.entry(file, opts)?.text;
    if (selfText !== undefined) members.push({ path: file, text: selfText });
    for (const f of others) {
      const text = openOf(f)?.text ?? this.entry(f, opts)?.text;
      if (text !== undefined) members.push({ path: f, text });
    }
    // The headers the driver's files include from outside its folder join it (runtime/includes.ts), as the scan's do.
    const outside = this.includedHeaders(members, opts, (p) => openOf(p)?.text ?? this.entry(p, opts)?.text);
    if (others.length === 0 && outside.length === 0) return { files: [], detectedKernel };
    for (const h of outside) members.push(h);
    const definitionsOf = (m: MemberText): Definition[] | undefined => {
      const open = openOf(m.path);
      if (open) return definitionsFromIndex(makeSourceFile(this.syntax, open.uri, open.text, open.tree).index, open.text);
      const entry = this.entry(m.path, opts);
      if (!entry) return undefined;
      if (!entry.definitions) {
        const loaded = this.load(m.path, opts, false);
        entry.definitions = loaded ? definitionsFromIndex(makeSourceFile(this.syntax, loaded.uri, loaded.text, loaded.tree).index, loaded.text) : [];
      }
      return entry.definitions;
    };
    const selection = selectRelevantFiles(members, new Set([file]), definitionsOf, this.textMemo);
    const selected = new Set(selection.context);
    for (const m of members) if (this.textMemo.test(RELEVANT_TEXT, m)) selected.add(m.path);
    const files: LoadedFile[] = [];
    for (const f of outside.length > 0 ? [...others, ...outside.map((h) => h.path)] : others) {
      if (!selected.has(f)) continue;
      const loaded = openOf(f) ?? this.load(f, opts, false);
      if (loaded) files.push(loaded);
    }
    return { files, detectedKernel };
  }

  /**
   * The switches `file` (with `text`, else its saved text) tests that nothing in its tree sets (buildSwitches.ts); the
   * tree is the workspace folder holding the file (else its own folder), searched once and again after an eviction.
   */
  unsetSwitchesOf(file: string, opts: ContextOptions, text?: string): string[] {
    const own = text ?? this.entry(file, opts)?.text;
    if (own === undefined) return [];
    const root = boundaryIn(opts.workspaceRoots ?? [])(path.dirname(path.resolve(file)));
    // Every analysed keystroke asks: the answer is kept while the text and the tree's facts are the same.
    const known = this.switchAnswers.get(file);
    if (known && known.text === own && known.root === root) return known.names;
    const names = this.unsetIn(file, own, root);
    if (this.switchAnswers.size >= 1000) this.switchAnswers.clear();
    this.switchAnswers.set(file, { text: own, root, names });
    return names;
  }

  private unsetIn(file: string, own: string, root: string): string[] {
    return unsetSwitches(own, file, () => {
      let tree = this.switchFacts.get(root);
      if (!tree) {
        tree = new TreeSwitches(root);
        this.switchFacts.set(root, tree);
      }
      return tree;
    });
  }

  /** Whether `file` (with `text`, else its saved text) includes a header from another folder that joins its driver. */
  includesHeadersOutside(file: string, opts: ContextOptions, text?: string): boolean {
    const own = text ?? this.entry(file, opts)?.text;
    if (own === undefined) return false;
    return this.includedHeaders([{ path: file, text: own }], opts, (p) => this.entry(p, opts)?.text).length > 0;
  }

  /**
   * The headers `members` include from outside themselves (includedOutside, with the workspace folders as the
   * boundary), with their texts. Each member's include names are kept while its text is the same string, and the
   * resolver's file checks as long as a listing is trusted (`freshMs`), so a keystroke rescans only the edited text.
   */
  private includedHeaders(members: readonly MemberText[], opts: ContextOptions, textOf: (file: string) => string | undefined): MemberText[] {
    if (opts.scope === 'file') return [];
    const now = performance.now();
    const roots = (opts.workspaceRoots ?? []).join('\0');
    // Without a freshness window (a scan's loader) the disk is looked at on every call.
    const trusted = this.freshMs > 0 ? this.freshMs * INCLUDE_FRESH_FACTOR : 0;
    if (!this.resolver || this.resolver.roots !== roots || now - this.resolver.at >= trusted) {
      this.resolver = { roots, at: now, generation: (this.resolver?.generation ?? 0) + 1, resolver: new IncludeResolver(boundaryIn(opts.workspaceRoots ?? [])) };
    }
    const { resolver, generation } = this.resolver;
    const texts = new Map(members.map((m) => [m.path, m.text]));
    const found = new Map<string, string>();
    const textFor = (file: string): string | undefined => {
      const text = texts.get(file) ?? found.get(file) ?? textOf(file);
      if (text !== undefined && !texts.has(file)) found.set(file, text);
      return text;
    };
    // Each file's resolved includes are kept while its text and the resolver are the same: a keystroke rescans one text.
    const memo = (file: string, headers: () => readonly string[] | undefined): readonly string[] | undefined => {
      const text = textFor(file);
      if (text === undefined) return undefined;
      const known = this.includeNames.get(file);
      if (known && known.text === text && known.generation === generation) return known.headers;
      const listed = headers() ?? [];
      if (this.includeNames.size >= 50_000) this.includeNames.clear();
      this.includeNames.set(file, { text, generation, headers: listed });
      return listed;
    };
    const names = (file: string): readonly string[] | undefined => {
      const text = textFor(file);
      return text === undefined ? undefined : quotedIncludes(text);
    };
    // Every header found is followed; those that can change a verdict (RELEVANT_TEXT) join the driver.
    const headers = includedOutside(members.map((m) => m.path), names, resolver, undefined, memo);
    return headers.flatMap((h) => { const text = textFor(h); return text === undefined || !RELEVANT_TEXT.test(text) ? [] : [{ path: h, text }]; });
  }

  /**
   * Keeps the trees held under `chars` characters of text: once over, lets the least recently used go until at most
   * three quarters of it are held (the scan calls this between analyses; a tree let go is parsed again if a later
   * analysis reads its nodes). Their indexes stay.
   */
  keepTreesUnder(chars: number): void {
    // The total is kept as trees are parsed and let go, so the usual call (under the budget) costs nothing; over it,
    // trees go until a quarter of the budget is free, so a folder of n files is listed O(n) times only when its trees
    // outgrow the budget many times over, not after every file (which made a large folder quadratic).
    if (this.held.chars <= chars) return;
    const target = Math.floor(chars * 0.75);
    const held = [...this.files.values()].flatMap((e) => (e.source?.held ? [e.source] : [])).sort((a, b) => a.lastUse - b.lastUse);
    for (const src of held) {
      if (this.held.chars <= target) break;
      releaseTree(src);
    }
  }

  dispose(): void {
    for (const e of this.files.values()) e.source?.release();
    this.files.clear();
  }
}
