// Where does a review's time go? Runs the pure admission path in a loop (use with --cpu-prof).
import { handleAdmissionReview } from '@vaultbridge/injector';
import { sampleReview } from './injector-webhook.ts';

const body = JSON.stringify(sampleReview());
const iterations = Number(process.argv[2] ?? 5000);
// The defaults `serve` builds from the benchmark's flags (flag defaults included).
const defaults = { vaultAddress: 'https://vault.vault.svc:8200', authType: 'kubernetes', authPath: 'auth/kubernetes' };
for (let i = 0; i < 500; i++) handleAdmissionReview(JSON.parse(body), defaults);
const started = performance.now();
for (let i = 0; i < iterations; i++) JSON.stringify(handleAdmissionReview(JSON.parse(body), defaults).response);
const perReview = (performance.now() - started) / iterations;
console.log(`${perReview.toFixed(3)} ms per review (${(1000 / perReview).toFixed(0)}/s on one core)`);
