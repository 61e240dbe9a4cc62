// Reads C sources from disk for the CLI and the workspace scan: size limit, binary and encoding checks, folder walking.
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

export interface CollectedPaths { files: string[]; errors: { path: string; error: string }[] }

/**
 * Expands files and folders into C sources (sorted, each once). Folders are walked without following
 * symlinked directories twice: a real path seen before is skipped, so symlink loops end.
 */
export function collectSourcePaths(inputs: string[]): CollectedPaths {
  const files = new Set<string>();
  const errors: { path: string; error: string }[] = [];
  const seenDirs = new Set<string>();
  const walk = (dir: string): void => {
    let real: string;
    try { real = fs.realpathSync(dir); } catch (err) { errors.push({ path: dir, error: describeFsError(err) }); return; }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch (err) { errors.push({ path: dir, error: describeFsError(err) }); return; }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try { const st = fs.statSync(full); isDir = st.isDirectory(); isFile = st.isFile(); } catch (err) { errors.push({ path: full, error: describeFsError(err) }); continue; }
      }
      if (isDir) walk(full);
      else if (isFile && isCSourcePath(full)) files.add(full);
    }
  };
  for (const input of inputs) {
    let st: fs.Stats;
    try { st = fs.statSync(input); } catch (err) { errors.push({ path: input, error: describeFsError(err) }); continue; }
    if (st.isDirectory()) walk(input);
    else files.add(input);
  }
  return { files: [...files].sort(), errors };
}
