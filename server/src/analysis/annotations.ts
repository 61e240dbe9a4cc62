// Reads forksafe comments: `forksafe-ignore FS###: reason` suppressions and `forksafe-assume KIND: reason` stated protections.
import type { Node } from './parser';
import type { CommentInfo } from './fileIndex';
import { isRuleCode, RuleCode } from './rules';
import type { ProtectionKind } from './protections';

/** The reason prompt the suppress fix selects in editors that take snippet edits: not a reason until typed over. */
export const SUPPRESSION_REASON_PROMPT = 'why fork() cannot break this pin';

export interface Suppression { codes: RuleCode[]; reason: string | undefined; comment: CommentInfo }
export interface Assumption { kind: ProtectionKind; reason: string; comment: CommentInfo }

const IGNORE = /forksafe-ignore\b\s*([A-Za-z0-9,\s]*?)\s*(?::\s*(.*?))?\s*(?:\*\/)?\s*$/m;
const ASSUME = /forksafe-assume\b\s*(dontfork|wipeonfork|notifier)\s*(?::\s*(.*?))?\s*(?:\*\/)?\s*$/m;

export function readSuppressions(comments: CommentInfo[]): Suppression[] {
  const out: Suppression[] = [];
  for (const c of comments) {
    const m = IGNORE.exec(c.text);
    if (!m) continue;
    const codes = m[1].split(/[\s,]+/).map((c) => c.toUpperCase()).filter(isRuleCode);
    const reason = m[2]?.trim();
    // A suppression that names no rule suppresses nothing: treat it like a missing reason so FS008 says so.
    // The quick fix inserts `<reason: ...>` for the author to replace: until then it is no reason.
    const real = reason && !/^<.*>$/.test(reason) && reason !== SUPPRESSION_REASON_PROMPT ? reason : undefined;
    out.push({ codes, reason: real && codes.length > 0 ? real : undefined, comment: c });
  }
  return out;
}

export function readAssumptions(comments: CommentInfo[]): Assumption[] {
  const out: Assumption[] = [];
  for (const c of comments) {
    const m = ASSUME.exec(c.text);
    if (m) out.push({ kind: m[1] as ProtectionKind, reason: m[2]?.trim() || 'stated by the driver author', comment: c });
  }
  return out;
}

/** A suppression applies to diagnostics on its own line or the line right after the comment. */
export function suppresses(s: Suppression, code: RuleCode, line: number): boolean {
  return s.reason !== undefined && s.codes.includes(code) && (line === s.comment.startLine || line === s.comment.endLine + 1);
}

/** True when `target` is in the run of comments that ends on the line right above `line` (comments stacked line after line). */
function inCommentBlockAbove(target: CommentInfo, line: number, comments: CommentInfo[]): boolean {
  const byEnd = new Map(comments.map((c) => [c.endLine, c]));
  let at = line - 1;
  for (let c = byEnd.get(at); c; c = byEnd.get(at)) {
    if (c === target) return true;
    at = c.startLine - 1;
  }
  return false;
}

/**
 * An assumption applies on the pin's line or anywhere in the block of comments right above it (so a suppression
 * inserted between the two does not cut it off), or in the comment block right above the enclosing function.
 */
export function assumptionApplies(a: Assumption, pinLine: number, fn: Node | undefined, comments: CommentInfo[]): boolean {
  if (a.comment.startLine === pinLine || inCommentBlockAbove(a.comment, pinLine, comments)) return true;
  return fn !== undefined && inCommentBlockAbove(a.comment, fn.startPosition.row, comments);
}
