// Where does a review's time go? Runs the pure admission path in a loop (use with --cpu-prof), and says
// what one review costs: wall and CPU time, and bytes allocated (garbage included) per review.
import v8 from 'node:v8';
import { handleAdmissionReview } from '@vaultbridge/injector';
import { sampleReview } from './injector-webhook.ts';

const body = JSON.stringify(sampleReview());
const iterations = Number(process.argv[2] ?? 5000);
// The defaults `serve` builds from the benchmark's flags (flag defaults included).
const defaults = { vaultAddress: 'https://vault.vault.svc:8200', authType: 'kubernetes', authPath: 'auth/kubernetes' };
const review = () => JSON.stringify(handleAdmissionReview(JSON.parse(body), defaults).response);
for (let i = 0; i < 500; i++) review();

const started = performance.now();
const cpuStarted = process.cpuUsage();
for (let i = 0; i < iterations; i++) review();
const cpu = process.cpuUsage(cpuStarted);
const perReview = (performance.now() - started) / iterations;
const cpuPerReview = (cpu.user + cpu.system) / iterations;
console.log(
  `${perReview.toFixed(3)} ms per review (${(1000 / perReview).toFixed(0)}/s on one core), ` +
    `CPU ${cpuPerReview.toFixed(0)} µs per review`,
);

// Allocated = what the heap grew by, plus what every GC in between took back. The GC profiler reports
// each GC's heap before and after, so the sum holds whatever the semi-space size (a heap-size delta
// alone would miss the scavenged garbage, which is most of what a review allocates).
const profiler = new v8.GCProfiler();
const usedBefore = v8.getHeapStatistics().used_heap_size;
profiler.start();
for (let i = 0; i < iterations; i++) review();
const gcs = profiler.stop()?.statistics ?? [];
const usedAfter = v8.getHeapStatistics().used_heap_size;
const freed = gcs.reduce(
  (sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize,
  0,
);
console.log(
  `${((usedAfter - usedBefore + freed) / iterations / 1024).toFixed(1)} KiB allocated per review (${gcs.length} GCs)`,
);
