// The running server under hostile documents: 500 seeded inputs over stdio, each answered with diagnostics equal to the engine's; the server still answers afterwards.
import { strict as assert } from 'assert';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { analyze } from '../../server/src/engine';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { RULE_CODES } from '../../server/src/analysis/rules';
import type { CSyntax } from '../../server/src/analysis/parser';
import { LspProcess } from '../helpers/lspProcess';
import { countFromEnv, seedFromEnv } from '../helpers/random';
import { fuzzFixtures } from './engineFuzzWorker';
import { DEFAULT_SEED, serverInput, SourceSample } from './hostileInputs';
import { treeSitterLineLengths } from './reportInvariants';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', DEFAULT_SEED);
const COUNT = countFromEnv('FORKSAFE_FUZZ_SERVER_COUNT', Math.max(500, Math.round(countFromEnv('FORKSAFE_FUZZ_COUNT', 10000) / 20)));
/** Hang detector per document (a 5 MB line takes seconds); not a performance bound. */
const ANSWER_MS = 120_000;
// The pages stay in the driver's own object (a bare array parameter would be its callers' to judge, issue 28).
const GOOD = 'struct mr { struct page **pages; }; void f(struct mr *mr){ get_user_pages(0, 1, FOLL_WRITE, mr->pages); }\n';

function diagnosticProblems(diags: Diagnostic[], text: string): string[] {
  const problems: string[] = [];
  const lines = treeSitterLineLengths(text);
  for (const d of diags) {
    if (!(RULE_CODES as readonly unknown[]).includes(d.code)) problems.push(`unknown code ${String(d.code)}`);
    if (d.source !== 'forksafe') problems.push(`source ${d.source}`);
    if (d.severity === undefined || d.severity < 1 || d.severity > 4) problems.push(`severity ${d.severity}`);
    const { start, end } = d.range;
    if (start.line >= lines.length || end.line >= lines.length || start.character > lines[start.line] || end.character > lines[end.line]) {
      problems.push(`${String(d.code)} range ${JSON.stringify(d.range)} is outside the document`);
    }
  }
  return problems;
}

/** What must be identical between the editor and the CLI for one diagnostic. */
function shape(d: { code?: unknown; range: unknown; message: unknown; severity?: unknown }): string {
  return JSON.stringify([d.code, d.range, d.message, d.severity]);
}

describe('robustness: the server on hostile documents', function () {
  this.timeout(0); // every wait below has its own hang detector naming the input
  let server: LspProcess;
  let syntax: CSyntax;
  let fixtures: SourceSample[];

  before(async function () {
    syntax = await loadSyntax();
    fixtures = fuzzFixtures();
    server = new LspProcess();
    await server.initialize();
  });

  after(async function () {
    if (server) assert.equal(await server.shutdown(), 0, `server exit code; stderr: ${server.stderr.join('').slice(0, 2000)}`);
  });

  async function stillAnswers(tag: string): Promise<void> {
    const uri = `file:///virtual/alive-${tag}.c`;
    await server.open(uri, GOOD);
    const diags = await server.diagnosticsForCurrentVersion(uri, ANSWER_MS);
    assert.deepEqual(diags.map((d) => [d.code, d.range.start.line, d.range.start.character]), [['FS001', 0, 59]], `server answers after ${tag}`);
    await server.close(uri);
    assert.ok(server.alive, `alive after ${tag}`);
  }

  it(`${COUNT} seeded documents (seed ${SEED}): every one answered, diagnostics equal to the engine's, the server still answers`, async function () {
    const settings = resolveSettings({});
    const failures: string[] = [];
    let compared = 0;
    const times: Array<{ ms: number; what: string }> = [];
    const kinds = new Set<string>();
    const started = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const input = serverInput(i, { seed: SEED, count: COUNT, fixtures });
      kinds.add(input.kind.split('+')[0].replace(/^(deepNesting|giantMacro|hugeLine)\d+/, '$1'));
      const uri = `file:///virtual/fuzz/input${i}.c`;
      const what = `#${i} ${input.kind} ${input.base} (${input.text.length} chars)`;
      const t0 = performance.now();
      await server.open(uri, input.text);
      let diags: Diagnostic[];
      try {
        diags = await server.diagnosticsForCurrentVersion(uri, ANSWER_MS);
      } catch (err) {
        failures.push(`${what}: no diagnostics: ${(err as Error).message.slice(0, 300)}`);
        if (!server.alive) break;
        continue;
      }
      times.push({ ms: performance.now() - t0, what });
      for (const p of diagnosticProblems(diags, input.text)) failures.push(`${what}: ${p}`);
      // The editor and the CLI must agree; a run cut short by the clock (FS009) may differ between the two.
      const report = analyze(syntax, { uri, text: input.text }, settings);
      if (!diags.some((d) => d.code === 'FS009') && !report.findings.some((f) => f.code === 'FS009')) {
        compared++;
        const fromServer = diags.map(shape);
        const fromEngine = report.findings.map((f) => shape({ ...f, severity: { error: 1, warning: 2, information: 3, hint: 4 }[f.severity], range: f.span }));
        if (JSON.stringify(fromServer) !== JSON.stringify(fromEngine)) failures.push(`${what}: server ${fromServer.join(' ').slice(0, 400)} != engine ${fromEngine.join(' ').slice(0, 400)}`);
      }
      await server.close(uri);
      if (!server.alive) { failures.push(`${what}: the server exited (code ${server.child.exitCode}, signal ${server.child.signalCode})`); break; }
    }
    const wallS = (performance.now() - started) / 1000;
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} documents failed`);
    assert.ok(compared > COUNT / 2, `compared ${compared} of ${COUNT} with the engine`);
    for (const k of ['deepNestingx1000', 'hugeLine', 'giantMacro']) assert.ok(kinds.has(k), `the set has ${k}: ${[...kinds].join(', ')}`);
    const slowest = [...times].sort((a, b) => b.ms - a.ms).slice(0, 5).map((t) => `${t.ms.toFixed(0)} ms ${t.what}`);
    const median = [...times].sort((a, b) => a.ms - b.ms)[Math.floor(times.length / 2)]?.ms ?? 0;
    console.log(`      server fuzz: ${COUNT} documents in ${wallS.toFixed(1)} s (median answer ${median.toFixed(0)} ms), ${compared} compared with the engine; slowest: ${slowest.join('; ')}`);
    await stillAnswers('fuzz');
    assert.deepEqual(server.stderr.filter((s) => /error|exception/i.test(s)), [], 'nothing alarming on stderr');
    assert.deepEqual(server.logs.filter((l) => /internal error|failed \(the server keeps running\)/.test(l)).slice(0, 5), [], 'no internal error was logged');
  });

  it('a didOpen whose JSON body carries invalid UTF-8 bytes is decoded lossily and analysed', async function () {
    const uri = 'file:///virtual/rawbytes.c';
    const before = Buffer.from(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"${uri}","languageId":"c","version":1,"text":"struct mr { struct page **pages; }; void f(struct mr *mr){ /* `);
    const after = Buffer.from(' */ get_user_pages(0, 1, FOLL_WRITE, mr->pages); }\\n"}}}');
    const body = Buffer.concat([before, Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf0, 0x9f]), after]);
    // One write, so it cannot interleave with a message of the client's own writer.
    server.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
    const diags = await server.diagnostics(uri, () => true, ANSWER_MS);
    assert.deepEqual(diags.diagnostics.map((d) => d.code), ['FS001']);
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await stillAnswers('raw-bytes');
  });
});
