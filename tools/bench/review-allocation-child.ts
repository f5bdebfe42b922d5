// Child of review-allocation.ts: bytes a webhook review allocates, in all and per stage, printed as JSON.
// Runs with a new space large enough that nothing is collected while it counts, so the growth of the new
// space's used size is what the stage allocated (V8 allocates every new object there first).
import v8 from 'node:v8';
import type { V1Pod } from '@kubernetes/client-node';
import {
  admissionResponse,
  createPatch,
  decide,
  handleAdmissionReview,
  mutatePod,
  parseAdmissionReview,
  parseAnnotations,
  type InjectorDefaults,
} from '@vaultbridge/injector';
import { sampleReview } from './injector-webhook.ts';

const WARM_UP = 20_000;
const COUNTED = 2_000;

const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

const defaults: InjectorDefaults = { vaultAddress: 'https://vault.vault.svc:8200' };
const body = JSON.stringify(sampleReview());
const review = parseAdmissionReview(JSON.parse(body));
const pod = review.request.object as V1Pod;
const namespace = review.request.namespace ?? '';
const spec = parseAnnotations(pod, defaults, { namespace });
const mutated = mutatePod(pod, spec);
const decision = decide(pod, namespace, defaults, { podIsJsonData: true });
if (decision.kind !== 'inject') throw new Error(`the sample review was not injected: ${decision.kind}`);

function newSpaceUsed(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (space === undefined) throw new Error('V8 reports no new_space');
  return space.space_used_size;
}

// Results go to a few slots, so the optimiser cannot drop the work as unused.
const sink: unknown[] = new Array(8);

function bytesPerCall(work: () => unknown): number {
  // Warm-up: TurboFan optimises the path first, as it has in a webhook that has served a while.
  for (let i = 0; i < WARM_UP; i++) sink[i & 7] = work();
  collect!();
  const before = newSpaceUsed();
  for (let i = 0; i < COUNTED; i++) sink[i & 7] = work();
  const allocated = newSpaceUsed() - before;
  if (allocated <= 0) throw new Error('the new space did not grow: was it collected while counting?');
  return allocated / COUNTED;
}

const stages: Record<string, number> = {
  review: bytesPerCall(() => JSON.stringify(handleAdmissionReview(JSON.parse(body), defaults).response)),
  'JSON.parse of the body': bytesPerCall(() => JSON.parse(body)),
  parseAnnotations: bytesPerCall(() => parseAnnotations(pod, defaults, { namespace })),
  mutatePod: bytesPerCall(() => mutatePod(pod, spec)),
  createPatch: bytesPerCall(() => createPatch(pod, mutated, { beforeIsJsonData: true })),
  'admissionResponse and its JSON': bytesPerCall(() => JSON.stringify(admissionResponse(review, decision))),
};
process.stdout.write(`${JSON.stringify(stages)}\n`);
