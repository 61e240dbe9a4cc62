// Runs the CLI bundle as a user would (a child process, stdout and stderr piped) and makes scratch driver trees for the CLI tests.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const CLI = path.join(ROOT, 'server', 'dist', 'cli.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'drivers');

export interface CliRun { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '', ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary folder holding `files` (relative path to content); removed by the returned function. */
export function scratchTree(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-cli-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A writable, long-lived, unprotected pin (FS001 on line 3 column 2). */
// The pages stay in the driver's own object (a bare array parameter would be its callers' to judge, issue 28).
export const BAD_DRIVER = 'struct mr { struct page **pages; }; void f(struct mr *mr)\n{\n\tget_user_pages(0, 1, FOLL_WRITE, mr->pages);\n}\n';
