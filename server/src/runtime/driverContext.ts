// Builds the engine's AnalysisContext from disk: the driver's other files (parsed once, cached by mtime) and the kernel version from the tree's Makefile.
import * as fs from 'fs';
import * as path from 'path';
import type { CSyntax, Tree } from '../analysis/parser';
import type { KernelVersionLite } from '../analysis/pinApis';
import { kernelVersionFromMakefile } from '../analysis/kernelVersion';
import type { AnalysisContext } from '../engine';
import type { DriverScope } from '../settings';
import { isCSourcePath, readSource } from './sourceFiles';
import { pathToFileURL } from 'url';

/** Files worth parsing as context: they mention a pin API, a flag, or a protection. Others cannot change a verdict. */
export const RELEVANT_TEXT = /user_pages|vaddr_frames|FOLL_|VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier|mmu_interval_notifier|hmm_range_fault/;

interface Entry { mtimeMs: number; size: number; uri: string; text: string; tree: Tree | undefined }

export interface ContextOptions { maxFileBytes: number; budgetMs: number; scope: DriverScope; workspaceRoots?: string[] }

export class DriverContextLoader {
  private readonly files = new Map<string, Entry>();
  private readonly kernels = new Map<string, { version: KernelVersionLite; source: string } | null>();

  constructor(private readonly syntax: CSyntax) {}

  /** A parsed file from disk (undefined when unreadable, over the limit, irrelevant or not parseable in budget). */
  load(file: string, opts: ContextOptions, requireRelevant = true): { uri: string; text: string; tree: Tree } | undefined {
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch { this.evict(file); return undefined; }
    if (!st.isFile() || st.size > opts.maxFileBytes) return undefined;
    let entry = this.files.get(file);
    if (!entry || entry.mtimeMs !== st.mtimeMs || entry.size !== st.size) {
      this.evict(file);
      const read = readSource(file, opts.maxFileBytes);
      if (!read.ok) return undefined;
      entry = { mtimeMs: st.mtimeMs, size: st.size, uri: pathToFileURL(file).toString(), text: read.text, tree: undefined };
      this.files.set(file, entry);
    }
    if (requireRelevant && !RELEVANT_TEXT.test(entry.text)) return undefined;
    if (!entry.tree) entry.tree = this.syntax.parse(entry.text, undefined, opts.budgetMs).tree;
    return entry.tree ? { uri: entry.uri, text: entry.text, tree: entry.tree } : undefined;
  }

  evict(file: string): void {
    this.files.get(file)?.tree?.delete();
    this.files.delete(file);
  }

  /** The other C files of the driver `file` belongs to, by scope: its directory, nothing, or every workspace root. */
  driverFiles(file: string, opts: ContextOptions): string[] {
    if (opts.scope === 'file') return [];
    const dirs = opts.scope === 'workspace' && opts.workspaceRoots?.length ? opts.workspaceRoots : [path.dirname(file)];
    const out: string[] = [];
    const walk = (dir: string, deep: boolean, seen: Set<string>): void => {
      let real: string;
      try { real = fs.realpathSync(dir); } catch { return; }
      if (seen.has(real)) return;
      seen.add(real);
      let entries: fs.Dirent[];
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory() && deep && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(full, deep, seen);
        else if (e.isFile() && isCSourcePath(full) && path.resolve(full) !== path.resolve(file)) out.push(full);
      }
    };
    for (const d of dirs) walk(d, opts.scope === 'workspace', new Set());
    return out.sort();
  }

  /** The kernel version of the tree `file` is in: the nearest Makefile upwards that sets VERSION and PATCHLEVEL. */
  detectKernel(file: string): { version: KernelVersionLite; source: string } | undefined {
    const visited: string[] = [];
    let found: { version: KernelVersionLite; source: string } | undefined;
    for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
      const cached = this.kernels.get(dir);
      if (cached !== undefined) { found = cached ?? undefined; break; }
      visited.push(dir);
      const makefile = path.join(dir, 'Makefile');
      try {
        const version = kernelVersionFromMakefile(fs.readFileSync(makefile, 'utf8').slice(0, 4096));
        if (version) { found = { version, source: `from ${makefile}` }; break; }
      } catch { /* no Makefile here */ }
      if (path.dirname(dir) === dir) break;
    }
    for (const d of visited) this.kernels.set(d, found ?? null);
    return found;
  }

  /** The context for analysing `file`: relevant driver files (open documents first) and the detected kernel. */
  contextFor(file: string, opts: ContextOptions, openDocuments?: Map<string, { uri: string; text: string; tree: Tree }>): AnalysisContext {
    const files: NonNullable<AnalysisContext['files']> = [];
    for (const f of this.driverFiles(file, opts)) {
      const open = openDocuments?.get(path.resolve(f));
      if (open) { files.push(open); continue; }
      const loaded = this.load(f, opts);
      if (loaded) files.push(loaded);
    }
    return { files, detectedKernel: this.detectKernel(file) };
  }

  dispose(): void {
    for (const e of this.files.values()) e.tree?.delete();
    this.files.clear();
  }
}
