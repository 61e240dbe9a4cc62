// Phase one's reading for `forksafe scan`: each driver group's files read into one arena and tested on their bytes; decoded only when the group may name a pin API (or for the few targets it analyses anyway).
import { holdsSuppression, mayMentionPinApi } from '../runtime/fileRelevance';
import { ByteArena, BytesRead, decodeText, readScanBytes, readSourceBytes } from '../runtime/sourceFiles';
import type { InputError } from '../runtime/scanTargets';

/** The files of one driver scope: its targets (reported on) and every member (targets first). */
export interface GroupFiles { targets: string[]; members: string[] }

/** A readable member; `text` (and `notes`, from decoding) when the plan needs them. */
export interface ReadMember { path: string; target: boolean; size: number; mtimeMs: number; text?: string; notes?: string[] }

export interface GroupRead {
  /** The readable members, in group order. */
  members: ReadMember[];
  /** Targets that could not be read. */
  errors: InputError[];
  /** Targets read or tried (progress). */
  targetsRead: number;
  /** Some member's bytes may name a pin API: every member carries its text, to be selected from. */
  mayPin: boolean;
  /**
   * Targets to analyse whatever the selection says: over the size limit (FS009); when the group cannot pin, also those
   * with a suppression comment (FS008), which is all a group without a pin API can report. They carry their text.
   */
  chosen: string[];
}

export interface ReadOptions {
  maxBytes: number;
  /** False (no prefilter: every file is analysed, every member is context): the bytes are only read and checked. */
  prefilter: boolean;
}

/**
 * Reads a group. Its bytes live in `arena` until the next group; what outlives them is decoded text. A group none of
 * whose files can name a pin API (runtime/fileRelevance.ts: mayMentionPinApi) is not decoded, but for the targets it
 * will analyse.
 */
export function readGroup(group: GroupFiles, opts: ReadOptions, arena: ByteArena): GroupRead {
  const { maxBytes } = opts;
  arena.reset();
  const isTarget = new Set(group.targets);
  const out: GroupRead = { members: [], errors: [], targetsRead: 0, mayPin: false, chosen: [] };
  const bytes: Buffer[] = [];
  for (const file of group.members) {
    const target = isTarget.has(file);
    // Other files over the size limit are never context (the loader skips them too); targets are read whatever their
    // size, for FS009. Reads stat first, so an oversized file is not read.
    const read: BytesRead = target ? readScanBytes(file, arena) : readSourceBytes(file, maxBytes, arena);
    if (target) out.targetsRead++;
    if (!read.ok) {
      if (target) out.errors.push({ path: file, error: read.error });
      continue;
    }
    out.members.push({ path: file, target, size: read.size, mtimeMs: read.mtimeMs });
    bytes.push(read.bytes);
  }
  if (!opts.prefilter) return out;
  out.mayPin = bytes.some((b) => mayMentionPinApi(b));
  out.members.forEach((m, i) => {
    const b = bytes[i];
    // Decoded text is at most one UTF-16 unit per byte: only a target of more bytes than the limit can be over it.
    let decoded = out.mayPin || b.length > maxBytes ? decodeText(b, m.path) : undefined;
    const oversize = m.target && decoded !== undefined && decoded.text.length > maxBytes;
    const chosen = oversize || (!out.mayPin && m.target && holdsSuppression(b));
    if (chosen) { out.chosen.push(m.path); decoded ??= decodeText(b, m.path); }
    if (!decoded || (!out.mayPin && !chosen)) return;
    m.text = decoded.text;
    m.notes = decoded.notes;
  });
  return out;
}
