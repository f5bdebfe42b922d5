// A preload that runs V8's sampling heap profiler from the process's start, counting the objects the GC
// has already collected too (so it measures allocation, not what is live), and writes the profile when
// the process exits. For a service's allocation per unit of work (issue 14: bytes per reconcile):
//   BENCH_OPERATOR_NODE_FLAGS="--import=$PWD/tools/bench/sampling-heap-probe.ts" \
//   SAMPLING_HEAP_PROFILE=/tmp/op.heapprofile BENCH_OPERATOR_ROTATION=0 npm run bench -- operator
// then `node tools/bench/profile-summary.ts /tmp/op.heapprofile <bundle.mjs>`. The inspector session is
// the process's own (no port is opened); its calls complete synchronously, so the 'exit' handler can
// write the file. SAMPLING_HEAP_INTERVAL sets the mean bytes between samples (default 16384).
import fs from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.SAMPLING_HEAP_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', {
    samplingInterval: Number(process.env.SAMPLING_HEAP_INTERVAL ?? 16384),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.once('exit', () => {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) console.error(`sampling-heap-probe: ${error.message}`);
      else fs.writeFileSync(out, JSON.stringify(result.profile));
    });
  });
}
