// Rapid editing: 1,000 random didChange notifications as fast as the pipe takes them; the final diagnostics equal a fresh open of the final text, and memory stays flat.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Trace } from 'vscode-jsonrpc/node';
import type { Diagnostic, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { LspProcess, REPO_ROOT } from '../helpers/lspProcess';
import { countFromEnv, Random, seedFromEnv } from '../helpers/random';
import { DEFAULT_SEED } from './hostileInputs';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', DEFAULT_SEED);
const EDITS = countFromEnv('FORKSAFE_RAPID_EDITS', 1000);
/** Process RSS growth allowed over the second round of edits, after the first warmed the server up (JIT, caches, heap sizing). */
const RSS_BOUND_MB = 64;
/**
 * Growth allowed of the wasm heap, where tree-sitter keeps trees. It never shrinks and malloc reuses freed blocks, so
 * without a leak it stays flat (1.6 MB measured); a server that kept each replaced tree grew ~37 MB over these 2,000 edits.
 */
const WASM_BOUND_MB = 16;
/** Distinct documents opened and closed; a server that kept closed documents' trees grew ~30 MB over 300. */
const OPEN_CLOSE = 300;
const OPEN_CLOSE_WASM_BOUND_MB = 8;
const URI = 'file:///virtual/rapid/drv.c';
const START_TEXT = ['rdma_mr/rdma_like_mr.c', 'dma_engine/dma_engine_chardev.c', 'odp_notifier/notifier_protected.c']
  .map((f) => fs.readFileSync(path.join(REPO_ROOT, 'examples', f), 'utf8')).join('\n');

/** What a user types, pastes and deletes around pin calls, including half-finished tokens, CRLF and astral characters. */
const TYPED = [
  'FOLL_WRITE', ' | FOLL_LONGTERM', '0', 'pin_user_pages_fast', 'get_user_pages', '(', ')', '{', '}', ';', ',', '\n', '\n\n', '\r\n',
  ' ', '\t', '\r', '/*', '*/', '//', '"', '#if 1\n', '#endif\n', 'mr->pages = pages;\n', 'put_page(p);\n', 'unpin_user_pages(p, n);\n',
  '// forksafe-ignore FS001: test\n', 'vm_flags_set(vma, VM_DONTCOPY);\n', '\u00e9', '\u{1F600}', 'struct page **', 'x',
];

/** One didChange worth of changes, applied to `doc` in order as the server applies them. */
function randomChanges(doc: TextDocument, rng: Random): { doc: TextDocument; changes: TextDocumentContentChangeEvent[] } {
  const changes: TextDocumentContentChangeEvent[] = [];
  // TextDocument.update mutates the document it is given and returns it.
  const version = doc.version + 1;
  let current = doc;
  const n = rng.chance(0.15) ? rng.int(2, 4) : 1;
  for (let i = 0; i < n; i++) {
    let change: TextDocumentContentChangeEvent;
    const text = current.getText();
    const roll = rng.next();
    if (roll < 0.005) {
      // A reload or a whole-buffer replacement (no range).
      change = { text: START_TEXT.slice(0, rng.int(0, START_TEXT.length)) + rng.pick(TYPED) + START_TEXT.slice(rng.int(0, START_TEXT.length)) };
    } else {
      let a = rng.int(0, text.length);
      if (a > 0 && ((text[a - 1] === '\r' && text[a] === '\n') || /[\uDC00-\uDFFF]/.test(text[a] ?? ''))) a--;
      // Pastes keep the document near its starting size, so the later edits still hit real code.
      const shrunk = text.length < START_TEXT.length / 2;
      const paste = shrunk || roll < 0.1;
      const len = paste || roll < 0.5 ? 0 : roll < 0.9 ? rng.int(1, 12) : rng.int(1, 200);
      let b = Math.min(text.length, a + len);
      // Keep CRLF pairs and surrogate pairs whole, as an editor does.
      if (b < text.length && text[b - 1] === '\r' && text[b] === '\n') b++;
      if (b < text.length && /[\uDC00-\uDFFF]/.test(text[b])) b++;
      const from = rng.int(0, START_TEXT.length);
      const inserted = paste ? START_TEXT.slice(from, from + rng.int(20, 400)) : roll < 0.5 || rng.chance(0.5) ? rng.pick(TYPED) : '';
      change = { range: { start: current.positionAt(a), end: current.positionAt(b) }, text: inserted };
    }
    changes.push(change);
    current = TextDocument.update(current, [change], version);
  }
  return { doc: current, changes };
}

/** Pasted at the top every 100th edit: findings in the final text, and every position after it shifts. */
const PIN_SNIPPET = 'static int pin_more(struct ctx *c, unsigned long a, struct page **p)\n{\n\tget_user_pages(a, 1, FOLL_WRITE, p);\n\tc->pages = p;\n\treturn 0;\n}\n';

const TOP_IF0 = '#if 0\n';

function insertAtTop(doc: TextDocument, text: string): { doc: TextDocument; changes: TextDocumentContentChangeEvent[] } {
  const change = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text };
  return { doc: TextDocument.update(doc, [change], doc.version + 1), changes: [change] };
}

/**
 * Adds or removes an unterminated `#if 0` on the first line: the whole file changes meaning, so most of the tree is
 * re-parsed rather than shared with the previous one, and a tree that is not freed costs its full size.
 */
function toggleTopIf0(doc: TextDocument): { doc: TextDocument; changes: TextDocumentContentChangeEvent[] } {
  if (!doc.getText().startsWith(TOP_IF0)) return insertAtTop(doc, TOP_IF0);
  const change = { range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, text: '' };
  return { doc: TextDocument.update(doc, [change], doc.version + 1), changes: [change] };
}

/**
 * RSS of the wasm linear memories: a read-write mapping directly followed by the multi-GB reservation V8 makes for
 * a 32-bit wasm memory (bounds checks by guard pages). V8's own heap is elsewhere, so GC does not blur this number.
 */
function readWasmRssMb(pid: number): number {
  const maps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).map((block) => {
    const [range, perms] = block.split(' ');
    const [from, to] = range.split('-').map((h) => BigInt(`0x${h}`));
    return { from, to, perms, rssKb: Number(/\nRss:\s+(\d+) kB/.exec(block)?.[1] ?? 0) };
  });
  let kb = 0;
  let found = false;
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.perms.startsWith('rw') && next && next.from === m.to && next.perms.startsWith('---') && next.to - next.from >= 4n << 30n) {
      kb += m.rssKb;
      found = true;
    }
  });
  if (!found) throw new Error(`no wasm memory mapping found in /proc/${pid}/smaps (a read-write mapping followed by a >= 4 GiB reservation)`);
  return kb / 1024;
}

function readRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/**
 * Diagnostics without the document version the server stamps into `data` (for refusing stale fixes): it differs between
 * an edited and a freshly opened document by design. Checks it names `version` when present.
 */
function comparable(diags: Diagnostic[], version: number): Diagnostic[] {
  return diags.map((d) => {
    const data = d.data as { version?: unknown } | undefined;
    if (!data || typeof data !== 'object' || !('version' in data)) return d;
    assert.equal(data.version, version, `diagnostic ${String(d.code)} carries the version it was computed for`);
    const { version: _omit, ...rest } = data;
    return { ...d, data: rest };
  });
}

async function freshDiagnostics(text: string): Promise<Diagnostic[]> {
  const fresh = new LspProcess();
  try {
    await fresh.initialize();
    await fresh.open(URI, text);
    return comparable(await fresh.diagnosticsForCurrentVersion(URI, 120000), 1);
  } finally {
    assert.equal(await fresh.shutdown(), 0, fresh.stderr.join(''));
  }
}

describe('robustness: rapid editing', function () {
  this.timeout(0); // every wait has its own hang detector
  let server: LspProcess;
  let doc: TextDocument;
  let published = 0;
  /** The wasm heap right after the first open: it needs no warm-up, unlike the process RSS. */
  let wasmBaseline = 0;
  const rng = new Random(SEED);

  before(async function () {
    server = new LspProcess();
    await server.initialize();
    server.connection.trace(Trace.Messages, {
      log: (message: string) => { if (message.startsWith("Received notification 'textDocument/publishDiagnostics'")) published++; },
    });
    doc = TextDocument.create(URI, 'c', 1, START_TEXT);
    await server.open(URI, START_TEXT);
    assert.ok((await server.diagnosticsForCurrentVersion(URI)).length > 0, 'the starting text has findings');
    wasmBaseline = readWasmRssMb(server.child.pid!);
  });

  after(async function () {
    if (server) assert.equal(await server.shutdown(), 0, server.stderr.join(''));
  });

  /** Sends EDITS random didChange notifications without waiting for diagnostics, then waits for the final version's. */
  async function editRound(): Promise<{ final: Diagnostic[]; publishes: number; ms: number }> {
    const before = published;
    const started = performance.now();
    for (let i = 0; i < EDITS; i++) {
      const next = i % 100 === 99 ? insertAtTop(doc, PIN_SNIPPET) : i % 5 === 2 ? toggleTopIf0(doc) : randomChanges(doc, rng);
      doc = next.doc;
      const version = await server.change(URI, next.changes);
      assert.equal(version, doc.version, 'client and mirror agree on the version');
    }
    const final = comparable(await server.diagnosticsForCurrentVersion(URI, 120000), doc.version);
    return { final, publishes: published - before, ms: performance.now() - started };
  }

  it(`${EDITS} random edits (seed ${SEED}): the final diagnostics equal a fresh open of the final text`, async function () {
    const round = await editRound();
    const fresh = await freshDiagnostics(doc.getText());
    assert.ok(round.final.length > 0, 'the final text has findings to compare');
    assert.deepEqual(round.final, fresh, `stale state after ${EDITS} edits`);
    assert.ok(server.alive);
    console.log(`      round 1: ${EDITS} edits in ${(round.ms / 1000).toFixed(1)} s, ${round.publishes} diagnostics published, ` +
      `final text ${doc.getText().length} chars with ${round.final.length} diagnostics (${[...new Set(round.final.map((d) => d.code))].join(' ')})`);
  });

  it(`memory stays flat over another ${EDITS} edits (trees are freed): wasm heap growth over both rounds below ${WASM_BOUND_MB} MB, RSS over this one below ${RSS_BOUND_MB} MB`, async function () {
    const pid = server.child.pid!;
    const [rssBefore, wasmBefore] = [readRssMb(pid), wasmBaseline];
    const round = await editRound();
    const [rssAfter, wasmAfter] = [readRssMb(pid), readWasmRssMb(pid)];
    const fresh = await freshDiagnostics(doc.getText());
    assert.ok(round.final.length > 0, 'the final text has findings to compare');
    assert.deepEqual(round.final, fresh, 'stale state after the second round');
    console.log(`      round 2: ${EDITS} edits, ${round.publishes} analyses: wasm heap ${wasmBefore.toFixed(1)} MB at the first open -> ${wasmAfter.toFixed(1)} MB, ` +
      `RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB`);
    assert.ok(wasmAfter - wasmBefore < WASM_BOUND_MB, `the wasm heap (trees) grew ${(wasmAfter - wasmBefore).toFixed(1)} MB over ${2 * EDITS} edits (${wasmBefore.toFixed(1)} -> ${wasmAfter.toFixed(1)} MB)`);
    assert.ok(rssAfter - rssBefore < RSS_BOUND_MB, `server RSS grew ${(rssAfter - rssBefore).toFixed(0)} MB over ${EDITS} edits (${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB)`);
  });

  it(`${OPEN_CLOSE} distinct documents opened and closed: their trees are freed (wasm heap growth below ${OPEN_CLOSE_WASM_BOUND_MB} MB)`, async function () {
    const pid = server.child.pid!;
    const wasmBefore = readWasmRssMb(pid);
    for (let i = 0; i < OPEN_CLOSE; i++) {
      const uri = `file:///virtual/rapid/open${i}.c`;
      await server.open(uri, `/* document ${i} */\n${START_TEXT}`);
      await server.diagnosticsForCurrentVersion(uri, 120000);
      await server.close(uri);
    }
    const wasmAfter = readWasmRssMb(pid);
    console.log(`      open/close: ${OPEN_CLOSE} documents: wasm heap ${wasmBefore.toFixed(1)} -> ${wasmAfter.toFixed(1)} MB`);
    assert.ok(wasmAfter - wasmBefore < OPEN_CLOSE_WASM_BOUND_MB, `the wasm heap grew ${(wasmAfter - wasmBefore).toFixed(1)} MB over ${OPEN_CLOSE} open/close cycles`);
    await stillAnswersAfter();
  });

  /** The long-edited document still gets diagnostics for its newest version, at the pin just pasted on line 3. */
  async function stillAnswersAfter(): Promise<void> {
    const next = insertAtTop(doc, PIN_SNIPPET);
    doc = next.doc;
    await server.change(URI, next.changes);
    const diags = await server.diagnosticsForCurrentVersion(URI);
    assert.ok(diags.some((d) => d.range.start.line === 2 && d.range.start.character === 1), `a finding on the pasted pin: ${JSON.stringify(diags.map((d) => [d.code, d.range.start]))}`);
  }
});
