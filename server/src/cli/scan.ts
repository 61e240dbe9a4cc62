// `forksafe scan`: collects C files, runs the engine on each, prints findings and chooses the exit code.
import * as path from 'path';
import { analyze } from '../engine';
import type { Finding } from '../analysis/finding';
import { loadSyntax } from '../runtime/loadSyntax';
import { collectSourcePaths, readSource } from '../runtime/sourceFiles';
import { DriverContextLoader } from '../runtime/driverContext';
import { resolveSettings } from '../settings';
import { formatGccLine } from './format/gcc';
import { JSON_SCHEMA_VERSION, JsonReport, toJsonFinding } from './format/json';
import type { Severity } from '../analysis/rules';

export interface ScanFlags {
  format?: string;
  kernel?: string;
  'fail-on'?: string;
  'max-file-size-kb'?: string;
}

export interface CliIo { out: (s: string) => void; err: (s: string) => void }

const SEVERITY_RANK: Record<Severity, number> = { hint: 0, information: 1, warning: 2, error: 3 };
const FAIL_ON = ['error', 'warning', 'information', 'hint', 'none'];

export async function runScan(inputs: string[], flags: ScanFlags, io: CliIo): Promise<number> {
  const usage = (msg: string): number => { io.err(`forksafe scan: ${msg}\n`); return 2; };
  if (inputs.length === 0) return usage('no files or folders given (try: forksafe scan examples)');
  const format = flags.format ?? 'gcc';
  if (!['gcc', 'json'].includes(format)) return usage(`unknown --format '${format}' (gcc, json)`);
  const failOn = flags['fail-on'] ?? 'hint';
  if (!FAIL_ON.includes(failOn)) return usage(`unknown --fail-on '${failOn}' (${FAIL_ON.join(', ')})`);
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  if (flags.kernel !== undefined) raw.kernelVersion = flags.kernel;
  if (flags['max-file-size-kb'] !== undefined) {
    const n = Number(flags['max-file-size-kb']);
    if (!Number.isFinite(n) || n <= 0) return usage(`--max-file-size-kb must be a positive number, not '${flags['max-file-size-kb']}'`);
    raw.maxFileSizeKb = n;
  }
  const settings = resolveSettings(raw, problems);
  if (problems.length > 0) return usage(problems.join('; '));

  const { files, errors } = collectSourcePaths(inputs);
  const syntax = await loadSyntax();
  const findings: Finding[] = [];
  const display = (p: string): string => {
    const rel = path.relative(process.cwd(), p);
    return rel === '' || rel.startsWith('..') ? p : rel;
  };
  const loader = new DriverContextLoader(syntax);
  const opts = { maxFileBytes: settings.maxFileSizeKb * 1024, budgetMs: settings.timeBudgetMs, scope: settings.driverScope, workspaceRoots: inputs };
  try {
    for (const file of files) {
      const read = readSource(file, settings.maxFileSizeKb * 1024);
      if (!read.ok) { errors.push({ path: read.path, error: read.error }); continue; }
      for (const note of read.notes) io.err(`forksafe: ${note}\n`);
      const context = loader.contextFor(file, opts);
      const report = analyze(syntax, { uri: file, text: read.text }, settings, context);
      for (const note of report.notes) io.err(`forksafe: ${note}\n`);
      findings.push(...report.findings);
    }
  } finally {
    loader.dispose();
  }
  for (const e of errors) io.err(`forksafe: ${display(e.path)}: ${e.error}\n`);

  if (format === 'json') {
    const out: JsonReport = {
      schemaVersion: JSON_SCHEMA_VERSION, tool: { name: 'forksafe', version: '0.1.0' }, files: files.length,
      findings: findings.map((f) => toJsonFinding(display, f)), errors: errors.map((e) => ({ path: display(e.path), error: e.error })),
    };
    io.out(JSON.stringify(out, null, 2) + '\n');
  } else {
    for (const f of findings) io.out(formatGccLine(display(f.uri), f) + '\n');
  }
  if (errors.length > 0) return 2;
  if (failOn === 'none') return 0;
  const threshold = SEVERITY_RANK[failOn as Severity];
  return findings.some((f) => SEVERITY_RANK[f.severity] >= threshold) ? 1 : 0;
}
