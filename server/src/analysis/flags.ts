// Resolves what a pin call's flags say: can the device write, is FOLL_LONGTERM set.
import type { Node } from './parser';

/** True when the identifier `flag` appears anywhere in the expression. */
export function mentionsFlag(expr: Node, flag: string): boolean {
  if (expr.type === 'identifier' && expr.text === flag) return true;
  for (const child of expr.namedChildren) {
    if (child && mentionsFlag(child, flag)) return true;
  }
  return false;
}
