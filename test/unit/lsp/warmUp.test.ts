// The language server's warm-up (server/src/lsp/warmUp.ts): its edits end on the text they start from, each goes
// through the editor's real path (both the reuse check and full analyses, on a driver whose pin is reported), and it
// waits while the server has real work; the same on a private copy of the user's own document in its folder.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CSyntax } from '../../../server/src/analysis/parser';
import { analyze, cachedContextFiles } from '../../../server/src/engine';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../../server/src/settings';
import { editsAroundPin, warmUpDocument, warmUpDriver, warmUpEditPath } from '../../../server/src/lsp/warmUp';

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

  describe('on the user\'s own document (warmUpDocument)', function () {
    /** A driver file of another shape than the demo's: the pin in a macro-heavy function, a release in its error path. */
    const USER = [
      '#include <linux/mm.h>',
      '#define MY_PIN_FLAGS (FOLL_WRITE | FOLL_LONGTERM)',
      'struct my_dev { struct page **pages; int n; };',
      'static int other(int x)',
      '{',
      '\treturn x * 2;',
      '}',
      'int my_map(struct my_dev *dev, unsigned long uaddr, int n)',
      '{',
      '\tlong done;',
      '\tint i;',
      '',
      '\tdone = get_user_pages_fast(uaddr, n, FOLL_WRITE, dev->pages);',
      '\tif (done != n) {',
      '\t\tfor (i = 0; i < done; i++)',
      '\t\t\tput_page(dev->pages[i]);',
      '\t\treturn -EFAULT;',
      '\t}',
      '\tdev->n = n;',
      '\treturn 0;',
      '}',
      '',
    ].join('\n');
    const URI = 'file:///user/drv/my.c';

    it('makes edits of the pinning function (flags, a local renamed, the release line, a keystroke) that end on its text', function () {
      const tree = syntax.parse(USER).tree!;
      try {
        const report = analyze(syntax, { uri: URI, text: USER, tree, fixes: false }, settings);
        const site = report.sites![0]!;
        const edits = editsAroundPin(USER, tree, site.call);
        let doc = TextDocument.create(URI, 'c', 0, USER);
        const texts: string[] = [];
        for (const e of edits) { doc = TextDocument.update(doc, [e], doc.version + 1); texts.push(doc.getText()); }
        assert.equal(doc.getText(), USER);
        assert.equal(edits.length, 8);
        assert.ok(texts.some((t) => t.includes('get_user_pages_fast(uaddr, n, 0, dev->pages)')), 'FOLL_WRITE taken out');
        assert.ok(texts.some((t) => t.includes('long done_fs;') && t.includes('done_fs = get_user_pages_fast') && !/\bdone\b/.test(t.slice(t.indexOf('int my_map')))), 'the first local renamed in the whole body');
        assert.ok(texts.some((t) => !t.includes('put_page(')), 'the release line deleted');
        assert.ok(texts.every((t) => t.startsWith(USER.slice(0, USER.indexOf('int my_map')))), 'nothing outside the pinning function is touched');
        // Outside any function there is nothing to edit.
        assert.deepEqual(editsAroundPin(USER, tree, { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }), []);
      } finally { tree.delete(); }
    });

    it('replays them on a private copy from the document\'s tree and report, through context selection and analysis, leaving the tree as it was', async function () {
      const tree = syntax.parse(USER).tree!;
      const header = { uri: 'file:///user/drv/my.h', text: '#define MY_OTHER 1\n' };
      const headerTree = syntax.parse(header.text).tree!;
      try {
        const report = analyze(syntax, { uri: URI, text: USER, tree, fixes: false, watchNames: true }, settings, { files: [{ ...header, tree: headerTree }] });
        assert.deepEqual(report.findings.filter((f) => f.severity === 'error').map((f) => f.code), ['FS001']);
        const edits = editsAroundPin(USER, tree, report.sites![0]!.call);
        const seen: string[] = [];
        let asked = 0;
        const result = await warmUpDocument(syntax, settings, { uri: URI, text: USER, edits, start: { tree: tree.copy(), report } }, {
          busy: () => ++asked <= 3,
          contextOf: (copy) => { seen.push(copy.text); assert.equal(copy.uri, URI); return { files: [{ ...header, tree: headerTree }] }; },
        });
        assert.equal(result.skipped, undefined);
        assert.equal(result.edits, edits.length);
        assert.equal(result.reused + result.analysed, result.edits);
        assert.ok(result.analysed >= 6, `analysed ${result.analysed}`);
        assert.equal(result.contextFiles, 1);
        assert.ok(asked > 3, 'it waited while busy');
        assert.ok(seen.length >= result.analysed && seen.some((t) => t !== USER), 'the context was asked for with the edited copy');
        assert.deepEqual(result.lastReport!.findings.map((f) => [f.code, f.span.start.line]), report.findings.map((f) => [f.code, f.span.start.line]));
        // The document's own tree is untouched (the warm-up edited and freed a copy).
        assert.equal(tree.rootNode.text, USER);
        assert.equal(tree.rootNode.hasError, false);
      } finally { tree.delete(); headerTree.delete(); }
    });
  });
});
