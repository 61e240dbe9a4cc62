// Keeps analysis/, simulation/ and explain/ pure: no editor, LSP, file system or process imports.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PURE_DIRS = ['server/src/analysis', 'server/src/simulation', 'server/src/explain'];
const FORBIDDEN = /^(vscode|vscode-languageserver.*|vscode-languageclient.*|fs|fs\/promises|node:fs|node:fs\/promises|process|node:process|child_process|node:child_process)$/;

function sourcesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourcesUnder(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('module boundaries', function () {
  it('pure modules import no vscode, LSP, fs or process', function () {
    const files = PURE_DIRS.flatMap((d) => sourcesUnder(path.join(ROOT, d)));
    assert.ok(files.length > 3, 'found the pure sources');
    const offenders: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)) {
        if (FORBIDDEN.test(m[1])) offenders.push(`${path.relative(ROOT, file)} imports ${m[1]}`);
      }
      if (/\bprocess\.(env|argv|exit|cwd|stdout|stderr)/.test(text)) offenders.push(`${path.relative(ROOT, file)} uses process`);
    }
    assert.deepEqual(offenders, []);
  });

  it('the scanner itself catches a forbidden import', function () {
    assert.ok(FORBIDDEN.test('vscode-languageserver/node'));
    assert.ok(FORBIDDEN.test('fs'));
    assert.ok(!FORBIDDEN.test('./parser'));
  });
});
