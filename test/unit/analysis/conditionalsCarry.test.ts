// The #if arms carried over an edit (analysis/preprocessor.ts carryConditionals, the editor's path through
// DocumentTrees) equal the arms read again from the edited text and tree, on every line, under random edits that also
// type directives, comment delimiters, quotes and line continuations; and edits away from directives are carried.
import { strict as assert } from 'assert';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { armsOf, conditionalsKnown } from '../../../server/src/analysis/preprocessor';
import type { CSyntax, Node } from '../../../server/src/analysis/parser';
import { DocumentTrees } from '../../../server/src/lsp/documentTrees';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { listFixtureDrivers } from '../../helpers/fixtures';
import { countFromEnv, Random, seedFromEnv } from '../../helpers/random';
import { randomChanges } from '../../helpers/randomEdits';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0xc0d1);
const EDITS_PER_FILE = countFromEnv('FORKSAFE_CONDITIONALS_EDITS', 12);

/** What edits near directives type: a directive, comment delimiters, a quote, a continuation, a plain word. */
const TYPED = ['#if X\n', '#endif\n', '#else\n', '# ifdef Y\n', '/*', '*/', '"', '\\', ' \\\n', 'x', '\n', '// #endif\n', ''];

/** Every line's arms, as a node on that line would get them. */
function armsByLine(file: { text: string; tree?: { rootNode: Node } }, lines: number): string[] {
  const out: string[] = [];
  for (let row = 0; row < lines; row++) out.push(JSON.stringify(armsOf(file, { startPosition: { row, column: 0 } } as Node)));
  return out;
}

/** A driver-like file with nested conditionals, continued directives and directives inside comments and strings. */
function generatedFile(items: number): string {
  const out: string[] = ['#include <linux/mm.h>', ''];
  for (let i = 0; i < items; i++) {
    if (i % 4 === 0) out.push(`#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, ${i % 20}, 0) && \\`, `    defined(CONFIG_X${i})`);
    if (i % 6 === 1) out.push('/* #ifdef NOT_A_DIRECTIVE', ' * #endif */');
    out.push(`static int f${i}(unsigned long a)`, '{', `\tconst char *s = "#if ${i}";`, `\treturn a + ${i};`, '}');
    if (i % 5 === 2) out.push(`#ifdef HAVE_${i}`, `int g${i};`, '#else', `int h${i};`, '#endif');
    if (i % 4 === 0) out.push(i % 8 === 0 ? '#else' : '#elif defined(Y)', `int e${i};`, '#endif');
    out.push('');
  }
  return out.join('\n');
}

interface Tally { edits: number; carried: number }

function exercise(syntax: CSyntax, uri: string, original: string, edits: number, rng: Random, tally: Tally, label: string): void {
  const trees = new DocumentTrees(syntax);
  try {
    let doc = TextDocument.create(uri, 'c', 1, original);
    let tree = trees.treeFor(doc, 5000).tree!;
    armsByLine({ text: original, tree }, doc.lineCount);
    for (let i = 0; i < edits; i++) {
      let changes: TextDocumentContentChangeEvent[];
      if (rng.chance(0.5)) {
        changes = randomChanges(doc, tree, rng);
      } else {
        // At or next to a directive line, or anywhere: what can change the arms.
        const lines = doc.getText().split('\n');
        const directives = lines.map((l, n) => (l.includes('#') ? n : -1)).filter((n) => n >= 0);
        const line = directives.length > 0 && rng.chance(0.7) ? Math.min(lines.length - 1, Math.max(0, rng.pick(directives) + rng.int(-1, 1))) : rng.int(0, lines.length - 1);
        if (rng.chance(0.3)) {
          // The whole line deleted (a directive taken out, or the line before one).
          changes = [{ range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, text: '' }];
        } else {
          const at = doc.offsetAt({ line, character: rng.chance(0.5) ? 0 : lines[line]!.length });
          const end = Math.min(doc.getText().length, at + (rng.chance(0.3) ? rng.int(1, 4) : 0));
          changes = [{ range: { start: doc.positionAt(at), end: doc.positionAt(end) }, text: rng.pick(TYPED) }];
        }
      }
      doc = trees.update(doc, changes, doc.version + 1);
      tree = trees.treeFor(doc, 5000).tree!;
      tally.edits++;
      if (conditionalsKnown(tree)) tally.carried++;
      const text = doc.getText();
      const carried = armsByLine({ text, tree }, doc.lineCount);
      // The same text and tree under another key: read again from the directive lines.
      const fresh = armsByLine({ text, tree: { rootNode: tree.rootNode } }, doc.lineCount);
      assert.deepStrictEqual(carried, fresh, `${label}, edit ${i}: ${JSON.stringify(changes)}`);
    }
  } finally {
    trees.close(uri);
  }
}

describe('carryConditionals: #if arms carried over an edit equal the arms read again', function () {
  this.timeout(600_000);
  let syntax: CSyntax;
  before(async () => { syntax = await loadSyntax(); });

  it(`on every fixture file with a conditional, random edits (${EDITS_PER_FILE} per file, seed ${SEED.toString(16)})`, function () {
    const rng = new Random(SEED);
    const tally: Tally = { edits: 0, carried: 0 };
    let files = 0;
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        if (!/#\s*(if|elif)/.test(file.text)) continue;
        files++;
        exercise(syntax, `file://${file.path}`, file.text, EDITS_PER_FILE, rng, tally, file.name);
      }
    }
    assert.ok(files > 10, `${files} fixture files with a conditional`);
    assert.ok(tally.carried > tally.edits / 4, `${tally.carried} of ${tally.edits} carried`);
  });

  it('on a generated file with continued directives and directives in comments and strings', function () {
    const rng = new Random(SEED ^ 0x99);
    const tally: Tally = { edits: 0, carried: 0 };
    for (let episode = 0; episode < 4; episode++) exercise(syntax, 'file:///t/conditionals.c', generatedFile(60), 30, rng, tally, `generated, episode ${episode}`);
    // Half the edits here type at a directive line and every function holds a '#' in a string: most are read again.
    assert.ok(tally.carried >= tally.edits / 8, `${tally.carried} of ${tally.edits} carried`);
  });
});
