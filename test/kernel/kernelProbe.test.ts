// The simulator against the kernel it runs on (issue 15): the probe (server/probe/forksafeProbe.c, ours, built here with
// the system compiler) carries out each scenario's event list on one real page with a real reference, and reports after
// every event who maps which frame (pagemap), what each read returned and which process died; the simulator, for this
// kernel's version, must agree step by step. Cases the machine cannot run are skipped with the reason, never passed.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/lspProcess';
import { EVENT_ORDERS } from '../../server/src/simulation/scenario';
import { compareKernelVersions } from '../../server/src/simulation/kernelEra';
import { type ProbeCase, allProbeCases, describeProbeCase, probeArguments, scenarioOf, simulateProbeCase } from '../../server/src/kernelProbe/probePlan';
import { compareWithKernel, type ProbeReport } from '../../server/src/kernelProbe/probeCompare';
import { buildProbe, hostKernel, reserveHugetlbPages, runProbe, waitForFreeHugetlbPages } from '../../server/src/kernelProbe/probeRunner';

describe('kernel: the simulator against this machine\'s kernel, step by step', function () {
  this.timeout(60000);
  const host = hostKernel();
  let binary: string | undefined;
  let restoreHugetlb: (() => void) | undefined;
  let hugetlbReason: string | undefined;

  before(function () {
    if (!host.simulated) { console.log(`      skipped: not a Linux kernel (${os.platform()} ${host.release})`); this.skip(); }
    const built = buildProbe();
    if ('unavailable' in built) {
      // A compiler error in our own probe is a failure; a machine without a compiler is a skip, said.
      assert.ok(!built.unavailable.includes('does not compile'), built.unavailable);
      console.log(`      skipped: ${built.unavailable}`);
      this.skip();
    }
    binary = built.binary;
    if (host.note) console.log(`      ${host.note}`);
    // Parent, child copy and an early copy: three huge pages, plus one to spare.
    const reserved = reserveHugetlbPages(4);
    if (reserved.reason === undefined) restoreHugetlb = reserved.restore;
    else hugetlbReason = reserved.reason;
  });

  after(function () { restoreHugetlb?.(); });

  function probe(c: ProbeCase): ProbeReport {
    const planned = probeArguments(c, scenarioOf(c, host.simulated!));
    assert.ok('args' in planned, 'reason' in planned ? planned.reason : '');
    return runProbe(binary!, planned.args);
  }

  for (const c of allProbeCases(EVENT_ORDERS)) {
    it(describeProbeCase(c), function () {
      if (c.memory === 'hugetlb' && hugetlbReason) { console.log(`      skipped: ${hugetlbReason}`); this.skip(); }
      // The previous hugetlb probe's pages come back asynchronously (io_uring teardown): wait for them, not a flake.
      if (c.memory === 'hugetlb') assert.ok(waitForFreeHugetlbPages(3), 'the reserved hugetlb pages did not come back within 5 s of the previous probe');
      const real = probe(c);
      if (real.skip) { console.log(`      skipped: ${real.skip}`); this.skip(); }
      assert.equal(real.error, undefined, `probe failed: ${real.error}`);
      if (real.frames === false) console.log('      frames hidden (not root): values and process states compared only');
      const differences = compareWithKernel(simulateProbeCase(c, host.simulated!), real);
      assert.deepEqual(differences.map((d) => `step ${d.step} (${d.event}): ${d.what}`), [],
        `${describeProbeCase(c)} on ${host.release}: the simulator and the kernel differ`);
    });
  }

  it('forksafe probe (the shipped CLI, building the probe it ships) agrees with its simulation on this kernel', function () {
    if (!binary) this.skip();
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'server', 'dist', 'cli.js'), 'probe', '--ref', 'pin', '--device', 'write', '--order', 'all'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/=> the kernel agrees with the simulation at every step/g) ?? []).length, 4, r.stdout);
  });

  // The comparison must be able to fail: early COW switched off (5.9-rc's refcount rule alone) and the mapcount rule
  // of 5.4 both contradict this kernel, on the cases where those eras really differ from it.
  for (const wrong of [
    { eraId: 'refcount', case: { memory: 'small', reference: 'io_uring', device: 'read', protection: 'none', order: 'parent-writes-first' } },
    { eraId: 'mapcount', case: { memory: 'small', reference: 'vmsplice', device: 'read', protection: 'none', order: 'child-writes-first' } },
  ] as const) {
    it(`a wrong model fails: the ${wrong.eraId} era's rules disagree with this kernel on ${describeProbeCase(wrong.case)}`, function () {
      if (!binary || compareKernelVersions(host.simulated!, { major: 5, minor: 19 }) < 0) {
        console.log(`      skipped: those rules are only wrong from 5.19 on (this is ${host.release})`); this.skip();
      }
      const real = probe(wrong.case);
      if (real.skip) { console.log(`      skipped: ${real.skip}`); this.skip(); }
      const differences = compareWithKernel(simulateProbeCase(wrong.case, host.simulated!, wrong.eraId), real);
      assert.ok(differences.length > 0, 'a model this kernel contradicts passed the comparison');
      console.log(`      ${wrong.eraId}: ${differences[0]!.what}`);
    });
  }
});
