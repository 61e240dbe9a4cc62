// Which kernel a driver is built against, read from what the build left (never by running make or anything in the tree): a kernel build directory's generated version headers or Makefile, the KDIR a driver's Makefile/Kbuild names, compile_commands.json's include paths, the running kernel's /lib/modules/<release>/build.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { KernelVersionLite } from '../analysis/pinApis';
import { kernelVersionFromMakefile } from '../analysis/kernelVersion';
import type { BuildDefines } from '../analysis/preprocessor';

export interface KernelFound {
  version: KernelVersionLite;
  source: string;
  /** The kernel directory the version was read from, when it is one (its autoconf.h gives CONFIG_*). */
  dir?: string;
  /** The build's macros for the file, when known. */
  defines?: BuildDefines;
}

function read(file: string, limit = 64 * 1024): string | undefined {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(limit);
      const n = fs.readSync(fd, buf, 0, limit, 0);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try { return fs.statSync(p).isDirectory(); } catch { return false; }
}

/** `x.y` of a release string (`6.1.0-13-amd64`). */
function versionOfRelease(release: string): KernelVersionLite | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** The version a generated `linux/version.h` states: LINUX_VERSION_MAJOR/PATCHLEVEL (5.x+), else LINUX_VERSION_CODE. */
export function kernelVersionFromVersionHeader(text: string): KernelVersionLite | undefined {
  const major = /^#define\s+LINUX_VERSION_MAJOR\s+(\d+)/m.exec(text);
  const patch = /^#define\s+LINUX_VERSION_PATCHLEVEL\s+(\d+)/m.exec(text);
  if (major && patch) return { major: Number(major[1]), minor: Number(patch[1]) };
  const code = /^#define\s+LINUX_VERSION_CODE\s+(\d+)/m.exec(text);
  if (!code) return undefined;
  const n = Number(code[1]);
  return { major: Math.floor(n / 65536), minor: Math.floor(n / 256) % 256 };
}

/**
 * The kernel a build (or source) directory is: its generated `include/generated/uapi/linux/version.h`, else
 * `include/generated/utsrelease.h`, else its Makefile's VERSION/PATCHLEVEL (following one `include` of another
 * Makefile, as Debian's linux-headers packages write theirs).
 */
export function kernelOfBuildDir(dir: string): KernelFound | undefined {
  for (const rel of ['include/generated/uapi/linux/version.h', 'include/linux/version.h']) {
    const file = path.join(dir, rel);
    const text = read(file);
    const version = text !== undefined ? kernelVersionFromVersionHeader(text) : undefined;
    if (version) return { version, source: file, dir };
  }
  const uts = path.join(dir, 'include/generated/utsrelease.h');
  const utsText = read(uts);
  const release = utsText !== undefined ? /^#define\s+UTS_RELEASE\s+"([^"]+)"/m.exec(utsText)?.[1] : undefined;
  const fromUts = release ? versionOfRelease(release) : undefined;
  if (fromUts) return { version: fromUts, source: uts, dir };
  const makefile = path.join(dir, 'Makefile');
  const text = read(makefile, 16 * 1024);
  if (text === undefined) return undefined;
  const version = kernelVersionFromMakefile(text);
  if (version) return { version, source: makefile, dir };
  const included = /^\s*include\s+(\S+)\s*$/m.exec(text)?.[1];
  if (included && !included.includes('$')) {
    const target = path.resolve(dir, included);
    const inner = read(target, 16 * 1024);
    const v = inner !== undefined ? kernelVersionFromMakefile(inner) : undefined;
    if (v) return { version: v, source: target, dir };
  }
  return undefined;
}

/** Variables out-of-tree Makefiles name the kernel build directory with. */
const KDIR_VARS = ['KDIR', 'KERNELDIR', 'KERNEL_DIR', 'KERNEL_SRC', 'KSRC', 'KERNEL_SOURCE', 'KERNELSRC', 'KERNEL_PATH', 'KERNEL_BUILD', 'KBUILD_DIR', 'LINUX_DIR', 'KVER_DIR'];
const MAKEFILES = ['Makefile', 'makefile', 'GNUmakefile', 'Kbuild'];

interface Assignment { name: string; op: string; value: string; file: string }

function assignmentsIn(text: string, file: string): Assignment[] {
  const out: Assignment[] = [];
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const line of joined.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*([:?+!]?=)\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (m) out.push({ name: m[1], op: m[2], value: m[3], file });
  }
  return out;
}

/**
 * Expands `$(VAR)`, `${VAR}`, `$(shell uname -r)`, `` `uname -r` ``, `$(PWD)`/`$(CURDIR)` as make would for these
 * simple cases (make's own precedence: an environment variable beats `?=`, a Makefile `=`/`:=` beats the environment);
 * undefined when something else remains (a function, an unknown variable).
 */
function expand(value: string, vars: Map<string, Assignment>, env: NodeJS.ProcessEnv, dir: string, release: string, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  let out = value.replace(/\$\(shell\s+uname\s+-r\)|`uname\s+-r`|\$\$\(uname\s+-r\)/g, release);
  out = out.replace(/\$\((PWD|CURDIR)\)|\$\{(PWD|CURDIR)\}|\$\(src\)|\$\(obj\)/g, dir);
  let failed = false;
  out = out.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, a?: string, b?: string) => {
    const name = (a ?? b)!;
    const value = lookup(name, vars, env, dir, release, depth + 1);
    if (value === undefined) { failed = true; return ''; }
    return value;
  });
  if (failed || /\$[({]/.test(out)) return undefined;
  return out.trim();
}

function lookup(name: string, vars: Map<string, Assignment>, env: NodeJS.ProcessEnv, dir: string, release: string, depth: number): string | undefined {
  const a = vars.get(name);
  const fromEnv = env[name];
  if (a && a.op !== '?=') return expand(a.value, vars, env, dir, release, depth);
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return a ? expand(a.value, vars, env, dir, release, depth) : undefined;
}

/**
 * The kernel build directory a driver's own Makefile or Kbuild names (KDIR and its kin, or `make -C <dir>`), in the
 * driver's folder or up to two folders above, with the environment's KDIR/KERNELDIR/KERNEL_SRC where make would use
 * them. Nothing is run: `$(shell uname -r)` is the running kernel's release, which is what make would substitute.
 */
export function kdirOfDriver(driverDir: string, env: NodeJS.ProcessEnv = process.env, release = os.release()): { dir: string; source: string } | undefined {
  for (let dir = path.resolve(driverDir), up = 0; up <= 2; dir = path.dirname(dir), up++) {
    for (const name of MAKEFILES) {
      const file = path.join(dir, name);
      const text = read(file);
      if (text === undefined) continue;
      const list = assignmentsIn(text, file);
      const vars = new Map<string, Assignment>();
      for (const a of list) if (!(a.op === '?=' && vars.has(a.name))) vars.set(a.name, a);
      for (const v of KDIR_VARS) {
        if (!vars.has(v) && env[v] === undefined) continue;
        const value = lookup(v, vars, env, dir, release, 0);
        if (value) {
          const resolved = path.resolve(dir, value);
          const how = vars.get(v) && !(vars.get(v)!.op === '?=' && env[v]) ? `${v} in ${file}` : `${v} in the environment`;
          return { dir: resolved, source: how };
        }
      }
      // The word after -C, where `$(shell uname -r)` may hold spaces.
      const make = /(?:\$\(MAKE\)|\bmake)\s+(?:[^\n]*?\s)?-C\s*((?:\$\([^)]*\)|\$\{[^}]*\}|[^\s$])+)/.exec(text.replace(/\\\r?\n/g, ' '));
      const target = make?.[1];
      const value = target ? expand(target, vars, env, dir, release) : undefined;
      if (value && !/^\$?\(?(?:PWD|CURDIR|M)\)?$/.test(value)) return { dir: path.resolve(dir, value), source: `make -C in ${file}` };
    }
  }
  for (const v of ['KDIR', 'KERNELDIR', 'KERNEL_SRC']) {
    if (env[v]) return { dir: path.resolve(env[v]!), source: `${v} in the environment` };
  }
  return undefined;
}

interface CompileEntry { directory?: string; file?: string; command?: string; arguments?: string[] }

/** compile_commands.json in `dir` or `dir/build`, nearest first, walking up to `stop` (or the filesystem root). */
export function findCompileCommands(fromDir: string, stop?: string): string | undefined {
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    for (const rel of ['compile_commands.json', path.join('build', 'compile_commands.json')]) {
      const file = path.join(dir, rel);
      if (fs.existsSync(file)) return file;
    }
    if ((stop && path.resolve(stop) === dir) || path.dirname(dir) === dir) return undefined;
  }
}

function splitCommand(command: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The compiler arguments of the entry for `file` (or, failing that, any entry in the same folder). */
export function compileArgumentsFor(dbFile: string, file: string): { args: string[]; directory: string } | undefined {
  const text = read(dbFile, 256 * 1024 * 1024);
  if (text === undefined) return undefined;
  let entries: CompileEntry[];
  try { entries = JSON.parse(text) as CompileEntry[]; } catch { return undefined; }
  if (!Array.isArray(entries)) return undefined;
  const target = path.resolve(file);
  const resolved = entries.filter((e) => e && typeof e.file === 'string').map((e) => ({ e, file: path.resolve(e.directory ?? path.dirname(dbFile), e.file!) }));
  const hit = resolved.find((r) => r.file === target) ?? resolved.find((r) => path.dirname(r.file) === path.dirname(target));
  if (!hit) return undefined;
  const args = Array.isArray(hit.e.arguments) ? hit.e.arguments : typeof hit.e.command === 'string' ? splitCommand(hit.e.command) : [];
  return { args, directory: hit.e.directory ?? path.dirname(dbFile) };
}

/** The kernel a compile command builds against: the tree its `-I…/include` (or `-include …/include/…`) paths belong to. */
export function kernelOfCompileArguments(args: string[], directory: string): KernelFound | undefined {
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (flag: string): string | undefined => (a === flag ? args[i + 1] : a.startsWith(flag) ? a.slice(flag.length) : undefined);
    const p = next('-I') ?? next('-isystem') ?? next('-include');
    if (p) paths.push(path.resolve(directory, p));
  }
  const tried = new Set<string>();
  for (const p of paths) {
    const m = /^(.*?)[\\/](?:arch[\\/][^\\/]+[\\/])?include(?:[\\/]|$)/.exec(p);
    const root = m ? m[1] : undefined;
    if (!root || tried.has(root)) continue;
    tried.add(root);
    const found = kernelOfBuildDir(root);
    if (found) return found;
  }
  return undefined;
}

/** The running kernel's build directory, when the machine has one. */
export function runningKernelBuildDir(release = os.release()): string | undefined {
  const dir = `/lib/modules/${release}/build`;
  return isDir(dir) ? dir : undefined;
}

/** `#define X V` / `#undef X` lines of a header (object-like macros only; one level, no #include followed). */
export function definesOfHeader(text: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const line of text.split(/\r?\n/)) {
    const d = /^\s*#\s*define\s+([A-Za-z_]\w*)(?![\w(])\s*(.*?)\s*(?:\/\*.*|\/\/.*)?$/.exec(line);
    if (d) { out.set(d[1], d[2]); continue; }
    const u = /^\s*#\s*undef\s+([A-Za-z_]\w*)/.exec(line);
    if (u) out.set(u[1], null);
  }
  return out;
}

/** The kernel's configuration as its build left it (`include/generated/autoconf.h`), or undefined in an unbuilt tree. */
export function autoconfOf(kernelDir: string): Map<string, string | null> | undefined {
  const text = read(path.join(kernelDir, 'include', 'generated', 'autoconf.h'), 4 * 1024 * 1024);
  return text === undefined ? undefined : definesOfHeader(text);
}

/** `-D`/`-U` of a compile command, and the `#define`/`#undef` lines of the headers it `-include`s (in that order). */
export function definesOfCompileArguments(args: string[], directory: string): { values: Map<string, string | null>; count: number } {
  const values = new Map<string, string | null>();
  let count = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const take = (flag: string): string | undefined => (a === flag ? args[++i] : a.startsWith(flag) ? a.slice(flag.length) : undefined);
    const d = take('-D');
    if (d !== undefined) {
      const eq = d.indexOf('=');
      const name = eq < 0 ? d : d.slice(0, eq);
      if (/^[A-Za-z_]\w*$/.test(name)) { values.set(name, eq < 0 ? '' : d.slice(eq + 1)); count++; }
      continue;
    }
    const u = take('-U');
    if (u !== undefined) { if (/^[A-Za-z_]\w*$/.test(u)) { values.set(u, null); count++; } continue; }
    const inc = take('-include');
    if (inc !== undefined) {
      const text = read(path.resolve(directory, inc), 4 * 1024 * 1024);
      if (text !== undefined) for (const [k, v] of definesOfHeader(text)) { values.set(k, v); count++; }
    }
  }
  return { values, count };
}

/** The build's macros: the compile command's (when any) over the kernel's autoconf.h (when built). */
export function buildDefines(kernelDir: string | undefined, command?: { values: Map<string, string | null>; count: number; from: string }): BuildDefines | undefined {
  const config = kernelDir ? autoconfOf(kernelDir) : undefined;
  if (!config && !command) return undefined;
  const values = new Map<string, string | null>(config ?? []);
  for (const [k, v] of command?.values ?? []) values.set(k, v);
  const parts = [
    ...(command && command.count > 0 ? [`${command.count} macro${command.count === 1 ? '' : 's'} from ${command.from}`] : []),
    ...(config ? [`CONFIG_* from ${path.join(kernelDir!, 'include', 'generated', 'autoconf.h')}`] : []),
  ];
  return { values, configComplete: config !== undefined, summary: parts.join(', ') };
}
