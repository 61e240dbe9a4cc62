// Which edits cannot change a file's report: an edit confined to the body of a function that the analysis never reads.
//
// The analysis reads a function's body only when the function can matter to a pin: it calls a pin API or a wrapper
// of one (sites, wrappers, callers that choose flags), it releases pages, it shows a protection (VM_DONTCOPY,
// madvise, notifiers), it holds a forksafe- comment, or it touches the field a pin's pages are kept in. Everything
// else in a function is looked up by name only (is `foo` a wrapper? does `foo` release its parameter?) and answers
// "no" as long as the function names none of the above. So an edit whose old and new text both lie strictly inside
// one function definition, when that function's old and new text mention none of those names (nor a preprocessor
// directive, nor a flag or protection name), leaves every finding as it was, only moved by the edit. The editor
// then republishes the previous report shifted (lsp/server.ts) instead of re-running the analysis; the property is
// checked against full analyses in test/unit/analysis/inertEdits.test.ts.
import type { Node, Tree } from './parser';
import type { Workspace } from './workspace';
import type { FileIndex } from './fileIndex';
import { ITEM_CONTAINERS } from './syntaxTools';
import { PIN_APIS, RELEASE_APIS } from './pinApis';
import { NOTIFIER_CALLS } from './protections';

/**
 * Text that makes code matter whatever the driver's names are: forksafe annotations, gup flags, protection markers,
 * and the pin and release API families. Directives (`#ifdef CONFIG_PM` around register writes, common in function
 * bodies) only matter through what they enclose; `#define`s are counted separately (`DEFINES`); changes to the
 * code's structure are caught by the changed-range checks of incremental.ts.
 */
const ALWAYS_RELEVANT = /forksafe|FOLL_|VM_DONTCOPY|VM_WIPEONFORK|MADV_|mmu_notifier|mmu_interval_notifier|hmm_range|user_page|vaddr_frames/;
const IDENTIFIER = /[A-Za-z_]\w*/g;
/** A macro definition or removal (also split over a line continuation right after the `#`). */
const DEFINES = /#(?:[ \t]|\\\r?\n)*(?:define|undef)\b/g;

/** How many #define/#undef directives a text holds. */
export function countDefines(text: string): number {
  return text.match(DEFINES)?.length ?? 0;
}

/** The kernel API names that matter in any driver: pin, release and notifier calls. */
export const API_NAMES: readonly string[] = [...PIN_APIS.map((a) => a.name), ...RELEASE_APIS.map((a) => a.name), ...NOTIFIER_CALLS];

/**
 * The names whose mention makes a function matter to this analysis: the pin, release and notifier APIs and every
 * function or macro of the workspace that reaches one through calls (a wrapper, a release helper, a caller of either,
 * and so on up), and `extra` (the struct fields pinned pages are kept in).
 */
export function namesThatMatter(workspace: Workspace, extra: Iterable<string>): Set<string> {
  // A function that reaches a release matters as much as one that reaches a pin: its summary says whether a caller
  // releases the pages (a helper's name handed over as a value, `kref_put(&r->ref, r_free)`, is such a mention too).
  const known = new Set<string>(API_NAMES);
  const users = workspace.files.map((f) => usersIn(f.index));
  // Every name known is looked up once in each file's users: O(names x files), not a pass over every definition per round.
  const queue = [...known];
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    for (const byName of users) {
      for (const user of byName.get(name) ?? []) if (!known.has(user)) { known.add(user); queue.push(user); }
    }
  }
  for (const n of extra) known.add(n);
  return known;
}

const usersByIndex = new WeakMap<FileIndex, Map<string, string[]>>();

/**
 * For each name a file's functions call or its macros mention, the functions and macros that do: read once per index
 * (the driver's other files keep theirs while one file is edited).
 */
function usersIn(index: FileIndex): Map<string, string[]> {
  let byName = usersByIndex.get(index);
  if (byName) return byName;
  byName = new Map();
  const add = (used: string, user: string): void => {
    const list = byName!.get(used);
    if (!list) byName!.set(used, [user]);
    else if (list[list.length - 1] !== user) list.push(user);
  };
  for (const c of index.calls) if (c.fn) add(c.name, c.fn.name);
  const macros = index.macros;
  for (let i = 0; i < macros.length; i++) {
    const used = macros.bodyAt(i).match(IDENTIFIER);
    if (!used) continue;
    const name = macros.nameAt(i);
    for (const u of used) add(u, name);
  }
  usersByIndex.set(index, byName);
  return byName;
}

/** True when `text` can be edited freely inside a function body without changing the report: it names nothing that matters. */
export function isInertText(text: string, names: ReadonlySet<string>): boolean {
  if (ALWAYS_RELEVANT.test(text)) return false;
  IDENTIFIER.lastIndex = 0;
  for (let m = IDENTIFIER.exec(text); m; m = IDENTIFIER.exec(text)) if (names.has(m[0])) return false;
  return true;
}


export interface IndexRange { startIndex: number; endIndex: number }

/** The top-level items an edited range touches, in one tree. */
export interface TouchedRegion {
  /** The touched items and the range itself, as one span of the tree's text. */
  startIndex: number;
  endIndex: number;
  /** The range lies inside one function definition (its body or header): line moves there cannot separate a comment from what it annotates. */
  insideFunction: boolean;
  /** A run of comments right before or after the touched items holds a forksafe annotation (line-adjacency matters to it). */
  besideAnnotation: boolean;
  /** Touched macro definitions (#define items): the only #defines the region's text may hold. */
  macroItems: number;
}

/**
 * The items of the innermost container (the file, or a preprocessor block) that overlap [start, end], descending
 * only while the range lies inside one container child: a few steps, whatever the file's depth. Refused (a reason
 * string) when the range touches a directive (a #define, a block's #if line or condition) rather than items.
 */
export function touchedRegion(tree: Tree, start: number, end: number): TouchedRegion | string {
  let container: Node = tree.rootNode;
  for (let depth = 0; depth < 64; depth++) {
    // Overlap is strict: text inserted right before an item does not touch it, a deletion between two items touches neither.
    const overlaps = (c: Node): boolean => (end > start ? c.startIndex < end && c.endIndex > start : c.startIndex < start && c.endIndex > start);
    const touched: Node[] = [];
    for (let c: Node | null = container.firstChildForIndex(start); c && c.startIndex <= end; c = c.nextSibling) if (overlaps(c)) touched.push(c);
    const only = touched.length === 1 ? touched[0] : undefined;
    if (only && ITEM_CONTAINERS.has(only.type) && only.startIndex < start && end < only.endIndex) {
      container = only;
      continue;
    }
    for (const t of touched) {
      if (!t.isNamed) return 'the edit touches a preprocessor directive';
      if (t.type.startsWith('preproc_') && !ITEM_DIRECTIVES.has(t.type)) return 'the edit touches a preprocessor directive or block';
      if (container.type !== 'translation_unit' && !isItemOf(container, t)) return 'the edit touches a preprocessor condition';
    }
    const first = touched[0];
    const last = touched[touched.length - 1];
    const before = first ? first.previousNamedSibling : precedingNamed(container, start);
    const after = last ? last.nextNamedSibling : followingNamed(container, start);
    return {
      startIndex: Math.min(start, first?.startIndex ?? start),
      endIndex: Math.max(end, last?.endIndex ?? end),
      insideFunction: !!only && only.type === 'function_definition' && only.startIndex < start && end < only.endIndex,
      besideAnnotation: annotatedRun(before, (n) => n.previousNamedSibling) || annotatedRun(after, (n) => n.nextNamedSibling),
      macroItems: touched.filter((t) => t.type === 'preproc_def' || t.type === 'preproc_function_def').length,
    };
  }
  return 'the file nests preprocessor blocks too deeply';
}

/**
 * Directives that are items, not blocks: an #include, and a macro definition. A macro matters only by its name (a
 * wrapper of a pin API, or a flag macro the analysis read: both in the watch names, so the text check refuses them).
 */
const ITEM_DIRECTIVES = new Set(['preproc_include', 'preproc_def', 'preproc_function_def']);

/** True for a block's items, false for its own parts (the #if condition, the #ifdef name). */
function isItemOf(container: Node, child: Node): boolean {
  for (const field of ['condition', 'name']) {
    const part = container.childForFieldName(field);
    if (part && part.startIndex === child.startIndex && part.endIndex === child.endIndex) return false;
  }
  return true;
}

function precedingNamed(container: Node, index: number): Node | null {
  const next = container.firstNamedChildForIndex(index);
  return next ? next.previousNamedSibling : container.lastNamedChild;
}

function followingNamed(container: Node, index: number): Node | null {
  return container.firstNamedChildForIndex(index);
}

function annotatedRun(from: Node | null, step: (n: Node) => Node | null): boolean {
  for (let n = from; n && n.type === 'comment'; n = step(n)) if (/forksafe/.test(n.text)) return true;
  return false;
}
