// Finds the files the engine needs at run time (runtime wasm, grammar wasm, query files), in the bundle or the source tree.
import * as fs from 'fs';
import * as path from 'path';
import type { GrammarAssets } from '../analysis/parser';

/** Walks up from `start` to the folder that holds grammars/queries/c: the extension or repo root. */
export function findAssetRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'grammars', 'queries', 'c'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`forksafe: cannot find grammars/queries/c above ${start}`);
    dir = parent;
  }
}

function firstExisting(candidates: string[], what: string): string {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`forksafe: ${what} not found; looked in:\n  ${candidates.join('\n  ')}\nRun 'npm run build' first.`);
}

export function loadGrammarAssets(root: string = findAssetRoot()): GrammarAssets {
  const runtimeWasmPath = firstExisting(
    [path.join(__dirname, 'web-tree-sitter.wasm'), path.join(root, 'server', 'dist', 'web-tree-sitter.wasm'),
      path.join(root, 'node_modules', 'web-tree-sitter', 'web-tree-sitter.wasm')],
    'web-tree-sitter.wasm');
  const grammarPath = firstExisting([path.join(root, 'grammars', 'tree-sitter-c.wasm')], 'grammars/tree-sitter-c.wasm');
  const queryDir = path.join(root, 'grammars', 'queries', 'c');
  const queries: Record<string, string> = {};
  for (const file of fs.readdirSync(queryDir).filter((f) => f.endsWith('.scm')).sort()) {
    queries[path.basename(file, '.scm')] = fs.readFileSync(path.join(queryDir, file), 'utf8');
  }
  return { runtimeWasmPath, grammarWasm: new Uint8Array(fs.readFileSync(grammarPath)), queries };
}
