// The two-phase scan (text prefilter, iterative wrapper discovery, parse only what can matter) finds exactly what parsing every file finds.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { FIXTURES, ROOT, runCli, scratchTree } from './runCli';
import { generateTree } from '../../helpers/generatedTree';
import { Random } from '../../helpers/random';
import { analyze } from '../../../server/src/engine';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../../server/src/settings';
import { DriverContextLoader, RELEVANT_TEXT } from '../../../server/src/runtime/driverContext';
import { Definition, definitionsFromIndex, macroDefinitionsIn, MemberText, MemberTextMemo, PROTECTION_TEXT, selectRelevantFiles } from '../../../server/src/runtime/fileRelevance';
import { indexFile } from '../../../server/src/analysis/fileIndex';
import { NOTIFIER_CALLS } from '../../../server/src/analysis/protections';
import type { CSyntax } from '../../../server/src/analysis/parser';

interface JsonScan { files: number; filesAnalysed: number; findings: unknown[] }

function scanJson(args: string[], cwd: string): JsonScan {
  const r = runCli(['scan', '--format', 'json', '--fail-on', 'none', ...args], cwd);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonScan;
}

/**
 * A driver where nothing but the exact selection finds the pin: a wrapper of a wrapper in a file that names no pin API,
 * and flags from two headers that name no FOLL_ flag. The pin is reported on its call in pin.c; mr.c's call chooses
 * the flags and owns the pages.
 */
const LAYERED: Record<string, string> = {
  'drv/mr.c': '#include "flags.h"\nint reg_mr(struct mr *mr, unsigned long a, int n)\n{\n\treturn drv_pin_user(mr, a, n, DRV_GUP_FLAGS);\n}\n' +
    'static int mr_reset(struct drv *d)\n{\n\treturn DRV_REG_RESET;\n}\n',
  'drv/mid.c': 'int drv_pin_user(struct mr *mr, unsigned long a, int n, unsigned int how)\n{\n\treturn drv_pin_range(a, n, how, mr->pages);\n}\n',
  'drv/pin.c': 'int drv_pin_range(unsigned long a, int n, unsigned int gup_flags, struct page **pages)\n{\n\treturn get_user_pages_fast(a, n, gup_flags, pages);\n}\n',
  'drv/flags.h': '#define DRV_GUP_FLAGS (DRV_BASE_FLAGS)\n',
  'drv/base.h': '#define DRV_BASE_FLAGS 0\n',
  'drv/mmap.c': 'static int drv_mmap(struct file *f, struct vm_area_struct *vma)\n{\n\tvma->vm_flags |= VM_DONTCOPY;\n\treturn 0;\n}\n',
  'drv/put.c': 'void drv_put(struct page **p, int n)\n{\n\twhile (n--)\n\t\tput_page(p[n]);\n}\n',
  'drv/regs.c': 'static int drv_reset(struct drv *d)\n{\n\twritel(0, d->base);\n\treturn DRV_REG_RESET;\n}\n',
  'drv/regs.h': '#define DRV_REG_RESET 0x40\n',
};

describe('two-phase scan equals parsing every file', function () {
  let tree: string;
  before(function () {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-tree-'));
    generateTree(tree, 7, 60);
  });
  after(function () { fs.rmSync(tree, { recursive: true, force: true }); });

  for (const scope of ['directory', 'file', 'workspace']) {
    it(`fixtures, driver scope ${scope}: same findings, fewer files analysed`, function () {
      const two = scanJson(['--driver-scope', scope, FIXTURES], ROOT);
      const all = scanJson(['--driver-scope', scope, '--no-prefilter', FIXTURES], ROOT);
      assert.ok(two.findings.length > 50);
      assert.deepEqual(two.findings, all.findings);
      assert.equal(all.filesAnalysed, all.files);
      assert.ok(two.filesAnalysed < two.files, `the prefilter skipped files (${two.filesAnalysed} of ${two.files})`);
    });
  }

  for (const scope of ['directory', 'workspace']) {
    it(`generated tree, driver scope ${scope}: same findings, most files never parsed`, function () {
      const two = scanJson(['--driver-scope', scope, '.'], tree);
      const all = scanJson(['--driver-scope', scope, '--no-prefilter', '.'], tree);
      assert.ok(two.findings.length > 20, `${two.findings.length} findings`);
      assert.deepEqual(two.findings, all.findings);
      assert.ok(two.filesAnalysed * 3 < two.files, `${two.filesAnalysed} of ${two.files} analysed`);
    });
  }

  it('a layered driver: same findings with and without the prefilter, and the wrapper chain is found', function () {
    const { dir, remove } = scratchTree(LAYERED);
    try {
      const two = scanJson(['drv'], dir);
      const all = scanJson(['--no-prefilter', 'drv'], dir);
      assert.deepEqual(two.findings, all.findings);
      const found = two.findings as Array<{ path: string; line: number; related: Array<{ path: string }> }>;
      assert.deepEqual(found.map((f) => `${f.path}:${f.line}`), ['drv/pin.c:3'], 'one finding, on the pin call');
      assert.ok(found[0].related.some((r) => r.path === 'drv/mr.c'), 'the caller that keeps the pages is a related location');
    } finally { remove(); }
  });
});

describe('file relevance (the prefilter and wrapper discovery)', function () {
  let syntax: CSyntax;
  before(async function () { syntax = await loadSyntax(); });

  const members = (files: Record<string, string>): MemberText[] => Object.entries(files).map(([p, text]) => ({ path: p, text }));
  const definitions = (parsed: string[]) => (m: MemberText): Definition[] | undefined => {
    parsed.push(m.path);
    const tree = syntax.parse(m.text).tree!;
    try { return definitionsFromIndex(indexFile(syntax, tree), m.text); } finally { tree.delete(); }
  };

  it('the editor\'s memo of text tests selects the same files, and follows a member whose text changed', function () {
    const memo = new MemberTextMemo();
    const plain = selectRelevantFiles(members(LAYERED), new Set(['drv/mr.c']), definitions([]));
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(selectRelevantFiles(members(LAYERED), new Set(['drv/mr.c']), definitions([]), memo), plain, `round ${round}`);
    }
    // drv/pin.c no longer pins: with the memo as without, the selection follows its new text.
    const edited = { ...LAYERED, 'drv/pin.c': LAYERED['drv/pin.c']!.replace(/get_user_pages\w*/g, 'memset') };
    const fresh = selectRelevantFiles(members(edited), new Set(['drv/mr.c']), definitions([]));
    assert.notDeepEqual(fresh, plain, 'the edit changes the selection');
    assert.deepEqual(selectRelevantFiles(members(edited), new Set(['drv/mr.c']), definitions([]), memo), fresh);
    assert.equal(memo.test(/memset/, { path: 'drv/pin.c', text: edited['drv/pin.c']! }), true);
    assert.equal(memo.test(/memset/, { path: 'drv/pin.c', text: LAYERED['drv/pin.c']! }), false);
  });

  it('the memo\'s #defines by name follow #defines added, removed, renamed and moved between files, and files added or dropped', function () {
    const rng = new Random(0x7e57);
    const memo = new MemberTextMemo();
    let files: Record<string, string> = { ...LAYERED };
    const macroLines = ['#define DRV_BASE_FLAGS FOLL_WRITE\n', '#define DRV_BASE_FLAGS 0\n', '#define DRV_GUP_FLAGS (DRV_BASE_FLAGS | DRV_EXTRA)\n',
      '#define DRV_EXTRA FOLL_LONGTERM\n', '#define DRV_REG_RESET 0x41\n', '#define UNRELATED 1\n', '#define DRV_PIN_ALIAS drv_pin_range\n'];
    let changedSelections = 0;
    let previous: unknown;
    for (let step = 0; step < 80; step++) {
      const paths = Object.keys(files);
      const roll = rng.next();
      if (roll < 0.1) {
        // Many files at once (more than the memo updates one by one) or a file added or dropped.
        if (rng.chance(0.5)) for (const p of paths) files[p] = `${files[p]!}\n/* ${step} */\n`;
        else if (rng.chance(0.5)) files[`drv/extra${step}.h`] = rng.pick(macroLines);
        else if (paths.length > 3) { const drop = rng.pick(paths.filter((p) => p !== 'drv/mr.c')); const { [drop]: _gone, ...rest } = files; files = rest; }
      } else {
        const p = rng.pick(paths);
        const text = files[p]!;
        const lines = text.split('\n');
        const defines = lines.map((l, i) => (l.startsWith('#define') ? i : -1)).filter((i) => i >= 0);
        if (defines.length > 0 && rng.chance(0.4)) lines.splice(rng.pick(defines), 1);
        else lines.splice(rng.int(0, lines.length - 1), 0, rng.pick(macroLines).trimEnd());
        files[p] = lines.join('\n');
      }
      const fresh = selectRelevantFiles(members(files), new Set(['drv/mr.c']), definitions([]));
      assert.deepEqual(selectRelevantFiles(members(files), new Set(['drv/mr.c']), definitions([]), memo), fresh, `step ${step}: ${JSON.stringify(files)}`);
      if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(fresh)) changedSelections++;
      previous = fresh;
    }
    assert.ok(changedSelections >= 5, `the edits changed the selection ${changedSelections} times`);
  });

  it('finds wrappers iteratively and selects the files that can change a verdict', function () {
    const parsed: string[] = [];
    const sel = selectRelevantFiles(members(LAYERED), new Set(Object.keys(LAYERED)), definitions(parsed));
    assert.deepEqual(sel.wrappers, ['drv_pin_range', 'drv_pin_user', 'reg_mr']);
    assert.deepEqual(sel.analyse, ['drv/mr.c', 'drv/mid.c', 'drv/pin.c']);
    assert.deepEqual(sel.context, ['drv/mr.c', 'drv/mid.c', 'drv/pin.c', 'drv/flags.h', 'drv/base.h', 'drv/mmap.c', 'drv/put.c'],
      'regs.h defines a macro mr.c uses, but only outside the functions that pin: it cannot change a verdict');
    // A file that shows a protection is parsed too: the callers of the function that sets it are context (the pin's
    // address and the protection's meet there, analysis/protectionTies.ts).
    assert.deepEqual(parsed, ['drv/pin.c', 'drv/mid.c', 'drv/mr.c', 'drv/mmap.c'], 'parsed only what mentions a pin API or wrapper, round by round, then what shows a protection, each once');
  });

  it('a pin API or wrapper named only in comments and string literals is not code: the file is neither parsed nor analysed for it', function () {
    const files = {
      ...LAYERED,
      // Prose and a log message name the pin API and a wrapper; no call does.
      'drv/notes.c': '/* get_user_pages_fast() pins; see drv_pin_range() */\nint drv_note(void)\n{\n\tpr_debug("get_user_pages_fast(%d)\\n", 1); // pin_user_pages\n\treturn 0;\n}\n',
      // The same names beside a real call: examined as before.
      'drv/both.c': '/* get_user_pages_fast() */\nint drv_both(struct mr *mr, unsigned long a)\n{\n\treturn drv_pin_range(a, 1, 0, mr->pages);\n}\n',
    };
    const parsed: string[] = [];
    const sel = selectRelevantFiles(members(files), new Set(Object.keys(files)), definitions(parsed));
    assert.ok(!parsed.includes('drv/notes.c') && !sel.analyse.includes('drv/notes.c'), `notes.c: parsed ${parsed.join(', ')}; analysed ${sel.analyse.join(', ')}`);
    assert.ok(parsed.includes('drv/both.c') && sel.analyse.includes('drv/both.c'));
    assert.ok(sel.wrappers.includes('drv_both'), 'a wrapper found beside the comment');
    const memo = new MemberTextMemo();
    assert.deepEqual(selectRelevantFiles(members(files), new Set(Object.keys(files)), definitions([]), memo), sel, 'the editor\'s memo selects the same');
    const { dir, remove } = scratchTree(files);
    try {
      const two = scanJson(['drv'], dir);
      assert.deepEqual(two.findings, scanJson(['--no-prefilter', 'drv'], dir).findings, 'the same findings as analysing every file');
      assert.equal(two.filesAnalysed, 4, 'mr.c, mid.c, pin.c, both.c');
    } finally { remove(); }
  });

  it('a scope without any pin API needs no context; only suppressions are analysed', function () {
    const parsed: string[] = [];
    const sel = selectRelevantFiles(members({ 'a.c': 'int a;\n', 'b.c': '/* forksafe-ignore FS001 */\n', 'c.c': 'vma->vm_flags |= VM_DONTCOPY;\n' }), new Set(['a.c', 'b.c', 'c.c']), definitions(parsed));
    assert.deepEqual([sel.analyse, sel.context, parsed], [['b.c'], [], []]);
  });

  it('reads macro names and body identifiers across continuation lines', function () {
    assert.deepEqual(macroDefinitionsIn('#define A(x) \\\n\tB(x, FLAGS)\n# define C 1\nint D;\n'), [{ name: 'A', uses: ['x', 'B', 'FLAGS'] }, { name: 'C', uses: [] }]);
  });

  it('knows every name the protection search looks for (kept in step with protections.scm and protections.ts)', function () {
    const scm = fs.readFileSync(path.join(ROOT, 'grammars', 'queries', 'c', 'protections.scm'), 'utf8');
    const names = [...scm.matchAll(/#any-of\?[^)]*/g)].flatMap((m) => [...m[0].matchAll(/"(\w+)"/g)].map((x) => x[1]));
    names.push(...NOTIFIER_CALLS);
    assert.ok(names.length >= 10, names.join(' '));
    for (const n of names) assert.match(n, PROTECTION_TEXT, `${n} is not in PROTECTION_TEXT`);
  });

  it('the selection matters: a context of only RELEVANT_TEXT files changes the verdict, the selection does not', function () {
    const files = Object.entries(LAYERED).map(([name, text]) => ({ name, text, uri: pathToFileURL(path.join('/layered', name)).toString(), tree: syntax.parse(text).tree! }));
    try {
      const settings = resolveSettings({});
      const target = files.find((f) => f.name === 'drv/pin.c')!;
      const run = (keep: (f: typeof files[number]) => boolean): string[] => analyze(syntax, { uri: target.uri, text: target.text, tree: target.tree }, settings,
        { files: files.filter((f) => f !== target && keep(f)) }).findings.map((f) => `${f.code}:${f.span.start.line}:${f.message}`);
      const sel = selectRelevantFiles(members(LAYERED), new Set(['drv/pin.c']), definitions([]));
      const everything = run(() => true);
      assert.ok(everything.length > 0);
      assert.deepEqual(run((f) => sel.context.includes(f.name)), everything);
      assert.notDeepEqual(run((f) => RELEVANT_TEXT.test(f.text)), everything);
      assert.notDeepEqual(run((f) => f.name !== 'drv/base.h'), everything, 'the flag macro two headers away decides the verdict');
    } finally {
      for (const f of files) f.tree.delete();
    }
  });

  it('the editor path (DriverContextLoader.contextFor) gives the same findings as every file of the driver', function () {
    const { dir, remove } = scratchTree(LAYERED);
    const loader = new DriverContextLoader(syntax);
    try {
      const settings = resolveSettings({});
      const opts = { maxFileBytes: 1 << 20, budgetMs: 5000, scope: 'directory' as const };
      const target = path.join(dir, 'drv', 'pin.c');
      const text = fs.readFileSync(target, 'utf8');
      const uri = pathToFileURL(target).toString();
      const context = loader.contextFor(target, opts);
      const names = (context.files ?? []).map((f) => path.basename(new URL(f.uri).pathname)).sort();
      assert.deepEqual(names, ['base.h', 'flags.h', 'mid.c', 'mmap.c', 'mr.c', 'put.c']);
      const every = loader.driverFiles(target, opts).map((f) => loader.load(f, opts, false)!);
      const a = analyze(syntax, { uri, text }, settings, context).findings;
      const b = analyze(syntax, { uri, text }, settings, { files: every }).findings;
      assert.ok(a.length > 0);
      assert.deepEqual(a, b);
    } finally {
      loader.dispose();
      remove();
    }
  });
  it('the editor\'s background index (DriverContextLoader.preload) keeps parsed exactly the files that can matter, and the context it prepares gives the same findings', function () {
    const { dir, remove } = scratchTree(LAYERED);
    const loader = new DriverContextLoader(syntax);
    const fresh = new DriverContextLoader(syntax);
    try {
      const settings = resolveSettings({});
      const opts = { maxFileBytes: 1 << 20, budgetMs: 5000, scope: 'directory' as const };
      const all = Object.keys(LAYERED).map((rel) => path.join(dir, rel));
      const kept = all.filter((f) => loader.preload(f, opts)).map((f) => path.relative(dir, f)).sort();
      assert.deepEqual(kept, Object.keys(LAYERED).filter((rel) => RELEVANT_TEXT.test(LAYERED[rel])).sort());
      assert.ok(kept.length > 0 && kept.length < all.length, kept.join(' '));
      const target = path.join(dir, 'drv', 'pin.c');
      const text = fs.readFileSync(target, 'utf8');
      const uri = pathToFileURL(target).toString();
      const names = (c: ReturnType<DriverContextLoader['contextFor']>): string[] => (c.files ?? []).map((f) => f.uri).sort();
      const warm = loader.contextFor(target, opts);
      const cold = fresh.contextFor(target, opts);
      assert.deepEqual(names(warm), names(cold));
      assert.deepEqual(analyze(syntax, { uri, text }, settings, warm).findings, analyze(syntax, { uri, text }, settings, cold).findings);
      // A file changed after it was preloaded is read again (its mtime or size moved).
      const pin = path.join(dir, 'drv', 'pin.c');
      fs.writeFileSync(pin, fs.readFileSync(pin, 'utf8') + '\n/* changed */\n');
      assert.match(loader.source(pin, opts)!.text, /changed/);
    } finally {
      loader.dispose();
      fresh.dispose();
      remove();
    }
  });
});
