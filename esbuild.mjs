// Builds what ships: client/dist/extension.js, server/dist/{server,cli,scanWorker}.bundle.js with the small launchers
// server/dist/{server,cli,scanWorker}.js that run them through V8's code cache (server/src/launch), the runtime wasm
// beside them, and the C grammar wasm copied into grammars/ after checking it against grammars/PROVENANCE.md.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * The launchers run a bundle as a vm.Script (compileCache.ts), where a dynamic import() has no loader to call: the
 * emscripten glue's `await import("module")` and `await import("fs/promises")` (node builtins) become calls of the
 * bundle's own require, kept under another name because the glue declares a `require` of its own around the first.
 */
const builtinImports = {
  name: 'builtin-imports-as-require',
  setup(build) {
    build.onLoad({ filter: /web-tree-sitter[\\/][^\\/]+\.c?js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(/await import\("((?:node:)?[a-z_/]+)"\)/g, '__forksafeRequire("$1")');
      return { contents, loader: 'js' };
    });
  },
};
const bundle = { ...common, plugins: [builtinImports], banner: { js: `const __forksafeRequire = require;\n${importMetaShim}` } };
const launcher = { ...common, sourcemap: false, banner: { js: '' } };
const builds = [
  { ...common, entryPoints: ['client/src/extension.ts'], outfile: 'client/dist/extension.js', external: ['vscode'] },
  { ...bundle, entryPoints: ['server/src/lsp/server.ts'], outfile: 'server/dist/server.bundle.js' },
  { ...bundle, entryPoints: ['server/src/cli/main.ts'], outfile: 'server/dist/cli.bundle.js' },
  { ...bundle, entryPoints: ['server/src/cli/scanWorker.ts'], outfile: 'server/dist/scanWorker.bundle.js' },
  { ...launcher, entryPoints: ['server/src/launch/server.ts'], outfile: 'server/dist/server.js' },
  { ...launcher, entryPoints: ['server/src/launch/cli.ts'], outfile: 'server/dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...launcher, entryPoints: ['server/src/launch/scanWorker.ts'], outfile: 'server/dist/scanWorker.js' },
];

/** A bundle a launcher runs must not import() anything (see builtinImports): checked on what was written. */
function checkNoDynamicImport(file) {
  const text = readFileSync(file, 'utf8');
  const at = text.search(/\bimport\s*\(\s*["'`]/);
  if (at >= 0) throw new Error(`${file}: a dynamic import() at offset ${at} (${JSON.stringify(text.slice(at, at + 60))}); the code-cache launcher cannot run it`);
}

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
  for (const name of ['server', 'cli', 'scanWorker']) checkNoDynamicImport(path.join(root, 'server', 'dist', `${name}.bundle.js`));
  // The bundles' source maps moved with them (before the launchers, the bundles had the launchers' names).
  for (const name of ['server', 'cli', 'scanWorker']) rmSync(path.join(root, 'server', 'dist', `${name}.js.map`), { force: true });
}
