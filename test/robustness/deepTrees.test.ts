// Regressions from the fuzz suite: deep trees made the file index cubic and tree-sitter queries quadratic; the fixes must give the same answers as the slow walks.
import { strict as assert } from 'assert';
import { analyze } from '../../server/src/engine';
import { indexFile } from '../../server/src/analysis/fileIndex';
import { deeperThan, MAX_TREE_DEPTH, CSyntax, Node, Tree } from '../../server/src/analysis/parser';
import { enclosingFunction, isAncestor } from '../../server/src/analysis/syntaxTools';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { listFixtureDrivers } from '../helpers/fixtures';
import { Random } from '../helpers/random';
import { deepNesting } from './hostileInputs';

const PIN_FN = (args: string): string =>
  `struct ctx { struct page **pages; };\nint reg(struct ctx *ctx, struct page **pages)\n{\n\tget_user_pages(${args});\n\tctx->pages = pages;\n\treturn 0;\n}\n`;

function maxDepth(tree: Tree): number {
  const cursor = tree.walk();
  let depth = 0;
  let max = 0;
  try {
    for (;;) {
      max = Math.max(max, depth);
      if (cursor.gotoFirstChild()) { depth++; continue; }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return max;
        depth--;
      }
    }
  } finally {
    cursor.delete();
  }
}

function allNodes(tree: Tree): Node[] {
  const out: Node[] = [];
  const cursor = tree.walk();
  try {
    for (;;) {
      out.push(cursor.currentNode);
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return out;
      }
    }
  } finally {
    cursor.delete();
  }
}

/** The definition of isAncestor: walk up from the node. */
function slowIsAncestor(ancestor: Node, node: Node): boolean {
  for (let n: Node | null = node; n; n = n.parent) if (n.id === ancestor.id) return true;
  return false;
}

describe('robustness: deep trees (regressions found by the fuzz suite)', function () {
  let syntax: CSyntax;
  const samples: Array<{ name: string; text: string }> = [];

  before(async function () {
    syntax = await loadSyntax();
    for (const d of listFixtureDrivers()) for (const f of d.files) samples.push({ name: f.name, text: f.text });
    for (let shape = 0; shape < 7; shape++) samples.push({ name: `deepNesting${shape}x300`, text: deepNesting(300, shape) });
    samples.push({ name: 'broken', text: 'void f(void) { g(; } }\nint x = h(1);\nvoid k(void) { #if 0 m(2); }\n{ n(3); }' });
  });

  it('a call nested 3,000 deep is analysed: the file index no longer walks parents per call (it was O(depth³))', function () {
    const text = PIN_FN(`${'f('.repeat(3000)}0${')'.repeat(3000)}, 1, FOLL_WRITE, pages`);
    const report = analyze(syntax, { uri: 'file:///deep/calls.c', text }, resolveSettings({ timeBudgetMs: 60000 }));
    assert.deepEqual(report.findings.map((f) => [f.code, f.span.start.line, f.span.start.character]), [['FS001', 3, 1]]);
  });

  it('the file index gives every call and marker the function a parent walk finds', function () {
    const wrong: string[] = [];
    for (const s of samples) {
      const tree = syntax.parse(s.text).tree!;
      try {
        const index = indexFile(syntax, tree);
        const byNode = new Map(index.functions.map((f) => [f.node.id, f]));
        for (const item of [...index.calls, ...index.markers]) {
          const walked = enclosingFunction(item.node);
          const expected = walked ? byNode.get(walked.id) : undefined;
          if (item.fn !== expected) wrong.push(`${s.name}: ${item.node.text.slice(0, 40)} at ${item.node.startPosition.row + 1}: ${item.fn?.name} != ${expected?.name}`);
        }
      } finally {
        tree.delete();
      }
    }
    assert.deepEqual(wrong.slice(0, 20), []);
  });

  it('isAncestor (decided by ranges) agrees with a parent walk on every fixture', function () {
    const rng = new Random(7);
    const wrong: string[] = [];
    let checked = 0;
    for (const s of samples.slice(0, 60)) {
      const tree = syntax.parse(s.text).tree!;
      try {
        const nodes = allNodes(tree);
        for (let i = 0; i < 300; i++) {
          const a = rng.pick(nodes);
          // Half the pairs are related on purpose (a node and one of its ancestors, or itself).
          let b = rng.pick(nodes);
          if (rng.chance(0.5)) { b = a; for (let up = rng.int(0, 4); up > 0 && b.parent; up--) b = b.parent; }
          for (const [x, y] of [[a, b], [b, a]]) {
            checked++;
            if (isAncestor(x, y) !== slowIsAncestor(x, y)) wrong.push(`${s.name}: isAncestor(${x.type}@${x.startIndex}-${x.endIndex}, ${y.type}@${y.startIndex}-${y.endIndex})`);
          }
        }
      } finally {
        tree.delete();
      }
    }
    assert.ok(checked > 10000, `checked ${checked} pairs`);
    assert.deepEqual(wrong.slice(0, 20), []);
  });

  it('deeperThan agrees with the true depth, for limits around it', function () {
    const wrong: string[] = [];
    for (const s of samples) {
      const tree = syntax.parse(s.text).tree!;
      try {
        const depth = maxDepth(tree);
        for (const limit of [0, 1, depth - 1, depth, depth + 1, Math.floor(depth / 2), 5 * depth].filter((l) => l >= 0)) {
          if (deeperThan(tree, limit) !== depth > limit) wrong.push(`${s.name}: depth ${depth}, deeperThan(${limit}) = ${deeperThan(tree, limit)}`);
        }
      } finally {
        tree.delete();
      }
    }
    assert.deepEqual(wrong, []);
  });

  it(`a tree deeper than ${MAX_TREE_DEPTH} levels is refused with FS009, not minutes of tree-sitter queries`, function () {
    // 100,000 levels: past 65,535, tree-sitter's query cursor (16-bit depths) drops matches and turns quadratic.
    const text = `int v = ${'a+'.repeat(100000)}1;\n${PIN_FN('0, 1, FOLL_WRITE, pages')}`;
    const parsed = syntax.parse(text, undefined, 60000);
    assert.equal(parsed.tree, undefined);
    assert.equal(parsed.depthLimitHit, true);
    const report = analyze(syntax, { uri: 'file:///deep/sum.c', text }, resolveSettings({ timeBudgetMs: 60000 }));
    assert.deepEqual(report.findings.map((f) => f.code), ['FS009']);
    assert.match(report.findings[0].message, /nests more than 10000 levels deep/, 'says why, and does not suggest raising the time budget');
    assert.doesNotMatch(report.findings[0].message, /timeBudgetMs/);
    assert.equal(report.stats.budgetHit, true);
    assert.equal(report.notes.length, 1);
  });

  it(`a tree just under the limit is still analysed`, function () {
    const text = PIN_FN(`0, 1, ${'('.repeat(MAX_TREE_DEPTH - 100)}FOLL_WRITE${')'.repeat(MAX_TREE_DEPTH - 100)}, pages`);
    const parsed = syntax.parse(text, undefined, 60000);
    assert.ok(parsed.tree, 'parsed');
    const depth = maxDepth(parsed.tree);
    parsed.tree.delete();
    assert.ok(depth <= MAX_TREE_DEPTH && depth > MAX_TREE_DEPTH - 200, `depth ${depth}`);
    const report = analyze(syntax, { uri: 'file:///deep/parens.c', text }, resolveSettings({ timeBudgetMs: 60000 }));
    assert.deepEqual(report.findings.map((f) => f.code), ['FS001']);
  });
});
