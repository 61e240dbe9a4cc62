// A file's #defines are kept as columns (MacroTable) and looked up by name through a table of name hashes
// (workspace.ts, MacroNameTable): the lookups must give exactly the definitions a walk of the trees finds, in file
// order, with their names, bodies and parameters as the tree has them, also when two names share a hash; entries are
// made only for the names asked for, and the same entry is given each time.
import { strict as assert } from 'assert';
import type { CSyntax, Node, Tree } from '../../../server/src/analysis/parser';
import { hashName } from '../../../server/src/analysis/fileIndex';
import { descendantsOfType } from '../../../server/src/analysis/syntaxTools';
import { makeSourceFile, SourceFile, Workspace, WorkspaceBase } from '../../../server/src/analysis/workspace';
import { Random, seedFromEnv } from '../../helpers/random';
import { syntax } from '../../helpers/syntax';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0x3ac60);

/** Two names FNV-1a hashes alike (found by a search over random names; the test checks they still collide). */
const SAME_HASH = ['RMVE87VXNY', 'R9NX6IBPV8'] as const;
/** A third name with that hash would be a lookup that probes past both: these have other hashes. */
const NAMES = [...SAME_HASH, 'FOLL_WRITE', 'DEV_FLAGS', 'x', 'GUP', 'mmREG_BASE_IDX', 'A_LONGER_REGISTER_FIELD__SHIFT', 'pin_it'];

function randomDefine(r: Random, name: string): string {
  const body = r.pick(['', ' 1', ' 0x0000ffffL', ' (FOLL_WRITE | FOLL_LONGTERM)', ' \\\n  (DEV_FLAGS << 2)', ' pin_user_pages(a, b, c, d)', ' /* \u00e9\u{1F600} */ 7']);
  return r.chance(0.3) ? `#define ${name}(a, b, ...)${body}` : `#define ${name}${body}`;
}

function randomFile(r: Random, defines: number): string {
  const lines: string[] = [];
  for (let i = 0; i < defines; i++) {
    if (r.chance(0.2)) lines.push(`/* \u{1F600} filler ${i} */ static int v${i};`);
    if (r.chance(0.15)) lines.push('#ifdef CONFIG_X');
    lines.push(randomDefine(r, r.pick(NAMES)));
    if (r.chance(0.15)) lines.push('#else', randomDefine(r, r.pick(NAMES)), '#endif');
  }
  return lines.join('\n') + '\n';
}

/** Every #define a walk of the tree finds, as plain data. */
function definesByWalk(file: SourceFile, tree: Tree): Array<[string, string, number, string, string[] | undefined]> {
  const out: Array<[string, string, number, string, string[] | undefined]> = [];
  for (const n of descendantsOfType(tree.rootNode, ['preproc_def', 'preproc_function_def'])) {
    const name = n.childForFieldName('name');
    if (!name) continue;
    const params = n.childForFieldName('parameters');
    out.push([file.uri, name.text, n.startIndex, n.childForFieldName('value')?.text ?? '',
      params ? params.namedChildren.filter((p): p is Node => p !== null && (p.type === 'identifier' || p.type === '...')).map((p) => p.text) : undefined]);
  }
  return out;
}

describe('macros by name (MacroTable, MacroNameTable)', () => {
  let c: CSyntax;
  before(async () => { c = await syntax(); });

  it('the two names the lookups must tell apart share a hash', () => {
    assert.equal(hashName(SAME_HASH[0]), hashName(SAME_HASH[1]));
    assert.equal(hashName(`x${SAME_HASH[0]}y`, 1, 1 + SAME_HASH[0].length), hashName(SAME_HASH[0]));
  });

  it(`lookups give what a walk of the trees finds, in file order, alone and over a shared base (seed ${SEED.toString(16)})`, () => {
    const r = new Random(SEED);
    for (let round = 0; round < 12; round++) {
      const trees: Tree[] = [];
      try {
        const files = Array.from({ length: r.int(1, 5) }, (_, f) => {
          const text = randomFile(r, r.int(0, 40));
          const tree = c.parse(text).tree!;
          trees.push(tree);
          return makeSourceFile(c, `file:///m/${round}/${f}.h`, text, tree);
        });
        const walked = files.flatMap((f, i) => definesByWalk(f, trees[i]!));
        const alone = new Workspace(c, files);
        const over = Workspace.over(c, files[0]!, new WorkspaceBase(files.slice(1)));
        for (const name of [...NAMES, 'NOT_DEFINED', '']) {
          const expected = walked.filter((d) => d[1] === name);
          for (const [label, ws] of [['alone', alone], ['over a base', over]] as const) {
            const got = ws.macrosNamed(name).map((l) => [l.file.uri, l.item.name, l.item.start, l.item.body, l.item.params]);
            assert.deepStrictEqual(got, expected, `round ${round}, ${label}, ${name}`);
            for (const l of ws.macrosNamed(name)) assert.equal(l.item.node.childForFieldName('name')?.text, name);
          }
        }
      } finally {
        for (const t of trees) t.delete();
      }
    }
  });

  it('entries are made only for the names asked for, once each', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `#define REG_${i}_MASK 0x${i.toString(16)}L`);
    lines.push('#define FOLL_WRITE 0x01', '#define GUP(a) pin(a)');
    const text = lines.join('\n') + '\n';
    const tree = c.parse(text).tree!;
    try {
      const file = makeSourceFile(c, 'file:///m/regs.h', text, tree);
      const ws = new Workspace(c, [file]);
      assert.equal(file.index.macros.length, 2002);
      assert.equal(file.index.macros.made().length, 0);
      const first = ws.macrosNamed('FOLL_WRITE');
      assert.equal(first.length, 1);
      assert.equal(first[0]!.item.body, '0x01');
      assert.deepStrictEqual(ws.macrosNamed('GUP').map((l) => l.item.params), [['a']]);
      assert.equal(ws.macrosNamed('REG_7_MASK_').length, 0);
      assert.equal(file.index.macros.made().length, 2);
      assert.equal(ws.macrosNamed('FOLL_WRITE')[0]!.item, first[0]!.item);
      assert.equal(file.index.macros.at(2000), first[0]!.item);
    } finally {
      tree.delete();
    }
  });
});
