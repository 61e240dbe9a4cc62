// Finds what protects a pin from fork(): VM_DONTCOPY / MADV_DONTFORK / WIPEONFORK set in the kernel, mmu notifiers, and user annotations.
import type { Node } from './parser';
import { descendantsOfType } from './syntaxTools';
import type { FileIndex, FunctionInfo } from './fileIndex';
import type { SourceFile, Workspace } from './workspace';
import type { Evidence } from './flags';

export type ProtectionKind = 'dontfork' | 'wipeonfork' | 'notifier';
/** How close the protection is to the pin: the same function or file counts as seen; another file of the driver must be verified. */
export type ProtectionPlace = 'function' | 'file' | 'driver' | 'assumed';

export interface Protection { kind: ProtectionKind; place: ProtectionPlace; evidence: Evidence }

export const NOTIFIER_CALLS: ReadonlySet<string> = new Set([
  'mmu_notifier_register', '__mmu_notifier_register', 'mmu_notifier_get', 'mmu_notifier_get_locked',
  'mmu_interval_notifier_insert', 'mmu_interval_notifier_insert_locked', 'hmm_range_fault',
]);
const VM_FLAG_SETTERS: Record<string, number> = { vm_flags_set: 1, vm_flags_init: 1, vm_flags_reset: 1, vm_flags_reset_once: 1, vm_flags_mod: 1 };
const MADVISE_CALLS = /madvise/;

function kindOfMarker(name: string): ProtectionKind {
  return name.includes('WIPEONFORK') ? 'wipeonfork' : 'dontfork';
}

/** True when a VM_DONTCOPY-like identifier is being set on a vma (not cleared or tested). */
function setsVmaFlag(marker: Node): boolean {
  for (let n: Node | null = marker.parent; n; n = n.parent) {
    if (n.type === 'unary_expression' && n.childForFieldName('operator')?.type === '~') return false;
    if (n.type === 'assignment_expression') {
      const op = n.childForFieldName('operator')?.type;
      const right = n.childForFieldName('right');
      return (op === '|=' || op === '=') && !!right && right.startIndex <= marker.startIndex && marker.endIndex <= right.endIndex;
    }
    if (n.type === 'call_expression') {
      const fname = n.childForFieldName('function')?.text ?? '';
      const setIndex = VM_FLAG_SETTERS[fname];
      const args = n.childForFieldName('arguments')?.namedChildren ?? [];
      if (setIndex !== undefined) return args[setIndex] !== undefined && args[setIndex]!.startIndex <= marker.startIndex && marker.endIndex <= args[setIndex]!.endIndex;
      return false;
    }
    if (n.type === 'if_statement' || n.type === 'expression_statement' || n.type === 'declaration' || n.type === 'compound_statement') return false;
  }
  return false;
}

/** True when MADV_DONTFORK/WIPEONFORK is passed to a kernel-side madvise call. */
function appliesMadvise(marker: Node): boolean {
  for (let n: Node | null = marker.parent; n; n = n.parent) {
    if (n.type === 'call_expression') return MADVISE_CALLS.test(n.childForFieldName('function')?.text ?? '');
    if (n.type === 'case_statement' || n.type === 'expression_statement' || n.type === 'compound_statement') return false;
  }
  return false;
}

/** An mmu_notifier_ops / mmu_interval_notifier_ops definition with an invalidate callback. */
function definesNotifierOps(typeName: Node): Node | undefined {
  const decl = typeName.parent?.parent;
  if (!decl || decl.type !== 'declaration') return undefined;
  for (const d of descendantsOfType(decl, ['field_designator'])) {
    if (/invalidate/.test(d.text)) return decl;
  }
  return undefined;
}

/** Every protection a file shows, with the function it is in. */
export function protectionsInFile(file: SourceFile): Array<{ kind: ProtectionKind; node: Node; fn: FunctionInfo | undefined; message: string }> {
  const out: Array<{ kind: ProtectionKind; node: Node; fn: FunctionInfo | undefined; message: string }> = [];
  for (const m of file.index.markers) {
    if (m.name === 'mmu_notifier_ops' || m.name === 'mmu_interval_notifier_ops') {
      const decl = definesNotifierOps(m.node);
      if (decl) out.push({ kind: 'notifier', node: decl, fn: m.fn, message: `${m.name} with an invalidate callback: the driver follows CPU page-table changes` });
    } else if (m.name.startsWith('VM_') && setsVmaFlag(m.node)) {
      out.push({ kind: kindOfMarker(m.name), node: m.node, fn: m.fn, message: `${m.name} is set on the vma here` });
    } else if (m.name.startsWith('MADV_') && appliesMadvise(m.node)) {
      out.push({ kind: kindOfMarker(m.name), node: m.node, fn: m.fn, message: `madvise(${m.name}) is applied here` });
    }
  }
  for (const c of file.index.calls) {
    if (NOTIFIER_CALLS.has(c.name)) out.push({ kind: 'notifier', node: c.node, fn: c.fn, message: `${c.name}(): the driver follows CPU page-table changes with an mmu notifier` });
  }
  return out;
}

const protectionsByIndex = new WeakMap<FileIndex, { generation: number; list: ReturnType<typeof protectionsInFile> }>();

export class ProtectionFinder {
  constructor(private readonly workspace: Workspace) {}

  /**
   * A file's protections, read once per index and parse of its tree (a scan may let a context file's tree go): the
   * driver's other files keep theirs while one is edited.
   */
  private of(file: SourceFile): ReturnType<typeof protectionsInFile> {
    const kept = protectionsByIndex.get(file.index);
    if (kept && kept.generation === file.index.source.generation) return kept.list;
    const list = protectionsInFile(file);
    protectionsByIndex.set(file.index, { generation: file.index.source.generation, list });
    return list;
  }

  /** Protections for a pin in `fn` of `file`, nearest first: same function, same file, then elsewhere in the driver. */
  find(file: SourceFile, fns: Array<FunctionInfo | undefined>): Protection[] {
    const found: Protection[] = [];
    for (const p of this.of(file)) {
      const place: ProtectionPlace = p.fn && fns.includes(p.fn) ? 'function' : 'file';
      found.push({ kind: p.kind, place, evidence: { uri: file.uri, node: p.node, message: p.message } });
    }
    for (const other of this.workspace.files) {
      if (other.uri === file.uri) continue;
      for (const p of this.of(other)) found.push({ kind: p.kind, place: 'driver', evidence: { uri: other.uri, node: p.node, message: `${p.message} (in another file of the driver)` } });
    }
    const rank: Record<ProtectionPlace, number> = { function: 0, file: 1, assumed: 2, driver: 3 };
    return found.sort((a, b) => rank[a.place] - rank[b.place]);
  }
}
