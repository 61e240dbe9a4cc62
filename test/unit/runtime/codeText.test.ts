// codeOnly (server/src/runtime/codeText.ts): comments and literals blanked, offsets and lines kept, and never a name
// hidden that tree-sitter reads as code (every fixture file, and the same files damaged at random).
import { strict as assert } from 'assert';
import type { CSyntax, Node } from '../../../server/src/analysis/parser';
import { codeOnly } from '../../../server/src/runtime/codeText';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { listFixtureDrivers } from '../../helpers/fixtures';
import { Random } from '../../helpers/random';

/** Leaves of the tree outside comments and string or character literals: what the analysis can read as code. */
function codeLeaves(node: Node, out: Node[] = []): Node[] {
  if (['comment', 'string_literal', 'char_literal', 'system_lib_string', 'concatenated_string'].includes(node.type)) return out;
  if (node.childCount === 0) {
    if (node.endIndex > node.startIndex) out.push(node);
    return out;
  }
  for (const c of node.children) if (c) codeLeaves(c, out);
  return out;
}

/** Whether tree-sitter recovered from an error around `n` (an ancestor below the root holds one): its reading there is a guess. */
const recovered = (n: Node): boolean => { for (let p: Node | null = n; p?.parent; p = p.parent) if (p.hasError || p.isMissing) return true; return false; };

describe('codeOnly: C text without its comments and literals', function () {
  let syntax: CSyntax;
  before(async function () { syntax = await loadSyntax(); });

  it('blanks comments, strings and character literals, keeping offsets and line breaks', function () {
    const text = 'a /* get_user_pages */ b // pin_user_pages \\\n still comment\nc "get_user_pages(\\"x\\")" d \'"\' e \'\\\'\' f\n';
    const code = codeOnly(text);
    assert.equal(code.length, text.length);
    assert.deepEqual([...code].map((c, i) => (c === '\n') === (text[i] === '\n')).every(Boolean), true, 'line breaks stay where they were');
    assert.deepEqual(code.split(/\s+/).filter(Boolean), ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('leaves what does not close as C would close it: an unterminated block comment, a quote open at the line end, an apostrophe in prose', function () {
    assert.equal(codeOnly('x /* get_user_pages( no end'), 'x /* get_user_pages( no end');
    assert.equal(codeOnly('printk("oops\nget_user_pages(a);\n'), 'printk("oops\nget_user_pages(a);\n');
    assert.equal(codeOnly('#if 0\nwe can\'t call get_user_pages(a) here\n#endif\n'), '#if 0\nwe can\'t call get_user_pages(a) here\n#endif\n');
    assert.equal(codeOnly('s = "a\\\nb"; get_user_pages(a);'), 's =    \n  ; get_user_pages(a);', 'a string continued across a line break closes on the next line');
  });

  it('returns the same string when there is nothing to blank', function () {
    const text = 'int f(void)\n{\n\treturn get_user_pages_fast(a, n, FOLL_WRITE, p);\n}\n';
    assert.equal(codeOnly(text), text);
  });

  it('never blanks a leaf tree-sitter reads as code: every fixture file, and each damaged at random', function () {
    const rng = new Random(0xc0de);
    const damage = ['"', '\'', '/*', '*/', '//', '\\\n', '\n', '"x\\"', '\'\\\''];
    let leaves = 0;
    let files = 0;
    for (const driver of listFixtureDrivers()) {
      for (const file of driver.files) {
        const variants = [file.text];
        for (let k = 0; k < 4; k++) {
          let t = file.text;
          for (let d = 0; d < 3; d++) { const at = rng.int(0, t.length); t = t.slice(0, at) + rng.pick(damage) + t.slice(at); }
          variants.push(t);
        }
        for (const text of variants) {
          const tree = syntax.parse(text).tree!;
          try {
            const code = codeOnly(text);
            assert.equal(code.length, text.length);
            for (const leaf of codeLeaves(tree.rootNode)) {
              const word = text.slice(leaf.startIndex, leaf.endIndex);
              // An identifier tree-sitter reads as code stays, wherever it parsed without recovering from an error (a
              // quote the damage left open can make it read a comment's prose as code, where C reads a comment).
              if (/^[A-Za-z_]\w*$/.test(word) && code.slice(leaf.startIndex, leaf.endIndex) !== word) {
                assert.ok(recovered(leaf), `${file.name}: '${word}' at ${leaf.startIndex} is code to tree-sitter but blanked`);
              }
              leaves++;
            }
            files++;
          } finally { tree.delete(); }
        }
      }
    }
    assert.ok(files >= 500 && leaves > 10000, `${files} files, ${leaves} leaves`);
  });
});
