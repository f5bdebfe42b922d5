// What compiling one Go template costs, as the webhook's admission check (a cache miss) and the agent's
// init do it: compileSecretRenderer in a loop, hot, wall and CPU time per compile and bytes allocated
// per compile (heap growth plus what each GC took back, as profile-admission.ts counts them). Run it
// under the image's flags, e.g. the injector's:
//   node --conditions=@vaultbridge/source --no-maglev --max-semi-space-size=16 tools/bench/profile-compile.ts
// or the agent's (--max-semi-space-size=1 --optimize-for-size --no-opt --no-maglev --no-sparkplug).
import v8 from 'node:v8';
import { compileSecretRenderer } from '@vaultbridge/agent/contract';
import { LARGE_TEMPLATE, ONE_LINE_TEMPLATE } from './sample-templates.ts';

const cases = [
  { name: 'one line', text: ONE_LINE_TEMPLATE },
  { name: `${(LARGE_TEMPLATE.length / 1024).toFixed(1)} KiB, 15 blocks`, text: LARGE_TEMPLATE },
];

const secret = {
  name: 'api',
  defaultTemplate: 'map' as const,
  destination: '/',
  leftDelimiter: '{{',
  rightDelimiter: '}}',
  errorOnMissingKey: false,
};
const iterations = Number(process.argv[2] ?? 2000);

for (const { name, text } of cases) {
  const compile = () => compileSecretRenderer(secret, text);
  // As many rounds again to warm up: the optimising compiler runs on other threads, and
  // process.cpuUsage counts them.
  for (let i = 0; i < iterations; i++) compile();

  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < iterations; i++) compile();
  const cpu = process.cpuUsage(cpuStarted);
  const wall = ((performance.now() - started) * 1000) / iterations;

  const profiler = new v8.GCProfiler();
  const usedBefore = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  for (let i = 0; i < iterations; i++) compile();
  const gcs = profiler.stop()?.statistics ?? [];
  const usedAfter = v8.getHeapStatistics().used_heap_size;
  const freed = gcs.reduce(
    (sum, gc) => sum + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize,
    0,
  );
  const bytes = (usedAfter - usedBefore + freed) / iterations;
  console.log(
    `${name} (${text.length} chars): ${wall.toFixed(1)} µs per compile, CPU ${((cpu.user + cpu.system) / iterations).toFixed(1)} µs, ` +
      `${(bytes / 1024).toFixed(1)} KiB allocated (${(bytes / text.length).toFixed(1)} B per char)`,
  );
}
