// Warms the editor's edit path once, after the server's first analysis, while it is idle: a small driver of forksafe's own is opened in a private tree set and edited the way a developer fixing a finding edits (the pin's flags, a rename in its function, the release moved, a keystroke elsewhere), alone and then in its folder, each edit going through the same re-parse, carried index, reuse check, context selection and analysis as a real one. V8 then compiles that code on these edits, not on the developer's first ones (docs/performance.md, "Issue 14, ninth step").
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { TextDocument, TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { DriverContextLoader } from '../runtime/driverContext';
import type { CSyntax, Node, Tree } from '../analysis/parser';
import type { Span } from '../analysis/span';
import { declaredName, namedChildren } from '../analysis/syntaxTools';
import { RELEASE_APIS } from '../analysis/pinApis';
import { makeSourceFile } from '../analysis/workspace';
import { AnalysisContext, analyze, asideFromContextCache, ContextFile, Report } from '../engine';
import type { ForksafeSettings } from '../settings';
import { DocumentTrees } from './documentTrees';
import { reuseAfterChange } from './editAnalysis';

/** A driver file, the other files of its folder (a header and smaller .c files), and the edits replayed on the file, in the coordinates of the text before each. */
export interface WarmUpDriver {
  file: string;
  others: Array<{ name: string; text: string }>;
  edits: TextDocumentContentChangeEvent[];
}

/** How many times the edits are replayed: the first pass with the file alone, the others in its folder (24 edits, about 0.3 s cold). */
const PASSES = 3;
/** Unrelated functions around the pinning one, so the re-parse, the index and the reuse check see a file of some size. */
const FILLER_FUNCTIONS = 40;
/** Other .c files of the driver's folder: some release pages, some call the pinning function, each defines a macro. */
const FOLDER_FILES = 12;

/** forksafe's own small driver: a long-lived writable pin kept in a buffer object, its release, an ioctl, filler, and a folder of other files. */
export function warmUpDriver(): WarmUpDriver {
  const header = [
    '#ifndef WARM_DEMO_H',
    '#define WARM_DEMO_H',
    '#define WARM_MAX_PAGES 512',
    '#define WARM_PIN_FLAGS (FOLL_WRITE | FOLL_LONGTERM)',
    'struct warm_buf {',
    '\tstruct page **pages;',
    '\tunsigned long nr_pages;',
    '\tunsigned long uaddr;',
    '};',
    'int warm_map_user(struct warm_buf *buf, unsigned long uaddr, unsigned long len);',
    'void warm_unmap_user(struct warm_buf *buf);',
    '#endif',
    '',
  ].join('\n');
  const filler: string[] = [];
  for (let i = 0; i < FILLER_FUNCTIONS; i++) {
    filler.push(
      `static int warm_helper_${i}(struct warm_buf *buf, int step)`,
      '{',
      '\tint total = 0;',
      '\tunsigned long i;',
      '',
      `\tfor (i = 0; i < buf->nr_pages; i += ${(i % 4) + 1})`,
      `\t\ttotal += (int)(i * step) ^ ${i};`,
      '\tif (total < 0)',
      '\t\treturn -EINVAL;',
      '\treturn total;',
      '}',
      '',
    );
  }
  const file = [
    '#include <linux/mm.h>',
    '#include <linux/slab.h>',
    '#include "warm_demo.h"',
    '',
    ...filler,
    'int warm_map_user(struct warm_buf *buf, unsigned long uaddr, unsigned long len)',
    '{',
    '\tunsigned long npages = (len + PAGE_SIZE - 1) >> PAGE_SHIFT;',
    '\tunsigned int gup_flags = FOLL_WRITE;',
    '\tlong pinned;',
    '',
    '\tif (npages == 0 || npages > WARM_MAX_PAGES)',
    '\t\treturn -EINVAL;',
    '\tbuf->pages = kcalloc(npages, sizeof(*buf->pages), GFP_KERNEL);',
    '\tif (!buf->pages)',
    '\t\treturn -ENOMEM;',
    '\tpinned = get_user_pages_fast(uaddr, npages, gup_flags, buf->pages);',
    '\tif (pinned != npages) {',
    '\t\tif (pinned > 0)',
    '\t\t\trelease_pages(buf->pages, pinned);',
    '\t\tkfree(buf->pages);',
    '\t\treturn -EFAULT;',
    '\t}',
    '\tbuf->nr_pages = npages;',
    '\tbuf->uaddr = uaddr;',
    '\treturn 0;',
    '}',
    '',
    'void warm_unmap_user(struct warm_buf *buf)',
    '{',
    '\tunsigned long i;',
    '',
    '\tfor (i = 0; i < buf->nr_pages; i++)',
    '\t\tput_page(buf->pages[i]);',
    '\tkfree(buf->pages);',
    '\tbuf->nr_pages = 0;',
    '}',
    '',
    'long warm_ioctl(struct warm_buf *buf, unsigned int cmd, unsigned long arg)',
    '{',
    '\tswitch (cmd) {',
    '\tcase 1:',
    '\t\treturn warm_map_user(buf, arg, PAGE_SIZE * 4);',
    '\tcase 2:',
    '\t\twarm_unmap_user(buf);',
    '\t\treturn 0;',
    '\tdefault:',
    `\t\treturn warm_helper_${FILLER_FUNCTIONS - 1}(buf, (int)cmd);`,
    '\t}',
    '}',
    '',
  ].join('\n');

  let doc = TextDocument.create('file:///warm_demo.c', 'c', 0, file);
  const edits: TextDocumentContentChangeEvent[] = [];
  const edit = (start: number, end: number, text: string): void => {
    const range = { start: doc.positionAt(start), end: doc.positionAt(end) };
    edits.push({ range, text });
    doc = TextDocument.update(doc, [{ range, text }], doc.version + 1);
  };
  const at = (s: string): number => {
    const i = doc.getText().indexOf(s);
    if (i < 0) throw new Error(`warm-up driver: '${s}' not found`);
    return i;
  };
  // The pin's flags: FOLL_WRITE taken out and put back.
  const flags = at('gup_flags = FOLL_WRITE') + 'gup_flags = '.length;
  edit(flags, flags + 'FOLL_WRITE'.length, '0');
  edit(flags, flags + 1, 'FOLL_WRITE');
  // A local of the pinning function renamed in its whole body (one change, as a rename sends it) and back.
  const bodyStart = at('\tunsigned long npages');
  const bodyEnd = at('\treturn 0;\n}\n\nvoid warm_unmap_user');
  const body = doc.getText().slice(bodyStart, bodyEnd);
  const renamed = body.replace(/\bpinned\b/g, 'pinned_now');
  edit(bodyStart, bodyEnd, renamed);
  edit(bodyStart, bodyStart + renamed.length, body);
  // The release in the error path deleted and typed back.
  const release = at('\t\t\trelease_pages(');
  const releaseLine = doc.getText().slice(release, doc.getText().indexOf('\n', release) + 1);
  edit(release, release + releaseLine.length, '');
  edit(release, release, releaseLine);
  // A keystroke in an unrelated function and its deletion (the reuse path).
  const key = at('\tint total = 0;') + '\tint total = '.length;
  edit(key, key, '1');
  edit(key, key + 1, '');
  if (doc.getText() !== file) throw new Error('warm-up driver: the edits do not end on the text they started from');
  const part = (i: number): string => [
    '#include "warm_demo.h"',
    `#define WARM_PART_${i}_SHIFT ${i % 5}`,
    `static int warm_part_${i}_count(struct warm_buf *buf)`,
    '{',
    `\treturn (int)(buf->nr_pages >> WARM_PART_${i}_SHIFT);`,
    '}',
    i % 3 === 0 ? `void warm_part_${i}_drop(struct page **pages, unsigned long n)\n{\n\twhile (n--)\n\t\tput_page(pages[n]);\n}` : '',
    i % 4 === 1 ? `int warm_part_${i}_kick(struct warm_buf *buf)\n{\n\treturn warm_map_user(buf, buf->uaddr, buf->nr_pages << PAGE_SHIFT);\n}` : '',
    '',
  ].join('\n');
  const others = [{ name: 'warm_demo.h', text: header }];
  for (let i = 0; i < FOLDER_FILES; i++) others.push({ name: `warm_part${i}.c`, text: part(i) });
  return { file, others, edits };
}

export interface WarmUpResult {
  /** Edits replayed. */
  edits: number;
  /** Of those, how many the previous report was moved for (the reuse check held) and how many were analysed again. */
  reused: number;
  analysed: number;
  /** Context files the last analysis in the folder had (the tests check the folder's selection ran). */
  contextFiles: number;
  /** Wall time from the start to the last edit, pauses for real work included. */
  ms: number;
  /** The longest step run without yielding (an edit, or the open): the most a real edit arriving meanwhile waits for the warm-up. */
  longestStepMs: number;
  /** The last analysis (the tests check the warm-up analysed a real pin). */
  lastReport?: Report;
  /** Why the warm-up stopped before its edits (the settings leave the demo driver unanalysable): nothing else is wrong. */
  skipped?: string;
}

export interface WarmUpOptions {
  /** Whether real work is waiting: the warm-up pauses before its next edit until it is done. */
  busy: () => boolean;
  /** Passes over the edits (default PASSES): the first with the file alone, the others in its folder. */
  passes?: number;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Yields to the event loop, then waits while real work is waiting: what a warm-up does before each of its steps. */
async function waitIdle(busy: () => boolean): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  while (busy()) await pause(5);
}

/** One version analysed (analyzeVersion's answer) and how many context files the analysis had. */
type Analysed = { report: Report; reused: boolean; contextFiles: number } | undefined;

/**
 * Replays `edits` on `doc` one at a time, as the server takes a user's edits: waits until idle, applies the edit to the
 * private tree set, analyses the new version from the previous report (`next`), and counts it in `result`. The last
 * report, or undefined when a version did not parse within the time budget.
 */
async function replayEdits(trees: DocumentTrees, doc: TextDocument, edits: readonly TextDocumentContentChangeEvent[], report: Report,
  busy: () => boolean, result: WarmUpResult, next: (doc: TextDocument, previous: Report) => Analysed): Promise<{ doc: TextDocument; report: Report } | undefined> {
  for (const change of edits) {
    await waitIdle(busy);
    const stepStarted = performance.now();
    doc = trees.update(doc, [change], doc.version + 1);
    const analysed = next(doc, report);
    if (!analysed) return undefined;
    report = analysed.report;
    result.edits++;
    if (analysed.reused) result.reused++; else result.analysed++;
    result.contextFiles = analysed.contextFiles;
    result.longestStepMs = Math.max(result.longestStepMs, performance.now() - stepStarted);
  }
  return { doc, report };
}

/**
 * Replays the warm-up driver's edits through the editor's path, as the server's `validate` takes a real edit:
 * DocumentTrees' incremental re-parse and carried index, the reuse check (incremental.ts), and otherwise a full
 * analysis; the first pass with the file alone, the others with the driver context a DriverContextLoader selects from
 * the driver's folder (written to a temporary folder for the run, and removed). One edit at a time, yielding to the
 * event loop before each and waiting while `busy`. Trees are freed at the end; nothing is published.
 */
export async function warmUpEditPath(syntax: CSyntax, settings: ForksafeSettings, opts: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  const driver = warmUpDriver();
  const result: WarmUpResult = { edits: 0, reused: 0, analysed: 0, contextFiles: 0, ms: 0, longestStepMs: 0 };
  // Settings under which the demo driver is not analysed would warm nothing the user's edits take.
  if (driver.file.length > settings.maxFileSizeKb * 1024) {
    return { ...result, skipped: `forksafe.maxFileSizeKb (${settings.maxFileSizeKb}) is below the demo driver's size` };
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-warm-'));
  const trees = new DocumentTrees(syntax);
  const loader = new DriverContextLoader(syntax, WARM_FRESH_MS);
  const file = path.join(folder, 'warm_demo.c');
  const uri = pathToFileURL(file).toString();
  try {
    fs.writeFileSync(file, driver.file);
    for (const o of driver.others) fs.writeFileSync(path.join(folder, o.name), o.text);
    const contextOptions = { maxFileBytes: settings.maxFileSizeKb * 1024, budgetMs: settings.timeBudgetMs, scope: 'directory' as const };
    let doc = TextDocument.create(uri, 'c', 1, driver.file);
    /** The driver context as the server's contextFor builds it: the open document's text and tree over the disk's. */
    const contextOf = (inFolder: boolean): ContextFile[] => {
      if (!inFolder) return [];
      const tree = trees.treeFor(doc, settings.timeBudgetMs).tree;
      if (!tree) return [];
      return loader.contextFor(file, contextOptions, new Map([[file, { uri: doc.uri, text: doc.getText(), tree }]])).files ?? [];
    };
    await waitIdle(opts.busy);
    const stepStarted = performance.now();
    const opened = analyzeVersion(syntax, trees, doc, settings, { files: [] }, undefined);
    result.longestStepMs = performance.now() - stepStarted;
    if (!opened) return { ...result, ms: performance.now() - started, skipped: `the demo driver did not parse within forksafe.timeBudgetMs (${settings.timeBudgetMs} ms)` };
    let report = opened.report;
    for (let pass = 0; pass < (opts.passes ?? PASSES); pass++) {
      const replayed = await replayEdits(trees, doc, driver.edits, report, opts.busy, result, (edited, previous) => {
        doc = edited;
        const context = contextOf(pass > 0);
        const analysed = analyzeVersion(syntax, trees, edited, settings, { files: context }, previous);
        return analysed && { ...analysed, contextFiles: context.length };
      });
      if (!replayed) return { ...result, ms: performance.now() - started, skipped: `an edit of the demo driver did not parse within forksafe.timeBudgetMs (${settings.timeBudgetMs} ms)` };
      ({ doc, report } = replayed);
    }
    result.lastReport = report;
  } finally {
    trees.close(uri);
    loader.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  }
  result.ms = performance.now() - started;
  return result;
}

/** The warm-up's folder does not change while it runs: its listing and stats are trusted for this long. */
const WARM_FRESH_MS = 60_000;

/**
 * One version of the warm-up document as `validate` analyses it: the previous report moved when the edit cannot change
 * it, else a new analysis. Undefined when it did not parse within the time budget. `aside`: the analysis's context
 * lookups are made and dropped (the demo driver's); otherwise they stay for the user's next edit (the user's own folder).
 */
function analyzeVersion(syntax: CSyntax, trees: DocumentTrees, doc: TextDocument, settings: ForksafeSettings, context: AnalysisContext, previous: Report | undefined, aside = true): { report: Report; reused: boolean } | undefined {
  const parsed = trees.treeFor(doc, settings.timeBudgetMs);
  if (!parsed.tree) return undefined;
  const change = trees.changeTo(doc.uri, doc.version);
  const moved = previous && change ? reuseAfterChange(previous, change, doc.getText(), parsed.tree) : undefined;
  const reused = moved !== undefined && 'report' in moved;
  const run = (): Report => analyze(syntax, { uri: doc.uri, text: doc.getText(), tree: parsed.tree!, fixes: false, watchNames: true }, settings, context);
  // The demo driver's context lookups are made and dropped here: the user's driver keeps its table (engine.ts).
  const report = reused ? moved.report : aside ? asideFromContextCache(run) : run();
  // The server works these out after publishing (engine.ts defineWatchNames): part of every edit's work.
  void report.watchNames;
  return { report, reused };
}

/** A release call's line in a function body: deleting it and typing it back is an edit a developer makes there. */
const RELEASE_CALL = new RegExp(`\\b(?:${RELEASE_APIS.map((a) => a.name).join('|')})\\s*\\(`);

/**
 * Edits of the user's own document of the kinds the demo driver's are (the pin's FOLL_WRITE taken out and put back, a
 * local of the function renamed in its body and back, a release line deleted and typed back, a keystroke and its
 * deletion), inside the function holding `site` (a pin site's call); each in the coordinates of the text before it,
 * ending on the text they start from. Empty when the site is not inside a function of `tree`.
 */
export function editsAroundPin(text: string, tree: Tree, site: Span): TextDocumentContentChangeEvent[] {
  let doc = TextDocument.create('file:///warm-user.c', 'c', 0, text);
  let fn: Node | null = tree.rootNode.descendantForIndex(doc.offsetAt(site.start));
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  const body = fn?.childForFieldName('body');
  if (!body || body.type !== 'compound_statement' || body.endIndex - body.startIndex < 2) return [];
  // Inside the braces; the body's text as it stands before each edit (the edits keep its length but for the last).
  const start = body.startIndex + 1;
  let end = body.endIndex - 1;
  const edits: TextDocumentContentChangeEvent[] = [];
  const edit = (from: number, to: number, replacement: string): void => {
    const range = { start: doc.positionAt(from), end: doc.positionAt(to) };
    edits.push({ range, text: replacement });
    doc = TextDocument.update(doc, [{ range, text: replacement }], doc.version + 1);
    end += replacement.length - (to - from);
  };
  const inBody = (): string => doc.getText().slice(start, end);
  const flags = /\bFOLL_WRITE\b/.exec(inBody());
  if (flags) {
    const at = start + flags.index;
    edit(at, at + 'FOLL_WRITE'.length, '0');
    edit(at, at + 1, 'FOLL_WRITE');
  }
  const declaration = namedChildren(body).find((n) => n.type === 'declaration');
  const local = declaration ? declaration.childrenForFieldName('declarator').map((d) => declaredName(d)).find((n): n is string => !!n) : undefined;
  if (local) {
    const before = inBody();
    const renamed = before.replace(new RegExp(`\\b${local}\\b`, 'g'), `${local}_fs`);
    if (renamed !== before) {
      edit(start, end, renamed);
      edit(start, end, before);
    }
  }
  const release = RELEASE_CALL.exec(inBody());
  if (release) {
    const lineStart = doc.getText().lastIndexOf('\n', start + release.index) + 1;
    const lineEnd = doc.getText().indexOf('\n', start + release.index) + 1;
    if (lineStart > start && lineEnd > lineStart && lineEnd <= end) {
      const line = doc.getText().slice(lineStart, lineEnd);
      edit(lineStart, lineEnd, '');
      edit(lineStart, lineStart, line);
    }
  }
  edit(start, start, ' ');
  edit(start, start + 1, '');
  if (doc.getText() !== text) throw new Error('warm-up: the edits of the user\'s document do not end on its text');
  return edits;
}

/**
 * The edit path warmed on the user's own driver, once per folder (a file alone in it too), after its first full
 * analysis: `edits` (editsAroundPin) replayed once on a private copy of the document, from a copy of its tree (owned
 * from then on, freed at the end whatever happens) and its report (`start`), through the same re-parse, carried index,
 * reuse check, context selection (`contextOf`: the server's, with the copy in place of the document) and analysis as
 * the user's edits take. The demo driver warms the code; this warms it on the data of the folder the user edits (its
 * files, its context lookup table, which stays for the user's first edit). Nothing is published; the document and its
 * tree are not touched. Waits until idle before each step, as warmUpEditPath does.
 */
export async function warmUpDocument(syntax: CSyntax, settings: ForksafeSettings,
  input: { uri: string; text: string; edits: TextDocumentContentChangeEvent[]; start: { tree: Tree; report: Report } },
  opts: { busy: () => boolean; contextOf: (doc: { uri: string; text: string; tree: Tree }) => AnalysisContext | undefined }): Promise<WarmUpResult> {
  const started = performance.now();
  const result: WarmUpResult = { edits: 0, reused: 0, analysed: 0, contextFiles: 0, ms: 0, longestStepMs: 0 };
  const trees = new DocumentTrees(syntax);
  const doc = TextDocument.create(input.uri, 'c', 1, input.text);
  // Owned from here: closing the private set frees it, whatever happens below.
  trees.adopt(doc, input.start.tree);
  try {
    await waitIdle(opts.busy);
    const stepStarted = performance.now();
    // The copy's index, as its own step: the first edit then re-indexes only what it touched, as a real edit does.
    void makeSourceFile(syntax, doc.uri, doc.getText(), input.start.tree).index;
    result.longestStepMs = performance.now() - stepStarted;
    const replayed = await replayEdits(trees, doc, input.edits, input.start.report, opts.busy, result, (edited, previous) => {
      const tree = trees.treeFor(edited, settings.timeBudgetMs).tree;
      if (!tree) return undefined;
      const context = opts.contextOf({ uri: edited.uri, text: edited.getText(), tree }) ?? { files: [] };
      const analysed = analyzeVersion(syntax, trees, edited, settings, context, previous, false);
      return analysed && { ...analysed, contextFiles: context.files?.length ?? 0 };
    });
    if (!replayed) return { ...result, ms: performance.now() - started, skipped: 'an edit of the document did not parse within forksafe.timeBudgetMs' };
    result.lastReport = replayed.report;
  } finally {
    trees.close(input.uri);
  }
  result.ms = performance.now() - started;
  return result;
}
