// The simulator against the kernel it runs on (issue 15, first scenarios): a probe of our own (test/kernel/probe.c, built
// here with the system compiler) takes a real long-lived reference on one page (vmsplice into a pipe: FOLL_GET; an
// io_uring fixed buffer: FOLL_PIN | FOLL_LONGTERM), runs an event order around a real fork(), and says what the device
// sends; the simulator, for this kernel's version, must agree.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/lspProcess';
import { simulateFinding } from '../../server/src/simulation/outcome';
import { compareKernelVersions } from '../../server/src/analysis/pinApis';
import { NEWEST_MODELLED_KERNEL } from '../../server/src/simulation/kernelEra';
import type { EventOrder } from '../../server/src/simulation/scenario';

interface ProbeResult { order?: string; parent?: string; child?: string; device?: string; skip?: string; error?: string }

const ORDERS: EventOrder[] = ['child-writes-first', 'parent-writes-first', 'child-exits-then-parent-writes'];

describe('kernel: the simulator against this machine\'s kernel (vmsplice FOLL_GET, io_uring FOLL_PIN | FOLL_LONGTERM)', function () {
  this.timeout(60000);
  let probe: string | undefined;
  let tmp: string;
  const release = os.release();
  const m = /^(\d+)\.(\d+)/.exec(release);
  const host = m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;

  before(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-probe-'));
    if (os.platform() !== 'linux' || !host) { console.log(`      skipped: not a Linux kernel (${os.platform()} ${release})`); this.skip(); }
    const out = path.join(tmp, 'probe');
    const cc = spawnSync('gcc', ['-O1', '-Wall', '-o', out, path.join(REPO_ROOT, 'test', 'kernel', 'probe.c')], { encoding: 'utf8' });
    if (cc.error) { console.log(`      skipped: no C compiler to build the probe (${cc.error.message})`); this.skip(); }
    assert.equal(cc.status, 0, `the probe does not compile:\n${cc.stderr}`);
    probe = out;
  });

  after(function () { fs.rmSync(tmp, { recursive: true, force: true }); });

  // vmsplice into a pipe: a read-only FOLL_GET reference the pipe holds; io_uring fixed buffer: FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE.
  const REFERENCES = [
    { probe: 'vmsplice', input: { ref: 'get', access: 'read', longterm: false } },
    { probe: 'io_uring', input: { ref: 'pin', access: 'write', longterm: true } },
  ] as const;
  for (const reference of REFERENCES) for (const order of ORDERS) {
    it(`${reference.probe}, ${order}: the device stays with the parent exactly when the simulator says so`, function () {
      const r = spawnSync(probe!, [reference.probe, order], { encoding: 'utf8', timeout: 20000 });
      const result = JSON.parse(r.stdout.trim() || '{}') as ProbeResult;
      if (result.skip) { console.log(`      skipped: ${result.skip}`); this.skip(); }
      assert.equal(r.status, 0, `probe failed: ${r.stdout}${r.stderr}`);
      assert.equal(result.order, order);
      assert.equal(result.parent, 'P', 'the parent sees its own write');
      // Kernels newer than the newest modelled one are simulated as that one (said here, never silently).
      const kernel = compareKernelVersions(host!, NEWEST_MODELLED_KERNEL) > 0 ? NEWEST_MODELLED_KERNEL : host!;
      if (kernel !== host) console.log(`      kernel ${release} is newer than the newest modelled (${NEWEST_MODELLED_KERNEL.major}.${NEWEST_MODELLED_KERNEL.minor}): simulated as that`);
      const sim = simulateFinding({ kernel, ...reference.input, longLived: true, protections: { dontfork: false, wipeonfork: false, notifier: false } });
      const simulated = sim.results.find((x) => x.scenario.order === order);
      assert.ok(simulated, `the simulator has the order ${order}`);
      const real = result.device === result.parent;
      assert.equal(simulated.verdict.deviceSharesWithParent, real,
        `${order} on ${release}: the device sent '${result.device}', the parent sees '${result.parent}' (the child '${result.child}'); the simulator says the device ${simulated.verdict.deviceSharesWithParent ? 'stays with' : 'parts from'} the parent`);
    });
  }
});
