// The reuse check of an edited open document (incremental.ts) asked with what DocumentTrees recorded of the re-parse: shared by the server's analyses and its warm-up, so both take the same path.
import type { Tree } from '../analysis/parser';
import type { Report } from '../engine';
import { reuseReport, ReuseResult } from '../incremental';
import type { DocumentChange } from './documentTrees';

/** `previous` (the report of `change.fromVersion`, made with watch names) moved to `text`, or why it cannot be. */
export function reuseAfterChange(previous: Report, change: DocumentChange, text: string, tree: Tree): ReuseResult {
  return reuseReport({
    previous, previousText: change.previousText, text, tree,
    edit: change.edit, changedRanges: change.changedRanges, oldRegion: change.oldRegion,
  });
}
