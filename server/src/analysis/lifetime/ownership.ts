// Small questions the ownership analysis asks of C code: where a name is declared and how (stack object, pointer,
// parameter, struct type), which object a field expression belongs to, and which functions are completion callbacks.
import type { Node } from '../parser';
import { descendantsOfType, declaredName, functionDeclarator, namedChildren, unwrapParens } from '../syntaxTools';
import type { SourceFile, Workspace } from '../workspace';
import { wordOffsets, type FileIndex } from '../fileIndex';

export interface Declaration {
  kind: 'param' | 'local';
  /** 'stack' for a struct or array object declared in the function; 'pointer' for a pointer; 'other' else. */
  storage: 'stack' | 'pointer' | 'other';
  /** `struct foo` / `foo_t` as written, without qualifiers and stars. */
  structType?: string;
  node: Node;
}

const memo = new WeakMap<Node, Map<string, Declaration | null>>();

/** The declaration of `name` in function `fn` (a parameter or a local anywhere in its body), or undefined. */
export function declarationOf(fn: Node, name: string): Declaration | undefined {
  let byName = memo.get(fn);
  if (!byName) { byName = new Map(); memo.set(fn, byName); }
  const cached = byName.get(name);
  if (cached !== undefined) return cached ?? undefined;
  const found = findDeclaration(fn, name);
  byName.set(name, found ?? null);
  return found;
}

function findDeclaration(fn: Node, name: string): Declaration | undefined {
  const params = functionDeclarator(fn)?.childForFieldName('parameters');
  for (const p of params ? namedChildren(params) : []) {
    if (p.type !== 'parameter_declaration') continue;
    const d = p.childForFieldName('declarator');
    if (declaredName(d) === name) return describe('param', p, d);
  }
  const body = fn.childForFieldName('body');
  if (!body) return undefined;
  for (const n of descendantsOfType(body, ['declaration'])) {
    for (const d of n.childrenForFieldName('declarator')) {
      if (d && declaredName(d) === name) return describe('local', n, d);
    }
  }
  return undefined;
}

function describe(kind: Declaration['kind'], decl: Node, declarator: Node | null): Declaration {
  const type = decl.childForFieldName('type');
  const structType = type && (type.type === 'struct_specifier' || type.type === 'union_specifier')
    ? type.childForFieldName('name')?.text
    : type?.type === 'type_identifier' ? type.text : undefined;
  let d: Node | null = declarator;
  let storage: Declaration['storage'] = 'other';
  // The outermost declarator decides: `struct x *p` is a pointer, `struct x req` / `struct x reqs[2]` a stack object.
  while (d) {
    if (d.type === 'init_declarator') { d = d.childForFieldName('declarator'); continue; }
    if (d.type === 'pointer_declarator') { storage = 'pointer'; break; }
    if (d.type === 'array_declarator') { storage = kind === 'param' ? 'pointer' : 'stack'; break; }
    if (d.type === 'identifier') { storage = structType && kind === 'local' ? 'stack' : 'other'; break; }
    d = d.childForFieldName('declarator');
  }
  return { kind, storage, structType, node: decl };
}

/** The field a field expression names last: `a->b.pages` gives 'pages'. */
export function fieldOf(node: Node): string | undefined {
  const n = unwrapParens(node);
  return n.type === 'field_expression' ? n.childForFieldName('field')?.text : undefined;
}

/** The variable an expression is built on: `&req->io.pages[i]` gives 'req', `ctx_tbl[i]` gives 'ctx_tbl'. */
export function rootIdentifier(node: Node): string | undefined {
  let n: Node | null = unwrapParens(node);
  for (let i = 0; n && i < 32; i++) {
    switch (n.type) {
      case 'identifier': return n.text;
      case 'field_expression': n = n.childForFieldName('argument'); break;
      case 'subscript_expression': n = n.childForFieldName('argument'); break;
      case 'pointer_expression': n = n.childForFieldName('argument'); break;
      case 'cast_expression': n = n.childForFieldName('value'); break;
      case 'parenthesized_expression': n = unwrapParens(n); if (n.type === 'parenthesized_expression') return undefined; break;
      case 'binary_expression': n = n.childForFieldName('left'); break;
      case 'init_declarator': n = n.childForFieldName('declarator'); break;
      case 'pointer_declarator': case 'array_declarator': n = n.childForFieldName('declarator'); break;
      default: return undefined;
    }
  }
  return undefined;
}

/** Struct members the kernel calls back when an asynchronous request completes. */
const COMPLETION_MEMBER = /(^|_)(complete|completion|end_io|done|callback|cb|complete_fn|endio)$/i;

const callbackMemo = new WeakMap<Workspace, Map<string, boolean>>();
const completionMemo = new WeakMap<Workspace, Map<string, boolean>>();

/** Answers a question about a name once per workspace (a new workspace per analysis: nothing goes stale). */
function memoised(memo: WeakMap<Workspace, Map<string, boolean>>, workspace: Workspace, name: string, answer: () => boolean): boolean {
  let byName = memo.get(workspace);
  if (!byName) { byName = new Map(); memo.set(workspace, byName); }
  let result = byName.get(name);
  if (result === undefined) { result = answer(); byName.set(name, result); }
  return result;
}

/**
 * The nodes of `type` (an identifier, or the field of a member access) spelling `name` in the driver's files, found
 * from where the name is written in the text (a walk of every tree cost most of an edit's analysis), and kept per file
 * index: the driver's other files keep theirs while one file is edited.
 */
export function* namesWritten(workspace: Workspace, name: string, type: 'identifier' | 'field_identifier' = 'identifier'): Generator<{ file: SourceFile; node: Node }> {
  for (const file of workspace.files) {
    for (const node of writtenIn(file, name, type)) yield { file, node };
  }
}

/** The nodes found where a name is written, per index and parse of its tree (a scan may let a context file's tree go and parse it again). */
const nodesByIndex = new WeakMap<FileIndex, { generation: number; byKey: Map<string, Node[]> }>();

function writtenIn(file: SourceFile, name: string, type: 'identifier' | 'field_identifier'): Node[] {
  const index = file.index;
  // The text search is kept per index and carried over edits (fileIndex.ts): no tree is read for a name a file lacks.
  const at = wordOffsets(index, file.text, name);
  if (at.length === 0) return [];
  const key = `${type} ${name}`;
  const kept = nodesByIndex.get(index);
  const known = kept?.generation === index.source.generation ? kept.byKey.get(key) : undefined;
  if (known) return known;
  const found: Node[] = [];
  const root = file.tree.rootNode;
  for (const i of at) {
    const node = root.descendantForIndex(i, i + name.length);
    if (node?.type === type && node.text === name) found.push(node);
  }
  // Kept under the generation read after the tree (reading it may have parsed it again).
  const generation = index.source.generation;
  let nodes = nodesByIndex.get(index);
  if (!nodes || nodes.generation !== generation) {
    nodes = { generation, byKey: new Map() };
    nodesByIndex.set(index, nodes);
  }
  nodes.byKey.set(key, found);
  return found;
}

/**
 * True when a driver function is handed over as a completion callback: assigned to (or initialised as) a member
 * such as `ki_complete`, `bi_end_io`, `complete`, `done`, `callback`.
 */
export function isCallbackFunction(workspace: Workspace, name: string): boolean {
  return memoised(callbackMemo, workspace, name, () => {
    for (const { node } of namesWritten(workspace, name)) if (installsCallback(node)) return true;
    return false;
  });
}

/**
 * True when a driver function runs when a request completes: it is a completion callback itself, it is called from
 * one, or one hands it over as a function value (`kref_put(&req->ref, req_free)` in the callback: the last
 * reference dropped at completion frees the request).
 */
export function runsAtCompletion(workspace: Workspace, name: string): boolean {
  return memoised(completionMemo, workspace, name, () => {
    if (isCallbackFunction(workspace, name)) return true;
    if (workspace.callsTo(name).some((c) => c.item.fn && isCallbackFunction(workspace, c.item.fn.name))) return true;
    for (const { file, node } of namesWritten(workspace, name)) {
      if (node.parent?.type !== 'argument_list') continue;
      const holder = file.index.functions.find((f) => f.start <= node.startIndex && node.endIndex <= f.end);
      if (holder && holder.name !== name && isCallbackFunction(workspace, holder.name)) return true;
    }
    return false;
  });
}

/** Calls that hand a function to a context where the device's events are handled, with the handler arguments. */
const EVENT_HANDLER_ARGS: Record<string, number[]> = {
  kthread_create: [0], kthread_run: [0], kthread_create_on_node: [0], kthread_create_on_cpu: [0],
  request_irq: [1], request_threaded_irq: [1, 2], request_any_context_irq: [1],
  devm_request_irq: [2], devm_request_threaded_irq: [2, 3], tasklet_init: [1], tasklet_setup: [1],
};

const eventMemo = new WeakMap<Workspace, Map<string, boolean>>();
const deviceEventMemo = new WeakMap<Workspace, Map<string, boolean>>();
const readMemo = new WeakMap<Workspace, Map<string, boolean>>();
const writeMemo = new WeakMap<Workspace, Map<string, boolean>>();

/** True when the function is handed to a thread, an interrupt handler or a tasklet: it runs on device events. */
function isEventHandler(workspace: Workspace, name: string): boolean {
  return memoised(eventMemo, workspace, name, () => {
    for (const { node } of namesWritten(workspace, name)) {
      // `kthread_create(&f, ...)` hands the function's address.
      const arg = node.parent?.type === 'pointer_expression' ? node.parent : node;
      const list = arg.parent;
      const call = list?.type === 'argument_list' ? list.parent : undefined;
      const callee = call?.childForFieldName('function')?.text;
      const indexes = callee ? EVENT_HANDLER_ARGS[callee] : undefined;
      if (!indexes || !list) continue;
      const index = namedChildren(list).filter((a) => a.type !== 'comment').findIndex((a) => a.id === arg.id);
      if (indexes.includes(index)) return true;
    }
    return false;
  });
}

/** True when the function is installed as one of `members` of an operations table (`.read = f`, `ops->write = f`). */
function installedAs(workspace: Workspace, name: string, members: Set<string>): boolean {
  for (const { node } of namesWritten(workspace, name)) {
    const member = memberInstalledAs(node);
    if (member && members.has(member)) return true;
  }
  return false;
}

/** `name` and the driver functions that call it, up to `depth` calls up. */
function callersUpTo(workspace: Workspace, name: string, depth: number): Set<string> {
  const seen = new Set([name]);
  let frontier = [name];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const f of frontier) {
      for (const c of workspace.callsTo(f)) {
        const caller = c.item.fn?.name;
        if (caller && !seen.has(caller) && seen.size < 64) { seen.add(caller); next.push(caller); }
      }
    }
    frontier = next;
  }
  return seen;
}

const READ_MEMBERS = new Set(['read', 'read_iter']);
const WRITE_MEMBERS = new Set(['write', 'write_iter']);
/**
 * How far up the callers a release is looked for from a thread, an interrupt handler or a read operation: a device
 * message loop reaches its release through about five calls (thread, parse loop, message, request, free).
 */
const EVENT_DEPTH = 6;

/**
 * True when the function runs where the device's events are handled: in a function handed to a thread, an interrupt
 * handler or a tasklet, or called from one (up to six calls down), e.g. a message loop that frees a bulk transfer
 * when the device reports it done.
 */
export function runsOnDeviceEvent(workspace: Workspace, name: string): boolean {
  return memoised(deviceEventMemo, workspace, name, () => [...callersUpTo(workspace, name, EVENT_DEPTH)].some((f) => isEventHandler(workspace, f)));
}

/** True when the function runs on the read file operation (or up to six calls below it): a request's result is collected. */
export function runsOnResultRead(workspace: Workspace, name: string): boolean {
  return memoised(readMemo, workspace, name, () => [...callersUpTo(workspace, name, EVENT_DEPTH)].some((f) => installedAs(workspace, f, READ_MEMBERS)));
}

/** True when the function is the write file operation: a request handed to the device by write(). */
export function isWriteOperation(workspace: Workspace, name: string): boolean {
  return memoised(writeMemo, workspace, name, () => installedAs(workspace, name, WRITE_MEMBERS));
}

/** `n` (a function's name) is assigned to, or initialises, a completion member: `req->done = n`, `.complete = n`. */
function installsCallback(n: Node): boolean {
  const member = memberInstalledAs(n);
  return !!member && COMPLETION_MEMBER.test(member);
}

/** The member a name is assigned to or initialises: `req->done = n` and `{ .done = n }` give 'done'. */
function memberInstalledAs(n: Node): string | undefined {
  const p = n.parent;
  if (p?.type === 'assignment_expression' && p.childForFieldName('right')?.id === n.id) {
    const left = p.childForFieldName('left');
    return left?.type === 'field_expression' ? left.childForFieldName('field')?.text : undefined;
  }
  if (p?.type === 'initializer_pair' && p.childForFieldName('value')?.id === n.id) {
    return p.namedChildren.find((c) => c?.type === 'field_designator')?.text.replace(/^\./, '');
  }
  return undefined;
}

/** True when the function returns -EIOCBQUEUED somewhere: an asynchronous (AIO) request left to complete later. */
export function returnsQueued(fn: Node): boolean {
  return /\bEIOCBQUEUED\b/.test(fn.text);
}
