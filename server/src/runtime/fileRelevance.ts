// The text prefilter of the two-phase scan: which files of a driver can hold a finding, which names wrap a pin API, and which other files can change a verdict.
import type { FileIndex } from '../analysis/fileIndex';
import { PIN_APIS, RELEASE_APIS } from '../analysis/pinApis';
import { isWordCode } from '../analysis/syntaxTools';
import { CodeRegions, namesInCode } from './codeText';
import { asBuffer } from './sourceFiles';

/** A file of one driver scope (a directory, the workspace, or one file) with its text. */
export interface MemberText { path: string; text: string }

/**
 * A macro or function a file defines, with the names its body calls (functions) or mentions (macro bodies),
 * and every identifier in it (`mentions`, defaulting to `uses`): where a flag expression can be evaluated.
 * `mentions` is listed on demand: the selection needs it only for the few definitions that reach a pin API.
 * The name '' stands for the file's top level (calls outside any function).
 */
export interface Definition { name: string; uses: string[]; mentions?: () => Iterable<string> }

export interface RelevanceSelection {
  /** Targets that can produce a finding: their code names a pin API or wrapper, or they hold a forksafe-ignore comment. */
  analyse: string[];
  /** Members whose parse can change a verdict in this scope, in member order (may include targets). */
  context: string[];
  /** Macro and function names found to reach a pin API (the pin APIs themselves excluded), sorted. */
  wrappers: string[];
  /** Members that were parsed to look for wrappers (their code names a pin API or a wrapper). */
  parsed: string[];
}

/** wordsPattern's patterns by source (declared before the module's own patterns are made). */
const patterns = new Map<string, RegExp>();
const MAX_PATTERNS = 256;

export const PIN_API_NAMES: readonly string[] = PIN_APIS.map((a) => a.name);
const RELEASE_API_NAMES: readonly string[] = RELEASE_APIS.map((a) => a.name);

/**
 * Text that can make a file show a protection (analysis/protections.ts): the vma flags and madvise advice of
 * grammars/queries/c/protections.scm, the notifier ops types and the notifier calls (all contain one of these).
 */
export const PROTECTION_TEXT = /VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier|mmu_interval_notifier|hmm_range_fault/;
/**
 * Calls that hand a function to a kernel thread or a tasklet (lifetime/ownership.ts, EVENT_HANDLER_ARGS). Interrupt
 * handler registrations are not listed: nearly every driver folder has one, and widening the context for them cost
 * a fifth of a whole-tree scan; a release reached only from an interrupt handler registered in a file that names no
 * pin, wrapper, release or protection is seen by the editor (which loads the whole folder) and not by a CLI scan.
 */
const THREAD_TEXT = /\b(kthread_create\w*|kthread_run|tasklet_init|tasklet_setup)\b/;
/** Where a protection is applied (not just named): a notifier registration, a vma flag set, a kernel madvise. */
const PROTECTION_SETTER_TEXT = /\b(mmu_interval_notifier_insert\w*|_*mmu_notifier_register|mmu_notifier_get\w*|vm_flags_(set|mod|init|reset\w*)|do_madvise|ksys_madvise)\s*\(|vm_flags\s*\|?=/;
/**
 * Files that mention a pin API, a flag, or a protection. The editor adds them to the exact selection, which uses the
 * saved text of the file being edited; a header included from outside a driver's folder joins it only when it holds
 * one (runtime/includes.ts).
 */
export const RELEVANT_TEXT = /user_pages|vaddr_frames|FOLL_|VM_DONTCOPY|VM_WIPEONFORK|MADV_DONTFORK|MADV_WIPEONFORK|mmu_notifier|mmu_interval_notifier|hmm_range_fault/;
/** FS008 needs no pin: a suppression comment without a reason is reported wherever it is. */
export const SUPPRESSION_TEXT = /forksafe-ignore/;
const RELEASE_TEXT = wordsPattern(RELEASE_API_NAMES);
/** PROTECTION_TEXT or RELEASE_TEXT in one pass (a union tests true exactly when one of the two does). */
const PROTECTION_OR_RELEASE_TEXT = new RegExp(`${PROTECTION_TEXT.source}|${RELEASE_TEXT.source}`);
const PIN_TEXT = wordsPattern(PIN_API_NAMES);
/**
 * A #define and its name; tolerant of spaces and line continuations so it finds at least what the grammar does.
 * Sticky: tried only where a '#' is (every match starts with one), which skips the text between at memchr speed.
 */
const DEFINE = /#(?:[ \t]|\\\r?\n)*define(?:[ \t]|\\\r?\n)+([A-Za-z_]\w*)/y;
const IDENTIFIER = /[A-Za-z_]\w*/g;

/**
 * A regular expression matching any of `names` as a whole C identifier. The same list gives the same object (the
 * editor selects a driver's context on every keystroke with the same names): compiled once, and a memo of its answers
 * per file (MemberTextMemo) keeps them under one key.
 */
export function wordsPattern(names: readonly string[]): RegExp {
  const source = `\\b(?:${names.join('|')})\\b`;
  let re = patterns.get(source);
  if (!re) {
    if (patterns.size >= MAX_PATTERNS) patterns.clear();
    re = new RegExp(source);
    patterns.set(source, re);
  }
  return re;
}

export function mentionsPinApi(text: string): boolean {
  return PIN_TEXT.test(text);
}

/**
 * Byte tests that stand for text tests before a file is decoded (the scan decodes only the files it keeps).
 * UTF-8 decoding, strict or lossy (runtime/sourceFiles.ts), turns every ASCII byte into that character and never
 * makes an ASCII character out of other bytes (an ASCII byte inside a broken sequence ends it with U+FFFD and is
 * then decoded as itself); dropping a BOM removes U+FEFF only. So an ASCII string is in the decoded text exactly
 * when its bytes are in the file, and:
 *  - mentionsPinApiBytes(bytes) === mentionsPinApi(text): every pin API name contains one of PIN_ANCHORS, and a name
 *    matches `\b(?:names)\b` exactly where the whole run of ASCII word bytes around an anchor is that name (`\b` counts
 *    only [A-Za-z0-9_] as word characters, and no other byte decodes to one);
 *  - holdsSuppression(bytes) === SUPPRESSION_TEXT.test(text): the pattern is one ASCII literal.
 */
const PIN_ANCHORS: readonly Buffer[] = anchorsOf(PIN_API_NAMES, ['user_pages', 'vaddr_frames']).map((a) => Buffer.from(a, 'latin1'));
const PIN_NAME_SET: ReadonlySet<string> = new Set(PIN_API_NAMES);
const SUPPRESSION_BYTES = Buffer.from(SUPPRESSION_TEXT.source, 'latin1');

/** `preferred` plus each name that contains none of them: every name then contains one of the result. */
function anchorsOf(names: readonly string[], preferred: readonly string[]): string[] {
  const out = [...preferred];
  for (const n of names) if (!out.some((a) => n.includes(a))) out.push(n);
  return out;
}

/**
 * mentionsPinApi on the bytes, with the same answer (see above): each place an anchor occurs, the identifier around it
 * is read and looked up. `os_lock_user_pages` (NVIDIA's generated headers) or `put_user_pages` is no pin API, so a
 * folder that holds only such names is not decoded.
 */
export function mentionsPinApiBytes(bytes: Uint8Array): boolean {
  const b = asBuffer(bytes);
  for (const anchor of PIN_ANCHORS) {
    for (let at = b.indexOf(anchor); at >= 0; at = b.indexOf(anchor, at + 1)) {
      let start = at;
      while (start > 0 && isWordCode(b[start - 1]!)) start--;
      let end = at + anchor.length;
      while (end < b.length && isWordCode(b[end]!)) end++;
      if (PIN_NAME_SET.has(b.toString('latin1', start, end))) return true;
    }
  }
  return false;
}

/** Whether `text`'s code (codeOnly: comments and string and character literals blanked) names a pin API. */
export function namesPinApiInCode(text: string): boolean {
  return PIN_TEXT.test(text) && namesInCode(text, PIN_TEXT);
}

/**
 * namesPinApiInCode on the bytes, with the same answer: the byte test first (above), then, only for the few files it
 * holds for, the code of the bytes read as Latin-1 (one character per byte). codeOnly's delimiters and a name's
 * characters are ASCII and no other byte reads as one, a character literal holding a byte past ASCII is never blanked,
 * and `\b` sees any byte past ASCII as a non-word character, as it does the character it decodes to.
 */
export function namesPinApiInCodeBytes(bytes: Uint8Array): boolean {
  if (!mentionsPinApiBytes(bytes)) return false;
  const b = asBuffer(bytes);
  return namesInCode(b.toString('latin1'), PIN_TEXT);
}

/** SUPPRESSION_TEXT on the bytes: the same answer as on the decoded text (see above). */
export function holdsSuppression(bytes: Uint8Array): boolean {
  const b = asBuffer(bytes);
  return b.includes(SUPPRESSION_BYTES);
}

export function identifiersIn(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

/** A #define found in a text: its name and where its body (the rest of the logical line) is. */
interface MacroSpan { name: string; bodyStart: number; bodyEnd: number }

/** The #defines of a text, in order: what `DEFINE` matches left to right, without overlaps. */
function macroSpansIn(text: string): MacroSpan[] {
  const out: MacroSpan[] = [];
  for (let at = text.indexOf('#'); at >= 0; at = text.indexOf('#', at)) {
    DEFINE.lastIndex = at;
    const m = DEFINE.exec(text);
    if (!m) { at++; continue; }
    const bodyStart = at + m[0].length;
    let end = bodyStart;
    for (;;) {
      const nl = text.indexOf('\n', end);
      if (nl < 0) { end = text.length; break; }
      const continued = text[nl - 1] === '\\' || (text[nl - 1] === '\r' && text[nl - 2] === '\\');
      end = nl + 1;
      if (!continued) break;
    }
    out.push({ name: m[1], bodyStart, bodyEnd: end });
    at = bodyStart;
  }
  return out;
}

/** The #defines of a text with the identifiers of each body (to the end of the logical line). */
export function macroDefinitionsIn(text: string): Definition[] {
  return macroSpansIn(text).map((s) => ({ name: s.name, uses: [...identifiersIn(text.slice(s.bodyStart, s.bodyEnd))] }));
}

/** What a parsed file defines: each function with the names it calls, each macro with the names its body mentions, and the top level's calls. */
export function definitionsFromIndex(index: FileIndex, text: string): Definition[] {
  const out: Definition[] = [];
  const callsOf = new Map<FileIndex['functions'][number] | undefined, string[]>();
  for (const c of index.calls) {
    const list = callsOf.get(c.fn);
    if (list) list.push(c.name); else callsOf.set(c.fn, [c.name]);
  }
  // A node's text is the tree's source between its indexes: slicing `text` lists the same identifiers without the node.
  const identifiersBetween = (start: number, end: number) => (): Iterable<string> => identifiersIn(text.slice(start, end));
  for (const fn of index.functions) {
    out.push({ name: fn.name, uses: callsOf.get(fn) ?? [], mentions: identifiersBetween(fn.start, fn.end) });
  }
  for (let i = 0; i < index.macros.length; i++) out.push({ name: index.macros.nameAt(i), uses: [...identifiersIn(index.macros.bodyAt(i))] });
  const topLevel = callsOf.get(undefined) ?? [];
  if (topLevel.length > 0) out.push({ name: '', uses: topLevel, mentions: () => identifiersIn(text) });
  return out;
}

type MacroSites = Map<string, Array<{ member: MemberText; span: MacroSpan }>>;

/** Adds a member's #defines to `sites` by name (the order within a name does not matter to the selection: it takes them all). */
function addMacroSites(sites: MacroSites, member: MemberText, spans: readonly MacroSpan[]): void {
  for (const span of spans) {
    const list = sites.get(span.name);
    if (list) list.push({ member, span }); else sites.set(span.name, [{ member, span }]);
  }
}

const testKeys = new WeakMap<RegExp, string>();

/** What MemberTextMemo keeps of one member's text. */
interface MemoEntry { text: string; tests: Map<string, boolean>; spans?: MacroSpan[]; regions?: CodeRegions }
/** Past this many changed members, macrosByName lists every member again. */
const MAX_CHANGED_MEMBERS = 8;

/**
 * What selectRelevantFiles reads from each member's text (regular-expression tests, #define spans), kept per path while
 * the text stays the same. The editor selects a driver's context on every keystroke and all but the edited file are
 * unchanged: re-scanning a 190-file folder's texts was a fifth of an edit's time (issue 14). The CLI selects once per
 * folder and passes none.
 */
export class MemberTextMemo {
  private readonly entries = new Map<string, MemoEntry>();

  private entry(m: MemberText): MemoEntry {
    let e = this.entries.get(m.path);
    if (!e || e.text !== m.text) {
      if (!e && this.entries.size >= 20000) this.entries.clear();
      e = { text: m.text, tests: new Map() };
      this.entries.set(m.path, e);
    }
    return e;
  }

  test(re: RegExp, m: MemberText): boolean {
    if (re.global || re.sticky) return re.test(m.text);
    const tests = this.entry(m).tests;
    // The key of a pattern is made once per pattern object, not once per file it is asked of.
    let key = testKeys.get(re);
    if (key === undefined) { key = `${re.flags}/${re.source}`; testKeys.set(re, key); }
    let r = tests.get(key);
    if (r === undefined) { r = re.test(m.text); tests.set(key, r); }
    return r;
  }

  /** `re` (whole identifiers: wordsPattern) on the member's code (namesInCode), asked only after `test` held; kept like `test`. */
  testCode(re: RegExp, m: MemberText): boolean {
    const e = this.entry(m);
    const key = `code:${re.source}`;
    let r = e.tests.get(key);
    if (r === undefined) {
      e.regions ??= new CodeRegions(m.text);
      r = namesInCode(m.text, re, e.regions);
      e.tests.set(key, r);
    }
    return r;
  }

  macroSpans(m: MemberText): MacroSpan[] {
    const e = this.entry(m);
    e.spans ??= macroSpansIn(m.text);
    return e.spans;
  }

  /** The members' #defines by name, as of the last call: the members in order, each with the spans it was listed with. */
  private macroSites: { members: MemberText[]; spans: MacroSpan[][]; sites: MacroSites } | undefined;

  /**
   * The members' #defines by name, kept between calls: when the same files come again with a few texts changed (the
   * edited document), only their #defines are taken out and put in again, not every #define of the driver's headers.
   */
  macrosByName(members: readonly MemberText[]): MacroSites {
    const last = this.macroSites;
    const changed: number[] = [];
    let same = last !== undefined && last.members.length === members.length;
    for (let i = 0; same && i < members.length; i++) {
      if (last!.members[i]!.path !== members[i]!.path) same = false;
      else if (last!.members[i]!.text !== members[i]!.text && changed.push(i) > MAX_CHANGED_MEMBERS) same = false;
    }
    if (!same || !last) {
      const spans = members.map((m) => this.macroSpans(m));
      const sites: MacroSites = new Map();
      members.forEach((m, i) => addMacroSites(sites, m, spans[i]!));
      this.macroSites = { members: [...members], spans, sites };
      return sites;
    }
    for (const i of changed) {
      const path = last.members[i]!.path;
      for (const span of last.spans[i]!) {
        const list = last.sites.get(span.name);
        if (!list) continue;
        const kept = list.filter((x) => x.member.path !== path);
        if (kept.length > 0) last.sites.set(span.name, kept); else last.sites.delete(span.name);
      }
      last.members[i] = members[i]!;
      last.spans[i] = this.macroSpans(members[i]!);
    }
    // Each changed member's names were taken out whole above, so putting its #defines in again cannot double one.
    for (const i of changed) addMacroSites(last.sites, members[i]!, last.spans[i]!);
    return last.sites;
  }
}

/**
 * Decides, from text and the definitions of the few files that mention a pin API, which files of one driver
 * scope the analysis needs. The result equals parsing every file because a file outside `context` cannot be
 * reached by any lookup the analysis makes for a target:
 *  - pin sites and wrappers: resolution follows only names that reach a pin API. Wrappers are found
 *    iteratively (parse the files whose code names a known name, collect the macros and functions whose bodies
 *    use it, search the text for the new names, repeat), and every file that defines, calls or mentions one
 *    is context; a target whose code names none cannot hold a pin site (a name in a comment or a string
 *    literal is no call: runtime/codeText.ts blanks them before the test).
 *  - protections (VM_DONTCOPY, madvise, notifiers) are collected from every file: files with their text are context.
 *  - release helpers (a driver's put-pages function) need a release API in their text: those files are context.
 *  - flag macros: a flag or `write` expression is evaluated only inside a function that calls a pin API or
 *    wrapper (the site, a wrapper, a caller passing the flags) and inside macro bodies, so every file defining
 *    a macro named in those functions (and, repeatedly, in those macro bodies) is context.
 * `definitionsOf` parses a member (undefined when it cannot be parsed: it then defines nothing, as in the engine).
 */
export function selectRelevantFiles(members: readonly MemberText[], targets: ReadonlySet<string>,
  definitionsOf: (member: MemberText) => Definition[] | undefined, memo?: MemberTextMemo): RelevanceSelection {
  const test = (re: RegExp, m: MemberText): boolean => (memo ? memo.test(re, m) : re.test(m.text));
  // A name in a comment or a string literal names nothing the analysis reads: a file is examined for what its code
  // names (16 of the 17 files of NVIDIA's open-gpu-kernel-modules that name a pin API do so only in comments).
  const regions = new Map<string, CodeRegions>();
  const testCode = (re: RegExp, m: MemberText): boolean => {
    if (memo) return memo.testCode(re, m);
    let r = regions.get(m.path);
    if (r === undefined) { r = new CodeRegions(m.text); regions.set(m.path, r); }
    return namesInCode(m.text, re, r);
  };
  const known = new Set<string>(PIN_API_NAMES);
  const examined = new Map<string, Definition[]>();
  let frontier: readonly string[] = PIN_API_NAMES;
  while (frontier.length > 0) {
    const pattern = wordsPattern(frontier);
    for (const m of members) {
      if (!examined.has(m.path) && test(pattern, m) && testCode(pattern, m)) examined.set(m.path, definitionsOf(m) ?? []);
    }
    const next: string[] = [];
    for (const defs of examined.values()) {
      for (const d of defs) {
        if (d.name !== '' && !known.has(d.name) && d.uses.some((u) => known.has(u))) { known.add(d.name); next.push(d.name); }
      }
    }
    frontier = next;
  }
  const wrappers = [...known].filter((n) => !PIN_API_NAMES.includes(n)).sort();
  const analyse = members.filter((m) => targets.has(m.path) && (examined.has(m.path) || test(SUPPRESSION_TEXT, m))).map((m) => m.path);
  // Without any mention of a pin API or wrapper no file of the scope has a pin site: nothing else is needed.
  if (examined.size === 0) return { analyse, context: [], wrappers, parsed: [] };

  const included = new Set<string>(examined.keys());
  const names = new Set<string>();
  for (const defs of examined.values()) {
    for (const d of defs) if (d.uses.some((u) => known.has(u))) for (const id of d.mentions?.() ?? d.uses) names.add(id);
  }
  for (const m of members) {
    if (!examined.has(m.path) && test(PROTECTION_OR_RELEASE_TEXT, m)) included.add(m.path);
  }
  // A protection is credited only when tied to a pin (analysis/protectionTies.ts): the pin's address and the
  // protection's meet in a common caller (the ioctl that registers the notifier and records the user pointer), so the
  // files calling a function that shows a protection are context too. A release ends an I/O when a kernel thread
  // reaches it (lifetime/ownership.ts): the files handing a function to one are context.
  const defined = new Set<string>();
  for (const m of members) {
    // Only a .c file that registers a notifier or sets a vma flag can hold a protection's setter (headers declare them).
    if (!m.path.endsWith('.c') || !test(PROTECTION_TEXT, m) || !test(PROTECTION_SETTER_TEXT, m)) continue;
    for (const d of examined.get(m.path) ?? definitionsOf(m) ?? []) {
      if (d.name !== '' && [...(d.mentions?.() ?? d.uses)].some((id) => PROTECTION_TEXT.test(id))) defined.add(d.name);
    }
  }
  const callers = defined.size > 0 ? wordsPattern([...defined]) : undefined;
  for (const m of members) {
    if (included.has(m.path)) continue;
    if (test(THREAD_TEXT, m) || (callers && test(callers, m))) included.add(m.path);
  }
  // Macros named in those functions, then the macros their bodies name, and so on: the files defining them are context.
  // A body's identifiers are listed only when its macro is reached.
  let macros: MacroSites;
  if (memo) macros = memo.macrosByName(members);
  else { macros = new Map(); for (const m of members) addMacroSites(macros, m, macroSpansIn(m.text)); }
  const pending = [...names];
  const reached = (name: string): void => { if (!names.has(name)) { names.add(name); pending.push(name); } };
  while (pending.length > 0) {
    for (const { member, span } of macros.get(pending.pop()!) ?? []) {
      included.add(member.path);
      for (const u of identifiersIn(member.text.slice(span.bodyStart, span.bodyEnd))) reached(u);
    }
  }
  return {
    analyse,
    context: members.filter((m) => included.has(m.path)).map((m) => m.path),
    wrappers,
    parsed: members.filter((m) => examined.has(m.path)).map((m) => m.path),
  };
}
