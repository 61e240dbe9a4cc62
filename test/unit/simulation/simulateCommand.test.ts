import * as assert from 'node:assert/strict';
import { refKindForApi, runSimulate } from '../../../server/src/cli/simulateCommand';

function run(argv: string[]): { code: number; out: string; err: string; files: Map<string, string> } {
  let out = '';
  let err = '';
  const files = new Map<string, string>();
  const code = runSimulate(argv, {
    out: (s) => { out += s; },
    err: (s) => { err += s; },
    writeFile: (p, d) => { files.set(p, d); },
  });
  return { code, out, err, files };
}

describe('cli/simulateCommand', () => {
  it('prints a step table, the verdict and the outcome sentence', () => {
    const r = run(['--kernel', '4.19', '--api', 'get_user_pages', '--write', '--order', 'parent-writes-first']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /Scenario: parent writes first/);
    assert.match(r.out, /#\s+event\s+parent\s+child\s+device/);
    assert.match(r.out, /parent writes\s+0xBEEF rw: parent data #\d+\s+0xCAFE ro/);
    assert.match(r.out, /DMA writes land in:\s+child/);
    assert.match(r.out, /=> After fork\(\), a parent write moves the parent to a new page \(0xBEEF\)/);
  });

  it('runs every order worth showing and names the worst', () => {
    const r = run(['--kernel', '5.4', '--ref', 'get']);
    assert.equal(r.code, 0, r.err);
    assert.equal((r.out.match(/^Scenario: /gm) ?? []).length, 3);
    assert.match(r.out, /Worst order: parent writes first/);
  });

  it('--json prints parseable results with the verdict', () => {
    const r = run(['--kernel', '6.1', '--api', 'pin_user_pages_fast', '--read', '--short-lived', '--json']);
    assert.equal(r.code, 0, r.err);
    const payload = JSON.parse(r.out) as {
      input: { ref: string; access: string; longLived: boolean };
      worst: string;
      results: Array<{ scenario: { order: string }; verdict: { diverges: boolean; window: string }; outcome: string; steps: unknown[] }>;
    };
    assert.equal(payload.input.ref, 'pin');
    assert.equal(payload.input.access, 'read');
    assert.equal(payload.input.longLived, false);
    assert.ok(payload.results.length >= 2);
    for (const result of payload.results) {
      assert.equal(result.verdict.diverges, false, result.scenario.order);
      assert.equal(result.verdict.window, 'short-io');
      assert.ok(result.outcome.length > 0);
      assert.ok(result.steps.length > 3);
    }
  });

  it('accepts repeated and comma-separated protections', () => {
    const r = run(['--kernel', '5.4', '--protection', 'dontfork', '--protection', 'notifier,wipeonfork', '--json']);
    assert.equal(r.code, 0, r.err);
    const payload = JSON.parse(r.out) as { input: { protections: Record<string, boolean> } };
    assert.deepEqual(payload.input.protections, { dontfork: true, wipeonfork: true, notifier: true });
  });

  it('writes the SVG through io.writeFile', () => {
    const r = run(['--kernel', '4.19', '--svg', 'out.svg']);
    assert.equal(r.code, 0, r.err);
    const svg = r.files.get('out.svg');
    assert.ok(svg?.startsWith('<svg'));
    assert.match(r.out, /written to out\.svg/);
  });

  it('maps API names to reference kinds', () => {
    assert.equal(refKindForApi('get_user_pages'), 'get');
    assert.equal(refKindForApi('get_user_pages_fast'), 'get');
    assert.equal(refKindForApi('get_user_pages_remote()'), 'get');
    assert.equal(refKindForApi('get_vaddr_frames'), 'get');
    assert.equal(refKindForApi('pin_user_pages'), 'pin');
    assert.equal(refKindForApi('pin_user_pages_unlocked'), 'pin');
    assert.equal(refKindForApi('kmalloc'), undefined);
  });

  it('exits 2 with a clear message on usage errors', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--kernel', 'banana'], /cannot read --kernel 'banana'/],
      [['--api', 'kmalloc'], /unknown --api 'kmalloc'/],
      [['--ref', 'weak'], /unknown --ref 'weak'/],
      [['--api', 'pin_user_pages', '--ref', 'pin'], /either --api or --ref/],
      [['--write', '--read'], /either --write or --read/],
      [['--long-lived', '--short-lived'], /either --long-lived or --short-lived/],
      [['--protection', 'magic'], /unknown --protection 'magic'/],
      [['--protection', 'none', '--protection', 'dontfork'], /cannot be combined/],
      [['--order', 'sideways'], /unknown --order 'sideways'/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
      [['stray'], /positional/i],
    ];
    for (const [argv, message] of cases) {
      const r = run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.equal(r.out, '');
      assert.match(r.err, message, argv.join(' '));
      assert.match(r.err, /usage: forksafe simulate/);
    }
  });

  it('prints help on --help and exits 0', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /usage: forksafe simulate/);
  });
});
