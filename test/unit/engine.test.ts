// The engine on small inline drivers: the first rule, positions, and bad input that must not throw.
import { strict as assert } from 'assert';
import { analyzeText, syntax } from '../helpers/syntax';
import { analyze } from '../../server/src/engine';
import { resolveSettings } from '../../server/src/settings';

describe('engine: first rule and robustness', function () {
  it('reports a get_user_pages call whose flags contain FOLL_WRITE, on the call', async function () {
    // 6.1: from 6.3 get_user_pages() refuses FOLL_LONGTERM (FS011, issue 29).
    const r = await analyzeText('void f(struct mr *mr)\n{\n\tget_user_pages(0, 1, FOLL_WRITE | FOLL_LONGTERM, mr->pages);\n}\n', { kernelVersion: '6.1' });
    assert.deepEqual(r.findings.map((f) => [f.code, f.span.start.line, f.span.start.character]), [['FS001', 2, 1]]);
  });

  it('accepts a kernel newer than the newest modelled one and says so where the kernel\'s source is named', async function () {
    const newer = await analyzeText('void f(struct mr *mr)\n{\n\tget_user_pages(0, 1, FOLL_WRITE, mr->pages);\n}\n', { kernelVersion: '6.18' });
    assert.deepEqual(newer.kernel.version, { major: 6, minor: 18 });
    assert.match(newer.kernel.source, /^from settings; newer than the newest modelled kernel \(6\.12\), simulated with its rules$/);
    assert.deepEqual(newer.findings.map((f) => f.code), ['FS001']);
    const modelled = await analyzeText('void f(void) {}', { kernelVersion: '6.12' });
    assert.equal(modelled.kernel.source, 'from settings');
  });

  it('a context list of the same trees reuses its lookups; a changed tree is looked up afresh, never from the old list', async function () {
    const s = await syntax();
    const settings = resolveSettings({ kernelVersion: '6.1' });
    const target = { uri: 'file:///t/drv.c', text: '#include "flags.h"\nvoid f(struct mr *mr)\n{\n\tget_user_pages(0, 1, DRV_FLAGS, mr->pages);\n}\n' };
    const header = (value: string) => { const text = `#define DRV_FLAGS ${value}\n`; return { uri: 'file:///t/flags.h', text, tree: s.parse(text).tree! }; };
    const writable = header('FOLL_WRITE');
    const readOnly = header('0');
    const other = { uri: 'file:///t/other.c', text: 'int other;\n', tree: s.parse('int other;\n').tree! };
    try {
      const codes = (files: Array<{ uri: string; text: string; tree: typeof writable.tree }>): string[] => analyze(s, target, settings, { files }).findings.map((f) => f.code);
      assert.deepEqual(codes([writable, other]), ['FS001']);
      assert.deepEqual(codes([writable, other]), ['FS001'], 'a new list of the same trees');
      assert.deepEqual(codes([readOnly, other]), ['FS002'], 'the header changed: its new tree is read');
      assert.deepEqual(codes([readOnly, other]), ['FS002']);
      assert.deepEqual(codes([writable, other]), ['FS001'], 'and back');
      assert.deepEqual(codes([other]), ['FS001'], 'without the header the flags are unknown: the pin stays loud');
    } finally {
      for (const f of [writable, readOnly, other]) f.tree.delete();
    }
  });

  it('watch names read after the analysis, its tree deleted, equal those read at once (they come from index names only)', async function () {
    const s = await syntax();
    const settings = resolveSettings({ kernelVersion: '6.1' });
    const text = [
      '#define DRV_FLAGS (FOLL_WRITE | FOLL_LONGTERM)',
      'struct drv_mr { struct page **pages; };',
      'static void drv_put(struct drv_mr *mr, int n) { unpin_user_pages(mr->pages, n); }',
      'static int drv_pin_one(unsigned long a, struct page **p) { return pin_user_pages_fast(a, 1, DRV_FLAGS, p); }',
      'int drv_reg(struct drv_mr *mr, unsigned long a) { return drv_pin_one(a, mr->pages); }',
      'int drv_unrelated(int x) { return x + 1; }',
      '',
    ].join('\n');
    const readAtOnce = (): { watch: string[]; finding: string[] } => {
      const tree = s.parse(text).tree!;
      try {
        const r = analyze(s, { uri: 'file:///t/drv.c', text, tree, watchNames: true }, settings);
        return { watch: [...r.watchNames!].sort(), finding: [...r.findingNames!].sort() };
      } finally {
        tree.delete();
      }
    };
    const tree = s.parse(text).tree!;
    const later = analyze(s, { uri: 'file:///t/drv.c', text, tree, watchNames: true }, settings);
    tree.delete();
    const once = readAtOnce();
    assert.deepEqual({ watch: [...later.watchNames!].sort(), finding: [...later.findingNames!].sort() }, once);
    assert.ok(once.watch.includes('drv_pin_one') && once.watch.includes('drv_put') && !once.watch.includes('drv_unrelated'), once.watch.join(' '));
  });

  it('says what fork() does, why and what to do', async function () {
    const [f] = (await analyzeText('struct mr { struct page **pages; };\nint reg(struct mr *mr, struct page **p){ get_user_pages_fast(0, 1, FOLL_WRITE, p); mr->pages = p; return 0; }')).findings;
    assert.equal(f.code, 'FS001');
    assert.match(f.message, /fork\(\)/);
    assert.match(f.message, /0xBEEF|0xDEAD/, 'names the frames from the simulation');
    assert.match(f.message, /FOLL_WRITE/);
    assert.match(f.message, /Fix: Use pin_user_pages_fast\(\) with FOLL_LONGTERM/);
  });

  it('a read-only pin released before returning is at most a hint, and unrelated calls are ignored', async function () {
    const r = await analyzeText('void f(void){ struct page *pg; if (get_user_pages_fast(0, 1, 0, &pg) == 1) { } put_page(pg); trace(FOLL_WRITE); }');
    assert.deepEqual(r.findings.map((f) => f.code), ['FS007']);
    assert.equal(r.findings[0].severity, 'hint');
  });

  it('does not treat a FOLL_WRITE inside a string or comment as the flag', async function () {
    const r = await analyzeText('int g(struct mr *mr){ get_user_pages(0, 1, /* FOLL_WRITE */ FOLL_LONGTERM, mr->pages); log("FOLL_WRITE"); return 0; }', { kernelVersion: '6.1' });
    assert.deepEqual(r.findings.map((f) => f.code), ['FS002'], 'read-only, not writable');
  });

  it('reports FS009 instead of analysing a file over the size limit', async function () {
    const r = await analyzeText('int x;\n'.repeat(2000), { maxFileSizeKb: 1 });
    assert.deepEqual(r.findings.map((f) => f.code), ['FS009']);
    assert.equal(r.stats.skipped, true);
    assert.match(r.notes[0], /over the 1 KB limit/);
  });

  it('reports FS009 when the time budget is hit, and never throws', async function () {
    const r = await analyzeText('int a[] = {' + '(1+(2*3)),'.repeat(100000) + '};', { timeBudgetMs: 1 });
    assert.deepEqual(r.findings.map((f) => f.code), ['FS009']);
    assert.equal(r.stats.budgetHit, true);
  });

  it('survives binary, NUL bytes, unbalanced braces and preprocessor soup', async function () {
    const inputs = [
      '\u0000\u0001\u0002ELF\u0000\u0000',
      'void f( { { { get_user_pages(0, 1, FOLL_WRITE, p',
      '#if X\n#if Y\nvoid f(void){\n#else\n}\n#endif\n',
      '#define A(x) A(A(x))\n'.repeat(500),
      '\uFEFF\r\nvoid f(struct mr *mr){\r\n\tget_user_pages(0, 1, FOLL_WRITE, mr->pages);\r\n}\r\n',
    ];
    for (const text of inputs) {
      const r = await analyzeText(text);
      assert.ok(Array.isArray(r.findings), JSON.stringify(text.slice(0, 40)));
    }
    const crlf = await analyzeText(inputs[4]);
    assert.deepEqual(crlf.findings.map((f) => [f.code, f.span.start.line]), [['FS001', 2]]);
  });
});
