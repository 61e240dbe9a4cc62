// The forksafe command line: `forksafe scan <paths>`, `forksafe fix`, `forksafe simulate` and `forksafe probe`; exit 0 clean, 1 findings, 2 usage or input errors.
import * as path from 'path';
import * as fs from 'fs';
import { runScan } from './scan';
import { runSimulate } from './simulateCommand';
import { runCheck } from './checkCommand';
import { runProbeCommand } from './probeCommand';

const USAGE = `usage: forksafe scan [options] <files or folders...>     (forksafe scan --help for the options)
       forksafe fix [scan options] [--dry-run | --format-patch DIR] <files or folders...>     (forksafe fix --help)
       forksafe check [options] <compiler arguments...> file.c     (kbuild: make C=1 CHECK="forksafe check")
       forksafe simulate [--kernel X.Y] [--api NAME | --ref get|pin] [--write|--read] [--longterm]
                         [--long-lived|--short-lived] [--protection none|dontfork|wipeonfork|notifier]
                         [--order ORDER|all] [--hugetlb] [--json] [--svg FILE]     (forksafe simulate --help)
       forksafe probe [--ref get|pin] [--memory small|thp|hugetlb] [--protection P] [--order ORDER|all]
                         (this machine's kernel beside the simulation; forksafe probe --help)
       forksafe --version
`;

export async function main(argv: string[]): Promise<number> {
  const io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    io.out(`forksafe ${readVersion()}\n`);
    return 0;
  }
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'scan') {
    return runScan(rest, { ...io, errStream: process.stderr, stdoutIsTTY: process.stdout.isTTY === true, env: process.env, version: readVersion() });
  }
  if (command === 'fix') {
    return runScan(rest, { ...io, errStream: process.stderr, stdoutIsTTY: process.stdout.isTTY === true, env: process.env, version: readVersion() }, 'fix');
  }
  if (command === 'check') {
    return runCheck(rest, { ...io, errStream: process.stderr, stdoutIsTTY: false, env: process.env, version: readVersion() });
  }
  if (command === 'simulate') {
    return runSimulate(rest, { ...io, writeFile: (file: string, data: string) => fs.writeFileSync(file, data) });
  }
  if (command === 'probe') {
    return runProbeCommand(rest, io);
  }
  io.err(`forksafe: unknown command '${command}'\n${USAGE}`);
  return 2;
}

function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path.join(__dirname, '..', '..', 'package.json')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.stderr.write(`forksafe: internal error: ${(err as Error)?.stack ?? String(err)}\n`); process.exitCode = 2; },
  );
}
