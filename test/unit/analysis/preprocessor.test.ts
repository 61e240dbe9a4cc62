// Kernel-era arms: conditions evaluated three-valued against the selected kernel, arms read from directive lines,
// the arm judged among several, flags the kernel refuses, and literal access arguments (issue 29).
import { strict as assert } from 'assert';
import { armsCompile, armsOf, assumptionsOf, BuildDefines, conditionHolds, describeKernels, exclusiveArms } from '../../../server/src/analysis/preprocessor';
import { compilesOn, findPinApi, refusedFlags, type KernelVersionLite } from '../../../server/src/analysis/pinApis';
import { analyzeText, syntax } from '../../helpers/syntax';
import { explainLines } from '../../../server/src/cli/explainFinding';
import { simulateFinding, describeOutcome } from '../../../server/src/simulation/outcome';
import { siteHover } from '../../../server/src/explain/hover';

const k = (major: number, minor: number): KernelVersionLite => ({ major, minor });

describe('preprocessor: which arm a kernel compiles', function () {
  it('evaluates LINUX_VERSION_CODE comparisons in either order, under !, && and ||', function () {
    assert.equal(conditionHolds('LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)', k(5, 4)), false);
    assert.equal(conditionHolds('LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)', k(5, 10)), true);
    assert.equal(conditionHolds('KERNEL_VERSION(5, 6, 0) <= LINUX_VERSION_CODE', k(5, 4)), false);
    assert.equal(conditionHolds('KERNEL_VERSION(5, 6, 0) > LINUX_VERSION_CODE', k(4, 19)), true);
    assert.equal(conditionHolds('!(LINUX_VERSION_CODE < KERNEL_VERSION(4,9,0)) && LINUX_VERSION_CODE < KERNEL_VERSION(6,5,0)', k(5, 4)), true);
    assert.equal(conditionHolds('(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)) || defined(RHEL_RELEASE_CODE)', k(6, 12)), true);
    assert.equal(conditionHolds('0', k(6, 12)), false);
    assert.equal(conditionHolds('1 && LINUX_VERSION_CODE < KERNEL_VERSION(3, 0, 0)', k(4, 19)), false);
  });

  it('leaves unknown what the tree alone cannot decide: feature macros, CONFIG_, RHEL, a patch level inside the series', function () {
    assert.equal(conditionHolds('defined(HAVE_PIN_USER_PAGES_FAST)', k(6, 12)), undefined);
    assert.equal(conditionHolds('IS_ENABLED(CONFIG_MMU_NOTIFIER)', k(6, 12)), undefined);
    assert.equal(conditionHolds('(!defined(RHEL_RELEASE_CODE) && LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)) || (defined(RHEL_RELEASE_CODE) && RHEL_RELEASE_CODE >= RHEL_RELEASE_VERSION(9, 6))', k(5, 4)), undefined);
    assert.equal(conditionHolds('LINUX_VERSION_CODE >= KERNEL_VERSION(4, 4, 168)', k(4, 4)), undefined);
    assert.equal(conditionHolds('LINUX_VERSION_CODE <= KERNEL_VERSION(5, 4, 0)', k(5, 4)), undefined);
    assert.equal(conditionHolds('LINUX_VERSION_CODE < KERNEL_VERSION(5, 4, 0)', k(5, 4)), false);
    // A FOLL_ flag is defined where the flag table says it exists.
    assert.equal(conditionHolds('defined(FOLL_LONGTERM)', k(4, 19)), false);
    assert.equal(conditionHolds('defined(FOLL_LONGTERM)', k(5, 4)), true);
    // An assumed value decides a macro.
    assert.equal(conditionHolds('defined(HAVE_X)', k(6, 12), new Map([['HAVE_X', false]])), false);
  });

  it("decides with the build's macros: -D/-U and conftest headers, CONFIG_ from autoconf.h (=y and =m), numbers (issue 13)", function () {
    const defines: BuildDefines = {
      values: new Map<string, string | null>([['HAVE_PIN_USER_PAGES_FAST', ''], ['NV_VMAS_PRESENT', null], ['CONFIG_MMU_NOTIFIER', '1'], ['CONFIG_HMM_MIRROR_MODULE', '1'], ['DRV_API_LEVEL', '3'], ['DRV_NAME', '"x"']]),
      configComplete: true, summary: 'test',
    };
    const target = Object.defineProperty({ ...k(6, 1) }, 'defines', { value: defines, enumerable: false });
    assert.equal(conditionHolds('defined(HAVE_PIN_USER_PAGES_FAST)', target), true);
    assert.equal(conditionHolds('HAVE_PIN_USER_PAGES_FAST', target), true, '-DX alone is 1');
    assert.equal(conditionHolds('defined(NV_VMAS_PRESENT)', target), false, '#undef in the conftest header');
    assert.equal(conditionHolds('IS_ENABLED(CONFIG_MMU_NOTIFIER)', target), true);
    assert.equal(conditionHolds('IS_ENABLED(CONFIG_HMM_MIRROR)', target), true, '=m counts as enabled');
    assert.equal(conditionHolds('IS_BUILTIN(CONFIG_HMM_MIRROR)', target), false);
    assert.equal(conditionHolds('defined(CONFIG_NUMA)', target), false, 'a CONFIG_ option autoconf.h does not set is off');
    assert.equal(conditionHolds('defined(HAVE_SOMETHING_ELSE)', target), undefined, 'other names stay unknown: a header may define them');
    assert.equal(conditionHolds('DRV_API_LEVEL >= 2', target), true);
    assert.equal(conditionHolds('DRV_NAME', target), undefined);
    assert.equal(conditionHolds('defined(HAVE_PIN_USER_PAGES_FAST)', k(6, 1)), undefined, 'without the build: unknown, as before');
  });

  it('reads arms from the directive lines, also where a conditional splits an if header', async function () {
    const text = [
      'int f(unsigned long a, struct page **p)', '{',
      '#ifdef HAVE_PIN_USER_PAGES_FAST',
      '\tif (pin_user_pages_fast(a, 1, 1, p) < 0) {',
      '#else',
      '\tif (get_user_pages_fast(a, 1, 1, p) < 0) {',
      '#endif',
      '\t\treturn -1;', '\t}', '\treturn 0;', '}', '',
    ].join('\n');
    const tree = (await syntax()).parse(text).tree!;
    try {
      const file = { text };
      const calls = tree.rootNode.descendantsOfType('call_expression');
      const pin = calls.find((c) => c.text.startsWith('pin_'))!;
      const get = calls.find((c) => c.text.startsWith('get_'))!;
      const pinArms = armsOf(file, pin);
      const getArms = armsOf(file, get);
      assert.deepEqual(pinArms.map((a) => [a.condition, a.holds]), [['defined(HAVE_PIN_USER_PAGES_FAST)', true]]);
      assert.deepEqual(getArms.map((a) => [a.condition, a.holds]), [['defined(HAVE_PIN_USER_PAGES_FAST)', false]]);
      assert.ok(exclusiveArms(pinArms, getArms));
      assert.deepEqual([...assumptionsOf(getArms, k(6, 12))], [['HAVE_PIN_USER_PAGES_FAST', false]]);
      assert.equal(armsCompile(getArms, k(6, 12)), undefined);
      assert.equal(armsCompile(getArms, k(6, 12), new Map([['HAVE_PIN_USER_PAGES_FAST', true]])), false);
    } finally {
      tree.delete();
    }
  });

  it('an #else after an #elif needs every earlier condition false', async function () {
    const text = ['#if LINUX_VERSION_CODE < KERNEL_VERSION(4, 9, 0)', 'a();', '#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)', 'b();', '#else', 'c();', '#endif', ''].join('\n');
    const tree = (await syntax()).parse(text).tree!;
    try {
      const [a, b, c] = ['a', 'b', 'c'].map((n) => tree.rootNode.descendantsOfType('call_expression').find((x) => x.text.startsWith(n))!);
      const on = (n: typeof a, v: KernelVersionLite) => armsCompile(armsOf({ text }, n), v);
      assert.deepEqual([on(a, k(4, 4)), on(b, k(4, 4)), on(c, k(4, 4))], [true, false, false]);
      assert.deepEqual([on(a, k(5, 4)), on(b, k(5, 4)), on(c, k(5, 4))], [false, true, false]);
      assert.deepEqual([on(a, k(6, 12)), on(b, k(6, 12)), on(c, k(6, 12))], [false, false, true]);
    } finally {
      tree.delete();
    }
  });

  it('words kernel ranges', function () {
    assert.equal(describeKernels((v) => v.major > 5 || (v.major === 5 && v.minor >= 6)), '5.6 and later');
    assert.equal(describeKernels((v) => v.major < 5 || (v.major === 5 && v.minor < 6)), 'before 5.6');
    assert.equal(describeKernels(() => false), 'no kernel');
  });

  it('the API table says which layouts a kernel compiles', function () {
    const pin = findPinApi('pin_user_pages')!;
    assert.equal(compilesOn(pin, 5, k(5, 4)), false);
    assert.equal(compilesOn(pin, 5, k(5, 10)), true);
    assert.equal(compilesOn(pin, 5, k(6, 12)), false);
    assert.equal(compilesOn(pin, 4, k(6, 12)), true);
  });

  it('refused flags per era (FS011 facts)', function () {
    assert.deepEqual(refusedFlags('get', new Set(['FOLL_WRITE', 'FOLL_LONGTERM']), k(6, 1)), []);
    assert.deepEqual(refusedFlags('get', new Set(['FOLL_WRITE', 'FOLL_LONGTERM']), k(6, 3)).map((r) => r.flag), ['FOLL_LONGTERM']);
    assert.deepEqual(refusedFlags('pin', new Set(['FOLL_GET']), k(5, 6)).map((r) => r.flag), ['FOLL_GET']);
    assert.deepEqual(refusedFlags('pin', new Set(['FOLL_PIN']), k(6, 1)), []);
    assert.deepEqual(refusedFlags('pin', new Set(['FOLL_PIN']), k(6, 3)).map((r) => r.flag), ['FOLL_PIN']);
    assert.deepEqual(refusedFlags('get', new Set(['FOLL_PIN']), k(5, 4)), []);
  });
});

describe('compat branches, literal access arguments and refused flags through the engine', function () {
  const COMPAT = [
    'struct m { struct page *p; };',
    'static int setup(struct m *m, unsigned long a)', '{', '\tint ret;',
    '#ifdef HAVE_PIN_USER_PAGES_FAST',
    '\tret = pin_user_pages_fast(a, 1, 1, &m->p);',
    '#else',
    '\tret = get_user_pages_fast(a, 1, 1, &m->p);',
    '#endif',
    '\treturn ret == 1 ? 0 : -EFAULT;', '}',
    'static long ioc(struct file *file, unsigned int cmd, unsigned long arg)', '{', '\treturn setup(file->private_data, arg);', '}',
    'static const struct file_operations fops = { .unlocked_ioctl = ioc };', '',
  ].join('\n');

  it('judges the arm each kernel can compile, and --explain names it with the other arm', async function () {
    const old = await analyzeText(COMPAT, { kernelVersion: '5.4' });
    assert.deepEqual(old.findings.map((f) => [f.code, f.span.start.line]), [['FS001', 7]]);
    const now = await analyzeText(COMPAT, { kernelVersion: '6.12' });
    assert.deepEqual(now.findings.map((f) => [f.code, f.span.start.line]), [['FS005', 5]]);
    const lines = explainLines(now.findings[0], (u) => u);
    assert.ok(lines.some((l) => /^branch: pin_user_pages_fast\(\) inside `#ifdef HAVE_PIN_USER_PAGES_FAST`/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /other arm: get_user_pages_fast\(\) in the #else of `#ifdef HAVE_PIN_USER_PAGES_FAST`, on kernels before 5\.6/.test(l)), lines.join('\n'));
    const site = now.findings[0].site!;
    const hover = siteHover(site, simulateFinding(site.scenario).worst, {});
    assert.match(hover, /\*\*branch judged:\*\* pin\\_user\\_pages\\_fast\(\) inside/, hover);
  });

  it('a refused call is simulated as failing: no pin, no divergence', async function () {
    const text = 'struct r { struct page *p[4]; };\nint reg(struct r *r, unsigned long a)\n{\n\treturn get_user_pages_fast(a, 4, FOLL_WRITE | FOLL_LONGTERM, r->p);\n}\n';
    const report = await analyzeText(text, { kernelVersion: '6.6' });
    assert.deepEqual(report.findings.map((f) => f.code), ['FS011']);
    const scenario = report.findings[0].site!.scenario;
    assert.match(scenario.rejected ?? '', /FOLL_LONGTERM refused since 6\.3/);
    const { worst } = simulateFinding(scenario);
    assert.equal(worst.verdict.diverges, false);
    assert.match(describeOutcome(worst), /fails with -EINVAL/);
    assert.ok(worst.steps.some((s) => s.effects.rejected), 'the pin step is rejected');
    assert.match(report.findings[0].message, /^get_user_pages_fast\(\) is refused by kernel 6\.6/);
    const before = await analyzeText(text, { kernelVersion: '6.1' });
    assert.deepEqual(before.findings.map((f) => f.code), ['FS001']);
  });

  it('a flag set inside an #if arm counts where the kernel can compile that arm, conditionally where only the build decides', async function () {
    const text = [
      'struct m { struct page **p; };',
      'int lock(struct m *m, unsigned long a, int n)', '{', '\tunsigned int flags = FOLL_WRITE;',
      '#if defined(XX_FOLL_LONGTERM_PRESENT)', '\tflags |= FOLL_LONGTERM;', '#endif',
      '#if LINUX_VERSION_CODE < KERNEL_VERSION(3, 0, 0)', '\tflags |= FOLL_FORCE;', '#endif',
      '\treturn pin_user_pages_fast(a, n, flags, m->p);', '}', '',
    ].join('\n');
    // 6.12: FOLL_LONGTERM exists, but only the build decides the arm: the pin may lack it (FS005).
    const now = await analyzeText(text, { kernelVersion: '6.12' });
    assert.deepEqual(now.findings.map((f) => f.code), ['FS005']);
    assert.ok(now.findings[0].related.some((r) => /only the build decides/.test(r.message)) || now.sites?.[0]?.facts.longterm === 'conditional');
    // The same file with the switch known to be set is always FOLL_LONGTERM: nothing to report.
    const set = await analyzeText(text.replace('#if defined(XX_FOLL_LONGTERM_PRESENT)', '#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 2, 0)'), { kernelVersion: '6.12' });
    assert.deepEqual(set.findings.map((f) => f.code), []);
  });
});
