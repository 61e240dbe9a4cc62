// Quick fixes as text edits on live syntax nodes: get_user_pages*() to pin_user_pages*() + FOLL_LONGTERM with its release path, add FOLL_LONGTERM, release mismatches, suppressions.
import { SUPPRESSION_REASON_PROMPT } from '../analysis/annotations';
import type { Node } from '../analysis/parser';
import type { Fix, TextEditSpan } from '../analysis/finding';
import type { Tri } from '../analysis/flags';
import type { RuleCode } from '../analysis/rules';
import { spanOf } from '../analysis/span';
import { descendantsOfType, enclosingFunction, functionBody, identifiersIn, isAncestor, namedChildren, unwrapParens } from '../analysis/syntaxTools';
import { editsOverlap } from './textEdits';
import {
  compareKernelVersions, findPinApi, KernelVersionLite, PIN_API_EARLIEST_PIN_USER_PAGES, PinApi, PinApiSignature, RefKind, signatureFor,
} from '../analysis/pinApis';

/** A call node and the file it is in. */
export interface LiveCall { uri: string; node: Node }

export interface ReleaseCall { uri: string; node: Node; api: string }

export interface ConvertRequest {
  api: PinApi;
  /** The layout the call's arguments were read with, and whether the argument count matched it exactly. */
  signature: PinApiSignature;
  exactLayout: boolean;
  kernel: KernelVersionLite;
  /** The API call to rewrite; undefined when it is written inside a macro body. */
  apiCall: LiveCall | undefined;
  /** The macro whose body holds the call (for the refusal message). */
  macro?: string;
  /** The wrapper function holding the call, when the site is a wrapper call: the edit then changes every caller. */
  wrapper?: string;
  /**
   * The finding stands on this very call and every caller of the wrapper was judged with it (docs/analysis.md): the
   * edit reaches exactly the callers the finding lists, so "every caller changes" is no surprise to warn about.
   */
  callersJudged?: boolean;
  write: Tri;
  longterm: Tri;
  /** Release calls of these pages; `viaHelper` marks the ones inside a driver helper that may serve other pins. */
  releases: Array<ReleaseCall & { viaHelper?: boolean }>;
  /** The simulation of the converted pin no longer diverges (the engine decides; this module only edits text). */
  resolves: boolean;
  /**
   * Callers that reach this pin but do not keep the pages (a synchronous path through a shared helper): the pin is
   * converted for them too (its release path is), but FOLL_LONGTERM is not added on a path analysed as short-lived.
   */
  shortCallers?: string[];
}

function fmt(k: KernelVersionLite): string {
  return `${k.major}.${k.minor}`;
}

function argsOf(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  return list ? namedChildren(list).filter((a) => a.type !== 'comment') : [];
}

function replace(uri: string, node: Node, newText: string): TextEditSpan {
  return { uri, span: spanOf(node), newText };
}

const TIGHT = new Set(['identifier', 'number_literal', 'call_expression', 'parenthesized_expression', 'field_expression', 'subscript_expression']);

/** `text | FLAG` without changing what `node` means: parenthesise anything binding looser than `|`. */
function orFlag(node: Node, flag: string): string {
  if (isZero(node)) return flag;
  const op = node.type === 'binary_expression' ? node.childForFieldName('operator')?.type : undefined;
  const tight = TIGHT.has(node.type) || op === '|' || op === '&' || op === '<<' || op === '>>' || op === '+' || op === '-' || op === '*';
  return `${tight ? node.text : `(${node.text})`} | ${flag}`;
}

function isZero(node: Node): boolean {
  const n = unwrapParens(node);
  return n.type === 'number_literal' && /^(?:0+|0[xX]0+)[uUlL]*$/.test(n.text);
}

function mentions(node: Node, name: string): boolean {
  return unwrapParens(node).text === name || identifiersIn(node).some((id) => id.text === name);
}

const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=', '&&', '||']);

/** An expression that is 0 or 1 and names no FOLL_ flag: a comparison, a logical operator, `!x`, or the literal 1. */
function isBoolish(node: Node): boolean {
  const n = unwrapParens(node);
  if (identifiersIn(n).some((id) => id.text.startsWith('FOLL_'))) return false;
  if (n.type === 'number_literal') return /^(?:0x0*)?1[uUlL]*$/.test(n.text);
  if (n.type === 'unary_expression') return n.childForFieldName('operator')?.type === '!';
  if (n.type === 'binary_expression') return COMPARISONS.has(n.childForFieldName('operator')?.type ?? '');
  return n.type === 'true' || n.type === 'false';
}

/** The gup_flags text for an old int `write` (or `force`) argument. */
function intToFlag(node: Node, flag: string, tri: Tri | undefined): string | undefined {
  const n = unwrapParens(node);
  if (n.type === 'number_literal' || n.type === 'true' || n.type === 'false') return isZero(n) || n.type === 'false' ? undefined : flag;
  if (tri === 'always') return flag;
  if (tri === 'never') return undefined;
  return `(${n.text} ? ${flag} : 0)`;
}

/** The flags word for the pin call: the old write/force ints become FOLL_WRITE/FOLL_FORCE, and FOLL_LONGTERM is added. */
function convertedFlags(req: ConvertRequest, args: Node[]): string {
  const sig = req.signature;
  if (sig.flagsStyle === 'gup_flags' && sig.flagsIndex !== undefined && args[sig.flagsIndex]) {
    const flags = args[sig.flagsIndex];
    const has = mentions(flags, 'FOLL_LONGTERM') || (req.longterm === 'always' && !req.wrapper && !(sig.impliedFlags ?? []).includes('FOLL_LONGTERM'));
    // A 0/1 expression in the flags position (`dir != DMA_TO_DEVICE`, `!!write`, `1`) asks for FOLL_WRITE by bit 0:
    // written as the flag it means, not OR-ed with other flags as a number.
    const boolish = isBoolish(flags) ? intToFlag(flags, 'FOLL_WRITE', req.wrapper ? undefined : req.write) ?? '0' : undefined;
    if (boolish !== undefined) return has || (req.shortCallers ?? []).length > 0 ? boolish : boolish === '0' ? 'FOLL_LONGTERM' : `${boolish} | FOLL_LONGTERM`;
    return has || (req.shortCallers ?? []).length > 0 ? flags.text : orFlag(flags, 'FOLL_LONGTERM');
  }
  const parts: string[] = [];
  if (sig.flagsIndex !== undefined && args[sig.flagsIndex]) {
    const w = intToFlag(args[sig.flagsIndex], 'FOLL_WRITE', req.wrapper ? undefined : req.write);
    if (w) parts.push(w);
  }
  if (sig.forceIndex !== undefined && args[sig.forceIndex]) {
    const f = intToFlag(args[sig.forceIndex], 'FOLL_FORCE', undefined);
    if (f) parts.push(f);
  }
  if ((req.shortCallers ?? []).length === 0) parts.push('FOLL_LONGTERM');
  return parts.length > 0 ? parts.join(' | ') : '0';
}

/** Why the conversion cannot be offered, or undefined when it can. */
function refusal(req: ConvertRequest, target: PinApiSignature | undefined): string | undefined {
  const name = req.api.pinEquivalent;
  if (!name) return `${req.api.name}() has no pin_user_pages*() counterpart.`;
  if (compareKernelVersions(req.kernel, PIN_API_EARLIEST_PIN_USER_PAGES) < 0) {
    return `pin_user_pages*() does not exist before 5.6 (eddb1c228f79) and this file is analysed for kernel ${fmt(req.kernel)}: protect the range with VM_DONTCOPY / MADV_DONTFORK or an mmu notifier instead, or set forksafe.kernelVersion if the driver targets a newer kernel.`;
  }
  if (!target) return `${name}() does not exist on kernel ${fmt(req.kernel)}.`;
  if (!req.apiCall) return `the ${req.api.name}() call is written inside the macro ${req.macro ?? ''}: convert the #define by hand.`.replace('macro :', 'macro:');
  const callee = req.apiCall.node.childForFieldName('function');
  if (!callee || callee.type !== 'identifier' || callee.text !== req.api.name) return `the call does not name ${req.api.name}() directly.`;
  if (!req.exactLayout) return `the call's ${argsOf(req.apiCall.node).length} arguments match no known ${req.api.name}() layout, so they cannot be mapped safely.`;
  return undefined;
}

/** The arguments of the pin call for the target layout, by parameter name; undefined when one cannot be supplied. */
function targetArgs(req: ConvertRequest, target: PinApiSignature, args: Node[]): { texts: string[]; droppedVmas: Node | undefined } | undefined {
  const src = req.signature;
  const byName = (name: string): Node | undefined => {
    const i = src.params.indexOf(name);
    return i >= 0 ? args[i] : undefined;
  };
  const texts: string[] = [];
  for (const p of target.params) {
    if (p === 'gup_flags') texts.push(convertedFlags(req, args));
    else if (p === 'vmas' || p === 'locked') texts.push(byName(p)?.text ?? 'NULL');
    else if (p === 'tsk') texts.push(byName(p)?.text ?? 'current');
    else if (p === 'mm') texts.push(byName(p)?.text ?? 'current->mm');
    else {
      const a = byName(p);
      if (!a) return undefined;
      texts.push(a.text);
    }
  }
  const vmas = byName('vmas');
  const dropped = !target.params.includes('vmas') && vmas !== undefined && unwrapParens(vmas).text !== 'NULL' && unwrapParens(vmas).text !== '0';
  return { texts, droppedVmas: dropped ? unwrapParens(vmas) : undefined };
}

const FREES = new Set(['kfree', 'kvfree', 'vfree']);

function clipText(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

function statementText(node: Node): string {
  for (let n: Node | null = node; n; n = n.parent) if (n.type.endsWith('_statement') || n.type === 'declaration') return n.text;
  return node.text;
}

/**
 * Where a vmas array the converted call drops is used besides the call: `reads` (what would read entries nothing
 * fills any more), `managed` (its allocation, NULL check and free), and, when nothing reads it and each of those is a
 * plain statement on its own lines, the edits removing them with its declaration (what the conversion leaves unused).
 */
function vmasUses(call: Node, vmas: Node): { reads: Node[]; managed: Node[]; removals?: TextEditSpan[] } {
  const fn = enclosingFunction(call);
  const body = fn ? functionBody(fn) : undefined;
  if (!body) return { reads: [], managed: [] };
  const reads: Node[] = [];
  const managed: Node[] = [];
  let declaration: Node | undefined;
  if (vmas.type === 'field_expression') {
    // A field: every other mention of it in the function is a read of entries nothing fills.
    const field = vmas.childForFieldName('field')?.text;
    for (const n of descendantsOfType(body, ['field_expression'])) {
      if (n.childForFieldName('field')?.text === field && !isAncestor(call, n) && n.id !== call.id) reads.push(n);
    }
    return { reads, managed };
  }
  if (vmas.type !== 'identifier') return { reads: [vmas], managed };
  const uses = identifiersIn(body).filter((id) => id.text === vmas.text && !isAncestor(call, id));
  // First what manages the array (its allocation, NULL check and free); a use inside one of them (`sizeof(*vmas)`) is no read.
  for (const id of uses) {
    const parent = id.parent;
    if (parent?.type === 'assignment_expression' && parent.childForFieldName('left')?.id === id.id && parent.parent?.type === 'expression_statement') { managed.push(parent); continue; }
    const callOf = parent?.type === 'argument_list' ? parent.parent : undefined;
    if (callOf?.type === 'call_expression' && FREES.has(callOf.childForFieldName('function')?.text ?? '')) { managed.push(callOf); continue; }
    // `if (!vmas)` / `if (vmas == NULL)`: the allocation's check.
    const test = parent?.type === 'unary_expression' && parent.text.replace(/\s+/g, '') === `!${id.text}` ? parent.parent : parent;
    if (test?.type === 'parenthesized_expression' && test.parent?.type === 'if_statement' || (test?.type === 'binary_expression' && /^\w+\s*==\s*NULL$/.test(test.text))) managed.push(test);
  }
  for (const id of uses) {
    const declared = declarationDeclaring(id);
    if (declared) { declaration = declared; continue; }
    if (managed.some((m) => isAncestor(m, id) || m.id === id.id)) continue;
    reads.push(id);
  }
  if (reads.length > 0 || !declaration || declaration.parent?.id !== body.id || declaration.childrenForFieldName('declarator').length !== 1) return { reads, managed };
  const init = declaration.childrenForFieldName('declarator')[0];
  const value = init?.type === 'init_declarator' ? init.childForFieldName('value') : undefined;
  if (value && !PLAIN_INIT.has(unwrapParens(value).type)) return { reads, managed };
  // Nothing reads it: its allocation, NULL check, free and declaration go, when each is a plain statement on its own lines.
  const statements: Node[] = [declaration];
  for (const m of managed) {
    const stmt = m.type === 'assignment_expression' ? m.parent : m.type === 'call_expression' ? m.parent : m.parent?.type === 'if_statement' ? m.parent : undefined;
    if (!stmt) return { reads, managed };
    if (m.type === 'assignment_expression' && !ALLOCATORS.test(unwrapParens(m.childForFieldName('right')!).childForFieldName('function')?.text ?? '')) return { reads, managed };
    if (stmt.type === 'if_statement' && stmt.childForFieldName('alternative')) return { reads, managed };
    if (stmt.type !== 'expression_statement' && stmt.type !== 'if_statement') return { reads, managed };
    statements.push(stmt);
  }
  const removals: TextEditSpan[] = [];
  for (const stmt of statements) {
    if (!aloneOnItsLines(stmt)) return { reads, managed };
    removals.push({ uri: '', span: { start: { line: stmt.startPosition.row, character: 0 }, end: { line: stmt.endPosition.row + 1, character: 0 } }, newText: '' });
  }
  return { reads, managed, removals };
}

/** Allocations of a vmas array whose statement goes with it. */
const ALLOCATORS = /^(?:kmalloc|kzalloc|kcalloc|kmalloc_array|kvmalloc|kvzalloc|kvcalloc|kvmalloc_array|vmalloc|vzalloc|vcalloc|vmalloc_array)$/;

/** The declaration whose declarator names `id` (through `*`, `[]` and `= value`), when `id` is the declared name. */
function declarationDeclaring(id: Node): Node | undefined {
  let prev = id;
  let n = id.parent;
  while (n && (n.type === 'pointer_declarator' || n.type === 'array_declarator' || n.type === 'parenthesized_declarator' ||
    (n.type === 'init_declarator' && n.childForFieldName('declarator')?.id === prev.id))) { prev = n; n = n.parent; }
  return n?.type === 'declaration' && n.childrenForFieldName('declarator').some((d) => d.id === prev.id) ? n : undefined;
}

/** Rewrites the pin call itself: the callee name and the arguments that change (all of them when the layout changes). */
function pinCallEdits(req: ConvertRequest, call: LiveCall, target: PinApiSignature, name: string): { edits: TextEditSpan[]; droppedVmas: Node | undefined } | undefined {
  const args = argsOf(call.node);
  const mapped = targetArgs(req, target, args);
  if (!mapped) return undefined;
  const edits: TextEditSpan[] = [replace(call.uri, call.node.childForFieldName('function')!, name)];
  const sameLayout = target.params.length === req.signature.params.length && target.params.every((p, i) => {
    const s = req.signature.params[i];
    return p === s || (p === 'gup_flags' && (s === 'write' || s === 'gup_flags'));
  }) && req.signature.forceIndex === undefined;
  if (sameLayout) {
    mapped.texts.forEach((text, i) => { if (args[i] && args[i].text !== text) edits.push(replace(call.uri, args[i], text)); });
  } else if (args.length > 0) {
    const first = args[0];
    const last = args[args.length - 1];
    edits.push({ uri: call.uri, span: { start: spanOf(first).start, end: spanOf(last).end }, newText: mapped.texts.join(', ') });
  }
  return { edits, droppedVmas: mapped.droppedVmas };
}

/**
 * Converts a long-lived get_user_pages*() pin to the matching pin_user_pages*() call with FOLL_LONGTERM for the
 * analysed kernel, and its release path to unpin_user_page*(), as one set of edits (possibly in several files).
 */
export function convertToPinFix(req: ConvertRequest): Fix {
  const name = req.api.pinEquivalent ?? 'pin_user_pages*';
  const pinApi = req.api.pinEquivalent ? findPinApi(req.api.pinEquivalent) : undefined;
  const target = pinApi ? signatureFor(pinApi, req.kernel) : undefined;
  const title = `Convert to ${name}()${(req.shortCallers ?? []).length > 0 ? '' : ' with FOLL_LONGTERM'} and release with unpin_user_pages()`;
  const refused = refusal(req, target);
  if (refused || !target || !req.apiCall) {
    return { kind: 'convertToPin', title, safe: false, resolves: false, edits: [], disabledReason: refused ?? 'cannot convert this call' };
  }
  const call = pinCallEdits(req, req.apiCall, target, name);
  if (!call) return { kind: 'convertToPin', title, safe: false, resolves: false, edits: [], disabledReason: `an argument of ${name}() on ${fmt(req.kernel)} has no counterpart in this call.` };
  const edits = [...call.edits];
  const notes: string[] = [];
  // A vmas array the target no longer fills: refused when the driver reads it (it would read what nothing wrote).
  const vmas = call.droppedVmas ? vmasUses(req.apiCall.node, call.droppedVmas) : undefined;
  if (vmas && vmas.reads.length > 0) {
    const read = vmas.reads[0];
    return {
      kind: 'convertToPin', title, safe: false, resolves: false, edits: [],
      disabledReason: `${name}() on ${fmt(req.kernel)} fills no vmas array, and ${call.droppedVmas!.text} is read at line ${read.startPosition.row + 1} (${clipText(statementText(read))}): look each vma up with vma_lookup() under the mmap lock there first, then convert.`,
    };
  }
  for (const e of vmas?.removals ?? []) edits.push({ ...e, uri: req.apiCall.uri });
  let unconverted = 0;
  const seen = new Set<string>();
  const loops: Array<CollapsedLoop & { uri: string }> = [];
  for (const rel of req.releases) {
    const key = `${rel.uri}:${rel.node.startIndex}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const loop = rel.api === 'put_page' ? collapseLoop(rel) : undefined;
    if (loop && !loops.some((l) => l.loop.id === loop.loop.id)) loops.push({ ...loop, uri: rel.uri });
    const r = releaseEdits(rel, 'pin');
    if (!r) { unconverted++; continue; }
    for (const e of r) if (!edits.some((x) => x.uri === e.uri && x.span.start.line === e.span.start.line && x.span.start.character === e.span.start.character)) edits.push(e);
  }
  for (const uri of new Set(loops.map((l) => l.uri))) {
    for (const e of unusedIndexEdits(uri, loops.filter((l) => l.uri === uri))) if (!edits.some((x) => editsOverlap(x, e))) edits.push(e);
  }
  if (req.releases.length === 0) notes.push('no release of these pages was found: release them with unpin_user_pages()');
  if (unconverted > 0) notes.push(`${unconverted} release call(s) could not be converted: change them to unpin_user_page*() by hand`);
  if (call.droppedVmas && !vmas?.removals) notes.push(`${name}() on ${fmt(req.kernel)} takes no vmas array: ${call.droppedVmas.text} is no longer filled${vmas && vmas.managed.length > 0 ? ` (remove it: line ${vmas.managed.map((n) => n.startPosition.row + 1).join(', ')})` : ''}`);
  if (req.wrapper && !req.callersJudged) notes.push(`the call is in ${req.wrapper}(), so every caller changes`);
  if ((req.shortCallers ?? []).length > 0) notes.push(`FOLL_LONGTERM is left out because ${listNames(req.shortCallers!)} ${req.shortCallers!.length === 1 ? 'pins' : 'pin'} only for the call: pass it from the callers that keep the pages`);
  const viaHelper = req.releases.some((r) => r.viaHelper);
  if (viaHelper) notes.push('a release helper that may serve other pins is changed too');
  const safe = req.resolves && notes.length === 0;
  const leaves: RuleCode[] = (req.shortCallers ?? []).length > 0 ? ['FS005'] : [];
  return { kind: 'convertToPin', title: notes.length > 0 ? `${title} (${notes.join('; ')})` : title, safe, resolves: req.resolves, edits, ...(leaves.length > 0 ? { leaves } : {}) };
}

function listNames(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** Adds FOLL_LONGTERM to the flags of a pin_user_pages*() call (FS005); `shortCallers` also reach the call and pin only briefly. */
export function addLongtermFix(call: LiveCall | undefined, signature: PinApiSignature, wrapper: string | undefined, shortCallers: readonly string[] = []): Fix | undefined {
  if (!call || signature.flagsStyle !== 'gup_flags' || signature.flagsIndex === undefined) return undefined;
  const flags = argsOf(call.node)[signature.flagsIndex];
  if (!flags || mentions(flags, 'FOLL_LONGTERM')) return undefined;
  const notes = [
    ...(wrapper ? [`every caller of ${wrapper}() changes`] : []),
    ...(shortCallers.length > 0 ? [`${listNames(shortCallers)} ${shortCallers.length === 1 ? 'pins' : 'pin'} only for the call and would get FOLL_LONGTERM too`] : []),
  ];
  const title = `Add FOLL_LONGTERM to the flags${wrapper ? ` in ${wrapper}()` : ''}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  return { kind: 'addLongterm', title, safe: notes.length === 0, resolves: true, edits: [replace(call.uri, flags, orFlag(flags, 'FOLL_LONGTERM'))] };
}

/** Replaces a release mismatch (FS006) with the release that matches how the pages were taken. */
export function releaseFix(rel: ReleaseCall, pinnedAs: RefKind): Fix | undefined {
  const edits = releaseEdits(rel, pinnedAs);
  if (!edits || edits.length === 0) return undefined;
  const to = pinnedAs === 'pin' ? 'unpin_user_page*()' : 'put_page()/release_pages()';
  return { kind: 'fixRelease', title: `Release with ${to} (${edits[0].newText.replace(/\(.*$/s, '')}())`, safe: true, resolves: true, edits };
}

const DIRTY_CALLS = new Set(['set_page_dirty_lock', 'set_page_dirty', 'SetPageDirty']);

/** A release loop collapsed into one call: the edit, and the loop and its index (whose declaration may now be unused). */
interface CollapsedLoop { edit: TextEditSpan; loop: Node; index: string }

/** `for (i = 0; i < n; i++) { [if (d)] set_page_dirty_lock(p[i]); put_page(p[i]); }` collapsed into one unpin_user_pages*() call. */
function collapseLoop(rel: ReleaseCall): CollapsedLoop | undefined {
  const stmt = rel.node.parent;
  if (!stmt || stmt.type !== 'expression_statement') return undefined;
  const holder = stmt.parent;
  const loop = holder?.type === 'compound_statement' ? holder.parent : holder;
  if (!loop || loop.type !== 'for_statement' || loop.childForFieldName('body')?.id !== (holder?.type === 'compound_statement' ? holder.id : stmt.id)) return undefined;
  const arg = argsOf(rel.node)[0] ? unwrapParens(argsOf(rel.node)[0]) : undefined;
  if (!arg || arg.type !== 'subscript_expression') return undefined;
  const index = arg.childForFieldName('index');
  const base = arg.childForFieldName('argument');
  if (!index || index.type !== 'identifier' || !base || mentions(base, index.text)) return undefined;
  const i = index.text;
  const init = loop.childForFieldName('initializer');
  const cond = loop.childForFieldName('condition');
  const update = loop.childForFieldName('update');
  if (!init || !new RegExp(`^(?:[\\w\\s]+\\s)?${i}\\s*=\\s*0\\s*;?$`).test(init.text)) return undefined;
  if (!cond || cond.type !== 'binary_expression' || cond.childForFieldName('operator')?.type !== '<' || cond.childForFieldName('left')?.text !== i) return undefined;
  if (!update || !new RegExp(`^(?:${i}\\s*\\+\\+|\\+\\+\\s*${i}|${i}\\s*\\+=\\s*1)$`).test(update.text.trim())) return undefined;
  const bound = cond.childForFieldName('right')!;
  if (mentions(bound, i)) return undefined;
  let dirty: string | undefined;
  const others = holder?.type === 'compound_statement' ? namedChildren(holder).filter((s) => s.type !== 'comment' && s.id !== stmt.id) : [];
  const isDirtyCall = (s: Node): boolean => {
    const c = s.type === 'expression_statement' ? s.namedChildren[0] : null;
    if (!c || c.type !== 'call_expression' || !DIRTY_CALLS.has(c.childForFieldName('function')?.text ?? '')) return false;
    const a = argsOf(c)[0];
    return !!a && unwrapParens(a).text.replace(/\s+/g, '') === arg.text.replace(/\s+/g, '');
  };
  for (const s of others) {
    if (dirty !== undefined) return undefined;
    if (isDirtyCall(s)) { dirty = 'true'; continue; }
    const consequence = s.type === 'if_statement' && !s.childForFieldName('alternative') ? s.childForFieldName('consequence') : null;
    const inner = consequence?.type === 'compound_statement' ? namedChildren(consequence).filter((c) => c.type !== 'comment') : consequence ? [consequence] : [];
    const condition = s.childForFieldName('condition');
    if (inner.length === 1 && isDirtyCall(inner[0]) && condition) { dirty = unwrapParens(condition).text; continue; }
    return undefined;
  }
  const text = dirty !== undefined ? `unpin_user_pages_dirty_lock(${base.text}, ${bound.text}, ${dirty});` : `unpin_user_pages(${base.text}, ${bound.text});`;
  return { edit: replace(rel.uri, loop, text), loop, index: i };
}

const PLAIN_INIT = new Set(['number_literal', 'identifier', 'null', 'true', 'false']);

/** No neighbouring token (brace, statement, comment) shares the node's lines: removing those lines removes only it. */
function aloneOnItsLines(node: Node): boolean {
  return node.previousSibling?.endPosition.row !== node.startPosition.row && node.nextSibling?.startPosition.row !== node.endPosition.row;
}

/**
 * The loop indexes that collapsing `loops` leaves unused in their function (a -Werror build fails on
 * -Wunused-variable): edits removing their declarations (the whole line when it declares nothing else).
 */
function unusedIndexEdits(uri: string, loops: readonly CollapsedLoop[]): TextEditSpan[] {
  const out: TextEditSpan[] = [];
  const done = new Set<string>();
  for (const { loop, index } of loops) {
    const fn = enclosingFunction(loop);
    const body = fn ? functionBody(fn) : undefined;
    if (!fn || !body || done.has(`${fn.id}:${index}`)) continue;
    done.add(`${fn.id}:${index}`);
    const gone = loops.filter((l) => l.index === index && enclosingFunction(l.loop)?.id === fn.id).map((l) => l.loop);
    const uses = identifiersIn(body).filter((id) => id.text === index && !gone.some((l) => isAncestor(l, id)));
    // Exactly one use left: the declaration's own name, in a declaration directly in the function body.
    if (uses.length !== 1) continue;
    const name = uses[0];
    let declarator: Node | null = name.parent;
    if (declarator?.type === 'init_declarator') {
      const value = declarator.childForFieldName('value');
      if (!value || !PLAIN_INIT.has(unwrapParens(value).type)) continue;
    } else declarator = name;
    const decl = declarator?.parent;
    if (!declarator || !decl || decl.type !== 'declaration' || decl.parent?.id !== body.id) continue;
    const declarators = decl.childrenForFieldName('declarator');
    if (declarators.length === 1) {
      const start = { line: decl.startPosition.row, character: 0 };
      const end = { line: decl.endPosition.row + 1, character: 0 };
      const alone = aloneOnItsLines(decl);
      // The block's only declaration: the blank line that separated it from the statements goes with it.
      const next = decl.nextSibling;
      if (alone && decl.previousSibling?.type === '{' && next && next.type !== 'declaration' && next.startPosition.row > decl.endPosition.row + 1) end.line++;
      out.push(alone ? { uri, span: { start, end }, newText: '' } : replace(uri, decl, ''));
    } else {
      const k = declarators.findIndex((d) => d.id === declarator!.id);
      const from = k < declarators.length - 1 ? spanOf(declarators[k]).start : spanOf(declarators[k - 1]).end;
      const to = k < declarators.length - 1 ? spanOf(declarators[k + 1]).start : spanOf(declarators[k]).end;
      out.push({ uri, span: { start: from, end: to }, newText: '' });
    }
  }
  return out;
}

function renameCallee(rel: ReleaseCall, name: string): TextEditSpan[] | undefined {
  const callee = rel.node.childForFieldName('function');
  return callee ? [replace(rel.uri, callee, name)] : undefined;
}

/** Edits that make one release call match pages taken as `pinnedAs`; [] when it already matches, undefined when it cannot be converted. */
export function releaseEdits(rel: ReleaseCall, pinnedAs: RefKind): TextEditSpan[] | undefined {
  const args = argsOf(rel.node);
  if (pinnedAs === 'pin') {
    switch (rel.api) {
      case 'unpin_user_page': case 'unpin_user_pages': case 'unpin_user_pages_dirty_lock': case 'unpin_user_page_range_dirty_lock': return [];
      case 'put_page': { const loop = collapseLoop(rel); return loop ? [loop.edit] : renameCallee(rel, 'unpin_user_page'); }
      case 'put_user_page': return renameCallee(rel, 'unpin_user_page');
      case 'put_user_pages': return renameCallee(rel, 'unpin_user_pages');
      case 'release_pages': case 'put_user_pages_dirty': case 'put_user_pages_dirty_lock': {
        if (args.length < 2) return undefined;
        const dirty = rel.api === 'release_pages' ? undefined : args[2]?.text ?? 'true';
        const text = dirty === undefined ? `unpin_user_pages(${args[0].text}, ${args[1].text})` : `unpin_user_pages_dirty_lock(${args[0].text}, ${args[1].text}, ${dirty})`;
        return [replace(rel.uri, rel.node, text)];
      }
      default: return undefined;
    }
  }
  switch (rel.api) {
    case 'unpin_user_page': return renameCallee(rel, 'put_page');
    case 'unpin_user_pages': return args.length === 2 ? renameCallee(rel, 'release_pages') : undefined;
    case 'put_page': case 'release_pages': return [];
    default: return undefined;
  }
}

const SUPPRESSIBLE: ReadonlySet<RuleCode> = new Set(['FS001', 'FS002', 'FS003', 'FS004', 'FS005', 'FS006', 'FS007']);
/** Inserted as the reason: a visible placeholder the author replaces with the real argument. */
export const SUPPRESSION_REASON_PLACEHOLDER = '<reason: why fork() cannot break this pin>';


/**
 * Inserts `// forksafe-ignore FS###: <reason>` on its own line above the diagnostic's line (same indentation), or adds
 * the code to a forksafe-ignore comment already there, so that comment keeps applying to the same line. `lines` is the
 * file's text split at '\n' (a trailing '\r' is kept and reused as the line ending).
 */
export function suppressionFix(code: RuleCode, uri: string, lines: readonly string[], line: number): Fix | undefined {
  if (!SUPPRESSIBLE.has(code)) return undefined;
  const current = lines[line];
  if (current === undefined) return undefined;
  const eol = current.endsWith('\r') ? '\r\n' : '\n';
  const title = `Suppress ${code} on this line (forksafe-ignore with a reason)`;
  const above = line > 0 ? lines[line - 1].replace(/\r$/, '') : undefined;
  const existing = above !== undefined ? /^(\s*\/\/\s*forksafe-ignore\s+)([A-Z0-9,\s]*?FS\d{3})(\s*:\s*\S.*)$/.exec(above) : null;
  if (existing) {
    // Already named there: what is missing is the reason, which FS008 asks for; adding the code again would change nothing.
    if (existing[2].split(/[\s,]+/).includes(code)) return undefined;
    const at = { line: line - 1, character: existing[1].length + existing[2].length };
    return { kind: 'suppress', title, safe: false, resolves: true, edits: [{ uri, span: { start: at, end: at }, newText: `, ${code}` }] };
  }
  const indent = /^[ \t]*/.exec(current)?.[0] ?? '';
  const at = { line, character: 0 };
  // The placeholder is not a reason (annotations.ts): until the author writes one, FS008 replaces the finding.
  const placeholderTitle = `Suppress ${code} on this line (then replace ${SUPPRESSION_REASON_PLACEHOLDER.replace(/:.*$/, '>')} with why fork() cannot break this pin)`;
  // In an editor that takes snippet edits the prompt is selected, so typing replaces it (issue 16); elsewhere the
  // bracketed placeholder shows what to replace. Neither counts as a reason until the author writes one.
  const snippet = `${indent}// forksafe-ignore ${code}: \${1:${SUPPRESSION_REASON_PROMPT}}${eol}`;
  return { kind: 'suppress', title: placeholderTitle, safe: false, resolves: false, edits: [{ uri, span: { start: at, end: at }, newText: `${indent}// forksafe-ignore ${code}: ${SUPPRESSION_REASON_PLACEHOLDER}${eol}`, snippet }] };
}

/** What the contract comment says until the author states where userspace calls madvise (the snippet selects it). */
export const ASSUME_DONTFORK_PROMPT = 'userspace calls madvise(MADV_DONTFORK) on this buffer before registering it';

/**
 * State a userspace MADV_DONTFORK contract the code cannot show (libibverbs' ibv_fork_init(), a daemon's own madvise):
 * `// forksafe-assume dontfork: ...` above the pin. Offered on every kernel (before 5.6 there is no pin_user_pages*()
 * to convert to); the finding becomes information: FS003 "verify the protection" (FS004 from 5.6, which holds it).
 */
export function assumeContractFix(code: RuleCode, uri: string, lines: readonly string[], line: number): Fix | undefined {
  if (code !== 'FS001' && code !== 'FS002') return undefined;
  const current = lines[line];
  if (current === undefined) return undefined;
  const eol = current.endsWith('\r') ? '\r\n' : '\n';
  const indent = /^[ \t]*/.exec(current)?.[0] ?? '';
  const at = { line, character: 0 };
  const text = `${indent}// forksafe-assume dontfork: ${ASSUME_DONTFORK_PROMPT}${eol}`;
  return {
    kind: 'assumeContract', title: 'State the userspace MADV_DONTFORK contract (forksafe-assume dontfork; the error becomes information to verify)',
    safe: false, resolves: true, edits: [{ uri, span: { start: at, end: at }, newText: text, snippet: `${indent}// forksafe-assume dontfork: \${1:${ASSUME_DONTFORK_PROMPT}}${eol}` }],
  };
}

/** vm_flags_set() and friends replace writes to vma->vm_flags from 6.3 (bc292ab00f6c, "mm: introduce vma->vm_flags wrapper functions"). */
const VM_FLAGS_SET_FROM: KernelVersionLite = { major: 6, minor: 3 };

/**
 * Sets VM_DONTCOPY in the driver's mmap handler whose mapping the pinned address comes from (FS001/FS002 on every
 * kernel: the protection that exists before 5.6 too). fork() then gives the child no copy of that mapping, so the
 * parent keeps its pages and the device with them; the child cannot touch the buffer (it is unmapped there).
 */
export function vmDontcopyFix(code: RuleCode, mapping: { uri: string; text: string; fnName: string; vma: string; body: Node }, kernel: KernelVersionLite, leaves: RuleCode[]): Fix | undefined {
  if (code !== 'FS001' && code !== 'FS002') return undefined;
  const statement = compareKernelVersions(kernel, VM_FLAGS_SET_FROM) >= 0 ? `vm_flags_set(${mapping.vma}, VM_DONTCOPY);` : `${mapping.vma}->vm_flags |= VM_DONTCOPY;`;
  const stmts = namedChildren(mapping.body).filter((n) => n.type !== 'comment');
  const first = stmts.find((n) => n.type !== 'declaration');
  const title = `Set VM_DONTCOPY in ${mapping.fnName}(), which creates the pinned mapping (fork() then gives the child no copy of it)`;
  let edit: TextEditSpan;
  if (first && first.startPosition.row > mapping.body.startPosition.row) {
    // Its own line, indented like the statement it goes before, after the declarations.
    const lineStart = mapping.text.lastIndexOf('\n', Math.max(0, first.startIndex - 1)) + 1;
    const indent = /^[ \t]*/.exec(mapping.text.slice(lineStart, first.startIndex))?.[0] || '\t';
    edit = { uri: mapping.uri, span: { start: { line: first.startPosition.row, character: 0 }, end: { line: first.startPosition.row, character: 0 } }, newText: `${indent}${statement}\n` };
  } else {
    const brace = mapping.body.firstChild;
    if (!brace || brace.type !== '{') return undefined;
    const at = spanOf(brace).end;
    edit = { uri: mapping.uri, span: { start: at, end: at }, newText: ` ${statement}` };
  }
  return { kind: 'vmDontcopy', title, safe: false, resolves: true, edits: [edit], ...(leaves.length > 0 ? { leaves } : {}) };
}
