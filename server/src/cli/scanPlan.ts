// Phase one of `forksafe scan`, on the main thread: groups the targets by driver scope, runs the prefilter (on bytes, then on the text of the groups that may pin) and wrapper discovery once per group, and hands each group's chunks over as soon as they are cut, with the trees discovery parsed.
import * as path from 'path';
import type { CSyntax } from '../analysis/parser';
import { compareText } from '../analysis/span';
import { makeSourceFile } from '../analysis/workspace';
import type { ForksafeSettings } from '../settings';
import { ContextOptions, DriverContextLoader, listDriverFiles } from '../runtime/driverContext';
import { Definition, definitionsFromIndex, MemberText, selectRelevantFiles } from '../runtime/fileRelevance';
import type { InputError } from '../runtime/scanTargets';
import { ByteArena } from '../runtime/sourceFiles';
import { boundaryIn, IncludeResolver } from '../runtime/includes';
import { ReadMember, readGroup } from './groupReader';
import { FileResult, heldTreeChars, oversizeResult } from './analyzeChunk';

/** Files analysed together: each target gets the chunk's context files (parsed once per chunk) as its driver. */
export interface ScanChunk {
  targets: string[];
  context: string[];
  /** Source bytes of the chunk's files (targets and context, each once): what analysing it costs, roughly. */
  bytes: number;
  /** The scanned folder that holds the group (its tree is searched for switches nothing sets, buildSwitches.ts). */
  root?: string;
}

export interface ScanPlan {
  /** Targets that will be analysed (the rest cannot hold a finding). */
  analysed: number;
  /** Chunks handed to onChunks. */
  chunks: number;
  /** Targets that could not be read, found while reading for the prefilter. */
  errors: InputError[];
  /** Targets over the size limit, counted in `analysed`: their FS009 comes from their length, not from a chunk. */
  results: FileResult[];
  stats: { groups: number; groupsWithPins: number; parsedForDiscovery: number; wrappers: number };
}

export interface PlanOptions {
  settings: ForksafeSettings;
  /** False: every target is analysed with every file of its scope as context. */
  prefilter: boolean;
  /** How many analysers may share the chunks: a large group is cut into up to this many. */
  jobs: number;
  /** Folders given on the command line (the roots of the workspace scope). */
  inputFolders: string[];
  /** The C sources of each folder the target walk read (CollectedTargets.folderSources): not listed from disk again. */
  folderSources?: ReadonlyMap<string, readonly string[]>;
  /** Loaded only when a group mentions a pin API (the files that do are parsed to find wrappers). */
  syntax: () => Promise<CSyntax>;
  onFileRead?: () => void;
  /**
   * Receives each group's chunks, in order, as soon as they are cut. `loader` holds the group's files as discovery read
   * and parsed them (trees and indexes included); it is disposed when the returned promise settles, so a chunk
   * analysed in this thread before then parses nothing twice.
   */
  onChunks: (chunks: ScanChunk[], loader: DriverContextLoader) => void | Promise<void>;
  /** Receives, once at the end, the names found to wrap a pin API (stats.wrappers counts them). */
  onWrappers?: (names: readonly string[]) => void;
}

/** Below this many targets a group is not cut further: each chunk parses the context again. */
const MIN_CHUNK_TARGETS = 8;

interface Group { key: string; targets: string[]; members: string[] }

function groupTargets(targets: string[], settings: ForksafeSettings, inputFolders: string[], folderSources?: ReadonlyMap<string, readonly string[]>): Group[] {
  if (settings.driverScope === 'file') return targets.map((t) => ({ key: path.resolve(t), targets: [t], members: [t] }));
  if (settings.driverScope === 'workspace') {
    const roots = inputFolders.length > 0 ? inputFolders : [...new Set(targets.map((t) => path.dirname(t)))];
    const seen = new Set(targets.map((t) => path.resolve(t)));
    const others = targets.length > 0 ? listDriverFiles(targets[0], 'workspace', roots).filter((f) => !seen.has(path.resolve(f))) : [];
    return [{ key: 'workspace', targets, members: [...targets, ...others] }];
  }
  const byDir = new Map<string, string[]>();
  for (const t of targets) {
    const dir = path.dirname(path.resolve(t));
    const list = byDir.get(dir);
    if (list) list.push(t); else byDir.set(dir, [t]);
  }
  return [...byDir.entries()].sort(([a], [b]) => compareText(a, b)).map(([key, list]) => {
    const seen = new Set(list.map((t) => path.resolve(t)));
    const others = (folderSources?.get(key) ?? listDriverFiles(list[0], 'directory')).filter((f) => !seen.has(path.resolve(f)));
    return { key, targets: list, members: [...list, ...others] };
  });
}

function cut(targets: string[], jobs: number): string[][] {
  const parts = Math.max(1, Math.min(jobs, Math.ceil(targets.length / MIN_CHUNK_TARGETS)));
  const size = Math.ceil(targets.length / parts);
  const out: string[][] = [];
  for (let i = 0; i < targets.length; i += size) out.push(targets.slice(i, i + size));
  return out;
}

export async function planScan(targets: string[], opts: PlanOptions): Promise<ScanPlan> {
  const { settings } = opts;
  const maxBytes = settings.maxFileSizeKb * 1024;
  const contextOptions: ContextOptions = { maxFileBytes: maxBytes, budgetMs: settings.timeBudgetMs, scope: settings.driverScope };
  const plan: ScanPlan = { analysed: 0, chunks: 0, errors: [], results: [], stats: { groups: 0, groupsWithPins: 0, parsedForDiscovery: 0, wrappers: 0 } };
  // The budget of text the loader's trees may stand for between files (read from the environment once, as analyzeChunk does).
  const held = heldTreeChars();
  const wrappers = new Set<string>();
  let syntax: CSyntax | undefined;
  // One arena for every read: it holds one file at a time (groupReader.ts).
  const arena = new ByteArena();
  // A driver's scope (a folder, the workspace) also holds the headers its files include from elsewhere, found up to the
  // scanned folder that holds them (runtime/includes.ts); the file scope is the file alone.
  // The scanned folder holding a folder (a target given alone: its own folder): where includes are looked for above it,
  // and where its switches are looked for.
  const boundary = boundaryIn(opts.inputFolders);
  const resolver = settings.driverScope === 'file' ? undefined : new IncludeResolver(boundary);
  const passedThrough = new Map<string, string[]>();
  const rootOf = (target: string): string => boundary(path.dirname(path.resolve(target)));
  for (const group of groupTargets(targets, settings, opts.inputFolders, opts.folderSources)) {
    plan.stats.groups++;
    const relative = group.members.length > 0 && !path.isAbsolute(group.members[0]!);
    const includes = resolver && { resolver, passedThrough, display: (header: string) => (relative ? path.relative(process.cwd(), header) : header) };
    const read = readGroup(group, { maxBytes, prefilter: opts.prefilter, includes }, arena);
    for (let i = 0; i < read.targetsRead; i++) opts.onFileRead?.();
    plan.errors.push(...read.errors);
    const isTarget = new Set(read.members.filter((m) => m.target).map((m) => m.path));
    const members = read.members;

    // The group's files for the analysis: created (and the grammar loaded) only when the group needs a parse.
    let loader: DriverContextLoader | undefined;
    const needLoader = async (): Promise<DriverContextLoader> => {
      syntax ??= await opts.syntax();
      loader ??= new DriverContextLoader(syntax);
      return loader;
    };
    /** Hands a member's text to the loader once (it is not read again), when the loader would accept the file at all. */
    const kept = new Set<string>();
    const keep = (l: DriverContextLoader, m: ReadMember): void => {
      if (m.size > maxBytes || kept.has(m.path) || m.text === undefined) return;
      kept.add(m.path);
      l.adopt(m.path, { text: m.text, notes: m.notes ?? [], mtimeMs: m.mtimeMs, size: m.size });
    };

    let analyse: string[];
    let context: string[];
    if (!opts.prefilter) {
      analyse = group.targets.filter((t) => isTarget.has(t));
      context = members.map((m) => m.path);
    } else if (!read.mayPin) {
      // No file of the group can name a pin API: what selectRelevantFiles returns then (only suppressions are analysed,
      // nothing is context), decided on the bytes (groupReader.ts) without decoding the group.
      const chosen = new Set(read.chosen);
      analyse = group.targets.filter((t) => chosen.has(t));
      context = [];
    } else {
      const l = await needLoader();
      const texts: MemberText[] = members.map((m) => ({ path: m.path, text: m.text! }));
      const byPath = new Map(members.map((m) => [m.path, m]));
      const definitionsOf = (t: MemberText): Definition[] | undefined => {
        const m = byPath.get(t.path)!;
        if (m.size <= maxBytes) {
          // Parsed through the group's loader, which keeps the tree; makeSourceFile caches its index for the analysis.
          keep(l, m);
          const loaded = l.load(m.path, contextOptions, false);
          if (!loaded) return undefined;
          const definitions = definitionsFromIndex(makeSourceFile(syntax!, loaded.uri, loaded.text, loaded.source ?? loaded.tree).index, loaded.text);
          l.keepTreesUnder(held);
          return definitions;
        }
        const parsed = syntax!.parse(t.text, undefined, settings.timeBudgetMs);
        if (!parsed.tree) return undefined;
        try { return definitionsFromIndex(makeSourceFile(syntax!, m.path, t.text, parsed.tree).index, t.text); } finally { parsed.tree.delete(); }
      };
      const selection = selectRelevantFiles(texts, isTarget, definitionsOf);
      const chosen = new Set([...selection.analyse, ...read.chosen]);
      analyse = group.targets.filter((t) => chosen.has(t));
      context = selection.context;
      if (selection.parsed.length > 0) plan.stats.groupsWithPins++;
      plan.stats.parsedForDiscovery += selection.parsed.length;
      for (const w of selection.wrappers) wrappers.add(w);
    }
    plan.analysed += analyse.length;
    const byPath = new Map(members.map((m) => [m.path, m]));
    // A target over the size limit is reported from its length (read once in pass one, not decoded, not read again).
    const oversize = analyse.filter((p) => byPath.get(p)?.oversize);
    if (oversize.length > 0) {
      for (const p of oversize) plan.results.push(oversizeResult(p, byPath.get(p)!.oversize!, settings));
      analyse = analyse.filter((p) => !byPath.get(p)?.oversize);
    }
    if (analyse.length === 0) { loader?.dispose(); continue; }
    const l = await needLoader();
    // The analysis reads nothing again: the targets' and the context's texts go to the loader beside the trees.
    for (const p of new Set([...analyse, ...context])) keep(l, byPath.get(p)!);
    const inContext = new Set(context);
    const contextBytes = context.reduce((sum, p) => sum + byPath.get(p)!.size, 0);
    const root = rootOf(analyse[0]!);
    const chunks: ScanChunk[] = cut(analyse, opts.jobs).map((part) => ({
      targets: part, context, bytes: contextBytes + part.reduce((sum, p) => sum + (inContext.has(p) ? 0 : byPath.get(p)!.size), 0), root,
    }));
    plan.chunks += chunks.length;
    try {
      await opts.onChunks(chunks, l);
    } finally {
      l.dispose();
    }
  }
  plan.stats.wrappers = wrappers.size;
  opts.onWrappers?.([...wrappers]);
  return plan;
}
