import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The simulator is pure data in, data out: no file system, no process, no editor, and nothing about C.
const SIMULATION_DIR = path.resolve(__dirname, '../../../../server/src/simulation');
const FORBIDDEN = [/^(node:)?fs(\/.*)?$/, /^(node:)?process$/, /^vscode$/, /^vscode-languageserver/, /\/analysis(\/|$)/, /tree-sitter/];

describe('simulation: module boundaries', () => {
  const files = fs.readdirSync(SIMULATION_DIR).filter((f) => f.endsWith('.ts'));

  it('has source files to check', () => {
    assert.ok(files.includes('fork.ts') && files.includes('kernelEra.ts'), files.join(', '));
  });

  for (const file of files) {
    it(`${file} imports nothing impure and uses no process global or 'as any'`, () => {
      const text = fs.readFileSync(path.join(SIMULATION_DIR, file), 'utf8');
      const specifiers = [...text.matchAll(/(?:import|export)[^'";]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
        (m) => m[1] ?? m[2] ?? '',
      );
      for (const spec of specifiers) {
        assert.ok(!FORBIDDEN.some((re) => re.test(spec)), `${file} imports ${spec}`);
      }
      assert.doesNotMatch(text, /\bprocess\.(env|argv|exit|stdout|stderr|cwd)\b/, `${file} touches process`);
      assert.doesNotMatch(text, /\bas any\b/, `${file} uses 'as any'`);
      assert.match(text.split('\n')[0] ?? '', /^\/\/ \S/, `${file} starts with a one-line header comment`);
    });
  }
});
