// The edits a driver developer makes inside the function that pins while fixing a finding (issue 14): FOLL_WRITE
// removed and put back, a local variable renamed and renamed back, the release moved down and back. Each script ends
// on the text it started from, so it can be replayed; each edit is one didChange, in the coordinates of the text
// before it.
import { TextDocument } from 'vscode-languageserver-textdocument';

export interface LspRange { start: { line: number; character: number }; end: { line: number; character: number } }
export interface ScriptedEdit { kind: 'flags' | 'rename' | 'move-release'; range: LspRange; text: string }

const RELEASE = /\b(?:put_page|release_pages|unpin_user_pages\w*|unpin_user_page|put_user_pages\w*)\s*\(/;
const DECLARED = /^\s+(?:(?:unsigned|signed|long|int|short|char|size_t|ssize_t|u\d+|s\d+|bool|struct\s+\w+|unsigned\s+long|long\s+long)\s+)+\**\s*([a-z_]\w*)\s*[;=,]/;

/** Builds the script against `text`, for the function body on zero-based lines [first, last]; kinds it cannot find are left out. */
export function inFunctionEdits(text: string, body: [number, number]): ScriptedEdit[] {
  let doc = TextDocument.create('file:///script.c', 'c', 0, text);
  const edits: ScriptedEdit[] = [];
  /** Replaces [start, end) offsets of the current text and records the edit. */
  const edit = (kind: ScriptedEdit['kind'], start: number, end: number, replacement: string): void => {
    const range = { start: doc.positionAt(start), end: doc.positionAt(end) };
    edits.push({ kind, range, text: replacement });
    doc = TextDocument.update(doc, [{ range, text: replacement }], doc.version + 1);
  };
  const lineStart = (line: number): number => doc.offsetAt({ line, character: 0 });
  const bodyText = (): string => doc.getText().slice(lineStart(body[0]), lineStart(body[1] + 1));

  // FOLL_WRITE taken out of the pin's flags (or replaced by 0 when it is the only flag), then put back.
  const flags = /FOLL_WRITE\s*\|\s*|\s*\|\s*FOLL_WRITE\b|\bFOLL_WRITE\b/.exec(bodyText());
  if (flags) {
    const at = lineStart(body[0]) + flags.index;
    const instead = flags[0] === 'FOLL_WRITE' ? '0' : '';
    edit('flags', at, at + flags[0].length, instead);
    edit('flags', at, at + instead.length, flags[0]);
  }

  // A local renamed everywhere in the body (one change, as a rename refactoring sends it), then renamed back.
  const lines = bodyText().split('\n');
  const declared = lines.map((l) => DECLARED.exec(l)?.[1]).find((n): n is string => n !== undefined);
  if (declared) {
    const before = bodyText();
    const word = new RegExp(`\\b${declared}\\b`, 'g');
    const renamed = before.replace(word, `${declared}_renamed`);
    edit('rename', lineStart(body[0]), lineStart(body[0]) + before.length, renamed);
    edit('rename', lineStart(body[0]), lineStart(body[0]) + renamed.length, before);
  }

  // The release line moved to just before the body's last line, then back.
  const releaseAt = lines.findIndex((l) => RELEASE.test(l));
  const lastLine = body[1];
  if (releaseAt >= 0 && body[0] + releaseAt < lastLine - 1) {
    const from = body[0] + releaseAt;
    const line = doc.getText().slice(lineStart(from), lineStart(from + 1));
    edit('move-release', lineStart(from), lineStart(from + 1), '');
    // The body's last line moved up by one.
    edit('move-release', lineStart(lastLine - 1), lineStart(lastLine - 1), line);
    edit('move-release', lineStart(lastLine - 1), lineStart(lastLine), '');
    edit('move-release', lineStart(from), lineStart(from), line);
  }
  if (doc.getText() !== text) throw new Error('bench: the in-function edit script does not end on the text it started from');
  return edits;
}

/**
 * The zero-based body lines [first, last] of the function whose body holds `line`: the nearest line above it that
 * starts a definition at column 0 (kernel style), down to its closing brace at column 0.
 */
export function enclosingFunctionBody(text: string, line: number): [number, number] | undefined {
  const lines = text.split('\n');
  let header = line;
  while (header >= 0 && !/^[A-Za-z_].*\(/.test(lines[header] ?? '')) header--;
  if (header < 0) return undefined;
  let open = header;
  while (open < lines.length && !(lines[open] ?? '').includes('{')) open++;
  let close = line;
  while (close < lines.length && lines[close] !== '}') close++;
  return open < close ? [open + 1, close - 1] : undefined;
}
