// Finds pin sites: calls that pin user pages, directly or (later) through macros and wrappers.
import type { Node, Tree, CSyntax } from './parser';

/** Names of the kernel's user-page pinning entry points, by prefix; the per-era argument table is pinApis.ts. */
const PIN_API_NAME = /^(__)?(get|pin)_user_pages(_\w+)?$/;

export function isPinApiName(name: string): boolean {
  return PIN_API_NAME.test(name);
}

export interface CallSite {
  name: string;
  call: Node;
  nameNode: Node;
  args: Node[];
}

/** Every call of a plain identifier in the tree, in source order. */
export function findCalls(syntax: CSyntax, tree: Tree): CallSite[] {
  const out: CallSite[] = [];
  for (const match of syntax.query('calls').matches(tree.rootNode)) {
    let call: Node | undefined;
    let nameNode: Node | undefined;
    let argList: Node | undefined;
    for (const c of match.captures) {
      if (c.name === 'call') call = c.node;
      else if (c.name === 'call.name') nameNode = c.node;
      else if (c.name === 'call.args') argList = c.node;
    }
    if (!call || !nameNode || !argList) continue;
    out.push({ name: nameNode.text, call, nameNode, args: argList.namedChildren.filter((n): n is Node => n !== null && n.type !== 'comment') });
  }
  return out;
}

export function findDirectPinCalls(calls: CallSite[]): CallSite[] {
  return calls.filter((c) => isPinApiName(c.name));
}
