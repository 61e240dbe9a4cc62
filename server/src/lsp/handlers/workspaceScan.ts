// forksafe.scanWorkspace: walks the workspace folders with the include/exclude globs, analyses files that are not open, publishes their diagnostics and reports work-done progress.
import * as path from 'path';
import { pathToFileURL } from 'url';
import { collectScanTargets, InputError } from '../../runtime/scanTargets';
import type { Report } from '../../engine';
import type { ForksafeSettings } from '../../settings';
import type { ScanWorkspaceResult } from '../protocol';

/** The subset of vscode-languageserver's WorkDoneProgressServerReporter the scan uses (a test double fits it too). */
export interface ScanProgress {
  begin(title: string, percentage?: number, message?: string, cancellable?: boolean): void;
  report(percentage: number, message?: string): void;
  done(): void;
  readonly token: { readonly isCancellationRequested: boolean };
}

export interface ScanDeps {
  /** Workspace folder paths. */
  roots: string[];
  settingsFor(uri: string): Promise<ForksafeSettings>;
  isOpen(uri: string): boolean;
  /** Reads, parses and analyses one file with its driver context; undefined when it could not be read (logged). */
  analyzeFile(file: string, uri: string, settings: ForksafeSettings): Report | undefined;
  publish(uri: string, report: Report, settings: ForksafeSettings): Promise<void>;
  log(message: string): void;
  progress: ScanProgress;
}

/**
 * Files under `root` that the globs select, sorted, and the entries that could not be read (unreadable folders,
 * symlink loops, dangling links). The same walker as `forksafe scan`, so the editor and CI select the same files.
 */
export function collectWorkspaceFiles(root: string, settings: ForksafeSettings): { files: string[]; errors: InputError[] } {
  const { files, errors } = collectScanTargets([root], { include: settings.include, exclude: settings.exclude, gitignore: false, root });
  return { files, errors };
}

/** Lets pending requests (hover, code actions, edits) run between files. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function scanWorkspace(deps: ScanDeps): Promise<ScanWorkspaceResult> {
  const result: ScanWorkspaceResult = { files: 0, findings: 0, skipped: 0, cancelled: false };
  deps.progress.begin('forksafe: scanning the workspace', 0, 'listing files', true);
  try {
    const files: Array<{ file: string; uri: string }> = [];
    for (const root of deps.roots) {
      const settings = await deps.settingsFor(pathToFileURL(root).toString());
      const collected = collectWorkspaceFiles(root, settings);
      for (const e of collected.errors) deps.log(`workspace scan: ${e.path}: ${e.error}; skipped`);
      for (const file of collected.files) files.push({ file, uri: pathToFileURL(file).toString() });
    }
    let lastPercent = -1;
    for (const [i, { file, uri }] of files.entries()) {
      if (deps.progress.token.isCancellationRequested) { result.cancelled = true; break; }
      const percent = Math.floor((i * 100) / Math.max(1, files.length));
      if (percent !== lastPercent) {
        deps.progress.report(percent, `${i + 1}/${files.length} ${path.basename(file)}`);
        lastPercent = percent;
      }
      await yieldToEventLoop();
      // Open documents are analysed from the editor's text; their diagnostics are already current.
      if (deps.isOpen(uri)) continue;
      const settings = await deps.settingsFor(pathToFileURL(path.dirname(file)).toString());
      const report = deps.analyzeFile(file, uri, settings);
      if (!report) { result.skipped++; continue; }
      result.files++;
      result.findings += report.findings.length;
      await deps.publish(uri, report, settings);
    }
    if (!result.cancelled) deps.progress.report(100, `${result.files} files, ${result.findings} findings`);
    deps.log(`workspace scan: ${result.files} files analysed, ${result.findings} findings, ${result.skipped} skipped${result.cancelled ? ' (cancelled)' : ''}`);
    return result;
  } finally {
    deps.progress.done();
  }
}
