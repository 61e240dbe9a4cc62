// The start of every shipped entry (server/dist/{cli,server,scanWorker}.js): runs the entry's bundle beside it through
// V8's code cache, so a process compiles the bundle's code once per version, not on every start (docs/performance.md).
import { createHash } from 'crypto';
import * as fs from 'fs';
import Module from 'module';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';

/** What the cache did for this process: shown with FORKSAFE_COMPILE_CACHE_DEBUG=1 (tests and bug reports read it). */
export type CacheState = 'off' | 'miss' | 'hit' | 'rejected' | 'unsafe';

interface Loaded {
  /** The bundle run (its cache's names start with cacheStem of it). */
  bundle: string;
  state: CacheState;
  script: vm.Script;
  /** Where this bundle's cache lives (undefined when the cache is off or unsafe). */
  file?: string;
  /** Bytes of cached data the script was given (0 when none). */
  given: number;
}

/**
 * Written again only when a run compiled this much more than the cache held: the first process may have been a short
 * one (`--version`), and a cache of what it compiled would be accepted ever after.
 */
const GROWTH_TO_REWRITE = 1.1;

/** Caches of other versions of a bundle kept beside the current one (the most recently written). */
const OTHER_VERSIONS_KEPT = 3;

/** The function a bundle calls once it has run the code it usually runs (saveCompileCache). */
const SAVE = Symbol.for('forksafe.saveCompileCache');

/**
 * Runs `bundle` (a CommonJS file) as the process's main module, compiled with the cached data of an earlier run of the
 * same bytes under the same node when there is one. The cache is written on exit, and when the bundle asks
 * (saveCompileCache: a server or a worker thread is never asked to exit).
 */
export function runBundle(bundle: string, parent: NodeJS.Module): void {
  const source = fs.readFileSync(bundle, 'utf8');
  const loaded = compile(bundle, source);
  let saved = false;
  const save = (): void => {
    if (saved || !loaded.file) return;
    saved = true;
    writeCache(loaded);
  };
  (globalThis as Record<symbol, unknown>)[SAVE] = save;
  process.once('exit', save);
  debug(`${path.basename(bundle)}: ${loaded.state}${loaded.given > 0 ? ` (${loaded.given} bytes)` : ''}`);

  const m = new Module(bundle, parent);
  m.filename = bundle;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(bundle));
  const req = Module.createRequire(bundle) as NodeJS.Require & { main: NodeJS.Module | undefined };
  // The bundle is the program: its `require.main === module` holds, as when node runs it directly.
  req.main = m;
  const wrapper = loaded.script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => void;
  wrapper.call(m.exports, m.exports, req, m, bundle, path.dirname(bundle));
  m.loaded = true;
}

/** For a bundle: the code it has compiled so far is worth keeping (called once its usual work is done). */
export function saveCompileCache(): void {
  const save = (globalThis as Record<symbol, unknown>)[SAVE];
  if (typeof save === 'function') (save as () => void)();
}

function compile(bundle: string, source: string): Loaded {
  const wrapped = Module.wrap(source);
  const plain = (state: CacheState): Loaded => ({ bundle, state, script: new vm.Script(wrapped, { filename: bundle }), given: 0 });
  if (process.env.FORKSAFE_NO_COMPILE_CACHE) return plain('off');
  const dir = cacheDir();
  if (!dir) return plain('unsafe');
  // V8 checks that cached data was made by the same V8 with the same flags, and of a source of the same length; the
  // name holds a hash of the bytes, so an edited bundle of the same length never meets an old cache.
  const key = createHash('sha256').update(source).update(`\0${process.execArgv.join(' ')}`).digest('hex').slice(0, 24);
  const file = path.join(dir, `${cacheStem(bundle)}${key}.v8`);
  const data = readPrivate(file);
  if (!data) return { ...plain('miss'), file };
  const script = new vm.Script(wrapped, { filename: bundle, cachedData: data });
  return { bundle, state: script.cachedDataRejected ? 'rejected' : 'hit', script, file, given: data.length };
}

/**
 * The folder of this user's caches ($XDG_CACHE_HOME or ~/.cache, then forksafe/v8), made private if new, or undefined
 * when it is not this user's alone: cached data is code, and code another user could write is never run.
 */
function cacheDir(): string | undefined {
  try {
    const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME)
      ? process.env.XDG_CACHE_HOME
      : path.join(os.homedir(), '.cache');
    const dir = path.join(base, 'forksafe', 'v8');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ownPrivate(fs.lstatSync(dir), true) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A folder or regular file owned by this user that nobody else may write (on Windows, whose profile folders are the user's own, just its kind). */
function ownPrivate(stat: fs.Stats, directory: boolean): boolean {
  if (directory ? !stat.isDirectory() : !stat.isFile()) return false;
  if (typeof process.getuid !== 'function') return true;
  return stat.uid === process.getuid() && (stat.mode & 0o022) === 0;
}

function readPrivate(file: string): Buffer | undefined {
  try {
    if (!ownPrivate(fs.lstatSync(file), false)) return undefined;
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Writes the code compiled so far when there was no usable cache, or when it has grown past what the cache held: to a
 * file of this process's own first, renamed over the old one (another process reading meanwhile sees the whole old or
 * the whole new file). Of the caches of other versions of the same bundle under the same node, the most recent few are kept.
 */
function writeCache(loaded: Loaded): void {
  const file = loaded.file!;
  try {
    const data = loaded.script.createCachedData();
    if (loaded.state === 'hit' && data.length < loaded.given * GROWTH_TO_REWRITE) return;
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(temp, file);
    debug(`${path.basename(file)}: written (${data.length} bytes)`);
    // Two installed versions run in turn keep a cache each; a developer's rebuilds do not pile up.
    const dir = path.dirname(file);
    const stem = cacheStem(loaded.bundle);
    const others = fs.readdirSync(dir).filter((f) => f.startsWith(stem) && f.endsWith('.v8') && f !== path.basename(file))
      .map((f) => ({ f, at: fs.statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => b.at - a.at);
    for (const { f } of others.slice(OTHER_VERSIONS_KEPT)) fs.rmSync(path.join(dir, f), { force: true });
  } catch {
    // A cache that cannot be written costs the next start its compile, nothing else.
  }
}

/** The start of a bundle's cache names under this node (its other names are older versions of the bundle). */
function cacheStem(bundle: string): string {
  return `${path.basename(bundle, '.js')}-node${process.versions.node}-${process.arch}-`;
}

function debug(message: string): void {
  if (process.env.FORKSAFE_COMPILE_CACHE_DEBUG) process.stderr.write(`forksafe compile cache: ${message}\n`);
}
