// Phase one of `forksafe scan`, on the main thread: groups the targets by driver scope, runs the text prefilter and wrapper discovery once per group, and cuts the files to analyse into chunks.
import * as fs from 'fs';
import * as path from 'path';
import type { CSyntax } from '../analysis/parser';
import { indexFile } from '../analysis/fileIndex';
import type { ForksafeSettings } from '../settings';
import { listDriverFiles } from '../runtime/driverContext';
import { Definition, definitionsFromIndex, MemberText, mentionsPinApi, selectRelevantFiles } from '../runtime/fileRelevance';
import { readScanSource, readSource } from '../runtime/sourceFiles';
import type { InputError } from '../runtime/scanTargets';

/** Files analysed together: each target gets the chunk's context files (parsed once per chunk) as its driver. */
export interface ScanChunk { targets: string[]; context: string[] }

export interface ScanPlan {
  chunks: ScanChunk[];
  /** Targets that will be analysed (the rest cannot hold a finding). */
  analysed: number;
  /** Targets that could not be read, found while reading for the prefilter. */
  errors: InputError[];
  stats: { groups: number; groupsWithPins: number; parsedForDiscovery: number; wrappers: number };
}

export interface PlanOptions {
  settings: ForksafeSettings;
  /** False: every target is analysed with every file of its scope as context. */
  prefilter: boolean;
  /** How many workers will share the chunks: a large group is cut into up to this many. */
  jobs: number;
  /** Folders given on the command line (the roots of the workspace scope). */
  inputFolders: string[];
  /** Loaded only when a group mentions a pin API (the files that do are parsed to find wrappers). */
  syntax: () => Promise<CSyntax>;
  onFileRead?: () => void;
}

/** Below this many targets a group is not cut further: each chunk parses the context again. */
const MIN_CHUNK_TARGETS = 8;

interface Group { key: string; targets: string[]; members: string[] }

function groupTargets(targets: string[], settings: ForksafeSettings, inputFolders: string[]): Group[] {
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
  return [...byDir.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, list]) => {
    const seen = new Set(list.map((t) => path.resolve(t)));
    const others = listDriverFiles(list[0], 'directory').filter((f) => !seen.has(path.resolve(f)));
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
  const plan: ScanPlan = { chunks: [], analysed: 0, errors: [], stats: { groups: 0, groupsWithPins: 0, parsedForDiscovery: 0, wrappers: 0 } };
  const wrappers = new Set<string>();
  let syntax: CSyntax | undefined;
  for (const group of groupTargets(targets, settings, opts.inputFolders)) {
    plan.stats.groups++;
    const isTarget = new Set(group.targets);
    const members: MemberText[] = [];
    const oversize: string[] = [];
    for (const file of group.members) {
      if (isTarget.has(file)) {
        const read = readScanSource(file);
        opts.onFileRead?.();
        if (!read.ok) { plan.errors.push({ path: file, error: read.error }); isTarget.delete(file); continue; }
        if (read.text.length > maxBytes) oversize.push(file);
        members.push({ path: file, text: read.text });
        continue;
      }
      let size: number;
      try { size = fs.statSync(file).size; } catch { continue; }
      if (size > maxBytes) continue; // never context: the loader skips it too
      const read = readSource(file, maxBytes);
      if (read.ok) members.push({ path: file, text: read.text });
    }
    let analyse: string[];
    let context: string[];
    if (!opts.prefilter) {
      analyse = group.targets.filter((t) => isTarget.has(t));
      context = members.map((m) => m.path);
    } else {
      const pinned = members.some((m) => mentionsPinApi(m.text));
      if (pinned && !syntax) syntax = await opts.syntax();
      const definitionsOf = (m: MemberText): Definition[] | undefined => {
        const parsed = syntax!.parse(m.text, undefined, settings.timeBudgetMs);
        if (!parsed.tree) return undefined;
        try { return definitionsFromIndex(indexFile(syntax!, parsed.tree), m.text); } finally { parsed.tree.delete(); }
      };
      const selection = selectRelevantFiles(members, isTarget, definitionsOf);
      const chosen = new Set([...selection.analyse, ...oversize]);
      analyse = group.targets.filter((t) => chosen.has(t));
      context = selection.context;
      if (selection.parsed.length > 0) plan.stats.groupsWithPins++;
      plan.stats.parsedForDiscovery += selection.parsed.length;
      for (const w of selection.wrappers) wrappers.add(w);
    }
    plan.analysed += analyse.length;
    for (const part of cut(analyse, opts.jobs)) plan.chunks.push({ targets: part, context });
  }
  plan.stats.wrappers = wrappers.size;
  return plan;
}
