// Where does a review's time go? Runs the pure admission path in a loop (use with --cpu-prof), and says
// what one review costs: wall and CPU time, and bytes allocated (garbage included) per review.
//   node --conditions=@vaultbridge/source <the image's flags> tools/bench/profile-admission.ts [N] [--miss] [--large]
// --miss gives each review's inline template its own trailing comment, so the webhook's verdict cache
// never knows it and every review compiles it (a burst of new templates); --large makes that template
// the 2.4 KiB one of sample-templates.ts instead of the sample pod's one line.
import v8 from 'node:v8';
import { handleAdmissionReview } from '@vaultbridge/injector';
import { sampleReview } from './injector-webhook.ts';
import { LARGE_TEMPLATE } from './sample-templates.ts';

const args = process.argv.slice(2);
const miss = args.includes('--miss');
const large = args.includes('--large');
const iterations = Number(args.find((a) => !a.startsWith('--')) ?? 5000);

const TEMPLATE_ANNOTATION = 'vault.hashicorp.com/agent-inject-template-api';
interface Review {
  request: { object: { metadata: { annotations: Record<string, string> } } };
}
const sample = sampleReview() as Review;
const annotations = sample.request.object.metadata.annotations;
if (large) annotations[TEMPLATE_ANNOTATION] = LARGE_TEMPLATE;
const template = annotations[TEMPLATE_ANNOTATION] ?? '';
const body = JSON.stringify(sample);
// The defaults `serve` builds from the benchmark's flags (flag defaults included).
const defaults = { vaultAddress: 'https://vault.vault.svc:8200', authType: 'kubernetes', authPath: 'auth/kubernetes' };
let reviews = 0;
const review = () => {
  const parsed = JSON.parse(body) as Review;
  reviews++;
  if (miss) parsed.request.object.metadata.annotations[TEMPLATE_ANNOTATION] = `${template}{{/* ${reviews} */}}`;
  return JSON.stringify(handleAdmissionReview(parsed, defaults).response);
};
for (let i = 0; i < 500; i++) review();

const started = performance.now();
const cpuStarted = process.cpuUsage();
for (let i = 0; i < iterations; i++) review();
const cpu = process.cpuUsage(cpuStarted);
const perReview = (performance.now() - started) / iterations;
const cpuPerReview = (cpu.user + cpu.system) / iterations;
console.log(
  `${large ? `${(template.length / 1024).toFixed(1)} KiB` : 'one-line'} template, verdict cache ${miss ? 'missed' : 'hit'}: ` +
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
