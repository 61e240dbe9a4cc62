// What the numbers were measured on: CPU model, cores, memory, kernel, node and tool versions.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';

export interface Machine {
  cpu: string;
  nproc: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  spatch: string | undefined;
  gnuTime: boolean;
}

export function describeMachine(spatchPath: string | undefined, gnuTime: boolean): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch { /* not Linux */ }
  let spatch: string | undefined;
  if (spatchPath) spatch = spawnSync(spatchPath, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim();
  return {
    cpu, nproc: os.availableParallelism(), memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`, node: process.version, spatch, gnuTime,
  };
}
