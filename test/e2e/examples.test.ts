// The README's main command: `forksafe scan examples` reports exactly what each example driver's `// expect:` comments say.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/lspProcess';
import { groupByLine, mapToObject, readExpectations } from '../helpers/expectations';

describe('examples (npm start)', function () {
  it('each example folder is its own driver and gets exactly its expected diagnostics', function () {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server', 'dist', 'cli.js'), 'scan', '--format', 'json', '--fail-on', 'none', 'examples'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const findings: { path: string; code: string; line: number }[] = JSON.parse(r.stdout).findings;
    const files = fs.readdirSync(path.join(REPO_ROOT, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.c')).sort();
    assert.equal(files.length, 3);
    for (const rel of files) {
      const expected = readExpectations(fs.readFileSync(path.join(REPO_ROOT, 'examples', rel), 'utf8')).byLine;
      const actual = groupByLine(findings.filter((f) => f.path === path.join('examples', rel)).map((f) => ({ line: f.line - 1, code: f.code })));
      assert.deepEqual(mapToObject(actual), mapToObject(expected), rel);
    }
    assert.ok(findings.some((f) => f.code === 'FS001'), 'the main job shows the core rule');
  });
});
