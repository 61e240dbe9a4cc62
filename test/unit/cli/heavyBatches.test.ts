// What a scan's folder workers hold (cli/folderWorkers.ts). Without the prefilter a folder batch holds its folders'
// files whole: a heavy batch (HEAVY_BATCH_BYTES) is analysed after every other batch, by one worker started for it once
// the others have ended, so it is never held beside another batch. A worker whose memory outside its heap (wasm) is
// past RECYCLE_EXTERNAL_BYTES after a batch is replaced by a new one. The results are those of one thread.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { batchBytes, FolderBatch, folderBatches, runBatch, runFolderWorkers } from '../../../server/src/cli/folderWorkers';
import type { FileResult } from '../../../server/src/cli/analyzeChunk';
import { workerScriptPath } from '../../../server/src/cli/workerPool';
import { collectScanTargets } from '../../../server/src/runtime/scanTargets';
import { resolveSettings } from '../../../server/src/settings';
import { loadSyntax } from '../../../server/src/runtime/loadSyntax';
import { BAD_DRIVER, scratchTree } from './runCli';

const sorted = (r: FileResult[]): FileResult[] => [...r].sort((a, b) => (a.path < b.path ? -1 : 1));

describe('cli: what folder workers hold (heavy batches, recycled workers)', () => {
  it('weighs a batch by the sources of its folders within the size limit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forksafe-weigh-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.c'), 'x'.repeat(100));
      fs.writeFileSync(path.join(dir, 'b.h'), 'x'.repeat(5000));
      const batch: FolderBatch = { targets: [path.join(dir, 'a.c')], folderSources: [[dir, [path.join(dir, 'a.c'), path.join(dir, 'b.h'), path.join(dir, 'gone.c')]]] };
      assert.equal(batchBytes(batch, 10000), 5100);
      assert.equal(batchBytes(batch, 1000), 100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('heavy batches are analysed last by one worker alone; a worker past its memory limit is replaced; the results are one thread\'s', async function () {
    this.timeout(60000);
    // Twelve folders, every third one made heavy by a large header of #defines.
    const files: Record<string, string> = {};
    for (let d = 0; d < 12; d++) {
      files[`f${String(d).padStart(2, '0')}/drv.c`] = d % 4 === 0 ? BAD_DRIVER : `int f${d}(void) { return ${d}; }\n`;
      if (d % 3 === 1) files[`f${String(d).padStart(2, '0')}/regs.h`] = Array.from({ length: 400 }, (_, i) => `#define REG_${d}_${i} 0x${i.toString(16)}`).join('\n') + '\n';
    }
    const { dir, remove } = scratchTree(files);
    try {
      const settings = resolveSettings({ kernelVersion: '6.1' });
      const collected = collectScanTargets([dir], { include: settings.include, exclude: settings.exclude, gitignore: false, root: dir });
      const batches = folderBatches(collected.files, collected.folderSources, 12);
      const heavyBytes = 5000;
      const heavyIds = batches.map((b, i) => (batchBytes(b, settings.maxFileSizeKb * 1024) > heavyBytes ? i : -1)).filter((i) => i >= 0);
      assert.ok(heavyIds.length >= 2 && heavyIds.length < batches.length, `${heavyIds.length} of ${batches.length} batches heavy`);
      const options = { settings, prefilter: false, fixes: false, inputFolders: [dir] };
      const syntax = await loadSyntax();
      const inline = await runBatch(async () => syntax, { targets: collected.files, folderSources: [...collected.folderSources].map(([d, f]) => [d, [...f]] as [string, string[]]) }, options);
      const dispatched: Array<{ id: number; heavy: boolean; running: number }> = [];
      const pooled = await runFolderWorkers(batches, {
        ...options, workers: 2, syntax: async () => syntax, workerScript: workerScriptPath()!, heavyBatchBytes: heavyBytes,
        onDispatch: (id, heavy, running) => dispatched.push({ id, heavy, running }),
      });
      assert.deepEqual(sorted(pooled.results), sorted(inline.results));
      assert.ok(pooled.results.some((r) => r.findings.some((f) => f.code === 'FS001')), 'the pinning drivers are found');
      assert.deepEqual(dispatched.map((d) => d.id).sort((a, b) => a - b), batches.map((_, i) => i), 'each batch once');
      const firstHeavy = dispatched.findIndex((d) => d.heavy);
      assert.deepEqual(dispatched.slice(firstHeavy).map((d) => d.id), heavyIds, 'the heavy batches last, in order');
      assert.ok(dispatched.slice(0, firstHeavy).every((d) => !heavyIds.includes(d.id)), 'no heavy batch among the others');
      for (const d of dispatched.slice(firstHeavy)) assert.equal(d.running, 1, `batch ${d.id} went out with another worker running`);

      // Every worker past a one-byte limit after each batch: each is replaced, the results are the same.
      const recycled: number[] = [];
      const again: number[] = [];
      const renewed = await runFolderWorkers(batches, {
        ...options, workers: 2, syntax: async () => syntax, workerScript: workerScriptPath()!, heavyBatchBytes: heavyBytes,
        recycleExternalBytes: 1, onRecycle: (external) => recycled.push(external), onDispatch: (id) => again.push(id),
      });
      assert.deepEqual(sorted(renewed.results), sorted(inline.results));
      assert.deepEqual(again.sort((a, b) => a - b), batches.map((_, i) => i), 'each batch once');
      // A worker holds up to two batches when it is found past the limit: at least one worker per two batches.
      assert.ok(recycled.length >= Math.ceil(batches.length / 2) - 1, `${recycled.length} workers recycled for ${batches.length} batches`);
      assert.ok(recycled.every((x) => x > 1024 * 1024), 'the memory reported is the worker\'s (wasm included)');
    } finally {
      remove();
    }
  });
});
