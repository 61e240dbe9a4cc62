// The scan parses each file once (phase two analyses on phase one's trees), computes quick fixes only for the formats that print them, tests bytes before decoding, and starts workers only when asked or worth it.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BAD_DRIVER, FIXTURES, runCli, scratchTree } from './runCli';
import { generateTree } from '../../helpers/generatedTree';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../../server/src/settings';
import type { CSyntax } from '../../../server/src/analysis/parser';
import type { Finding } from '../../../server/src/analysis/finding';
import { analyzeChunk, FileResult } from '../../../server/src/cli/analyzeChunk';
import { planScan, ScanChunk } from '../../../server/src/cli/scanPlan';
import { ChunkRunner, wantsWorker, WORKER_CHUNK_BYTES, workerScriptPath } from '../../../server/src/cli/workerPool';
import { FolderBatch, folderBatches, FolderWorkers, NO_PREFILTER_WORKER_TARGETS, runBatch, runFolderWorkers, walkWithWorkers, wantsFolderWorkers, WORKER_SCAN_TARGETS } from '../../../server/src/cli/folderWorkers';
import { collectScanTargets, walkScanTargets } from '../../../server/src/runtime/scanTargets';
import { definitionsFromIndex, holdsSuppression, identifiersIn, mentionsPinApi, mentionsPinApiBytes, namesPinApiInCode, namesPinApiInCodeBytes, PIN_API_NAMES, SUPPRESSION_TEXT } from '../../../server/src/runtime/fileRelevance';
import { indexFile } from '../../../server/src/analysis/fileIndex';
import { ByteArena, decodedLength, decodeText, readSourceBytes } from '../../../server/src/runtime/sourceFiles';
import { analyze } from '../../../server/src/engine';
import { pathToFileURL } from 'url';

/** A driver with a wrapper chain over three files, flag macros two headers away, a protection and a release helper. */
const LAYERED: Record<string, string> = {
  'drv/mr.c': '#include "flags.h"\nint reg_mr(struct mr *mr, unsigned long a, int n)\n{\n\treturn drv_pin_user(mr, a, n, DRV_GUP_FLAGS);\n}\n',
  'drv/mid.c': 'int drv_pin_user(struct mr *mr, unsigned long a, int n, unsigned int how)\n{\n\treturn drv_pin_range(a, n, how, mr->pages);\n}\n',
  'drv/pin.c': 'int drv_pin_range(unsigned long a, int n, unsigned int gup_flags, struct page **pages)\n{\n\treturn get_user_pages_fast(a, n, gup_flags, pages);\n}\n',
  'drv/flags.h': '#define DRV_GUP_FLAGS (DRV_BASE_FLAGS)\n',
  'drv/base.h': '#define DRV_BASE_FLAGS FOLL_WRITE\n',
  'drv/put.c': 'void drv_put(struct page **p, int n)\n{\n\twhile (n--)\n\t\tput_page(p[n]);\n}\n',
  'drv/quirk.c': '/* forksafe-ignore FS001 */\nint quirk;\n',
  'bad/bad.c': BAD_DRIVER,
  'quiet/a.c': 'int a(void) { return 0; }\n',
  'quiet/q.c': '/* forksafe-ignore FS002 */\nint q;\n',
};

const settings = resolveSettings({});

/** `syntax` with its parses counted by text (macro bodies, which the engine parses on the side, left out). */
function countingSyntax(syntax: CSyntax): { syntax: CSyntax; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const counted = Object.create(syntax) as CSyntax;
  counted.parse = (text, oldTree, budgetMs) => {
    if (!text.startsWith('void __forksafe_macro(')) counts.set(text, (counts.get(text) ?? 0) + 1);
    return syntax.parse(text, oldTree, budgetMs);
  };
  return { syntax: counted, counts };
}

/** Plans a scan of `dir` and analyses each group's chunks as they come: on the plan's loader, or (reuse false) each chunk on its own. */
async function scanInline(syntax: CSyntax, dir: string, reuse: boolean, fixes = false, prefilter = true): Promise<{ results: FileResult[]; chunks: ScanChunk[]; parsedForDiscovery: number }> {
  const targets = collectScanTargets([dir], { include: settings.include, exclude: settings.exclude, gitignore: false, root: dir }).files;
  const results: FileResult[] = [];
  const chunks: ScanChunk[] = [];
  const plan = await planScan(targets, {
    settings, prefilter, jobs: 1, inputFolders: [dir], syntax: async () => syntax,
    onChunks: (list, loader) => {
      for (const chunk of list) {
        chunks.push(chunk);
        results.push(...analyzeChunk(syntax, chunk, settings, { fixes, loader: reuse ? loader : undefined }));
      }
    },
  });
  return { results, chunks, parsedForDiscovery: plan.stats.parsedForDiscovery };
}

const findingsOf = (results: FileResult[]): Finding[] => results.flatMap((r) => r.findings);

describe('cli: parse once, fixes on demand', function () {
  let syntax: CSyntax;
  let layered: { dir: string; remove: () => void };
  let generated: string;
  before(async function () {
    syntax = await loadSyntax();
    layered = scratchTree(LAYERED);
    generated = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-tree-'));
    generateTree(generated, 5, 40);
  });
  after(function () {
    layered.remove();
    fs.rmSync(generated, { recursive: true, force: true });
  });

  for (const tree of ['layered', 'generated']) {
    it(`${tree} tree: phase two analyses on phase one's trees, every file is parsed once, and the findings are the same`, async function () {
      const dir = tree === 'layered' ? layered.dir : generated;
      const once = countingSyntax(syntax);
      const reused = await scanInline(once.syntax, dir, true);
      const twice = countingSyntax(syntax);
      const fresh = await scanInline(twice.syntax, dir, false);
      assert.ok(reused.parsedForDiscovery > 0 && findingsOf(reused.results).length > 0, 'discovery parsed files and the scan found something');
      assert.deepEqual(reused.results, fresh.results);
      const parsedTwice = [...once.counts.entries()].filter(([, n]) => n > 1).map(([text]) => text.slice(0, 60));
      assert.deepEqual(parsedTwice, [], 'no text parsed twice');
      assert.ok([...twice.counts.values()].some((n) => n > 1), 'without the plan\'s loader the chunks parse again (the counting sees it)');
      // Every analysed file and every context file was parsed (once), and the chunks' context covers discovery's parses.
      const files = new Set(reused.chunks.flatMap((c) => [...c.targets, ...c.context]));
      for (const f of files) assert.equal(once.counts.get(fs.readFileSync(f, 'utf8')), 1, f);
    });
  }

  it('trees let go between analyses (FORKSAFE_HELD_TREE_CHARS=0) give the same findings and fixes', async function () {
    const saved = process.env.FORKSAFE_HELD_TREE_CHARS;
    try {
      for (const [dir, prefilter] of [[layered.dir, true], [generated, true], [FIXTURES, true], [FIXTURES, false]] as const) {
        delete process.env.FORKSAFE_HELD_TREE_CHARS;
        const kept = await scanInline(syntax, dir, true, true, prefilter);
        process.env.FORKSAFE_HELD_TREE_CHARS = '0';
        const counted = countingSyntax(syntax);
        const released = await scanInline(counted.syntax, dir, true, true, prefilter);
        assert.ok(findingsOf(kept.results).length > 0, `${dir}: the scan found something`);
        assert.deepEqual(released.results, kept.results, `${dir}, prefilter ${prefilter}`);
        // The trees were let go (a target's is parsed again for its own analysis), so the equality above means something.
        const files = new Set(released.chunks.flatMap((c) => [...c.targets, ...c.context]));
        const again = [...files].filter((f) => (counted.counts.get(fs.readFileSync(f, 'utf8')) ?? 0) > 1);
        assert.ok(again.length > 0, `${dir}: no tree was parsed again`);
      }
    } finally {
      if (saved === undefined) delete process.env.FORKSAFE_HELD_TREE_CHARS; else process.env.FORKSAFE_HELD_TREE_CHARS = saved;
    }
  });

  it("a function's mentions, listed on demand from the text, are the identifiers of its node's text (non-BMP text before it too)", function () {
    const text = '/* \u{1F600} caf\u00e9 */\n#define FLAGS (FOLL_WRITE)\nint \u00e9t\u00e9;\nstatic int pin(struct page **p)\n{\n\t/* \u{1F4A5} */ return get_user_pages(0, 1, FLAGS, p);\n}\nEXPORT_SYMBOL(pin);\n';
    const tree = syntax.parse(text).tree!;
    try {
      const index = indexFile(syntax, tree, text);
      const defs = definitionsFromIndex(index, text);
      const fn = index.functions.find((f) => f.name === 'pin')!;
      assert.deepEqual([...defs.find((d) => d.name === 'pin')!.mentions!()], [...identifiersIn(fn.node.text)]);
      assert.ok([...defs.find((d) => d.name === 'pin')!.mentions!()].includes('FLAGS'));
      assert.deepEqual([...defs.find((d) => d.name === '')!.mentions!()], [...identifiersIn(text)]);
    } finally { tree.delete(); }
  });

  it('quick fixes only when asked: the findings are otherwise equal', async function () {
    const without = findingsOf((await scanInline(syntax, layered.dir, true, false)).results);
    const withFixes = findingsOf((await scanInline(syntax, layered.dir, true, true)).results);
    assert.ok(without.length > 2);
    assert.ok(without.every((f) => f.fixes.length === 0), 'no fixes computed');
    assert.ok(withFixes.some((f) => f.fixes.some((x) => x.edits.length > 0)), 'fixes computed when asked');
    assert.deepEqual(without, withFixes.map((f) => ({ ...f, fixes: [] })));
  });

  it('the CLI asks for fixes for JSON and SARIF only; text, gcc and baselines do not depend on them', function () {
    const json = JSON.parse(runCli(['scan', '--format', 'json', '--fail-on', 'none', '.'], layered.dir).stdout) as { findings: Array<{ fixes: unknown[] }> };
    assert.ok(json.findings.some((f) => f.fixes.length > 0), 'json prints fixes');
    const sarif = JSON.parse(runCli(['scan', '--format', 'sarif', '--fail-on', 'none', '.'], layered.dir).stdout) as { runs: Array<{ results: Array<{ fixes?: unknown[] }> }> };
    assert.ok(sarif.runs[0].results.some((r) => (r.fixes?.length ?? 0) > 0), 'sarif prints fixes');
    // --explain prints everything text derives from a finding: the same with and without workers (which also skip fixes).
    const text = runCli(['scan', '--explain', '--fail-on', 'none', '-j', '1', '.'], layered.dir).stdout;
    assert.match(text, /FS001/);
    assert.equal(runCli(['scan', '--explain', '--fail-on', 'none', '-j', '3', '.'], layered.dir).stdout, text);
    const baseline = path.join(layered.dir, 'baseline.json');
    runCli(['scan', '--baseline', baseline, '--update-baseline', '.'], layered.dir);
    const entries = JSON.parse(fs.readFileSync(baseline, 'utf8')) as { findings: Array<{ fingerprint: string }> };
    assert.deepEqual(entries.findings.length, json.findings.length);
    const again = runCli(['scan', '--format', 'json', '--baseline', baseline, '.'], layered.dir);
    assert.equal(again.code, 0, again.stderr);
    fs.rmSync(baseline);
  });
});

describe('cli: byte prefilter', function () {
  /** A seeded byte soup: pieces of the names the tests look for, broken and valid UTF-8, BOMs, ASCII noise. */
  function soup(seed: number): Buffer {
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces: Array<number[] | string> = [
      'get_user_pages', 'user_pages', 'pin_user_pages_fast', 'get_vaddr_frames', 'vaddr_frames', '_count_user_pages', 'forksafe-ignore',
      'forksafe-', 'ignore', 'get_', 'pin_', ' ', '\n', '(', 'x', '_', 'é', '€',
      '/*', '*/', '//', '"', '\'', '\\', '\\\n', '\'é\'', '\'\\é\'', '\'a\'', '\r\n',
      [0xef, 0xbb, 0xbf], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff], [0xed, 0xa0, 0x80],
    ];
    const parts: Buffer[] = [];
    const n = 1 + Math.floor(next() * 12);
    for (let i = 0; i < n; i++) {
      const p = pieces[Math.floor(next() * pieces.length)];
      parts.push(typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p));
    }
    return Buffer.concat(parts);
  }

  it('the byte tests agree with the text tests on the decoded text (strict or lossy, BOM or not)', function () {
    let pins = 0;
    let suppressions = 0;
    let hidden = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const bytes = soup(seed);
      const { text } = decodeText(bytes, 'soup.c');
      if (mentionsPinApi(text)) pins++;
      assert.equal(mentionsPinApiBytes(bytes), mentionsPinApi(text), `seed ${seed}: ${JSON.stringify(text)}`);
      if (SUPPRESSION_TEXT.test(text)) suppressions++;
      assert.equal(holdsSuppression(bytes), SUPPRESSION_TEXT.test(text), `seed ${seed}: ${JSON.stringify(text)}`);
      const inCode = namesPinApiInCode(text);
      if (mentionsPinApi(text) && !inCode) hidden++;
      assert.equal(namesPinApiInCodeBytes(bytes), inCode, `seed ${seed}: ${JSON.stringify(text)}`);
    }
    assert.ok(pins > 100 && suppressions > 100, `the soup exercises both (${pins}, ${suppressions})`);
    assert.ok(hidden > 100 && hidden < pins, `names in comments and literals: ${hidden} of ${pins}`);
    // A character literal of non-ASCII text is longer read as Latin-1 than decoded: blanked in one and not the other,
    // the quote inside it would open a string in one only.
    const tricky = 'x = \'ééééé"\'; get_user_pages(a); s = "";\n';
    assert.equal(namesPinApiInCodeBytes(Buffer.from(tricky, 'utf8')), namesPinApiInCode(tricky), tricky);
  });

  it('the length counted on the bytes is the decoded text\'s (BOM dropped), and undefined exactly when decoding is lossy', function () {
    let counted = 0;
    let lossy = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const bytes = soup(seed);
      const decoded = decodeText(bytes, 'soup.c');
      const length = decodedLength(bytes);
      if (length === undefined) {
        lossy++;
        assert.equal(decoded.notes.length, 1, `seed ${seed}: undefined, but ${JSON.stringify(decoded.text)} decoded without a note`);
      } else {
        counted++;
        assert.equal(length, decoded.text.length, `seed ${seed}: ${JSON.stringify(decoded.text)}`);
        assert.equal(decoded.notes.length, 0, `seed ${seed}`);
      }
    }
    assert.ok(counted > 500 && lossy > 500, `both kinds (${counted} counted, ${lossy} lossy)`);
  });

  it('a target over the size limit is reported from its length as the engine reports its text, in groups that may pin and not', async function () {
    const big = (unit: string, n: number): string => `/* ${unit.repeat(n)} */\n`;
    const { dir, remove } = scratchTree({
      'regs/ascii.h': big('x', 3000),
      // 3,000 bytes but 1,506 UTF-16 units: under a 2 KB limit, so analysed (its pin is found).
      'regs/accents.c': big('é', 1500) + BAD_DRIVER,
      // Four-byte sequences are two units each: 4,406 bytes, 2,206 units.
      'regs/emoji.h': big('😀', 1100),
      'drv/pin.c': BAD_DRIVER,
      'drv/big.h': big('y', 2500),
    });
    try {
      fs.writeFileSync(path.join(dir, 'regs', 'broken.h'), Buffer.concat([Buffer.from('/* '), Buffer.alloc(2600, 0xff), Buffer.from(' */\n')]));
      const settings = resolveSettings({ maxFileSizeKb: 2 });
      const syntax = await loadSyntax();
      for (const extra of [[], ['--no-prefilter']]) {
        const r = runCli(['scan', '--format', 'json', '--fail-on', 'none', '--max-file-size-kb', '2', ...extra, '.'], dir);
        const out = JSON.parse(r.stdout) as { findings: Array<{ code: string; path: string; message: string }> };
        const byFile = (rel: string): Array<{ code: string; message: string }> => out.findings.filter((f) => f.path === rel).map((f) => ({ code: f.code, message: f.message }));
        for (const rel of ['regs/ascii.h', 'regs/emoji.h', 'regs/broken.h', 'drv/big.h']) {
          const file = path.join(dir, rel);
          const { text } = decodeText(fs.readFileSync(file), file);
          const engine = analyze(syntax, { uri: pathToFileURL(file).toString(), text }, settings);
          assert.deepEqual(byFile(rel), engine.findings.map((f) => ({ code: f.code, message: f.message })), `${rel} ${extra.join(' ')}`);
          assert.deepEqual(byFile(rel).map((f) => f.code), ['FS009'], rel);
          for (const note of engine.notes) assert.ok(r.stderr.includes(note.replace(pathToFileURL(file).toString(), rel)), `${rel}: ${note}\n${r.stderr}`);
        }
        assert.match(byFile('regs/emoji.h')[0].message, /it is 2 KB/);
        assert.deepEqual(byFile('regs/accents.c').map((f) => f.code), ['FS001']);
        assert.equal(r.stderr.match(/broken\.h: not valid UTF-8/g)?.length, 1, r.stderr);
      }
    } finally { remove(); }
  });

  it('reads into the arena give the bytes and errors of plain reads, and earlier reads stay valid as it grows', function () {
    const sizes = [0, 10, 700 * 1024, 1536 * 1024, 3 * 1024 * 1024, 5];
    const files: Record<string, string> = {};
    sizes.forEach((n, i) => { files[`f${i}.c`] = Array.from({ length: n }, (_, k) => String.fromCharCode(97 + ((k * 7 + i) % 26))).join(''); });
    const { dir, remove } = scratchTree(files);
    try {
      const arena = new ByteArena();
      const names = [...Object.keys(files), 'missing.c', '.'];
      const reads = names.map((n) => readSourceBytes(path.join(dir, n), 8 << 20, arena));
      names.forEach((n, i) => {
        const plain = readSourceBytes(path.join(dir, n), 8 << 20);
        const read = reads[i];
        assert.equal(read.ok, plain.ok, n);
        if (read.ok && plain.ok) assert.ok(read.bytes.equals(plain.bytes) && read.bytes.equals(fs.readFileSync(path.join(dir, n))), n);
        if (!read.ok && !plain.ok) assert.equal(read.error, plain.error, n);
      });
      assert.equal(readSourceBytes(path.join(dir, 'f3.c'), 1024 * 1024, arena).ok, false, 'the size limit applies');
    } finally { remove(); }
  });

  it('every pin API name passes the byte test', function () {
    for (const name of PIN_API_NAMES) assert.ok(mentionsPinApiBytes(Buffer.from(`x = ${name}(a);`)), name);
    assert.equal(mentionsPinApiBytes(Buffer.from('int get_user_page;\n')), false);
    // Longer identifiers around an anchor are not pin APIs; a later occurrence still counts.
    assert.equal(mentionsPinApiBytes(Buffer.from('os_lock_user_pages(p); put_user_pages(p, n); get_user_pages2(x);\n')), false);
    assert.equal(mentionsPinApiBytes(Buffer.from('os_lock_user_pages(p); r = get_user_pages(a, n, f, p);\n')), true);
    assert.equal(mentionsPinApiBytes(Buffer.from('/*\xe9*/pin_user_pages_fast\xff')), true, 'bytes that decode to no word character bound a name');
  });

  it('a pin in a file with a BOM and invalid UTF-8 is found as without the prefilter, and noted once', function () {
    const { dir, remove } = scratchTree({ 'drv/other.c': 'int other;\n' });
    try {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('/* caf'), Buffer.from([0xe9]), Buffer.from(' */\n'), Buffer.from(BAD_DRIVER)]);
      fs.writeFileSync(path.join(dir, 'drv', 'odd.c'), bytes);
      const two = runCli(['scan', '--format', 'json', '--fail-on', 'none', '.'], dir);
      const all = runCli(['scan', '--format', 'json', '--fail-on', 'none', '--no-prefilter', '.'], dir);
      const findings = (r: { stdout: string }): unknown[] => (JSON.parse(r.stdout) as { findings: unknown[] }).findings;
      assert.equal(findings(two).length, 1);
      assert.deepEqual(findings(two), findings(all));
      assert.equal(two.stderr.match(/not valid UTF-8/g)?.length, 1, two.stderr);
    } finally { remove(); }
  });
});

describe('cli: worker count', function () {
  let syntax: CSyntax;
  let dir: string;
  let remove: () => void;
  before(async function () {
    syntax = await loadSyntax();
    ({ dir, remove } = scratchTree(LAYERED));
  });
  after(function () { remove(); });

  it('without -j a chunk needs WORKER_CHUNK_BYTES of source to go to a worker; with -j any chunk may', function () {
    assert.equal(wantsWorker(WORKER_CHUNK_BYTES - 1, false), false);
    assert.equal(wantsWorker(WORKER_CHUNK_BYTES, false), true);
    assert.equal(wantsWorker(0, true), true);
  });

  async function run(jobs: number, explicitJobs: boolean, workerScript?: string, failures: string[] = []): Promise<{ results: FileResult[]; workers: number }> {
    const runner = new ChunkRunner({ settings, fixes: true, jobs, prefilter: true, explicitJobs, syntax: async () => syntax, workerScript, onWorkerFailure: (m) => failures.push(m) });
    const targets = collectScanTargets([dir], { include: settings.include, exclude: settings.exclude, gitignore: false, root: dir }).files;
    await planScan(targets, { settings, prefilter: true, jobs, inputFolders: [dir], syntax: async () => syntax, onChunks: (chunks, loader) => runner.submit(chunks, loader) });
    const results = await runner.finish();
    return { results: [...results].sort((a, b) => (a.path < b.path ? -1 : 1)), workers: runner.workerCount };
  }

  it('small chunks stay in this thread by default; -j 3 starts workers; the results are the same', async function () {
    this.timeout(60000);
    const inline = await run(4, false);
    const threaded = await run(3, true);
    assert.equal(inline.workers, 0);
    assert.equal(threaded.workers, 2, 'two chunks came while no worker was free');
    assert.ok(inline.results.length >= 3);
    assert.deepEqual(threaded.results, inline.results);
  });

  for (const [how, script] of [['crashes', 'throw new Error("boom");\n'], ['exits', 'process.exit(3);\n']]) {
    it(`a worker that ${how} leaves its chunks to this thread: same results, one note per worker`, async function () {
      const file = path.join(dir, `failing-worker-${how}.js`);
      fs.writeFileSync(file, script);
      try {
        const failures: string[] = [];
        const inline = await run(1, false);
        const failed = await run(3, true, file, failures);
        assert.equal(failed.workers, 2);
        assert.deepEqual(failed.results, inline.results);
        assert.equal(failures.length, 2, failures.join('\n'));
        assert.match(failures[0], how === 'crashes' ? /crashed.*boom/ : /exited with code 3/);
      } finally { fs.rmSync(file); }
    });
  }
});

describe('cli: folder-batch workers (whole-tree scans)', function () {
  let syntax: CSyntax;
  let tree: string;
  let targets: string[];
  let folderSources: ReadonlyMap<string, readonly string[]>;
  before(async function () {
    syntax = await loadSyntax();
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-batches-'));
    generateTree(tree, 5, 40);
    ({ files: targets, folderSources } = collectScanTargets([tree], { include: settings.include, exclude: settings.exclude, gitignore: false, root: tree }));
  });
  after(function () { fs.rmSync(tree, { recursive: true, force: true }); });

  const sorted = (r: FileResult[]): FileResult[] => [...r].sort((a, b) => (a.path < b.path ? -1 : 1));

  it('batches hold whole folders, every target once, several per worker', function () {
    const batches = folderBatches(targets, folderSources, 2);
    assert.ok(batches.length >= 4, `${batches.length} batches`);
    assert.deepEqual(batches.flatMap((b) => b.targets), targets);
    const batchOf = new Map<string, number>();
    batches.forEach((b, i) => {
      for (const t of b.targets) {
        const dir = path.dirname(path.resolve(t));
        assert.equal(batchOf.get(dir) ?? i, i, `${dir} is in two batches`);
        batchOf.set(dir, i);
      }
      for (const [dir, files] of b.folderSources) assert.deepEqual(files, folderSources.get(dir));
    });
  });

  it('only whole trees (or -j) in the directory and file scopes go to folder workers', function () {
    assert.equal(wantsFolderWorkers(WORKER_SCAN_TARGETS - 1, settings, 2, false), false);
    assert.equal(wantsFolderWorkers(WORKER_SCAN_TARGETS, settings, 2, false), true);
    assert.equal(wantsFolderWorkers(3, settings, 2, true), true);
    assert.equal(wantsFolderWorkers(1e6, settings, 1, false), false);
    // Without the prefilter, from NO_PREFILTER_WORKER_TARGETS on (every file is parsed; heavy folders go alone).
    assert.equal(wantsFolderWorkers(NO_PREFILTER_WORKER_TARGETS - 1, settings, 2, false, false), false);
    assert.equal(wantsFolderWorkers(NO_PREFILTER_WORKER_TARGETS, settings, 2, false, false), true);
    assert.equal(wantsFolderWorkers(NO_PREFILTER_WORKER_TARGETS, settings, 2, false, true), false);
    assert.equal(wantsFolderWorkers(1e6, { ...settings, driverScope: 'workspace' }, 4, true), false);
  });

  it('two workers give what one thread gives for all the targets at once', async function () {
    this.timeout(60000);
    const options = { settings, prefilter: true, fixes: true, inputFolders: [tree] };
    const inline = await runBatch(async () => syntax, { targets, folderSources: [...folderSources].map(([d, f]) => [d, [...f]] as [string, string[]]) }, options);
    let read = 0;
    const workers = await runFolderWorkers(folderBatches(targets, folderSources, 2), {
      ...options, workers: 2, syntax: async () => syntax, workerScript: workerScriptPath()!, onFileRead: () => read++,
    });
    assert.ok(inline.results.some((r) => r.findings.length > 0), 'the tree has findings');
    assert.deepEqual(sorted(workers.results), sorted(inline.results));
    assert.equal(workers.plan.analysed, inline.analysed);
    assert.deepEqual(workers.plan.stats, inline.stats);
    assert.equal(read, targets.length, 'every read is counted once');
  });

  it('the walk yields each folder once its entries are done: every target once, with its folder\'s sources', function () {
    const extra = path.join(tree, 'named-input.c');
    fs.writeFileSync(extra, 'int x;\n');
    try {
      const inputs = [tree, extra, path.join(tree, '.', path.basename(extra))];
      const walk = walkScanTargets(inputs, { include: settings.include, exclude: settings.exclude, gitignore: false, root: tree });
      const yielded: string[] = [];
      let step = walk.next();
      for (; !step.done; step = walk.next()) {
        assert.deepEqual(step.value.sources, [...step.value.sources].sort(), 'sorted, as listDriverFiles lists them');
        for (const t of step.value.targets) assert.equal(path.dirname(path.resolve(t)), step.value.dir);
        yielded.push(...step.value.targets);
      }
      const collected = step.value;
      assert.deepEqual(collected, collectScanTargets(inputs, { include: settings.include, exclude: settings.exclude, gitignore: false, root: tree }));
      assert.equal(new Set(yielded).size, yielded.length, 'no target twice');
      assert.deepEqual([...yielded].sort(), collected.files, 'the walked files, the named input included (it is in the tree)');
      for (const t of yielded) assert.ok(collected.folderSources.get(path.dirname(path.resolve(t)))?.includes(t), t);
    } finally { fs.rmSync(extra); }
  });

  it('the folders walked before a pool starts are cut into batches like the rest, not handed out as one', async function () {
    this.timeout(60000);
    // WORKER_SCAN_TARGETS empty targets in folders of 100, so the pool starts only after that many were walked.
    const big = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-walkbatch-'));
    try {
      const perFolder = 100;
      const folders = Math.ceil(WORKER_SCAN_TARGETS / perFolder) + 3;
      for (let d = 0; d < folders; d++) {
        const dir = path.join(big, `d${String(d).padStart(4, '0')}`);
        fs.mkdirSync(dir);
        for (let f = 0; f < perFolder; f++) fs.writeFileSync(path.join(dir, `f${f}.c`), '');
      }
      const added: FolderBatch[] = [];
      const stub = { add: (b: FolderBatch) => { added.push(b); } } as unknown as FolderWorkers;
      const walked = await walkWithWorkers(walkScanTargets([big], { include: settings.include, exclude: settings.exclude, gitignore: false, root: big }),
        { settings, jobs: 2, explicitJobs: false, makePool: () => stub });
      assert.equal(walked.pool, stub);
      const given = added.flatMap((b) => b.targets);
      assert.deepEqual([...given].sort(), walked.collected.files, 'every target in one batch');
      // A batch is whole folders of about 256 files (before, the first one held every folder walked before the pool).
      for (const b of added) assert.ok(b.targets.length <= 256 + perFolder, `a batch of ${b.targets.length} files`);
      for (const b of added) assert.deepEqual(new Set(b.targets.map((t) => path.dirname(t))).size, b.folderSources.length, 'whole folders');
    } finally {
      fs.rmSync(big, { recursive: true, force: true });
    }
  });

  it('workers started during the walk (-j) give what one thread gives; a small tree without -j makes no pool', async function () {
    this.timeout(60000);
    const targetOptions = { include: settings.include, exclude: settings.exclude, gitignore: false, root: tree };
    const options = { settings, prefilter: true, fixes: true, inputFolders: [tree] };
    const makePool = (): FolderWorkers => new FolderWorkers({ ...options, workers: 2, syntax: async () => syntax, workerScript: workerScriptPath()! });
    const none = await walkWithWorkers(walkScanTargets([tree], targetOptions), { settings, jobs: 2, explicitJobs: false, makePool });
    assert.equal(none.pool, undefined, `${targets.length} targets are fewer than ${WORKER_SCAN_TARGETS}`);
    // A file named as an input, outside the walked folder: queued when the walk ends.
    const { dir: elsewhere, remove } = scratchTree({ 'lone/pin.c': BAD_DRIVER });
    try {
      const lone = path.join(elsewhere, 'lone', 'pin.c');
      const streamed = await walkWithWorkers(walkScanTargets([tree, lone], targetOptions), { settings, jobs: 2, explicitJobs: true, makePool });
      assert.ok(streamed.pool);
      assert.deepEqual(streamed.collected.files, [...none.collected.files, lone].sort());
      const { plan, results } = await streamed.pool.close();
      const inline = await runBatch(async () => syntax, { targets: [...targets, lone], folderSources: [...folderSources].map(([d, f]) => [d, [...f]] as [string, string[]]) }, options);
      assert.deepEqual(sorted(results), sorted(inline.results));
      assert.equal(plan.analysed, inline.analysed);
      assert.deepEqual(results.find((r) => r.path === lone)?.findings.map((f) => f.code), ['FS001']);
    } finally { remove(); }
    const oneJob = await walkWithWorkers(walkScanTargets([tree], targetOptions), { settings, jobs: 1, explicitJobs: true, makePool });
    assert.equal(oneJob.pool, undefined, '-j 1 never starts a worker');
    const notAllowed = await walkWithWorkers(walkScanTargets([tree], targetOptions), { settings, jobs: 2, explicitJobs: true, makePool: undefined });
    assert.equal(notAllowed.pool, undefined);
  });

  it('without the prefilter, a tree of NO_PREFILTER_WORKER_TARGETS files starts folder workers during the walk; with it, it does not', async function () {
    this.timeout(60000);
    const wide = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-np-'));
    try {
      for (let d = 0; d < 4; d++) {
        fs.mkdirSync(path.join(wide, `d${d}`));
        for (let f = 0; f < NO_PREFILTER_WORKER_TARGETS / 4; f++) fs.writeFileSync(path.join(wide, `d${d}`, `f${f}.c`), `int v${f};\n`);
      }
      const targetOptions = { include: settings.include, exclude: settings.exclude, gitignore: false, root: wide };
      for (const prefilter of [true, false]) {
        const options = { settings, prefilter, fixes: false, inputFolders: [wide] };
        let made = 0;
        const makePool = (): FolderWorkers => { made++; return new FolderWorkers({ ...options, workers: 2, syntax: async () => syntax, workerScript: workerScriptPath()! }); };
        const walked = await walkWithWorkers(walkScanTargets([wide], targetOptions), { settings, jobs: 2, explicitJobs: false, prefilter, makePool });
        assert.equal(made, prefilter ? 0 : 1, `prefilter ${prefilter}: pools made`);
        if (walked.pool) {
          const { plan } = await walked.pool.close();
          assert.equal(plan.analysed, NO_PREFILTER_WORKER_TARGETS, 'every file analysed without the prefilter');
        }
      }
    } finally {
      fs.rmSync(wide, { recursive: true, force: true });
    }
  });

  for (const [how, script] of [['crashes', 'throw new Error("boom");\n'], ['exits', 'process.exit(3);\n']]) {
    it(`a folder worker that ${how} leaves its batch to this thread: same results, one note per worker`, async function () {
      this.timeout(60000);
      const file = path.join(tree, `failing-worker-${how}.js`);
      fs.writeFileSync(file, script);
      try {
        const options = { settings, prefilter: true, fixes: true, inputFolders: [tree] };
        const failures: string[] = [];
        const batches = folderBatches(targets, folderSources, 2);
        const inline = await runBatch(async () => syntax, { targets, folderSources: [...folderSources].map(([d, f]) => [d, [...f]] as [string, string[]]) }, options);
        const failed = await runFolderWorkers(batches, { ...options, workers: 2, syntax: async () => syntax, workerScript: file, onWorkerFailure: (m) => failures.push(m) });
        assert.deepEqual(sorted(failed.results), sorted(inline.results));
        assert.equal(failures.length, 2, failures.join('\n'));
        assert.match(failures[0], how === 'crashes' ? /crashed.*boom/ : /exited with code 3/);
      } finally { fs.rmSync(file); }
    });
  }

  it('a folder worker that runs out of its heap limit leaves its batch to this thread: same results, the limit named', async function () {
    this.timeout(60000);
    // What a batch larger than workerHeapLimits allows does, in small: the worker keeps allocating past its limit.
    const file = path.join(tree, 'hungry-worker.js');
    fs.writeFileSync(file, 'const keep = [];\nfor (;;) keep.push(new Array(1 << 16).fill(keep.length));\n');
    try {
      const options = { settings, prefilter: true, fixes: true, inputFolders: [tree] };
      const failures: string[] = [];
      const inline = await runBatch(async () => syntax, { targets, folderSources: [...folderSources].map(([d, f]) => [d, [...f]] as [string, string[]]) }, options);
      const failed = await runFolderWorkers(folderBatches(targets, folderSources, 2), { ...options, workers: 2, syntax: async () => syntax, workerScript: file,
        heapLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 }, onWorkerFailure: (m) => failures.push(m) });
      assert.deepEqual(sorted(failed.results), sorted(inline.results));
      assert.equal(failures.length, 2, failures.join('\n'));
      for (const f of failures) assert.match(f, /crashed \(its files are analysed again in the main thread\).*memory limit/);
    } finally { fs.rmSync(file); }
  });
});
