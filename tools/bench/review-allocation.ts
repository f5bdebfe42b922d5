// `npm run bench -- review-allocation`: bytes a webhook review allocates (issue 14). During a saturation
// run up to 49 reviews wait in the fair queue; the more a review allocates, the more scavenges they
// outlive and the more of them is promoted, so this is what decides how small the webhook's semi-spaces
// can be at the same CPU (packages/injector/README.md, memory footprint). Counted in a child with the
// webhook image's compiler (TurboFan, pretenuring off) and a new space too large to be collected.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Allocated per review, bytes. 64 KB is what lets 2-4 MiB semi-spaces keep >= 2,000 reviews/s here. */
export const REVIEW_ALLOCATION_GOAL_BYTES = 64 * 1024;

export type ReviewAllocation = Record<string, number>;

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'review-allocation-child.ts');

export function measureReviewAllocation(): ReviewAllocation {
  const run = spawnSync(
    process.execPath,
    [
      '--conditions=@vaultbridge/source',
      '--expose-gc',
      '--no-maglev',
      '--no-allocation-site-pretenuring',
      // 2,000 reviews of ~100 KB at most: nothing is collected while counting.
      '--min-semi-space-size=512',
      '--max-semi-space-size=512',
      CHILD,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (run.status !== 0)
    throw new Error(`review-allocation child failed (${run.status ?? run.signal}): ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as ReviewAllocation;
}

export function printReviewAllocation(stages: ReviewAllocation): void {
  const kb = (bytes: number) => (bytes / 1024).toFixed(1);
  const review = stages.review ?? NaN;
  const goal = REVIEW_ALLOCATION_GOAL_BYTES;
  console.log('\nWebhook review allocation (KB per review, TurboFan, the bench sample pod: 3 secrets, 1 template)');
  console.log('| stage | ours | goal | ours / goal |');
  console.log('|---|---|---|---|');
  console.log(
    `| a whole review (parse, decide, response JSON) | ${kb(review)} | ${kb(goal)} | ${(review / goal).toFixed(2)} (${review <= goal ? 'met' : 'over'}) |`,
  );
  for (const [stage, bytes] of Object.entries(stages))
    if (stage !== 'review') console.log(`| of it: ${stage} | ${kb(bytes)} | | |`);
}
