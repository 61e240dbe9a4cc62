// Phase two of `forksafe scan`: analyses the targets of one chunk with the engine, the chunk's context parsed once (or already parsed by phase one, in this thread); runs in a worker thread or inline.
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { CSyntax } from '../analysis/parser';
import type { Finding } from '../analysis/finding';
import { analyze, ContextFile, oversizeReport } from '../engine';
import { makeSourceFile } from '../analysis/workspace';
import type { ForksafeSettings } from '../settings';
import { ContextOptions, DriverContextLoader, LoadedFile } from '../runtime/driverContext';
import { readScanSource, SourceRead } from '../runtime/sourceFiles';
import type { ScanChunk } from './scanPlan';
import { TreeSwitches, unsetSwitches } from '../runtime/buildSwitches';

/** Each scanned tree's switch answers, kept for the process (thread): a tree is searched only for names not yet asked. */
const treeSwitches = new Map<string, TreeSwitches>();
function treeSwitchesOf(root: string): TreeSwitches {
  let tree = treeSwitches.get(root);
  if (!tree) {
    tree = new TreeSwitches(root);
    treeSwitches.set(root, tree);
  }
  return tree;
}

/** What one target produced; plain data, so it crosses from a worker thread by structured clone. */
export interface FileResult {
  path: string;
  findings: Finding[];
  /** Log lines: invalid UTF-8, parse budget hit, analysis cut short. */
  notes: string[];
  /** Set when the file could not be read or the analysis failed; the scan goes on. */
  error?: string;
}

/**
 * How much text the trees a scan's loader holds between analyses may stand for (tree-sitter takes about 7 bytes of
 * wasm memory per character, and the JavaScript nodes an index keeps of a tree take more): the least recently used
 * trees are let go beyond it, and parsed again only if a later analysis reads their nodes. A folder of generated
 * register headers (asic_reg/dcn, 93 MB of text under the size limit) held all its trees at once before: `--no-prefilter
 * -j 1` on it peaked at 1.42 GB; 1.06 GB with 16 Mi characters held, 826 MB with 4 Mi (docs/performance.md).
 */
const HELD_TREE_CHARS = 4 * 1024 * 1024;

/** HELD_TREE_CHARS, or FORKSAFE_HELD_TREE_CHARS when set (tests and benchmarks: 0 lets every tree go between analyses). */
export function heldTreeChars(): number {
  const set = process.env.FORKSAFE_HELD_TREE_CHARS;
  const n = set === undefined || set === '' ? NaN : Number(set);
  return Number.isFinite(n) && n >= 0 ? n : HELD_TREE_CHARS;
}

export interface ChunkOptions {
  /** Compute quick fixes: only the outputs that print them (JSON, SARIF) ask; findings are otherwise the same. */
  fixes: boolean;
  onFile?: () => void;
  /**
   * The files of the chunk's group as phase one read and parsed them (same thread only): used, not disposed. Without
   * it the chunk reads and parses its files itself.
   */
  loader?: DriverContextLoader;
}

export function analyzeChunk(syntax: CSyntax, chunk: ScanChunk, settings: ForksafeSettings, opts: ChunkOptions): FileResult[] {
  const loader = opts.loader ?? new DriverContextLoader(syntax);
  const contextOptions: ContextOptions = { maxFileBytes: settings.maxFileSizeKb * 1024, budgetMs: settings.timeBudgetMs, scope: settings.driverScope, kernelDir: settings.kernelDir || undefined, compileCommands: settings.compileCommands || undefined };
  const out: FileResult[] = [];
  const held = heldTreeChars();
  try {
    const context: Array<{ key: string; file: LoadedFile }> = [];
    for (const p of chunk.context) {
      const file = loader.load(p, contextOptions, false);
      if (!file) continue;
      context.push({ key: path.resolve(p), file });
      // Indexed while its tree is held; the trees held are then kept under the budget (the indexes stay).
      if (file.source) makeSourceFile(syntax, file.uri, file.text, file.source);
      loader.keepTreesUnder(held);
    }
    // The engine reads a context file's tree only for the nodes it asks about (a TreeSource parses it again if needed).
    const contextFiles: ContextFile[] = context.map((c) => ({ uri: c.file.uri, text: c.file.text, tree: c.file.source ?? c.file.tree }));
    for (const target of chunk.targets) {
      out.push(analyzeTarget(syntax, loader, target, context, contextFiles, settings, contextOptions, opts.fixes, chunk.root));
      loader.keepTreesUnder(held);
      opts.onFile?.();
    }
  } finally {
    if (loader !== opts.loader) loader.dispose();
  }
  return out;
}

/** What analyzeTarget gives a target whose text is `length` UTF-16 units, over the size limit: FS009, nothing read. */
export function oversizeResult(target: string, oversize: { length: number; notes: string[] }, settings: ForksafeSettings): FileResult {
  const report = oversizeReport(pathToFileURL(path.resolve(target)).toString(), oversize.length, settings);
  return { path: target, findings: report.findings, notes: [...oversize.notes, ...report.notes] };
}

function analyzeTarget(syntax: CSyntax, loader: DriverContextLoader, target: string, context: Array<{ key: string; file: LoadedFile }>,
  contextFiles: ContextFile[], settings: ForksafeSettings, contextOptions: ContextOptions, fixes: boolean, root: string | undefined): FileResult {
  // A target within the size limit is usually context too, so the loader holds its text already; a larger one is read
  // here, as the engine reports FS009 for it. Both reads give the same text and notes.
  const cached = loader.source(target, contextOptions);
  const read: SourceRead = cached ? { ok: true, path: target, ...cached } : readScanSource(target);
  if (!read.ok) return { path: target, findings: [], notes: [], error: read.error };
  const key = path.resolve(target);
  const own = context.find((c) => c.key === key && c.file.text === read.text);
  try {
    const report = analyze(syntax, { uri: pathToFileURL(key).toString(), text: read.text, tree: own && (own.file.source ?? own.file.tree), fixes }, settings, {
      // One list for every target of the chunk (the engine leaves the target's own entry out by uri), so the engine
      // builds the context's lookups once per chunk (engine.ts, workspaceBaseOf).
      files: contextFiles,
      // An explicit kernel version needs no build detection (docs/build.md): it would be read and ignored.
      detectedKernel: settings.build ?? (settings.kernelVersion === 'auto' ? loader.detectKernel(target, contextOptions) : undefined),
      unsetSwitches: unsetSwitches(read.text, key, () => treeSwitchesOf(root ?? path.dirname(key))),
    });
    return { path: target, findings: report.findings, notes: [...read.notes, ...report.notes] };
  } catch (err) {
    return { path: target, findings: [], notes: read.notes, error: `internal error while analysing: ${(err as Error)?.message ?? String(err)}` };
  }
}
