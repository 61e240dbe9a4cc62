// Phase one's reading for `forksafe scan`: each driver group's files read one at a time into an arena and tested on their bytes; read again and decoded only when the group may name a pin API (or for the few targets it analyses anyway).
import { holdsSuppression, mentionsPinApiBytes, namesPinApiInCodeBytes, RELEVANT_TEXT } from '../runtime/fileRelevance';
import { ByteArena, BytesRead, decodedLength, decodeText, PartsLength, PartsReading, readScanBytes, readSourceBytes } from '../runtime/sourceFiles';
import type { InputError } from '../runtime/scanTargets';
import { includedOutside, IncludeResolver, mayMatterBytes, quotedIncludesInBytes } from '../runtime/includes';

/** The files of one driver scope: its targets (reported on) and every member (targets first). */
export interface GroupFiles { targets: string[]; members: string[] }

/**
 * A readable member; `text` (and `notes`, from decoding) when the plan needs them. `oversize`: a target whose text is
 * over the size limit, with that text's length and the notes decoding it gives (the plan reports FS009 from them).
 */
export interface ReadMember {
  path: string; target: boolean; size: number; mtimeMs: number; text?: string; notes?: string[];
  oversize?: { length: number; notes: string[] };
}

export interface GroupRead {
  /** The readable members, in group order. */
  members: ReadMember[];
  /** Targets that could not be read. */
  errors: InputError[];
  /** Targets read or tried (progress). */
  targetsRead: number;
  /**
   * Some member's code names a pin API (a target read in parts: its bytes anywhere): every member carries its text, to
   * be selected from.
   */
  mayPin: boolean;
  /**
   * Targets to analyse whatever the selection says: over the size limit (FS009, they carry `oversize`); when the group
   * cannot pin, also those with a suppression comment (FS008), which is all a group without a pin API can report (they
   * carry their text).
   */
  chosen: string[];
}

export interface ReadOptions {
  maxBytes: number;
  /** False (no prefilter: every file is analysed, every member is context): the bytes are only read and checked. */
  prefilter: boolean;
  /** The buffer a target over the size limit is read through (readInParts; default 1 MiB; tests hand in small ones). */
  pieceBytes?: number;
  /**
   * Follow the members' quoted includes out of the folder (runtime/includes.ts), with `display` giving the path a
   * header found is listed under (relative when the scan's paths are). Absent: the folder's files only.
   */
  includes?: {
    resolver: IncludeResolver; display: (resolved: string) => string;
    /** The include names of headers found not to matter (mayMatterBytes), kept across the groups of a scan batch. */
    passedThrough: Map<string, string[]>;
  };
}

/**
 * Reads a group. Its bytes live in `arena` until the next group; what outlives them is decoded text. A group none of
 * whose files names a pin API in its code (runtime/fileRelevance.ts: namesPinApiInCodeBytes) is not decoded, but for
 * the targets it will analyse.
 */
export function readGroup(group: GroupFiles, opts: ReadOptions, arena: ByteArena): GroupRead {
  const { maxBytes } = opts;
  const isTarget = new Set(group.targets);
  const out: GroupRead = { members: [], errors: [], targetsRead: 0, mayPin: false, chosen: [] };
  /** Per member: a suppression comment in a target. */
  const suppressions: boolean[] = [];
  // A target over the size limit is read in parts, never whole: its length for FS009 and its byte tests are all the
  // scan needs of it, and read whole it grew the reading arena to the largest such file (32 MiB for a 23 MB register
  // header, through 1-16 MiB buffers before it) for the rest of the batch. What the parts tell, for the target read last.
  const large = new LargeTargetFacts();
  const parts: PartsReading = { over: maxBytes, onPart: (part) => large.add(part), pieceBytes: opts.pieceBytes };
  // Pass one: each file alone in the arena, tested on its bytes and dropped, so the arena holds one file, not a
  // folder (a 1,400-file include/linux kept 135 MB of buffers alive for the rest of a kernel scan). Returns the file's
  // quoted include names when the group follows them (undefined when unreadable).
  const passOne = (file: string, target: boolean, external = false): string[] | undefined => {
    arena.reset();
    large.reset();
    // Other files over the size limit are never context (the loader skips them too); targets are read whatever their
    // size, for FS009 (over the limit, in parts). Reads stat first, so an oversized file is not read whole.
    let read = readMember(file, target, maxBytes, arena, parts);
    // Not valid UTF-8: its length is the lossy decoding's, which needs the whole file (rare: read whole, as before).
    if (read.ok && read.inParts && large.measured.length === undefined) read = readMember(file, target, maxBytes, arena);
    if (target) out.targetsRead++;
    if (!read.ok) {
      if (target) out.errors.push({ path: file, error: read.error });
      return undefined;
    }
    // A header from outside the folder is followed for its includes, and joins the group only when it can change a
    // verdict (it names a pin API, a gup flag or a protection).
    if (external && !mayMatterBytes(read.bytes, RELEVANT_TEXT)) {
      const names = quotedIncludesInBytes(read.bytes);
      opts.includes?.passedThrough.set(file, names);
      return names;
    }
    const member: ReadMember = { path: file, target, size: read.size, mtimeMs: read.mtimeMs };
    // Decoded text is at most one UTF-16 unit per byte: only a target of more bytes than the limit can be over it. Its
    // length is counted on the bytes (decoded only when they are not valid UTF-8), so a generated register header of
    // 16 MB is read once and never decoded.
    if (read.inParts) {
      const length = large.measured.length!;
      if (length > maxBytes) member.oversize = { length, notes: [] };
    } else if (target && read.bytes.length > maxBytes) {
      const counted = decodedLength(read.bytes);
      const decoded = counted === undefined ? decodeText(read.bytes, file) : undefined;
      const length = counted ?? decoded!.text.length;
      if (length > maxBytes) member.oversize = { length, notes: decoded?.notes ?? [] };
    }
    out.members.push(member);
    // A file read in parts is over the size limit: never context, so its includes are not followed.
    const includes = opts.includes && !read.inParts ? quotedIncludesInBytes(read.bytes) : undefined;
    if (!opts.prefilter) return includes;
    // A name only in comments or literals pins nothing (selectRelevantFiles would examine no file for it): such a
    // group is not decoded. A target read in parts is tested on its raw bytes (a comment can span two parts), which
    // can only decode a group the selection then finds nothing in.
    if (!out.mayPin && (read.inParts ? large.pin : namesPinApiInCodeBytes(read.bytes))) out.mayPin = true;
    suppressions.push(target && (read.inParts ? large.suppression : holdsSuppression(read.bytes)));
    return includes;
  };
  const includesOf = new Map<string, string[] | undefined>();
  for (const file of group.members) includesOf.set(file, passOne(file, isTarget.has(file)));
  // Headers from outside the folder that its files include (runtime/includes.ts): read as members that are never
  // targets, so a pin macro in a compat header of a sibling folder is seen as the compiler sees it.
  if (opts.includes) {
    const { resolver, display, passedThrough } = opts.includes;
    includedOutside(group.members, (file) => {
      if (includesOf.has(file)) return includesOf.get(file);
      const shown = display(file);
      return passedThrough.get(shown) ?? passOne(shown, false, true);
    }, resolver);
  }
  if (!opts.prefilter) return out;
  // Pass two, only for the members whose text the plan needs: every member of a group that may pin; otherwise the
  // targets over the size limit (FS009, known from pass one) or holding a suppression (FS008). Read again and decoded
  // one by one.
  const kept: ReadMember[] = [];
  out.members.forEach((m, i) => {
    if (!out.mayPin && m.target && m.oversize) { kept.push(m); out.chosen.push(m.path); return; }
    if (!out.mayPin && !(m.target && suppressions[i])) { kept.push(m); return; }
    arena.reset();
    const again = readMember(m.path, m.target, maxBytes, arena);
    if (!again.ok) {
      // Changed or gone since pass one: as if unreadable from the start.
      if (m.target) out.errors.push({ path: m.path, error: again.error });
      return;
    }
    m.size = again.size;
    m.mtimeMs = again.mtimeMs;
    kept.push(m);
    const decoded = decodeText(again.bytes, m.path);
    const oversize = m.target && decoded.text.length > maxBytes;
    m.oversize = oversize ? { length: decoded.text.length, notes: decoded.notes } : undefined;
    const chosen = oversize || (!out.mayPin && m.target && holdsSuppression(again.bytes));
    if (chosen) out.chosen.push(m.path);
    if (!out.mayPin && !chosen) return;
    m.text = decoded.text;
    m.notes = decoded.notes;
  });
  out.members = kept;
  return out;
}

/**
 * What a scan needs of a target read in parts (readInParts: each part ends after an ASCII byte that is not a word byte,
 * or at the end): its decoded length, whether it names a pin API and whether it holds a suppression comment, the same
 * answers as decodedLength, mentionsPinApiBytes and holdsSuppression on the whole bytes (no identifier or UTF-8
 * sequence spans two parts; the suppression text, whose '-' may end a part, is looked for across each boundary too).
 */
export class LargeTargetFacts {
  measured = new PartsLength();
  pin = false;
  suppression = false;
  private tail: Buffer = NO_BYTES;

  /** Ready for the next file (nothing is allocated until a file is read in parts). */
  reset(): void {
    if (this.measured.empty) return;
    this.measured = new PartsLength();
    this.pin = false;
    this.suppression = false;
    this.tail = NO_BYTES;
  }

  add(part: Buffer): void {
    this.measured.add(part);
    if (!this.pin && mentionsPinApiBytes(part)) this.pin = true;
    if (this.suppression) return;
    const reach = SUPPRESSION_LENGTH - 1;
    if (holdsSuppression(part) || holdsSuppression(Buffer.concat([this.tail, part.subarray(0, reach)]))) this.suppression = true;
    this.tail = Buffer.from(part.subarray(Math.max(0, part.length - reach)));
  }
}

const SUPPRESSION_LENGTH = 'forksafe-ignore'.length;
const NO_BYTES = Buffer.alloc(0);

/** A member's bytes: a target whatever its size (FS009; with `parts`, over the limit in parts), another member within the limit. */
function readMember(file: string, target: boolean, maxBytes: number, arena: ByteArena, parts?: PartsReading): BytesRead {
  return target ? readScanBytes(file, arena, parts) : readSourceBytes(file, maxBytes, arena);
}
