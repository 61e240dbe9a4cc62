// Reads C sources from disk for the CLI and the language server: size limit, binary and encoding checks.
import * as fs from 'fs';
import * as path from 'path';
import { isAscii, isUtf8 } from 'buffer';
import { isWordCode } from '../analysis/syntaxTools';

export type SourceRead =
  | { ok: true; path: string; text: string; notes: string[] }
  | { ok: false; path: string; error: string };

const C_EXTENSIONS = new Set(['.c', '.h']);

export function isCSourcePath(file: string): boolean {
  return C_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** The C sources among a folder's entries, as driver context lists them: regular files (not symlinks), joined to `dir`. */
export function cSourcesIn(dir: string, entries: readonly fs.Dirent[]): string[] {
  return entries.filter((e) => e.isFile() && isCSourcePath(e.name)).map((e) => path.join(dir, e.name));
}

/** Refuses binary content (a NUL byte in the first 8 KiB): the one check on a source that needs no decoding. */
export function binaryError(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, Math.min(bytes.length, 8192));
  return head.includes(0) ? 'binary file (contains NUL bytes); not a C source' : undefined;
}

/** Decodes bytes already checked by binaryError: invalid UTF-8 is decoded lossily with a note, a BOM dropped. */
export function decodeText(bytes: Uint8Array, displayPath: string): { text: string; notes: string[] } {
  const notes: string[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
    notes.push(`${displayPath}: not valid UTF-8; invalid bytes were replaced with U+FFFD before analysis`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text, notes };
}

/**
 * The length decodeText's text would have (UTF-16 units, leading BOMs dropped as it drops them), counted on the bytes without decoding them;
 * undefined when they are not valid UTF-8 (lossy decoding decides then, and adds a note). One unit per byte that is not
 * a continuation byte, two for a four-byte sequence (a surrogate pair).
 */
export function decodedLength(bytes: Uint8Array): number | undefined {
  const b = asBuffer(bytes);
  if (isAscii(b)) return b.length;
  if (!isUtf8(b)) return undefined;
  return utf16Units(b) - leadingBoms(b);
}

/** `bytes` as a Buffer over the same memory (no copy): the byte tests use Buffer's native search and decoding. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The BOMs decoding drops at the start of `b`: TextDecoder drops one, decodeText a U+FEFF after it; up to two. */
function leadingBoms(b: Uint8Array): number {
  const bomAt = (i: number): boolean => b.length >= i + 3 && b[i] === 0xef && b[i + 1] === 0xbb && b[i + 2] === 0xbf;
  return bomAt(0) ? (bomAt(3) ? 2 : 1) : 0;
}

/** The UTF-16 units valid UTF-8 bytes decode to (BOMs counted): one per sequence, two for a four-byte one. */
function utf16Units(b: Uint8Array): number {
  let units = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) units += c >= 0xf0 ? 2 : 1;
  }
  return units;
}

/**
 * decodedLength of a file read in parts (readInParts): each part ends after an ASCII byte (or at the end of the file),
 * so no UTF-8 sequence spans two parts and the whole is valid exactly when every part is.
 */
export class PartsLength {
  private units = 0;
  private bom = -1;
  private valid = true;

  add(part: Buffer): void {
    if (this.bom < 0) this.bom = leadingBoms(part);
    if (!this.valid) return;
    if (isAscii(part)) this.units += part.length;
    else if (isUtf8(part)) this.units += utf16Units(part);
    else this.valid = false;
  }

  /** No part added yet. */
  get empty(): boolean {
    return this.bom < 0;
  }

  /** decodedLength of the parts together; undefined when they are not valid UTF-8. */
  get length(): number | undefined {
    return this.valid ? this.units - Math.max(0, this.bom) : undefined;
  }
}

/** An ASCII byte that is not a word byte ([A-Za-z0-9_]): a part may end after it (readInParts). */
function endsPart(c: number): boolean {
  return c < 0x80 && !isWordCode(c);
}

/**
 * Reads an open file through one buffer of `pieceBytes`, handing `onPart` its bytes in order, each part ending after an
 * ASCII byte that is not a word byte (or at the end of the file): no UTF-8 sequence and no identifier spans two parts.
 * A part is a view of the buffer, valid only during the call; the file is never held whole. Returns binaryError of its
 * first 8 KiB (then nothing is handed on), or undefined.
 */
export function readInParts(fd: number, pieceBytes: number, onPart: (part: Buffer) => void): string | undefined {
  const head = Buffer.allocUnsafe(8192);
  const binary = binaryError(head.subarray(0, fs.readSync(fd, head, 0, head.length, 0)));
  if (binary) return binary;
  let buf = Buffer.allocUnsafe(Math.max(1, pieceBytes));
  let held = 0;
  let position = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, held, buf.length - held, position);
    position += n;
    const filled = held + n;
    if (n === 0) {
      if (filled > 0) onPart(buf.subarray(0, filled));
      return undefined;
    }
    let cut = filled - 1;
    while (cut >= 0 && !endsPart(buf[cut]!)) cut--;
    if (cut < 0) {
      // No place to end a part yet: read on, into a larger buffer when this one is full.
      if (filled === buf.length) {
        const larger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(larger, 0, 0, filled);
        buf = larger;
      }
      held = filled;
      continue;
    }
    onPart(buf.subarray(0, cut + 1));
    buf.copy(buf, 0, cut + 1, filled);
    held = filled - cut - 1;
  }
}

/** Decodes bytes as C text. Binary content is refused; invalid UTF-8 is decoded lossily with a note, not refused. */
export function decodeSource(bytes: Uint8Array, displayPath: string): SourceRead {
  const binary = binaryError(bytes);
  if (binary) return { ok: false, path: displayPath, error: binary };
  return { ok: true, path: displayPath, ...decodeText(bytes, displayPath) };
}

/** Files this much larger than the size limit are not even read by the scanner: the engine would only report FS009 for them. */
export const HARD_READ_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Reads a file the scanner reports on. Unlike readSource, a file over the size limit is still read (up to
 * HARD_READ_LIMIT_BYTES) so the engine reports FS009 for it, as the editor does, instead of an input error.
 */
export function readScanSource(file: string): SourceRead {
  return decodeRead(readScanBytes(file));
}

export function readSource(file: string, maxBytes: number): SourceRead {
  return decodeRead(readSourceBytes(file, maxBytes));
}

/**
 * A source read but not decoded, with the stat it was read under (mtime and size, for caches). The scan's
 * prefilter tests the bytes of every file and decodes only the few it keeps (runtime/fileRelevance.ts says
 * why a byte test can stand for the text test).
 */
export type BytesRead =
  | { ok: true; path: string; bytes: Buffer; mtimeMs: number; size: number; inParts?: boolean }
  | { ok: false; path: string; error: string };

/**
 * A file of more than `over` bytes is not read whole but handed to `onPart` in parts (readInParts); its read then has
 * no bytes and `inParts` set. What a scan does with a target over the size limit: measure it and byte-test it.
 */
export interface PartsReading { over: number; onPart: (part: Buffer) => void; pieceBytes?: number }

/** The buffer readInParts reads through by default. */
const PIECE_BYTES = 1 << 20;

/**
 * Memory that byte reads share until `reset()`: the scan reads each driver folder's files into it, tests and decodes
 * what it keeps, then starts over, instead of allocating a Buffer per file (3,000 files, 100 MiB: about a fifth of the
 * reading time, and the garbage collections that external memory of that size brings).
 */
export class ByteArena {
  private buffer = Buffer.allocUnsafeSlow(1 << 20);
  private used = 0;

  /** `size` bytes nobody else uses until reset (a bigger buffer when this one is full; views of the old one stay valid). */
  take(size: number): Buffer {
    if (this.used + size > this.buffer.length) {
      this.buffer = Buffer.allocUnsafeSlow(Math.max(size, this.buffer.length * 2));
      this.used = 0;
    }
    const out = this.buffer.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  }

  reset(): void {
    this.used = 0;
  }
}

/**
 * A file's bytes from an open descriptor into `arena`, as readFileSync would return them: one byte more than its
 * stat said is asked for, so a file that grew since is noticed without a second read, and then read whole.
 */
function readInto(fd: number, file: string, size: number, arena: ByteArena): Buffer {
  const bytes = arena.take(size + 1);
  let got = 0;
  for (;;) {
    const n = fs.readSync(fd, bytes, got, size + 1 - got, got);
    if (n === 0) return bytes.subarray(0, got);
    got += n;
    // Larger than its stat said (it grew since): read it the ordinary way.
    if (got > size) return fs.readFileSync(file);
  }
}

/** readScanSource without the decoding: the same errors, the same limits. */
export function readScanBytes(file: string, arena?: ByteArena, parts?: PartsReading): BytesRead {
  const read = readSourceBytes(file, HARD_READ_LIMIT_BYTES, arena, parts);
  if (read.ok || !/over the \d+ KB limit/.test(read.error)) return read;
  return { ok: false, path: file, error: `too large to read (over ${HARD_READ_LIMIT_BYTES / 1024 / 1024} MB); not analysed` };
}

/** readSource without the decoding: the same errors (binary content included), the same limit. With `arena`, the bytes live there. */
export function readSourceBytes(file: string, maxBytes: number, arena?: ByteArena, parts?: PartsReading): BytesRead {
  let fd: number | undefined;
  try {
    // Opened first and stat'ed on the descriptor: one path lookup per file, not two. O_NONBLOCK keeps a FIFO from
    // blocking the open; it is then refused as not a regular file, as before.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { ok: false, path: file, error: 'not a regular file' };
    if (stat.size > maxBytes) {
      return { ok: false, path: file, error: `${Math.round(stat.size / 1024)} KB is over the ${Math.round(maxBytes / 1024)} KB limit (--max-file-size-kb); not analysed` };
    }
    if (parts && stat.size > parts.over) {
      const binary = readInParts(fd, parts.pieceBytes ?? PIECE_BYTES, parts.onPart);
      if (binary) return { ok: false, path: file, error: binary };
      return { ok: true, path: file, bytes: Buffer.alloc(0), mtimeMs: stat.mtimeMs, size: stat.size, inParts: true };
    }
    const bytes = arena ? readInto(fd, file, stat.size, arena) : fs.readFileSync(fd);
    const binary = binaryError(bytes);
    if (binary) return { ok: false, path: file, error: binary };
    return { ok: true, path: file, bytes, mtimeMs: stat.mtimeMs, size: stat.size };
  } catch (err) {
    return { ok: false, path: file, error: describeFsError(err) };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function decodeRead(read: BytesRead): SourceRead {
  return read.ok ? { ok: true, path: read.path, ...decodeText(read.bytes, read.path) } : read;
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ELOOP': return 'too many levels of symbolic links (a symlink loop)';
    case 'EISDIR': return 'is a directory';
    default: return e?.message ?? String(err);
  }
}
