// The editor's first analysis of an opened file (engine.ts `analyzeFirstLook`, analysis/firstLook.ts) parses only the
// items that can matter; whenever it answers, its report equals a full analysis: on every single-file fixture, on
// large files of ordinary functions around them, and on damaged versions of both.
import { strict as assert } from 'assert';
import { analyze, analyzeFirstLook, Report } from '../../server/src/engine';
import type { CSyntax } from '../../server/src/analysis/parser';
import { splitTopLevel } from '../../server/src/analysis/firstLook';
import { loadSyntax } from '../../server/src/runtime/loadSyntax';
import { resolveSettings } from '../../server/src/settings';
import { listFixtureDrivers } from '../helpers/fixtures';
import { countFromEnv, Random, seedFromEnv } from '../helpers/random';

const SEED = seedFromEnv('FORKSAFE_FUZZ_SEED', 0xf1257);
const DAMAGED = countFromEnv('FORKSAFE_FIRSTLOOK_DAMAGED', 4);

function comparable(r: Report): unknown {
  return { findings: r.findings, sites: r.sites, notes: r.notes, kernel: r.kernel, watchNames: [...(r.watchNames ?? [])].sort(), findingNames: [...(r.findingNames ?? [])].sort() };
}

/** An ordinary driver function: register access, a goto, an #ifdef; nothing a pin analysis reads. */
function coldFunction(i: number): string {
  return `/* helper ${i}: { not a brace } */\nstatic int helper_${i}(struct xdev *xd, unsigned int reg)\n{\n\tu32 val = readl(xd->mmio + reg);\n\tconst char *s = "}{;";\n\n` +
    `\tif (val & 0x${(i * 37 % 255).toString(16)}) {\n\t\tgoto out;\n\t}\n#ifdef CONFIG_PM\n\tval |= '}';\n#endif\n\twritel(val, xd->mmio + reg);\nout:\n\treturn 0;\n}\n\n` +
    `static const struct xdev_ops ops_${i} = { .probe = helper_${i}, };\nEXPORT_SYMBOL_GPL(helper_${i});\n\n`;
}

const DAMAGE = ['{', '}', '/*', '"', '#if 0\n', ';', 'get_user_pages', '(', 'static int f(', '\n#define X {\n'];

describe('first look: the first analysis of an opened file parses only what can matter', function () {
  this.timeout(300_000);
  let syntax: CSyntax;
  before(async () => { syntax = await loadSyntax(); });

  function check(text: string, kernel: string | undefined, label: string): boolean {
    const settings = resolveSettings(kernel ? { kernelVersion: kernel } : {});
    const uri = 'file:///first/look.c';
    const quick = analyzeFirstLook(syntax, { uri, text }, settings);
    if (!quick) return false;
    const full = analyze(syntax, { uri, text, fixes: false, watchNames: true }, settings);
    assert.deepStrictEqual(comparable(quick), comparable(full), label);
    return true;
  }

  it('splits C text into items: functions end at their brace, declarations at their semicolon, directives at their line', function () {
    const text = '#include <a.h>\n#define M(x) \\\n\t((x) + 1)\n/* c */\nstruct s { int a; };\nstatic int f(void)\n{\n\treturn "}"[0];\n}\nint g = 1;\n';
    const items = splitTopLevel(text)!;
    assert.deepEqual(items.map((it) => [it.kind, text.slice(it.start, it.end).trim(), it.name]), [
      ['directive', '#include <a.h>', undefined], ['directive', '#define M(x) \\\n\t((x) + 1)', 'M'], ['comment', '/* c */', undefined],
      ['code', 'struct s { int a; };', undefined], ['code', 'static int f(void)\n{\n\treturn "}"[0];\n}', 'f'], ['code', 'int g = 1;', undefined],
    ]);
    assert.equal(splitTopLevel('static int f(void) {\n#ifdef A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t}\n}\n'), undefined, 'braces split across #if branches');
    assert.equal(splitTopLevel('int f(void) { /* open'), undefined);
  });

  it('equals the full analysis on every single-file fixture it accepts, alone and among 40 ordinary functions', function () {
    let accepted = 0;
    let total = 0;
    for (const driver of listFixtureDrivers().filter((d) => d.files.length === 1)) {
      const file = driver.files[0];
      const cold = Array.from({ length: 40 }, (_, i) => coldFunction(i));
      for (const [text, label] of [[file.text, file.name], [cold.slice(0, 20).join('') + file.text + '\n' + cold.slice(20).join(''), `${file.name} among ordinary functions`]]) {
        total++;
        if (check(text, file.expectations.kernel, label)) accepted++;
      }
    }
    // Files with forksafe annotations and files the lexer cannot split are parsed whole; most are accepted.
    assert.ok(accepted >= total * 0.6, `accepted ${accepted} of ${total}`);
  });

  it('equals the full analysis on damaged files whenever it answers', function () {
    const rng = new Random(SEED);
    let accepted = 0;
    let total = 0;
    for (const driver of listFixtureDrivers().filter((d) => d.files.length === 1)) {
      const file = driver.files[0];
      const base = coldFunction(1) + file.text + coldFunction(2);
      for (let k = 0; k < DAMAGED; k++) {
        const at = rng.int(0, base.length);
        const text = base.slice(0, at) + rng.pick(DAMAGE) + base.slice(at);
        total++;
        if (check(text, file.expectations.kernel, `${file.name} with damage at ${at}`)) accepted++;
      }
    }
    assert.ok(accepted > 0 && accepted < total, `accepted ${accepted} of ${total}: damage should be refused sometimes, not always`);
  });
});
