// The forksafe command line: `forksafe scan <paths>` and `forksafe simulate`; exit 0 clean, 1 findings, 2 usage or input errors.
import * as path from 'path';
import { parseArgs } from 'util';
import * as fs from 'fs';
import { runScan } from './scan';
import { runSimulate } from './simulateCommand';

const USAGE = `usage: forksafe scan [options] <files or folders...>
       forksafe simulate [--kernel X.Y] [--api NAME | --ref get|pin] [--write|--read] [--longterm]
                         [--long-lived|--short-lived] [--protection none|dontfork|wipeonfork|notifier]
                         [--order ORDER|all] [--json] [--svg FILE]     (forksafe simulate --help)
       forksafe --version

scan options:
  --format gcc|json      output format (default gcc: path:line:col: severity: message [FS###])
  --kernel X.Y           kernel version for the era model (default: detect from Makefile, else newest)
  --fail-on LEVEL        exit 1 when a finding is at or above LEVEL: error|warning|information|hint|none (default hint)
  --max-file-size-kb N   skip larger files with a message (default 8192)
  -h, --help             this help
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
    let parsed;
    try {
      parsed = parseArgs({
        args: rest, allowPositionals: true, strict: true,
        options: {
          format: { type: 'string', default: 'gcc' },
          kernel: { type: 'string' },
          'fail-on': { type: 'string', default: 'hint' },
          'max-file-size-kb': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (err) {
      io.err(`forksafe scan: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    if (parsed.values.help) { io.out(USAGE); return 0; }
    return runScan(parsed.positionals, parsed.values, io);
  }
  if (command === 'simulate') {
    return runSimulate(rest, { ...io, writeFile: (file: string, data: string) => fs.writeFileSync(file, data) });
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
