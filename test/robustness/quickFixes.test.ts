// Quick fixes as properties over every fixture: each fix re-parses cleanly and removes its finding; fix-all (engine and source.fixAll.forksafe over LSP) is idempotent.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { CodeAction, Diagnostic, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import type { Report } from '../../server/src/engine';
import type { Finding, Fix, TextEditSpan } from '../../server/src/analysis/finding';
import type { CSyntax } from '../../server/src/analysis/parser';
import { spanContains, Span } from '../../server/src/analysis/span';
import { applyTextEdits, combineFixes, offsetAt } from '../../server/src/explain/textEdits';
import { NEWEST_MODELLED_KERNEL } from '../../server/src/simulation/kernelEra';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { analyzeDriver, FixtureDriver, FixtureFile, listFixtureDrivers } from '../helpers/fixtures';
import { EDITOR_CAPABILITIES, LspProcess } from '../helpers/lspProcess';

const FIX_ALL_KIND = 'source.fixAll.forksafe';

/** Syntax errors of a text as tree-sitter sees them: ERROR nodes and MISSING tokens. */
function errorNodes(syntax: CSyntax, text: string): number {
  const tree = syntax.parse(text).tree;
  if (!tree) throw new Error('the text did not parse within the budget');
  const cursor = tree.walk();
  let count = 0;
  try {
    for (;;) {
      const n = cursor.currentNode;
      if (n.isError || n.isMissing) count++;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return count;
      }
    }
  } finally {
    cursor.delete();
    tree.delete();
  }
}

function uriOf(f: FixtureFile): string {
  return `file://${f.path}`;
}

/** The driver with `edits` applied to its files (edits of one fix or of a fix-all, all against the current texts). */
function applyToDriver(driver: FixtureDriver, edits: TextEditSpan[]): FixtureDriver {
  const known = new Set(driver.files.map(uriOf));
  const stray = edits.filter((e) => !known.has(e.uri)).map((e) => e.uri);
  assert.deepEqual(stray, [], `edits only touch files of driver ${driver.name}`);
  return {
    name: driver.name,
    files: driver.files.map((f) => {
      const mine = edits.filter((e) => e.uri === uriOf(f));
      return mine.length === 0 ? f : { ...f, text: applyTextEdits(f.text, mine) };
    }),
  };
}

/** Where a position of the old text is after `edits` (positions inside a replaced range go to its start). */
function mapPosition(oldText: string, newText: string, edits: TextEditSpan[], pos: Span['start']): Span['start'] {
  const at = offsetAt(oldText, pos);
  let shift = 0;
  for (const e of edits) {
    const s = offsetAt(oldText, e.span.start);
    const t = offsetAt(oldText, e.span.end);
    if (t <= at) shift += e.newText.length - (t - s); // before it, or inserted right at it: the finding moves right
    else if (s <= at && at < t) shift += s - at;
  }
  const off = at + shift;
  const before = newText.slice(0, off);
  const line = before.split('\n').length - 1;
  return { line, character: off - (before.lastIndexOf('\n') + 1) };
}

function describe_(f: Finding): string {
  return `${f.code} at ${f.span.start.line + 1}:${f.span.start.character + 1}`;
}

interface FixCase { driver: FixtureDriver; file: FixtureFile; finding: Finding; fix: Fix }

describe('robustness: quick fixes as properties', function () {
  this.timeout(0);
  let syntax: CSyntax;
  const drivers = listFixtureDrivers();
  const cases: FixCase[] = [];
  const reports = new Map<string, Map<FixtureFile, Report>>();

  before(async function () {
    syntax = await loadSyntax();
    for (const driver of drivers) {
      const byFile = await analyzeDriver(driver);
      reports.set(driver.name, byFile);
      for (const [file, report] of byFile) {
        for (const finding of report.findings) {
          for (const fix of finding.fixes) if (fix.edits.length > 0 && !fix.disabledReason) cases.push({ driver, file, finding, fix });
        }
      }
    }
  });

  it('fixtures produce fixes to check', function () {
    assert.ok(cases.length > 0, 'no fixture produced a fix');
    const kinds: Record<string, number> = {};
    for (const c of cases) kinds[`${c.fix.kind}${c.fix.safe ? '' : ' (unsafe)'}`] = (kinds[`${c.fix.kind}${c.fix.safe ? '' : ' (unsafe)'}`] ?? 0) + 1;
    console.log(`      ${cases.length} fixes in ${new Set(cases.map((c) => c.driver.name)).size} of ${drivers.length} fixture drivers: ${JSON.stringify(kinds)}`);
  });

  it('every fix re-parses with no new syntax errors and no longer reports its finding (when it says it resolves it)', async function () {
    assert.ok(cases.length > 0, 'no fixture produced a fix');
    const failures: string[] = [];
    let resolved = 0;
    for (const c of cases) {
      const what = `${c.file.name}: ${describe_(c.finding)}: fix '${c.fix.title}' (${c.fix.kind})`;
      let fixed: FixtureDriver;
      try {
        fixed = applyToDriver(c.driver, c.fix.edits);
      } catch (err) {
        failures.push(`${what}: edits do not apply: ${(err as Error).message}`);
        continue;
      }
      for (const [i, f] of c.driver.files.entries()) {
        const after = fixed.files[i];
        if (after.text === f.text) continue;
        const [was, now] = [errorNodes(syntax, f.text), errorNodes(syntax, after.text)];
        if (now > was) failures.push(`${what}: ${f.name} has ${now} syntax errors after the fix, ${was} before`);
      }
      if (!c.fix.resolves) continue;
      const file = fixed.files[c.driver.files.indexOf(c.file)];
      const where = mapPosition(c.file.text, file.text, c.fix.edits.filter((e) => e.uri === uriOf(c.file)), c.finding.span.start);
      const report = (await analyzeDriver(fixed)).get(file)!;
      // By position, not fingerprint: two identical calls in one function share a fingerprint.
      const still = report.findings.filter((f) => f.code === c.finding.code && spanContains(f.span, where));
      if (still.length > 0) failures.push(`${what}: still reports ${still.map(describe_).join(', ')} (the finding mapped to ${where.line + 1}:${where.character + 1})`);
      resolved++;
    }
    console.log(`      ${cases.length} fixes applied and re-parsed; ${resolved} that say they resolve their finding re-analysed`);
    assert.deepEqual(failures, []);
  });

  it('no fix makes another finding appear (a suppression may add FS008 until its <reason> is filled in; a stated contract turns the finding into FS003/FS004 information; a fix may leave what it names)', async function () {
    assert.ok(cases.length > 0, 'no fixture produced a fix');
    const failures: string[] = [];
    const countCodes = (byFile: Map<FixtureFile, Report>): Map<string, number> => {
      const out = new Map<string, number>();
      for (const r of byFile.values()) for (const f of r.findings) out.set(f.code, (out.get(f.code) ?? 0) + 1);
      return out;
    };
    for (const c of cases) {
      const before = countCodes(reports.get(c.driver.name)!);
      const after = countCodes(await analyzeDriver(applyToDriver(c.driver, c.fix.edits)));
      // A stated contract turns the loud finding into information: FS003, or FS004 (which holds FS003) from 5.6.
      // A fix that says what it leaves (its title names why: FOLL_LONGTERM not added for a caller that pins briefly) may leave it.
      const allowed = (code: string): number => (code === 'FS008' && c.fix.kind === 'suppress') || ((code === 'FS003' || code === 'FS004') && c.fix.kind === 'assumeContract') ||
        (c.fix.leaves ?? []).includes(code as never) ? 1 : 0;
      const grew = [...after].filter(([code, n]) => n > (before.get(code) ?? 0) + allowed(code));
      if (grew.length > 0) {
        failures.push(`${c.file.name}: ${describe_(c.finding)}: fix '${c.fix.title}' adds ${grew.map(([code, n]) => `${code} (${before.get(code) ?? 0} -> ${n})`).join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('a fix once applied is not offered again at its finding (each fix is idempotent)', async function () {
    assert.ok(cases.length > 0, 'no fixture produced a fix');
    const failures: string[] = [];
    for (const c of cases) {
      const fixed = applyToDriver(c.driver, c.fix.edits);
      const file = fixed.files[c.driver.files.indexOf(c.file)];
      const where = mapPosition(c.file.text, file.text, c.fix.edits.filter((e) => e.uri === uriOf(c.file)), c.finding.span.start);
      const report = (await analyzeDriver(fixed)).get(file)!;
      const again = report.findings.filter((f) => spanContains(f.span, where)).flatMap((f) => f.fixes.filter((x) => x.kind === c.fix.kind && x.edits.length > 0));
      if (again.length > 0) failures.push(`${c.file.name}: ${describe_(c.finding)}: after '${c.fix.title}' the same kind of fix is offered again: ${again.map((x) => x.title).join('; ')}`);
    }
    assert.deepEqual(failures, []);
  });

  it('fix-all (every safe fix of a file, merged) applied twice equals applying it once', async function () {
    assert.ok(cases.some((c) => c.fix.safe), 'no fixture produced a safe fix');
    const failures: string[] = [];
    let files = 0;
    for (const driver of drivers) {
      for (const [i, file] of driver.files.entries()) {
        const fixAll = async (d: FixtureDriver): Promise<TextEditSpan[]> => {
          const report = (await analyzeDriver(d)).get(d.files[i])!;
          return combineFixes(report.findings.flatMap((f) => f.fixes.filter((x) => x.safe && x.edits.length > 0 && !x.disabledReason)));
        };
        const first = await fixAll(driver);
        if (first.length === 0) continue;
        files++;
        const once = applyToDriver(driver, first);
        const twice = applyToDriver(once, await fixAll(once));
        for (const [j, f] of once.files.entries()) {
          if (twice.files[j].text !== f.text) failures.push(`${file.name}: a second fix-all changed ${f.name} again`);
          const [was, now] = [errorNodes(syntax, driver.files[j].text), errorNodes(syntax, f.text)];
          if (now > was) failures.push(`${file.name}: fix-all leaves ${now} syntax errors in ${f.name}, ${was} before`);
        }
      }
    }
    assert.ok(files > 0, 'no fixture file had a safe fix');
    console.log(`      fix-all checked on ${files} fixture files`);
    assert.deepEqual(failures, []);
  });

  describe(`over LSP: ${FIX_ALL_KIND}`, function () {
    let server: LspProcess;
    let tmp: string;

    before(async function () {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-fixall-'));
      server = new LspProcess();
      const init = await server.initialize(EDITOR_CAPABILITIES);
      const provider = init.capabilities.codeActionProvider;
      assert.ok(provider, 'the server advertises codeActionProvider');
      if (typeof provider === 'object') assert.ok(provider.codeActionKinds?.includes(FIX_ALL_KIND), `codeActionKinds include ${FIX_ALL_KIND}: ${JSON.stringify(provider.codeActionKinds)}`);
    });

    after(async function () {
      if (server) assert.equal(await server.shutdown(), 0, server.stderr.join(''));
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    async function requestFixAll(uri: string, text: string, diagnostics: Diagnostic[]): Promise<CodeAction | undefined> {
      const lines = text.split('\n');
      const range = { start: { line: 0, character: 0 }, end: { line: lines.length - 1, character: lines[lines.length - 1].length } };
      const actions = await server.request<Array<CodeAction | { command: string }>>('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics, only: [FIX_ALL_KIND] } });
      const fixAll = (actions ?? []).filter((a): a is CodeAction => 'kind' in a && a.kind === FIX_ALL_KIND);
      assert.ok(fixAll.length <= 1, `at most one fix-all action: ${JSON.stringify(fixAll)}`);
      return fixAll[0];
    }

    /** The edits of a WorkspaceEdit, per uri (documentChanges or changes). */
    function editsOf(edit: WorkspaceEdit): Map<string, TextEdit[]> {
      const out = new Map<string, TextEdit[]>();
      for (const dc of edit.documentChanges ?? []) {
        assert.ok('textDocument' in dc, `only text edits: ${JSON.stringify(dc)}`);
        out.set(dc.textDocument.uri, [...(out.get(dc.textDocument.uri) ?? []), ...(dc.edits as TextEdit[])]);
      }
      for (const [uri, list] of Object.entries(edit.changes ?? {})) out.set(uri, [...(out.get(uri) ?? []), ...list]);
      return out;
    }

    /** Applies a workspace edit as an editor does: to its mirror texts and, as incremental changes, to the server. */
    async function apply(edit: WorkspaceEdit, texts: Map<string, string>): Promise<void> {
      for (const [uri, list] of editsOf(edit)) {
        const text = texts.get(uri);
        assert.ok(text !== undefined, `the edit touches an open document: ${uri}`);
        texts.set(uri, applyTextEdits(text, list.map((e) => ({ span: e.range, newText: e.newText }))));
        // Sequential changes from the end backwards keep each range valid in the text it applies to.
        const sorted = [...list].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
        await server.change(uri, sorted.map((e) => ({ range: e.range, text: e.newText })));
      }
    }

    it('for every fixture with a safe fix: the action applies cleanly, and a second fix-all changes nothing', async function () {
      const withSafe = drivers.filter((d) => cases.some((c) => c.driver === d && c.fix.safe));
      assert.ok(withSafe.length > 0, 'no fixture produced a fix');
      const failures: string[] = [];
      let applied = 0;
      for (const driver of withSafe) {
        const dir = path.join(tmp, driver.name.replace(/\.[ch]$/, ''));
        fs.mkdirSync(dir, { recursive: true });
        const kernel = driver.files.map((f) => f.expectations.kernel).find((k) => k !== undefined) ?? `${NEWEST_MODELLED_KERNEL.major}.${NEWEST_MODELLED_KERNEL.minor}`;
        server.configuration = { kernelVersion: kernel };
        const texts = new Map<string, string>();
        for (const f of driver.files) {
          const file = path.join(dir, path.basename(f.name));
          fs.writeFileSync(file, f.text);
          texts.set(pathToFileURL(file).toString(), f.text);
        }
        for (const uri of texts.keys()) await server.open(uri, texts.get(uri)!);
        for (const uri of texts.keys()) await server.diagnosticsForCurrentVersion(uri);
        for (const uri of texts.keys()) {
          const name = `${driver.name}/${path.basename(uri)}`;
          const first = await requestFixAll(uri, texts.get(uri)!, await server.diagnosticsForCurrentVersion(uri));
          if (!first) continue;
          assert.ok(first.edit, `${name}: the fix-all action carries its edit`);
          const before = new Map(texts);
          await apply(first.edit, texts);
          applied++;
          for (const [u, t] of texts) {
            if (t === before.get(u)) continue;
            const [was, now] = [errorNodes(syntax, before.get(u)!), errorNodes(syntax, t)];
            if (now > was) failures.push(`${name}: fix-all leaves ${now} syntax errors in ${path.basename(u)}, ${was} before`);
          }
          const afterOnce = new Map(texts);
          for (const u of texts.keys()) await server.diagnosticsForCurrentVersion(u);
          const second = await requestFixAll(uri, texts.get(uri)!, await server.diagnosticsForCurrentVersion(uri));
          if (second?.edit) await apply(second.edit, texts);
          for (const [u, t] of texts) if (t !== afterOnce.get(u)) failures.push(`${name}: a second fix-all changed ${path.basename(u)} again`);
        }
        for (const uri of texts.keys()) await server.close(uri);
      }
      assert.ok(applied > 0, 'the server offered no fix-all action for any fixture with a safe fix');
      console.log(`      ${FIX_ALL_KIND} applied over LSP to ${applied} documents in ${withSafe.length} fixture drivers`);
      assert.deepEqual(failures, []);
    });
  });
});
