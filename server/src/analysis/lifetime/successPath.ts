// Whether a release call runs on the pin's success path: the branches around it and the statements between the pin
// and the release, read from the syntax (a release on error paths only does not end the pin's life).
import type { Node } from '../parser';
import { descendantsOfType, identifiersIn, namedChildren, statementIn, unwrapParens, isAncestor } from '../syntaxTools';
import { rootIdentifier } from './ownership';

const BRANCHES = new Set(['if_statement', 'else_clause', 'switch_statement', 'case_statement', 'conditional_expression']);

/**
 * True when `release` runs on the path that returns success: it is not under a branch that the pin is not also
 * under (except a branch that tests the pin's own result and does not leave the function: `if (got > 0) put...`), no
 * top-level `return` lies between them, and it is not behind a label reached only by goto.
 */
/**
 * With `owner` (the names standing for the object that holds the pages), a branch that only tests that object's state
 * for being set (`if (batch->nr_ops)`, `if (do_dio)` with `do_dio = STbp->do_dio`) is taken on the success path too:
 * the object holds pages there.
 */
export function onSuccessPath(release: Node, pin: Node, body: Node, owner?: Set<string>): boolean {
  const result = resultName(pin);
  // The pin's result still holds what the pin returned at `at` (no assignment to it in between).
  const unchanged = (at: Node): boolean => !!result && !reassignedBetween(body, result, pin, at);
  for (let n: Node | null = release.parent; n && n.id !== body.id; n = n.parent) {
    if (!BRANCHES.has(n.type) || isAncestor(n, pin)) continue;
    if (n.type === 'if_statement' && result && testsOnlyResult(n, result, releasedArray(release)) && unchanged(n) && !leavesFunction(n.childForFieldName('consequence'))) continue;
    // `if (pages) unpin_user_pages(pages, n);` at a shared exit: the success path still has the array, so it takes
    // the branch; unless the array is handed over first (`obj->pvec = pvec; pvec = NULL;`).
    if (n.type === 'if_statement') {
      const guarded = guardedArray(n, release);
      if (guarded && !nulledBetween(body, guarded, pin, n)) continue;
      if (owner && inConsequence(n, release) && testsStateOf(n, owner)) continue;
    }
    if (n.type === 'else_clause' && n.parent?.type === 'if_statement' && result && testsResult(n.parent, result) && unchanged(n.parent) && !leavesFunction(n)) continue;
    return false;
  }
  const releaseTop = statementIn(body, release);
  const pinTop = statementIn(body, pin);
  if (!releaseTop || !pinTop) return false;
  if (releaseTop.id === pinTop.id) return !exitsBetweenInBlock(release, pin, result);
  const statements = namedChildren(body);
  const from = statements.findIndex((s) => s.id === pinTop.id);
  const to = statements.findIndex((s) => s.id === releaseTop.id);
  if (from < 0 || to < 0 || to < from) return false;
  for (let i = from + 1; i < to; i++) {
    if (statements[i].type === 'return_statement') return false;
    // `ret = 0; goto out;`: the success path jumps; it reaches the release only when the label is not past it (the
    // release under the error label before `out:` is the failure path's, hailort's prepare_sg_table()).
    if (statements[i].type === 'goto_statement') {
      const label = statements[i].childForFieldName('label')?.text;
      const target = statements.findIndex((s) => s.type === 'labeled_statement' && s.childForFieldName('label')?.text === label);
      if (target < i || target > to) return false;
      i = target - 1;
      continue;
    }
    // `if (got == nr) return 0;`: the success path leaves before the release, which only the failure path reaches.
    if (statements[i].type === 'if_statement' && result && testsResult(statements[i], result) && returnsSuccess(statements[i].childForFieldName('consequence'))) return false;
    // A label between them is reached by goto from error paths; the success path falls through to it only
    // when no `return` precedes the label (checked above), so the release after it still runs on success.
  }
  return true;
}

/**
 * The early exits of the pin's own failure check: a `return`/`goto` under an `if` that tests the pin's result
 * (`if (!obj) return -ENOMEM;`, `if (got != nr) goto fail;`) and does not report success.
 */
export function failureExitOf(pin: Node, body: Node, assignments: ReadonlyMap<string, number[]>): (n: Node) => boolean {
  const result = resultName(pin);
  if (!result) return () => false;
  // Where the result is assigned again after the pin: a test after that no longer tests the pin's result.
  const reassigned = (assignments.get(result) ?? []).find((at) => at >= pin.endIndex) ?? Infinity;
  return (n: Node): boolean => {
    if ((n.type !== 'return_statement' && n.type !== 'goto_statement') || n.startIndex < pin.endIndex) return false;
    if (n.type === 'return_statement' && returnsSuccess(n)) return false;
    for (let p: Node | null = n.parent; p && p.id !== body.id; p = p.parent) {
      if (p.type === 'if_statement') return testsResult(p, result) && p.startIndex < reassigned;
    }
    return false;
  };
}


/**
 * Pin and release in one block below the function's top level (a retry loop): an `if (...) break;` between them that
 * does not test the pin's result is the way the success path leaves the loop, so the release after it runs only on the
 * path that stays (`for (;;) { va = pin(); if (gpa == next) break; unpin(va); }`).
 */
function exitsBetweenInBlock(release: Node, pin: Node, result: string | undefined): boolean {
  let block: Node | null = release.parent;
  while (block && !(block.type === 'compound_statement' && isAncestor(block, pin))) block = block.parent;
  if (!block) return false;
  const children = namedChildren(block);
  const from = children.findIndex((s) => isAncestor(s, pin) || s.id === pin.id);
  const to = children.findIndex((s) => isAncestor(s, release) || s.id === release.id);
  if (from < 0 || to <= from) return false;
  for (let i = from + 1; i < to; i++) {
    const s = children[i];
    if (s.type === 'break_statement') return true;
    if (s.type !== 'if_statement' || s.childForFieldName('alternative') || (result && testsResult(s, result))) continue;
    const c = s.childForFieldName('consequence');
    const first = c?.type === 'compound_statement' ? namedChildren(c).find((x) => x.type !== 'comment') : c;
    // Only a loop exit: an early return or goto after the pin is its failure path (`if (got <= 0) return ...`).
    if (first && first.type === 'break_statement') return true;
  }
  return false;
}

/** The root of a release call's first argument (`put_page(pages[i])` gives 'pages'). */
function releasedArray(release: Node): string | undefined {
  const args = release.childForFieldName('arguments');
  const first = args ? namedChildren(args).find((a) => a.type !== 'comment') : undefined;
  return first ? rootIdentifier(first) : undefined;
}

/** The release's own pages array when the if's condition only checks that it is there (`if (pages)`, `if (p != NULL)`). */
function guardedArray(ifStmt: Node, release: Node): string | undefined {
  const cond = ifStmt.childForFieldName('condition');
  const root = releasedArray(release);
  if (!cond || !root) return undefined;
  const text = unwrapParens(cond).text.replace(/\s+/g, '');
  return text === root || text === `${root}!=NULL` || text === `NULL!=${root}` ? root : undefined;
}

/** The release is in the if's consequence (not its else branch). */
function inConsequence(ifStmt: Node, release: Node): boolean {
  const consequence = ifStmt.childForFieldName('consequence');
  return !!consequence && isAncestor(consequence, release);
}

/**
 * The if's condition is a plain "is set" test of the owner's state: `x`, `x->n`, `x != NULL`, `x > 0`, `x->n != 0`,
 * every name in it standing for the owner (no call, no negation, no other variable).
 */
function testsStateOf(ifStmt: Node, owner: Set<string>): boolean {
  const cond = ifStmt.childForFieldName('condition');
  if (!cond) return false;
  let c = unwrapParens(cond);
  if (c.type === 'binary_expression') {
    const op = c.childForFieldName('operator')?.text;
    const right = c.childForFieldName('right');
    const left = c.childForFieldName('left');
    if (!left || !right || !(op === '!=' || op === '>') || !(right.text === '0' || right.text === 'NULL')) return false;
    c = unwrapParens(left);
  }
  if (c.type !== 'identifier' && c.type !== 'field_expression') return false;
  for (const d of identifiersIn(c)) if (!owner.has(d.text)) return false;
  return c.type === 'field_expression' || owner.has(c.text);
}

/** `name` is set to NULL (or 0) between `from` and `to`: handed over (`obj->pvec = pvec; pvec = NULL;`). */
function nulledBetween(body: Node, name: string, from: Node, to: Node): boolean {
  for (const d of descendantsOfType(body, ['assignment_expression'])) {
    if (d.startIndex < from.endIndex || d.startIndex >= to.startIndex) continue;
    const left = d.childForFieldName('left');
    const right = d.childForFieldName('right');
    if (!left || !right || unwrapParens(left).type !== 'identifier' || unwrapParens(left).text !== name) continue;
    const value = unwrapParens(right);
    if (value.type === 'null' || value.text === 'NULL' || value.text === '0') return true;
  }
  return false;
}

/** A branch that leaves the function reporting success: `return 0;`, a bare `return;`. */
function returnsSuccess(node: Node | null | undefined): boolean {
  if (!node) return false;
  for (const d of descendantsOfType(node, ['return_statement'])) {
    const value = namedChildren(d).find((c) => c.type !== 'comment');
    if (!value || value.text === '0') return true;
  }
  return false;
}

/** `name` is assigned between the end of `from` and the start of `to` (e.g. `ret = iommu_map(...)` reusing the pin's result variable). */
function reassignedBetween(body: Node, name: string, from: Node, to: Node): boolean {
  for (const d of descendantsOfType(body, ['assignment_expression'])) {
    if (d.startIndex < from.endIndex || d.startIndex >= to.startIndex) continue;
    const left = d.childForFieldName('left');
    if (left && unwrapParens(left).type === 'identifier' && unwrapParens(left).text === name) return true;
  }
  return false;
}

/** The variable the pin call's result is assigned to (`got = get_user_pages(...)`). */
function resultName(pin: Node): string | undefined {
  const p = pin.parent;
  if (p?.type === 'assignment_expression') { const l = p.childForFieldName('left'); return l && unwrapParens(l).type === 'identifier' ? unwrapParens(l).text : undefined; }
  if (p?.type === 'init_declarator') return rootIdentifier(p.childForFieldName('declarator') ?? p);
  return undefined;
}

/**
 * The condition tests the pin's result and nothing else (`if (got > 0)`, `if (va)`, `if (n != NR)`): the cleanup of what
 * the pin returned, taken on the success path too. `if (va && nb < len)` also tests something else: a branch.
 */
function testsOnlyResult(ifStmt: Node, result: string, array: string | undefined): boolean {
  const cond = ifStmt.childForFieldName('condition');
  if (!cond || !testsResult(ifStmt, result)) return false;
  for (const d of descendantsOfType(cond, ['identifier', 'field_expression', 'call_expression'])) {
    // The result, the released array itself (`if (pages && got > 0)`), constants.
    if (d.type === 'identifier' && d.text !== result && d.text !== array && !/^[A-Z][A-Z0-9_]*$/.test(d.text)) return false;
    if (d.type === 'field_expression' || d.type === 'call_expression') return false;
  }
  return true;
}

function testsResult(ifStmt: Node, result: string): boolean {
  const cond = ifStmt.childForFieldName('condition');
  if (!cond) return false;
  for (const d of identifiersIn(cond)) if (d.text === result) return true;
  return false;
}

function leavesFunction(node: Node | null | undefined): boolean {
  if (!node) return false;
  return descendantsOfType(node, ['return_statement', 'goto_statement']).length > 0;
}

