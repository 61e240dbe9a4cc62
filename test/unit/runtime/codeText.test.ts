// codeOnly (server/src/runtime/codeText.ts): comments and literals blanked, offsets and lines kept, and never a name
// hidden that tree-sitter reads as code (every fixture file, and the same files damaged at random); namesInCode gives
// the answer of a name pattern on codeOnly's text without building it.
import { strict as assert } from 'assert';
import type { CSyntax, Node } from '../../../server/src/analysis/parser';
import { CodeRegions, codeOnly, namesInCode } from '../../../server/src/runtime/codeText';
import { PIN_API_NAMES, wordsPattern } from '../../../server/src/runtime/fileRelevance';
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

  describe('namesInCode: a name pattern on the code without blanking it', function () {
    const pin = wordsPattern(PIN_API_NAMES);
    const names = ['get_user_pages', 'pin_user_pages_fast', 'my_pin', 'x', 'put_page'];

    it('answers as the pattern does on codeOnly\'s text, at the edges of every kind of region', function () {
      const cases = [
        'get_user_pages(a);', '/* get_user_pages */', '/*c*/get_user_pages(a)', 'get_user_pages/*c*/(a)', '// get_user_pages\n',
        '// a \\\nget_user_pages\n', '//x\nget_user_pages', '"get_user_pages"', '"a"get_user_pages', 'get_user_pages"a"',
        '\'a\'get_user_pages', 'x /* get_user_pages( no end', 'x /* no end */ get_user_pages(', '/* a */ /* b */ /* get_user_pages',
        'printk("oops\nget_user_pages(a);\n', 'we can\'t call get_user_pages here', 's = "a\\\nb"; get_user_pages(a);',
        '"get_user_pages" get_user_pages_fast "x"', 'xget_user_pages /*get_user_pages*/ get_user_pagesx', '',
      ];
      for (const text of cases) {
        for (const p of [pin, wordsPattern(names)]) {
          assert.equal(namesInCode(text, p), p.test(codeOnly(text)), `${JSON.stringify(text)} with ${p.source.slice(0, 40)}`);
        }
      }
    });

    it('agrees with codeOnly on every fixture file, damaged copies and random soups of comments, quotes and names, one region list asked many patterns', function () {
      const rng = new Random(0xfeed);
      const pieces = ['"', '\'', '/*', '*/', '//', '\\', '\n', ' ', 'a', '(', ';', '\'\\\'\'', ...names, ...PIN_API_NAMES.slice(0, 4)];
      const texts: string[] = [];
      for (const driver of listFixtureDrivers()) {
        for (const file of driver.files) {
          texts.push(file.text);
          let t = file.text;
          for (let d = 0; d < 3; d++) { const at = rng.int(0, t.length); t = t.slice(0, at) + rng.pick(pieces) + t.slice(at); }
          texts.push(t);
        }
      }
      for (let k = 0; k < 3000; k++) texts.push(Array.from({ length: rng.int(1, 40) }, () => rng.pick(pieces)).join(''));
      const patterns = [pin, ...names.map((n) => wordsPattern([n])), wordsPattern(names)];
      let yes = 0;
      let parted = 0;
      for (const text of texts) {
        const regions = new CodeRegions(text);
        for (const p of patterns) {
          const expected = p.test(codeOnly(text));
          assert.equal(namesInCode(text, p, regions), expected, `${JSON.stringify(text.slice(0, 200))} with ${p.source.slice(0, 40)}`);
          if (expected) yes++;
          if (p.test(text) && !expected) parted++;
        }
      }
      assert.ok(yes > 1000 && parted > 200, `${yes} in code, ${parted} named only outside it`);
    });
  });
});
