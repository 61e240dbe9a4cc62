// An index carried over an edit (analysis/fileIndex.ts reindexFile, the editor's path through DocumentTrees) equals
// indexing the edited tree from scratch: every entry's name, range, function, lines and node (found again from its
// range), on every fixture file and on a large generated file, under random edits; and edits inside one function
// carry the rest of the file over instead of querying it again.
import { strict as assert } from 'assert';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { entriesHoldingNodes, FileIndex, indexFile, wordOffsets, writesWordIn } from '../../../server/src/analysis/fileIndex';
import { applyEdit, type CSyntax, type Node, type Tree } from '../../../server/src/analysis/parser';
import { carryIndex, makeSourceFile } from '../../../server/src/analysis/workspace';
import { analyze } from '../../../server/src/engine';
import { resolveSettings } from '../../../server/src/settings';
import { DocumentTrees } from '../../../server/src/lsp/documentTrees';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { listFixtureDrivers } from '../../helpers/fixtures';
import { countFromEnv, Random, seedFromEnv } from '../../helpers/random';
import { functionBodies, randomChanges } from '../../helpers/randomEdits';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0x3e1d3);
const EDITS_PER_FILE = countFromEnv('FORKSAFE_REINDEX_EDITS', 16);

/** Names typed by the edit generators and short ones that occur inside longer words. */
const WORDS = ['x', 'i', 'y', 'p', 'n', 'tmp', 'foo', 'pages', 'put_page', 'FOLL_WRITE', 'get_user_pages', 'get_user_pages_fast', 'pin_user_pages_fast', 'xdev_fn_1'];

const at = (n: Node | undefined): string => (n ? `${n.type}@${n.startIndex}-${n.endIndex}` : '-');

/** An index as plain data, every node read (so a carried entry's node is found again and checked). */
function plain(index: FileIndex): unknown {
  return {
    functions: index.functions.map((f) => [f.name, f.start, f.end, at(f.node), f.params, at(f.nameNode), f.nameNode.text, at(f.body)]),
    calls: index.calls.map((c) => [c.name, c.start, c.end, at(c.node), at(c.nameNode), c.fn?.start ?? -1, c.args.map(at)]),
    // A macro's name and body are read from the text by offset (MacroTable): the same as its nodes' text.
    macros: index.macros.all().map((m) => {
      assert.equal(m.name, m.nameNode.text, `macro name at ${m.start}`);
      assert.equal(m.body, m.node.childForFieldName('value')?.text ?? '', `macro body at ${m.start}`);
      return [m.name, m.start, m.end, at(m.node), at(m.nameNode), m.params, m.body];
    }),
    comments: index.comments.map((c) => [c.text, c.start, c.end, at(c.node), c.startLine, c.endLine]),
    markers: index.markers.map((m) => [m.name, m.start, m.end, at(m.node), m.fn?.start ?? -1]),
    hasErrors: index.hasErrors,
    queried: index.queried,
  };
}

interface Tally { edits: number; carried: number }

/** Opens `text` and applies random didChanges in episodes from the original text, checking the carried index after each. */
function exercise(syntax: CSyntax, uri: string, original: string, episodes: number, perEpisode: number,
  pick: (doc: TextDocument, tree: Tree | undefined) => TextDocumentContentChangeEvent[], tally: Tally, label: string, ask: () => boolean = () => true): void {
  const trees = new DocumentTrees(syntax);
  try {
    for (let e = 0; e < episodes; e++) {
      trees.close(uri);
      let doc = TextDocument.create(uri, 'c', 1, original);
      let tree = trees.treeFor(doc, 5000).tree!;
      // Names whose whole-word offsets the previous index was asked for: the carried index must carry them right.
      const names = [...new Set([...WORDS, ...(original.match(/[A-Za-z_]\w{2,}/g) ?? []).slice(0, 12)])];
      const first = makeSourceFile(syntax, uri, original, tree).index;
      for (const n of names) wordOffsets(first, original, n);
      for (const m of first.macros.all()) void m.node;
      for (let i = 0; i < perEpisode; i++) {
        const changes = pick(doc, tree);
        doc = trees.update(doc, changes, doc.version + 1);
        tree = trees.treeFor(doc, 5000).tree!;
        const text = doc.getText();
        // Edits whose report is reused ask for no index: the next one asked for is carried over all of them.
        if (i < perEpisode - 1 && !ask()) continue;
        const carried = makeSourceFile(syntax, uri, text, tree).index;
        tally.edits++;
        if (carried.carried !== undefined) {
          tally.carried++;
          // The kept entries let their old tree's nodes go (a node keeps its deleted tree's text alive): only the
          // entries indexed again hold one. Macros are made only when asked for (every one of the previous index was,
          // by plain() or below): the made ones are exactly the kept ones, and they hold no node.
          const kept = carried.macros.made();
          assert.ok(kept.every((m) => !m.holdsNode), `${label}, episode ${e}, edit ${i}: a kept macro holds its old node`);
          const entries = carried.functions.length + carried.calls.length + carried.comments.length + carried.markers.length;
          assert.equal(entriesHoldingNodes(carried), entries - (carried.carried - kept.length), `${label}, episode ${e}, edit ${i}: kept entries holding nodes`);
        }
        const fresh = indexFile(syntax, tree, text);
        assert.deepStrictEqual(plain(carried), plain(fresh), `${label}, episode ${e}, edit ${i}: ${JSON.stringify(changes)}`);
        for (const n of names) {
          assert.deepStrictEqual(wordOffsets(carried, text, n), wordOffsets(fresh, text, n), `${label}, episode ${e}, edit ${i}, offsets of ${n}: ${JSON.stringify(changes)}`);
        }
      }
    }
  } finally {
    trees.close(uri);
  }
}

/** A large ordinary driver file: functions that pin, release and call helpers, some inside #ifdef blocks, with comments. */
function generatedFile(functions: number): string {
  const out: string[] = ['#include <linux/mm.h>', '#define XDEV_FLAGS (FOLL_WRITE | FOLL_LONGTERM)', ''];
  for (let i = 0; i < functions; i++) {
    if (i % 7 === 3) out.push('#ifdef CONFIG_XDEV_DEBUG');
    out.push(`/* helper ${i} */`, `static int xdev_fn_${i}(struct xdev *xd, unsigned long uaddr, struct page **pages)`, '{',
      `\tint ret = readl(xd->mmio + ${i});`, i % 3 === 0 ? '\tret = get_user_pages_fast(uaddr, 4, XDEV_FLAGS, pages);' : `\tret = xdev_fn_${Math.max(0, i - 1)}(xd, uaddr, pages);`,
      i % 5 === 0 ? '\tput_page(pages[0]);' : `\twritel(ret, xd->mmio + ${i});`, '\treturn ret;', '}');
    if (i % 7 === 3) out.push('#else', `static inline int xdev_fn_${i}(struct xdev *xd, unsigned long uaddr, struct page **pages) { return 0; }`, '#endif');
    out.push('');
  }
  return out.join('\n');
}

describe('reindexFile: an index carried over an edit equals a fresh index of the edited tree', function () {
  this.timeout(600_000);
  let syntax: CSyntax;
  before(async () => { syntax = await loadSyntax(); });

  it(`on every fixture file, random edits (${EDITS_PER_FILE} per file, seed ${SEED.toString(16)})`, function () {
    const rng = new Random(SEED);
    const tally: Tally = { edits: 0, carried: 0 };
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        exercise(syntax, `file://${file.path}`, file.text, Math.ceil(EDITS_PER_FILE / 4), 4, (doc, tree) => randomChanges(doc, tree, rng), tally, file.name);
      }
    }
    // Most edits are carried over; some (an unclosed comment, a new #define's reach) fall back to a whole index.
    assert.ok(tally.carried > tally.edits / 2, `${tally.carried} of ${tally.edits} carried`);
  });

  it('on a 2,000-line generated file, edits inside one function carry the rest of the file over', function () {
    const rng = new Random(SEED ^ 0x55);
    const text = generatedFile(200);
    const tally: Tally = { edits: 0, carried: 0 };
    const uri = 'file:///t/generated.c';
    // Edits inside function bodies only: every one of them can be carried.
    const inBodies = (doc: TextDocument, tree: Tree | undefined): TextDocumentContentChangeEvent[] => {
      const body = rng.pick(functionBodies(tree!));
      const a = rng.int(body.startIndex + 1, body.endIndex - 1);
      return [{ range: { start: doc.positionAt(a), end: doc.positionAt(a + rng.int(0, 3)) }, text: rng.pick(['x', ' ', 'FOLL_WRITE', 'put_page(p);', 'foo(1);\n', '']) }];
    };
    exercise(syntax, uri, text, 4, 10, inBodies, tally, 'generated.c');
    assert.equal(tally.carried, tally.edits, `${tally.carried} of ${tally.edits} carried`);
    // And random edits anywhere (between items, in directives, unclosed comments) stay equal.
    exercise(syntax, uri, text, 4, 10, (doc, tree) => randomChanges(doc, tree, rng), tally, 'generated.c');
  });

  it('a protection or annotation word completed, split or taken out by an edit is seen (the optional queries run exactly when a fresh index runs them)', function () {
    const base = generatedFile(30);
    const tally: Tally = { edits: 0, carried: 0 };
    const uri = 'file:///t/words.c';
    // Each case: the text opened, then edits at the marked word: halves joined, a word cut in two, the word deleted.
    const cases: Array<{ text: string; edits: (doc: TextDocument) => TextDocumentContentChangeEvent[] }> = [
      { text: base.replace('return ret;', 'vm_flags_set(vma, VM_DONT);\n\treturn ret;'), edits: (d) => { const at = d.getText().indexOf('VM_DONT') + 7; return [{ range: { start: d.positionAt(at), end: d.positionAt(at) }, text: 'COPY' }]; } },
      { text: base.replace('return ret;', 'vm_flags_set(vma, VM_DONTCOPY);\n\treturn ret;'), edits: (d) => { const at = d.getText().indexOf('VM_DONTCOPY') + 4; return [{ range: { start: d.positionAt(at), end: d.positionAt(at) }, text: ' ' }]; } },
      { text: base.replace('/* helper 7 */', '/* forksafe-ignore FS001: reviewed */'), edits: (d) => { const at = d.getText().indexOf('forksafe-'); return [{ range: { start: d.positionAt(at), end: d.positionAt(at + 9) }, text: '' }]; } },
      { text: base.replace('/* helper 7 */', '/* forksafe-ignore FS001: reviewed */'), edits: (d) => { const at = d.getText().lastIndexOf('return ret;'); return [{ range: { start: d.positionAt(at), end: d.positionAt(at) }, text: 'x++; ' }]; } },
      { text: base.replace('/* helper 7 */', '/* forksafe */'), edits: (d) => { const at = d.getText().indexOf('forksafe') + 8; return [{ range: { start: d.positionAt(at), end: d.positionAt(at) }, text: '-ignore FS001: reviewed' }]; } },
    ];
    for (const [n, c] of cases.entries()) {
      let done = false;
      exercise(syntax, uri, c.text, 1, 1, (doc) => { assert.ok(!done); done = true; return c.edits(doc); }, tally, `words case ${n}`);
    }
    assert.equal(tally.edits, cases.length);
  });

  it('an edit spanning many items, or starting at the first character, re-queries exactly the items it touched', function () {
    const rng = new Random(SEED ^ 0x77);
    // A forksafe- comment, so comments are indexed too: every item stepped over or listed counts.
    const text = `/* forksafe-test: comments indexed */\n${generatedFile(200)}`;
    const tally: Tally = { edits: 0, carried: 0 };
    const uri = 'file:///t/generated.c';
    // One change from inside one function body to inside another, 10 to 150 items further: the touched items are
    // found by stepping from sibling to sibling, and past 64 steps by listing the children (fileIndex.ts touchedItems).
    const across = (doc: TextDocument, tree: Tree | undefined): TextDocumentContentChangeEvent[] => {
      const bodies = functionBodies(tree!);
      const i = rng.int(0, bodies.length - 160);
      const a = rng.int(bodies[i]!.startIndex + 1, bodies[i]!.endIndex - 1);
      const last = bodies[i + rng.int(10, 150)]!;
      const b = rng.int(last.startIndex + 1, last.endIndex - 1);
      const kept = doc.getText().slice(a, b);
      return [{ range: { start: doc.positionAt(a), end: doc.positionAt(b) }, text: `x${kept}y` }];
    };
    exercise(syntax, uri, text, 3, 4, across, tally, 'generated.c, across items');
    const atStart = (doc: TextDocument): TextDocumentContentChangeEvent[] =>
      [{ range: { start: doc.positionAt(0), end: doc.positionAt(rng.int(0, 2)) }, text: rng.pick(['', '/* x */', '#include <a.h>\n', ' ']) }];
    exercise(syntax, uri, text, 2, 4, atStart, tally, 'generated.c, at the start');
    assert.ok(tally.carried > tally.edits / 2, `${tally.carried} of ${tally.edits} carried`);
  });

  it('an index carried over a wrong edit is caught when a node is asked for: the file is indexed again and the report is a fresh one', function () {
    const before = `${generatedFile(12)}struct mr { struct page **pages; };\nvoid keep(struct mr *mr)\n{\n\tget_user_pages(0, 1, FOLL_WRITE, mr->pages);\n}\n`;
    // A function added before the pinning one, while the host says only the first item was edited (and nothing in it).
    const at = before.indexOf('struct mr {');
    const after = `${before.slice(0, at)}static int added(void)\n{\n\treturn 0;\n}\n${before.slice(at)}`;
    const old = syntax.parse(before).tree!;
    const tree = syntax.parse(after).tree!;
    try {
      makeSourceFile(syntax, 'file:///t/stale.c', before, old);
      carryIndex(old, before, tree, { startIndex: 0, oldEndIndex: 0, newEndIndex: 0 }, []);
      const settings = resolveSettings({});
      const carried = analyze(syntax, { uri: 'file:///t/stale.c', text: after, tree, watchNames: true }, settings);
      const fresh = analyze(syntax, { uri: 'file:///t/stale.c', text: after, watchNames: true }, settings);
      assert.ok(carried.notes.some((n) => n.includes('indexed again')), carried.notes.join('\n'));
      assert.ok(fresh.findings.length > 0);
      assert.deepStrictEqual(carried.findings, fresh.findings);
      assert.deepStrictEqual(carried.sites, fresh.sites);
    } finally {
      old.delete();
      tree.delete();
    }
  });

  it('an index asked for after several re-parses is carried over all of their edits', function () {
    const rng = new Random(SEED ^ 0x77);
    const tally: Tally = { edits: 0, carried: 0 };
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        exercise(syntax, `file://${file.path}`, file.text, 2, 8, (doc, tree) => randomChanges(doc, tree, rng), tally, file.name, () => rng.chance(0.3));
      }
    }
    exercise(syntax, 'file:///t/generated.c', generatedFile(200), 4, 12, (doc, tree) => randomChanges(doc, tree, rng), tally, 'generated.c', () => rng.chance(0.3));
    assert.ok(tally.carried > tally.edits / 2, `${tally.carried} of ${tally.edits} carried`);
  });
});

describe('writesWordIn: whether a name is written as a whole word inside a range', function () {
  let syntax: CSyntax;
  before(async () => { syntax = await loadSyntax(); });

  it('a re-parse that reads the text in pieces gives the tree a re-parse reading it whole gives, across multi-unit characters', function () {
    const rng = new Random(SEED ^ 0x1024);
    /** Every node in preorder: type and range. */
    const walk = (tree: Tree): string[] => {
      const out: string[] = [];
      const cursor = tree.walk();
      for (let more = true; more;) {
        out.push(`${cursor.nodeType}@${cursor.startIndex}-${cursor.endIndex}`);
        if (cursor.gotoFirstChild()) continue;
        while (!cursor.gotoNextSibling()) { if (!cursor.gotoParent()) { more = false; break; } }
      }
      cursor.delete();
      return out;
    };
    // Characters of two UTF-16 units and accented letters, in comments and strings, near every 1,024-unit boundary.
    const wide = generatedFile(60).split('\n').map((l, i) => (i % 9 === 0 ? `${l} /* \u00e9\u{1F600}\u00e9 */` : i % 13 === 0 ? `${l.replace(/;$/, '')} ; const char *s${i} = "\u{1F600}\u{1F600}";` : l)).join('\n');
    const texts = [wide, ...listFixtureDrivers().flatMap((d) => d.files.map((f) => f.text)).slice(0, 40)];
    const whole = (syntax as unknown as { parser: { parse(text: string, old: Tree | null): Tree | null } }).parser;
    let compared = 0;
    for (const original of texts) {
      let doc = TextDocument.create('file:///t/pieces.c', 'c', 1, original);
      let tree = syntax.parse(original).tree!;
      try {
        for (let i = 0; i < 6; i++) {
          const [change] = randomChanges(doc, tree, rng) as Array<{ range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }>;
          const startIndex = doc.offsetAt(change!.range.start);
          const oldEndIndex = doc.offsetAt(change!.range.end);
          const next = TextDocument.update(TextDocument.create(doc.uri, 'c', doc.version, doc.getText()), [change!], doc.version + 1);
          const newEnd = next.positionAt(startIndex + change!.text.length);
          const edit = { startIndex, oldEndIndex, newEndIndex: startIndex + change!.text.length, startPosition: { row: change!.range.start.line, column: change!.range.start.character },
            oldEndPosition: { row: change!.range.end.line, column: change!.range.end.character }, newEndPosition: { row: newEnd.line, column: newEnd.character } };
          const a = tree.copy();
          const b = tree.copy();
          applyEdit(a, edit);
          applyEdit(b, edit);
          const pieces = syntax.parse(next.getText(), a).tree!;
          const inWhole = whole.parse(next.getText(), b)!;
          try {
            assert.deepStrictEqual(walk(pieces), walk(inWhole), `edit ${JSON.stringify(change)}`);
            compared++;
          } finally {
            a.delete();
            b.delete();
            inWhole.delete();
          }
          tree.delete();
          tree = pieces;
          doc = next;
        }
      } finally {
        tree.delete();
      }
    }
    assert.ok(compared > 200, `${compared} re-parses compared`);
  });

  it('agrees with a whole-word search of the text on every fixture file, for names and ranges of every kind', function () {
    const rng = new Random(SEED ^ 0x3d);
    let yes = 0;
    let asked = 0;
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        const tree = syntax.parse(file.text).tree!;
        try {
          const index = indexFile(syntax, tree, file.text);
          const names = [...WORDS, 'pages', 'page_list', 'umem', ...(file.text.match(/->\s*([A-Za-z_]\w*)/g) ?? []).map((m) => m.replace(/^->\s*/, '')).slice(0, 6)];
          for (const name of names) {
            const starts = [...file.text.matchAll(new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`, 'g'))].map((m) => m.index!);
            // Every call's own range (how the release scans ask), and random ranges, some ending inside a word.
            const ranges = [...index.calls.map((c) => [c.start, c.end]), ...Array.from({ length: 20 }, () => {
              const a = rng.int(0, file.text.length);
              return [a, Math.min(file.text.length, a + rng.int(0, 400))];
            })];
            for (const [start, end] of ranges) {
              const expected = starts.some((o) => o >= start! && o + name.length <= end!);
              assert.equal(writesWordIn(index, file.text, name, start!, end!), expected, `${file.name}: ${name} in [${start}, ${end})`);
              asked++;
              if (expected) yes++;
            }
          }
          assert.equal(writesWordIn(index, file.text, '', 0, 0), true, 'an empty name cannot be searched for: yes');
        } finally {
          tree.delete();
        }
      }
    }
    assert.ok(yes > 100 && yes < asked / 2, `${yes} of ${asked} ranges name the word`);
  });
});
