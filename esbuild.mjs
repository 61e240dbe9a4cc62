// Builds what ships: client/dist/extension.js, server/dist/{server,cli,scanWorker}.js, the runtime wasm beside them,
// and the C grammar wasm copied into grammars/ after checking it against grammars/PROVENANCE.md.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.dirname(new URL(import.meta.url).pathname);
const watch = process.argv.includes('--watch');

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Copies a wasm file from its npm package after checking its sha256 against grammars/PROVENANCE.md. */
function copyChecked(specifier, destination) {
  const source = require.resolve(specifier);
  const name = path.basename(source);
  const provenance = readFileSync(path.join(root, 'grammars', 'PROVENANCE.md'), 'utf8');
  const expected = new RegExp(`${name.replace(/\./g, '\\.')}: sha256 \`([0-9a-f]{64})\``).exec(provenance)?.[1];
  const actual = sha256(source);
  if (expected !== actual) {
    throw new Error(`${name} sha256 ${actual} does not match grammars/PROVENANCE.md (${expected}); ` +
      'update PROVENANCE.md deliberately when upgrading the package.');
  }
  mkdirSync(path.dirname(destination), { recursive: true });
  copyFileSync(source, destination);
}

// web-tree-sitter's emscripten glue reads import.meta.url, which esbuild empties in CommonJS output: define it from __filename.
const importMetaShim = "const __importMetaUrl = require('url').pathToFileURL(__filename).href;";
const common = {
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning',
  define: { 'import.meta.url': '__importMetaUrl' }, banner: { js: importMetaShim },
};
const builds = [
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/dist/extension.js', external: ['vscode'] },
  { ...common, entryPoints: ['server/src/lsp/server.ts'], outfile: 'server/dist/server.js' },
  { ...common, entryPoints: ['server/src/cli/main.ts'], outfile: 'server/dist/cli.js', banner: { js: `#!/usr/bin/env node\n${importMetaShim}` } },
  { ...common, entryPoints: ['server/src/cli/scanWorker.ts'], outfile: 'server/dist/scanWorker.js' },
];

copyChecked('tree-sitter-c/tree-sitter-c.wasm', path.join(root, 'grammars', 'tree-sitter-c.wasm'));
copyChecked('web-tree-sitter/web-tree-sitter.wasm', path.join(root, 'server', 'dist', 'web-tree-sitter.wasm'));
// The kernel probe's C source ships beside the CLI; `forksafe probe` builds it with the system compiler on first use.
mkdirSync(path.join(root, 'server', 'dist'), { recursive: true });
copyFileSync(path.join(root, 'server', 'probe', 'forksafeProbe.c'), path.join(root, 'server', 'dist', 'forksafeProbe.c'));
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  chmodSync(path.join(root, 'server', 'dist', 'cli.js'), 0o755);
}
