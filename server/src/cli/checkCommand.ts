// `forksafe check`: the kbuild checker mode. kbuild runs `$(CHECK) $(CHECKFLAGS) $(c_flags) file.c` for every file it compiles when given C=1 (C=2: every file); with CHECK="forksafe check" this analyses that file with its driver's context, for the kernel and macros of that very compile command, and prints gcc-style lines make and editors' problem matchers read.
import * as fs from 'fs';
import * as path from 'path';
import { buildDefines, definesOfCompileArguments, kernelOfCompileArguments } from '../runtime/kernelBuild';
import { runScan, ScanIo } from './scan';

export const CHECK_USAGE = `usage: forksafe check [forksafe options] <compiler arguments...> file.c

The kbuild checker mode, used as sparse is:

  make -C /lib/modules/$(uname -r)/build M=$PWD C=1 CHECK="forksafe check"        (C=2: every file, not only rebuilt ones)
  make C=1 CHECK="npx forksafe check --fail-on error"                              (in a kernel tree)

kbuild calls the checker once per compiled file with its compiler flags. forksafe reads the kernel version from the
-I paths (the build directory's generated version.h), the -D/-U/-include macros and the kernel's autoconf.h, analyses
the file with the other files of its folder, and prints gcc-style lines (path:line:col: severity: message [FS###]) on
standard error. Compiler flags it does not know are ignored. Nothing is written.

forksafe options (before the compiler arguments):
  --fail-on LEVEL        exit 1 when a finding is at or above LEVEL (default none: the checker never stops the build)
  --kernel X.Y           analyse for this kernel instead of the build's
  --severity FS###=LEVEL per-rule severity (repeatable)
  --explain              add the simulation and the why/fix as note lines
`;

const OWN_WITH_VALUE = new Set(['--fail-on', '--kernel', '--severity', '--driver-scope', '--time-budget-ms', '--max-file-size-kb']);
const OWN_FLAGS = new Set(['--explain']);
/** Compiler options whose value is the next argument (so it is not taken for a source file). */
const COMPILER_WITH_VALUE = new Set(['-I', '-D', '-U', '-include', '-imacros', '-isystem', '-iquote', '-idirafter', '-o', '-x', '-MF', '-MT', '-MQ',
  '--param', '-Xassembler', '-Xlinker', '-Xpreprocessor', '-aux-info', '-dumpbase', '-dumpdir', '-L', '-T', '-arch', '--arch']);

/** forksafe's own leading options, the compiler arguments, and the C files among them. */
export function splitCheckArgs(args: string[], cwd: string): { own: string[]; compiler: string[]; files: string[] } {
  const own: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (OWN_FLAGS.has(a)) { own.push(a); continue; }
    if (OWN_WITH_VALUE.has(name)) { own.push(a); if (eq < 0 && i + 1 < args.length) own.push(args[++i]); continue; }
    break;
  }
  const compiler = args.slice(i);
  const files: string[] = [];
  for (let j = 0; j < compiler.length; j++) {
    const a = compiler[j];
    if (COMPILER_WITH_VALUE.has(a)) { j++; continue; }
    if (a.startsWith('-')) continue;
    if (/\.[ch]$/.test(a) && fs.existsSync(path.resolve(cwd, a))) files.push(a);
  }
  return { own, compiler, files };
}

export async function runCheck(args: string[], io: ScanIo): Promise<number> {
  if (args.length === 0 || args[0] === '-h' || args[0] === '--help') {
    (args.length === 0 ? io.err : io.out)(CHECK_USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const cwd = process.cwd();
  const { own, compiler, files } = splitCheckArgs(args, cwd);
  if (files.length === 0) {
    io.err(`forksafe check: no C file among the arguments (kbuild passes the file last: ${args.slice(-1)[0] ?? ''})\n`);
    return 2;
  }
  const found = kernelOfCompileArguments(compiler, cwd);
  const command = definesOfCompileArguments(compiler, cwd);
  const defines = buildDefines(found?.dir, { ...command, from: 'the compile command' });
  const build = found
    ? { version: found.version, source: `from ${found.source} (the kernel this compile command builds against${defines?.summary ? `; ${defines.summary}` : ''})`, ...(defines ? { defines } : {}) }
    : undefined;
  const failOn = own.some((a) => a === '--fail-on' || a.startsWith('--fail-on=')) ? [] : ['--fail-on', 'none'];
  // Findings go where a compiler's warnings go (standard error), without the scan's summary line per file.
  return runScan([...failOn, '--format', 'gcc', '--no-progress', ...own, ...files], { ...io, out: io.err }, 'check', { build, quiet: true });
}
