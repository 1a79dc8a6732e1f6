/**
 * Preloaded into a proxy by `bench/profile.mjs --allocations` (`node --import`): samples every
 * allocation, the ones the young-generation GC collects included (those are the per-request
 * garbage), and writes the profile when the process exits. Bench-only, never shipped.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const output = process.env.BENCH_ALLOCATION_PROFILE;
const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
process.on('exit', () => {
  // The in-process session answers synchronously, so this works inside 'exit'.
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error && output) writeFileSync(output, JSON.stringify(result.profile));
  });
});
