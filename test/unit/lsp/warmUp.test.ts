// The language server's warm-up (server/src/lsp/warmUp.ts): its edits end on the text they start from, each goes
// through the editor's real path (both the reuse check and full analyses, on a driver whose pin is reported), and it
// waits while the server has real work.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CSyntax } from '../../../server/src/analysis/parser';
import { analyze, cachedContextFiles } from '../../../server/src/engine';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../../server/src/settings';
import { warmUpDriver, warmUpEditPath } from '../../../server/src/lsp/warmUp';

describe('lsp warm-up', function () {
  let syntax: CSyntax;
  const settings = resolveSettings({});

  before(async function () {
    syntax = await loadSyntax();
  });

  it('replays edits that end on the text they started from', function () {
    const driver = warmUpDriver();
    let doc = TextDocument.create('file:///w.c', 'c', 0, driver.file);
    const seen = new Set<string>();
    for (const e of driver.edits) {
      doc = TextDocument.update(doc, [e], doc.version + 1);
      seen.add(doc.getText());
    }
    assert.equal(doc.getText(), driver.file);
    assert.ok(driver.edits.length >= 8, `${driver.edits.length} edits`);
    assert.ok(seen.size >= 4, 'the edits change the text');
  });

  it('analyses a driver whose pin is reported, and takes both the reuse path and full analyses', async function () {
    const driver = warmUpDriver();
    const tree = syntax.parse(driver.file, undefined, 5000).tree!;
    const direct = analyze(syntax, { uri: 'file:///warm_demo.c', text: driver.file, tree, fixes: false }, settings);
    tree.delete();
    const pinLine = driver.file.split('\n').findIndex((l) => l.includes('get_user_pages_fast('));
    assert.deepEqual(direct.findings.filter((f) => f.severity === 'error' || f.severity === 'warning').map((f) => [f.code, f.span.start.line]), [['FS001', pinLine]]);

    const before = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('forksafe-warm-')));
    const result = await warmUpEditPath(syntax, settings, { busy: () => false, passes: 2 });
    assert.equal(result.edits, 2 * driver.edits.length);
    assert.equal(result.skipped, undefined);
    assert.equal(result.reused + result.analysed, result.edits);
    assert.ok(result.longestStepMs > 0 && result.longestStepMs <= result.ms, `longest step ${result.longestStepMs} of ${result.ms} ms`);
    assert.ok(result.reused >= 2, `reused ${result.reused}`);
    assert.ok(result.analysed >= 2 * 6, `analysed ${result.analysed}`);
    // The second pass ran in the folder: the selection kept the header (its macros) and the files releasing or calling the pin.
    assert.ok(result.contextFiles >= 3 && result.contextFiles < driver.others.length + 1, `context files ${result.contextFiles}`);
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('forksafe-warm-') && !before.has(n)), [], 'the temporary folder is removed');
    // The last edit restores the text: its report is the open's (the header, context, changes nothing of the verdict).
    assert.deepEqual(result.lastReport!.findings.map((f) => [f.code, f.span.start.line]), direct.findings.map((f) => [f.code, f.span.start.line]));
  });

  it('stops, saying why, when the settings leave the demo driver unanalysable (a time budget too short to parse, a size limit below it)', async function () {
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('forksafe-warm-')));
    const budget = await warmUpEditPath(syntax, { ...settings, timeBudgetMs: 0 }, { busy: () => false });
    assert.equal(budget.edits, 0);
    assert.match(budget.skipped ?? '', /timeBudgetMs/);
    const size = await warmUpEditPath(syntax, { ...settings, maxFileSizeKb: 1 }, { busy: () => false });
    assert.equal(size.edits, 0);
    assert.match(size.skipped ?? '', /maxFileSizeKb/);
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('forksafe-warm-') && !before.has(n)), [], 'the temporary folder is removed');
  });

  it('leaves the engine\'s context lookup table to the driver the user edits', async function () {
    const header = { uri: 'file:///user/drv/user.h', text: '#define USER_FLAGS FOLL_WRITE\n' };
    const tree = syntax.parse(header.text).tree!;
    try {
      const files = [{ ...header, tree }];
      analyze(syntax, { uri: 'file:///user/drv/user.c', text: 'int f(struct page **p)\n{\n\treturn get_user_pages_fast(0, 1, USER_FLAGS, p);\n}\n', fixes: false }, settings, { files });
      assert.equal(cachedContextFiles()?.[0]?.uri, header.uri);
      const result = await warmUpEditPath(syntax, settings, { busy: () => false, passes: 2 });
      assert.ok(result.contextFiles > 0, 'the warm-up analysed with a context of its own');
      assert.equal(cachedContextFiles()?.[0]?.uri, header.uri, 'the user\'s table is still the one kept');
    } finally { tree.delete(); }
  });

  it('waits while the server is busy', async function () {
    let asked = 0;
    let busyUntil = 6;
    const result = await warmUpEditPath(syntax, settings, { busy: () => ++asked <= busyUntil, passes: 1 });
    assert.ok(asked > busyUntil, `busy asked ${asked} times`);
    assert.equal(result.edits, warmUpDriver().edits.length);
    busyUntil = 0;
  });
});
