// Reads C sources from disk for the CLI and the language server: size limit, binary and encoding checks.
import * as fs from 'fs';
import * as path from 'path';

export type SourceRead =
  | { ok: true; path: string; text: string; notes: string[] }
  | { ok: false; path: string; error: string };

const C_EXTENSIONS = new Set(['.c', '.h']);

export function isCSourcePath(file: string): boolean {
  return C_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** Decodes bytes as C text. Binary content is refused; invalid UTF-8 is decoded lossily with a note, not refused. */
export function decodeSource(bytes: Uint8Array, displayPath: string): SourceRead {
  const head = bytes.subarray(0, Math.min(bytes.length, 8192));
  if (head.includes(0)) return { ok: false, path: displayPath, error: 'binary file (contains NUL bytes); not a C source' };
  const notes: string[] = [];
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('utf-8').decode(bytes);
    notes.push(`${displayPath}: not valid UTF-8; invalid bytes were replaced with U+FFFD before analysis`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ok: true, path: displayPath, text, notes };
}

/** Files this much larger than the size limit are not even read by the scanner: the engine would only report FS009 for them. */
export const HARD_READ_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Reads a file the scanner reports on. Unlike readSource, a file over the size limit is still read (up to
 * HARD_READ_LIMIT_BYTES) so the engine reports FS009 for it, as the editor does, instead of an input error.
 */
export function readScanSource(file: string): SourceRead {
  const read = readSource(file, HARD_READ_LIMIT_BYTES);
  if (read.ok || !/over the \d+ KB limit/.test(read.error)) return read;
  return { ok: false, path: file, error: `too large to read (over ${HARD_READ_LIMIT_BYTES / 1024 / 1024} MB); not analysed` };
}

export function readSource(file: string, maxBytes: number): SourceRead {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return { ok: false, path: file, error: 'not a regular file' };
    if (stat.size > maxBytes) {
      return { ok: false, path: file, error: `${Math.round(stat.size / 1024)} KB is over the ${Math.round(maxBytes / 1024)} KB limit (--max-file-size-kb); not analysed` };
    }
    return decodeSource(fs.readFileSync(file), file);
  } catch (err) {
    return { ok: false, path: file, error: describeFsError(err) };
  }
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
