// Whether a protection found in the driver protects this pin: tied to the pinned user range or to the pin's path.
// A protection credited from elsewhere hides the very bug forksafe exists for (an ODP notifier quieting the ordinary
// memory registration next to it), so a protection counts only with evidence that it covers these pages
// (docs/analysis.md, "Protections").
import type { Node } from './parser';
import type { Binding, Scope } from './flags';
import { functionContaining, functionOfNode, type FunctionInfo } from './fileIndex';
import type { SourceFile, Workspace } from './workspace';
import { descendantsOfType, namedChildren, unwrapParens } from './syntaxTools';
import { declarationOf, fieldOf, namesWritten, rootIdentifier } from './lifetime/ownership';
import type { Protection } from './protections';

/** Registrations of a notifier on a user range: the argument that holds the range's start, and the ops argument. */
const RANGE_NOTIFIERS: Record<string, { start: number; ops: number }> = {
  mmu_interval_notifier_insert: { start: 2, ops: 4 },
  mmu_interval_notifier_insert_locked: { start: 2, ops: 4 },
};
/** Registrations of a notifier on a whole address space, with the ops argument when the call names one. */
const MM_NOTIFIERS: Record<string, number | undefined> = {
  mmu_notifier_register: undefined, __mmu_notifier_register: undefined, mmu_notifier_get: 0, mmu_notifier_get_locked: 0,
  hmm_range_fault: undefined,
};
/** Kernel-side madvise calls and the argument that holds the start of the range. */
const MADVISE_START: Record<string, number> = { do_madvise: 1, ksys_madvise: 0 };
/** Look-ups of the vma that contains an address, and the argument that holds the address. */
const VMA_LOOKUPS: Record<string, number> = { find_vma: 1, vma_lookup: 1, find_extend_vma: 1, find_vma_intersection: 1 };
/** What an mmap handler calls to map device or kernel memory into the vma: a flag set there protects no user memory. */
const DEVICE_MAPPINGS = /^(remap_pfn_range|io_remap_pfn_range|vm_iomap_memory|remap_vmalloc_range(_partial)?|dma_mmap_\w+|vm_insert_page|vm_insert_pages|vm_map_pages(_zero)?|vmf_insert_pfn\w*|vmf_insert_mixed\w*|dma_buf_mmap)$/;
/** Calls an invalidate callback may make without dropping anything: logging, tracing, counters, the sequence bump. */
const INERT_CALLS = /^(pr_\w+|printk\w*|dev_(err|warn|info|dbg|notice)\w*|trace_\w+|WARN\w*|BUG\w*|atomic\w*|mmu_interval_set_seq|container_of|mmu_notifier_range_blockable|spin_(un)?lock\w*|mutex_(un)?lock\w*|(down|up)_(read|write)\w*)$/;
const KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'typeof', '__builtin_expect', 'likely', 'unlikely', 'READ_ONCE', 'WRITE_ONCE']);
/** Calls that pass an address through unchanged (for following where a range starts). */
const ADDRESS_PASSTHROUGH = new Set(['untagged_addr', 'ALIGN', 'ALIGN_DOWN', 'PAGE_ALIGN', 'PAGE_ALIGN_DOWN', 'round_down', 'u64_to_user_ptr']);
const MAX_DEPTH = 5;

/** What a pin offers to tie a protection to: the range's start, the functions on its path, the types owning its pages. */
export interface PinRange {
  start: Binding | undefined;
  /** The address space a remote pin takes its pages from (get_user_pages_remote's mm), when the call names one. */
  mm?: Binding;
  path: Node[];
  ownerTypes: string[];
}

export class ProtectionTies {
  private readonly originMemo = new Map<string, Set<string>>();
  private readonly actsMemo = new Map<string, boolean>();
  /** Functions whose callers and fields whose stores a tie was followed through: an edit naming one may change a tie. */
  readonly namesRead = new Set<string>();

  constructor(private readonly workspace: Workspace) {}

  /** Why the protection covers this pin (for the related location), or undefined when nothing ties it to the pin. */
  tie(p: Protection, pin: PinRange): string | undefined {
    if (p.place === 'assumed') return 'stated by a forksafe-assume comment';
    const node = p.evidence.node;
    const file = this.workspace.fileFor(p.evidence.uri);
    if (!file) return undefined;
    const fn = functionContaining(file.index, node);
    const onPath = !!fn && pin.path.some((q) => q.id === fn.node.id);
    if (p.kind === 'notifier') {
      if (node.type !== 'call_expression') return undefined;
      const name = node.childForFieldName('function')?.text ?? '';
      const args = argsOf(node);
      const range = RANGE_NOTIFIERS[name];
      if (range) {
        if (!this.invalidateActs(args[range.ops])) return undefined;
        return fn && args[range.start] && this.sameStart(pin, args[range.start], file, fn) ? 'registered on the pinned range' : undefined;
      }
      if (name in MM_NOTIFIERS) {
        const opsIndex = MM_NOTIFIERS[name];
        if (opsIndex !== undefined && !this.invalidateActs(args[opsIndex])) return undefined;
        if (onPath) return 'registered on the pin\'s path';
        // Registered on the very address space a remote pin takes its pages from (`mmu_notifier_register(&tg->mn, tg->mm)`
        // and `get_user_pages_remote(tg->mm, ...)`): every change to those pages is notified.
        const mmArg = name === 'hmm_range_fault' ? undefined : args[1];
        if (pin.mm && mmArg && fn && this.sameOrigin(pin.mm, mmArg, file, fn)) return 'registered on the address space the pages are taken from';
        const holder = args[0] ? rootIdentifier(args[0]) : undefined;
        const type = holder && fn ? declarationOf(fn.node, holder)?.structType : undefined;
        return type && pin.ownerTypes.includes(type) ? `registered on the ${type} that owns the pages` : undefined;
      }
      return undefined;
    }
    // VM_DONTCOPY / VM_WIPEONFORK on a vma, or MADV_DONTFORK / MADV_WIPEONFORK applied from the kernel.
    if (!fn) return undefined;
    const call = enclosingCall(node);
    const madvise = call ? MADVISE_START[call.childForFieldName('function')?.text ?? ''] : undefined;
    if (call && madvise !== undefined) {
      const start = argsOf(call)[madvise];
      return onPath || (start && this.sameStart(pin, start, file, fn)) ? 'applied to the pinned range' : undefined;
    }
    const vma = vmaOf(node);
    if (!vma) return undefined;
    const looked = lookupOf(fn, vma);
    if (looked) return this.sameStart(pin, looked, file, fn) ? 'set on the vma that holds the pinned address' : undefined;
    // The driver's own mmap: the user mapping it creates is the pinned memory when the pin's address comes from it.
    if (isParam(fn, vma) && !mapsDeviceMemory(file, fn)) {
      return this.sameStartText(pin, `${fn.name}:${vma}->vm_start`) ? 'set by the mmap that created the pinned mapping' : undefined;
    }
    return undefined;
  }

  /**
   * The driver's own mmap handler whose mapping the pin's address comes from (`F:vma->vm_start` among its origins),
   * when it maps user memory (no device mapping call): where VM_DONTCOPY would protect this pin (the fix of issue 16).
   */
  driverMapping(pin: PinRange): { file: SourceFile; fn: FunctionInfo; vma: string } | undefined {
    if (!pin.start) return undefined;
    for (const key of this.origins(pin.start.node, pin.start.scope.file, this.functionOf(pin.start.scope), pin.start.scope, 0)) {
      const m = /^(\w+):(\w+)->vm_start$/.exec(key);
      if (!m) continue;
      for (const { file, item } of this.workspace.functionsNamed(m[1])) {
        if (item.body && isParam(item, m[2]) && !mapsDeviceMemory(file, item)) return { file, fn: item, vma: m[2] };
      }
    }
    return undefined;
  }

  /** True when the pin's start and `other` (an argument in `fn` of `file`) come from the same place. */
  private sameStart(pin: PinRange, other: Node, file: SourceFile, fn: FunctionInfo): boolean {
    return !!pin.start && this.sameOrigin(pin.start, other, file, fn);
  }

  /** True when a pin argument and `other` (an argument in `fn` of `file`) come from the same place. */
  private sameOrigin(mineArg: Binding, other: Node, file: SourceFile, fn: FunctionInfo): boolean {
    const mine = this.origins(mineArg.node, mineArg.scope.file, this.functionOf(mineArg.scope), mineArg.scope, 0);
    const theirs = this.origins(other, file, fn, undefined, 0);
    for (const k of mine) if (theirs.has(k)) return true;
    return false;
  }

  private sameStartText(pin: PinRange, key: string): boolean {
    if (!pin.start) return false;
    return this.origins(pin.start.node, pin.start.scope.file, this.functionOf(pin.start.scope), pin.start.scope, 0).has(key);
  }

  private functionOf(scope: Scope): FunctionInfo | undefined {
    return scope.fn ? functionOfNode(scope.file.index, scope.fn) : undefined;
  }

  /**
   * Where an address comes from, as keys `function:expression`: followed through locals, parameters (into the call
   * that binds them, or every caller), fields of a known struct type (into every store of that field on that type) and
   * pass-through calls. A parameter of an entry point (no caller in the driver: an ioctl's `arg`) is keyed by the
   * branch of the call that handed it down (`via`): two commands of one ioctl that both start from `arg` are not the
   * same range, two calls on one path of it are.
   */
  private origins(expr: Node, file: SourceFile, fn: FunctionInfo | undefined, scope: Scope | undefined, depth: number, via?: Node): Set<string> {
    const e = stripAddress(expr);
    const fnName = fn?.name ?? scope?.name ?? '';
    const memoKey = `${file.uri}#${e.startIndex}:${depth}:${via ? branchOf(via) : ''}`;
    const memo = this.originMemo.get(memoKey);
    if (memo) return memo;
    const out = new Set<string>();
    this.originMemo.set(memoKey, out);
    const params = fn?.params ?? scope?.params ?? [];
    const index = e.type === 'identifier' ? params.indexOf(e.text) : -1;
    if (index >= 0) {
      const binding = scope?.bindings?.[index];
      if (fn && !binding) this.namesRead.add(fn.name);
      const calls = binding || !fn ? [] : this.workspace.callsTo(fn.name).filter((c) => c.item.fn && c.item.fn !== fn).slice(0, 8);
      if (depth < MAX_DEPTH && binding) {
        const call = enclosingCall(binding.node);
        for (const k of this.origins(binding.node, binding.scope.file, this.functionOf(binding.scope), binding.scope, depth + 1, call)) out.add(k);
      } else if (depth < MAX_DEPTH && calls.length > 0) {
        for (const c of calls) {
          const arg = c.item.args[index];
          if (arg) for (const k of this.origins(arg, c.file, c.item.fn, undefined, depth + 1, c.item.node)) out.add(k);
        }
      }
      if (out.size === 0) out.add(`${fnName}:param:${e.text}${via ? `@${branchOf(via)}` : ''}`);
      return out;
    }
    out.add(`${fnName}:${e.text.replace(/\s+/g, '')}`);
    if (depth >= MAX_DEPTH) return out;
    if (e.type === 'identifier' && fn?.body) {
      for (const value of valuesAssignedTo(fn.body, e.text)) for (const k of this.origins(value, file, fn, scope, depth + 1, via)) out.add(k);
    } else if (e.type === 'field_expression') {
      const field = fieldOf(e);
      const holder = rootIdentifier(e);
      const type = holder && fn ? declarationOf(fn.node, holder)?.structType : undefined;
      if (field && type) {
        this.namesRead.add(field);
        for (const store of this.storesOf(field, type)) for (const k of this.origins(store.value, store.file, store.fn, undefined, depth + 1)) out.add(k);
      }
    }
    return out;
  }

  /** Every `x->field = value;` of the driver where `x` is a `struct type` (at most 8). */
  private storesOf(field: string, type: string): Array<{ value: Node; file: SourceFile; fn: FunctionInfo | undefined }> {
    const out: Array<{ value: Node; file: SourceFile; fn: FunctionInfo | undefined }> = [];
    for (const { file, node: id } of namesWritten(this.workspace, field, 'field_identifier')) {
      if (out.length >= 8) break;
      const member = id.parent;
      const assign = member?.parent;
      if (member?.type !== 'field_expression' || assign?.type !== 'assignment_expression') continue;
      if (assign.childForFieldName('left')?.id !== member.id || assign.childForFieldName('operator')?.text !== '=') continue;
      const value = assign.childForFieldName('right');
      const fn = functionContaining(file.index, assign);
      const holder = rootIdentifier(member);
      if (value && fn && holder && declarationOf(fn.node, holder)?.structType === type) out.push({ value, file, fn });
    }
    return out;
  }

  /**
   * True when the notifier's ops (the `&ops` argument) name an invalidate callback that does more than log, count or
   * bump the sequence: it unmaps, evicts or drops pages. Unknown ops are no evidence.
   */
  private invalidateActs(opsArg: Node | undefined): boolean {
    if (!opsArg) return false;
    const name = rootIdentifier(opsArg);
    if (!name) return false;
    const memo = this.actsMemo.get(name);
    if (memo !== undefined) return memo;
    let acts = false;
    // The ops object's definition, found from where its name is written (a walk of every tree costs a scan's worth).
    for (const { node: id } of namesWritten(this.workspace, name)) {
      if (acts) break;
      const decl = enclosingDeclaration(id);
      if (!decl || !declares(decl, name)) continue;
      for (const d of descendantsOfType(decl, ['initializer_pair'])) {
        const member = d.namedChildren.find((c) => c?.type === 'field_designator')?.text ?? '';
        if (!/invalidate/.test(member)) continue;
        const callback = d.childForFieldName('value');
        const target = callback ? rootIdentifier(callback) : undefined;
        for (const f of target ? this.workspace.functionsNamed(target) : []) {
          // From the body's text: a call inside a macro argument the grammar cannot parse (`container_of(p, struct x, m)`) still counts.
          const body = f.item.body?.text ?? '';
          for (const m of body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) if (!KEYWORDS.has(m[1]) && !INERT_CALLS.test(m[1])) acts = true;
        }
      }
    }
    this.actsMemo.set(name, acts);
    return acts;
  }
}

/** The innermost branch (a `case`, an `if` arm) holding a call, as a key: calls on one path share it. */
function branchOf(call: Node): string {
  for (let n: Node | null = call; n; n = n.parent) {
    const p = n.parent;
    if (!p || p.type === 'function_definition') break;
    if (n.type === 'case_statement' || n.type === 'else_clause') return String(n.startIndex);
    if (p.type === 'if_statement' && p.childForFieldName('consequence')?.id === n.id) return String(n.startIndex);
  }
  return 'top';
}

function argsOf(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  return list ? namedChildren(list).filter((a) => a.type !== 'comment') : [];
}

/** The address an expression starts at: casts, parentheses, `base + offset` and pass-through calls removed. */
function stripAddress(expr: Node): Node {
  let e = unwrapParens(expr);
  for (let i = 0; i < 16; i++) {
    if (e.type === 'cast_expression') { e = unwrapParens(e.childForFieldName('value') ?? e); continue; }
    if (e.type === 'binary_expression' && ['+', '-', '&'].includes(e.childForFieldName('operator')?.text ?? '')) { e = unwrapParens(e.childForFieldName('left') ?? e); continue; }
    if (e.type === 'call_expression' && ADDRESS_PASSTHROUGH.has(e.childForFieldName('function')?.text ?? '')) { const a = argsOf(e)[0]; if (!a) break; e = unwrapParens(a); continue; }
    break;
  }
  return e;
}

/** The right-hand sides assigned to a local (initialiser and assignments) in a body. */
function valuesAssignedTo(body: Node, name: string): Node[] {
  const out: Node[] = [];
  for (const d of descendantsOfType(body, ['init_declarator', 'assignment_expression'])) {
    if (out.length >= 8) break;
    if (d.type === 'init_declarator') {
      const value = d.childForFieldName('value');
      if (value && rootIdentifier(d.childForFieldName('declarator') ?? d) === name) out.push(value);
    } else if (d.type === 'assignment_expression' && d.childForFieldName('operator')?.text === '=') {
      const left = d.childForFieldName('left');
      const right = d.childForFieldName('right');
      if (left && right && unwrapParens(left).type === 'identifier' && unwrapParens(left).text === name) out.push(right);
    }
  }
  return out;
}

function enclosingCall(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) {
    if (n.type === 'call_expression') return n;
    if (n.type === 'expression_statement' || n.type === 'compound_statement') return undefined;
  }
  return undefined;
}

/** The vma a flag is set on: `vma->vm_flags |= VM_DONTCOPY` or `vm_flags_set(vma, VM_DONTCOPY)`. */
function vmaOf(marker: Node): string | undefined {
  for (let n: Node | null = marker.parent; n; n = n.parent) {
    if (n.type === 'assignment_expression') { const left = n.childForFieldName('left'); return left ? rootIdentifier(left) : undefined; }
    if (n.type === 'call_expression') { const first = argsOf(n)[0]; return first ? rootIdentifier(first) : undefined; }
    if (n.type === 'expression_statement' || n.type === 'compound_statement') return undefined;
  }
  return undefined;
}

/** `vma = find_vma(mm, addr)` in the function: the looked-up address. */
function lookupOf(fn: FunctionInfo, vma: string): Node | undefined {
  if (!fn.body) return undefined;
  for (const value of valuesAssignedTo(fn.body, vma)) {
    const v = unwrapParens(value);
    if (v.type !== 'call_expression') continue;
    const index = VMA_LOOKUPS[v.childForFieldName('function')?.text ?? ''];
    if (index !== undefined) return argsOf(v)[index];
  }
  return undefined;
}

function isParam(fn: FunctionInfo, name: string): boolean {
  return fn.params.includes(name);
}

function mapsDeviceMemory(file: SourceFile, fn: FunctionInfo): boolean {
  return file.index.calls.some((c) => c.fn === fn && DEVICE_MAPPINGS.test(c.name));
}


function enclosingDeclaration(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) if (n.type === 'declaration') return n;
  return undefined;
}

function declares(decl: Node, name: string): boolean {
  return decl.childrenForFieldName('declarator').some((d) => !!d && rootIdentifier(d) === name);
}

