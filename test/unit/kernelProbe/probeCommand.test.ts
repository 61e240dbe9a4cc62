// `forksafe probe` with the probe and the kernel injected: usage errors, the side-by-side table, exit status on
// agreement, disagreement and a machine that cannot run it; and `forksafe simulate`'s note for newer kernels.
import * as assert from 'node:assert/strict';
import { runProbeCommand } from '../../../server/src/cli/probeCommand';
import { runSimulate } from '../../../server/src/cli/simulateCommand';
import type { ProbeReport } from '../../../server/src/kernelProbe/probeCompare';
import { hostKernel } from '../../../server/src/kernelProbe/probeRunner';

const HOST = hostKernel('6.18.4-test');

/** A fake kernel that answers like the small-page model of 6.18 for vmsplice, child-writes-first. */
const AGREEING: ProbeReport = {
  frames: true,
  steps: [
    { event: 'pin', parent: '0xa', child: 'none', childFrame: null, device: '0xa' },
    { event: 'fork', parent: '0xa', child: 'running', childFrame: '0xa', device: '0xa' },
    { event: 'child-write=18', parent: '0xa', child: 'running', childFrame: '0xb', device: '0xa' },
    { event: 'parent-write=19', parent: '0xc', child: 'running', childFrame: '0xb', device: '0xa' },
    { event: 'dma-read', value: 1, parent: '0xc', child: 'running', childFrame: '0xb', device: '0xa' },
    { event: 'parent-read', value: 19, parent: '0xc', child: 'running', childFrame: '0xb', device: '0xa' },
    { event: 'child-read', value: 18, parent: '0xc', child: 'running', childFrame: '0xb', device: '0xa' },
  ],
};

function run(argv: string[], report: ProbeReport = AGREEING, build = (): { binary: string } | { unavailable: string } => ({ binary: '/probe' })) {
  let out = '';
  let err = '';
  const calls: string[][] = [];
  const code = runProbeCommand(argv, {
    out: (s) => { out += s; }, err: (s) => { err += s; }, host: HOST, build,
    run: (_binary, args) => { calls.push([...args]); return structuredClone(report); },
  });
  return { code, out, err, calls };
}

describe('cli/probeCommand', () => {
  it('prints the simulation beside the kernel step by step and exits 0 when they agree', () => {
    const r = run(['--order', 'child-writes-first']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls, [['small', 'vmsplice', 'pin', 'fork', 'child-write=18', 'parent-write=19', 'dma-read', 'parent-read', 'child-read']]);
    assert.match(r.out, /^kernel 6\.18\.4-test, simulated as 6\.18\nnote: kernel 6\.18 is newer than the newest modelled kernel \(6\.12\)/);
    assert.match(r.out, /step\s+event\s+simulator\s+kernel/);
    assert.match(r.out, / 5 {2}dma-read\s+parent 0xBEEF, child 0xDEAD, device 0xCAFE, read 1\s+parent 0xc, child 0xb, device 0xa, read 1/);
    assert.match(r.out, /=> the kernel agrees with the simulation at every step \(7 steps\)\./);
  });

  it('marks the steps that differ, names them and exits 1', () => {
    const report = structuredClone(AGREEING);
    for (const s of report.steps!.slice(3)) s.parent = '0xa';
    report.steps![4]!.value = 19;
    const r = run(['--order', 'child-writes-first'], report);
    assert.equal(r.code, 1);
    assert.match(r.out, /^! {2}4 {2}parent-write=19/m);
    assert.match(r.out, /step 4 \(parent-write=19\): the parent stayed on its frame on the kernel; the simulator says it moved \(0xCAFE to 0xBEEF\)/);
    assert.match(r.out, /step 5 \(dma-read\): the device sent 19 on the kernel; the simulator says 1/);
  });

  it('--json carries the kernel, the simulation, the report and the differences', () => {
    const r = run(['--order', 'child-writes-first', '--json']);
    const payload = JSON.parse(r.out) as { kernel: { release: string; note: string }; results: Array<{ differences: unknown[]; kernel: ProbeReport; simulation: { era: { id: string } } }> };
    assert.equal(payload.kernel.release, '6.18.4-test');
    assert.match(payload.kernel.note, /newer than the newest modelled/);
    assert.equal(payload.results[0]!.simulation.era.id, 'anon-exclusive');
    assert.deepEqual(payload.results[0]!.differences, []);
  });

  it('plans every order with --order all, with the reference, memory, device and protection asked for', () => {
    const r = run(['--ref', 'pin', '--memory', 'hugetlb', '--device', 'write', '--protection', 'dontfork']);
    assert.equal(r.calls.length, 4);
    assert.ok(r.calls.every((c) => c.slice(0, 3).join(' ') === 'hugetlb io_uring dontfork' && c.some((a) => a.startsWith('dma-write='))));
  });

  it('says why it cannot probe here and exits 2: no compiler, a scenario the machine refuses', () => {
    const noCompiler = run([], AGREEING, () => ({ unavailable: 'no C compiler to build the probe (cc: ENOENT); install gcc or set CC' }));
    assert.equal(noCompiler.code, 2);
    assert.match(noCompiler.err, /cannot probe here: no C compiler/);
    const noHuge = run(['--memory', 'hugetlb', '--order', 'parent-writes-first'], { skip: 'no free hugetlb page (vm.nr_hugepages is 0 or all in use)' });
    assert.equal(noHuge.code, 2);
    assert.match(noHuge.err, /hugetlb page, vmsplice, parent-writes-first: cannot probe here: no free hugetlb page/);
  });

  it('refuses what no user-space reference can stand for, naming the alternatives', () => {
    for (const [argv, message] of [
      [['--ref', 'get', '--write'], /no system call keeps a writable FOLL_GET reference/],
      [['--ref', 'pin', '--read'], /read-only FOLL_PIN/],
      [['--device', 'write'], /--device write needs a writable pin/],
      [['--protection', 'notifier'], /a notifier belongs to a driver/],
      [['--memory', 'huge'], /unknown --memory 'huge'/],
      [['--order', 'sideways'], /unknown --order 'sideways'/],
    ] as const) {
      const r = run([...argv]);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, message);
      assert.equal(r.calls.length, 0);
    }
    assert.equal(run(['--help']).code, 0);
    assert.match(run(['--help']).out, /--memory small\|thp\|hugetlb/);
  });
});

describe('cli/simulateCommand: kernels newer than the model, host, hugetlb', () => {
  function simulate(argv: string[]) {
    let out = '';
    let err = '';
    const code = runSimulate(argv, { out: (s) => { out += s; }, err: (s) => { err += s; }, writeFile: () => undefined });
    return { code, out, err };
  }

  it('accepts a kernel newer than the newest modelled one and says so, in text and JSON', () => {
    const text = simulate(['--kernel', '6.18', '--order', 'child-writes-first']);
    assert.equal(text.code, 0);
    assert.match(text.out, /^note: kernel 6\.18 is newer than the newest modelled kernel \(6\.12\): simulated with the newest era's rules/);
    const json = JSON.parse(simulate(['--kernel', '6.18', '--json']).out) as { note?: string };
    assert.match(json.note ?? '', /newer than the newest modelled/);
    assert.doesNotMatch(simulate(['--kernel', '6.12']).out, /note:/);
  });

  it('--kernel host simulates this machine\'s kernel', () => {
    const r = simulate(['--kernel', 'host', '--json']);
    const host = hostKernel();
    if (!host.version) { assert.equal(r.code, 2); assert.match(r.err, /cannot read this machine's kernel version/); return; }
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as { input: { kernel: unknown } }).input.kernel, host.version);
  });

  it('documents --hugetlb and --era in --help, and --hugetlb changes the verdict of a FOLL_GET reference', () => {
    const help = simulate(['--help']).out;
    assert.match(help, /--hugetlb\s+the buffer is hugetlb memory/);
    assert.match(help, /--era ID\s+.*mapcount\|gup-breaks-cow\|refcount\|early-cow\|anon-exclusive/);
    const small = JSON.parse(simulate(['--ref', 'get', '--read', '--order', 'child-writes-first', '--json']).out) as { results: Array<{ verdict: { deviceSharesWithParent: boolean } }> };
    const huge = JSON.parse(simulate(['--ref', 'get', '--read', '--order', 'child-writes-first', '--hugetlb', '--json']).out) as typeof small;
    assert.equal(small.results[0]!.verdict.deviceSharesWithParent, false);
    assert.equal(huge.results[0]!.verdict.deviceSharesWithParent, true);
  });
});
