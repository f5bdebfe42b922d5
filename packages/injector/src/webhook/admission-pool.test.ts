// The worker pool answers exactly as the event loop does, survives a worker crash, and drains on close.
import pino from 'pino';
import { pod, VAULT_ADDR } from '../../test/support/pods.ts';
import { answerAdmissionReview } from './admission-adapter.ts';
import { AdmissionWorkerPool, resolveWorkerCount } from './admission-pool.ts';

const logger = pino({ level: 'silent' });
const DEFAULTS = { vaultAddress: VAULT_ADDR };

function reviewBody(
  uid: string,
  annotations: Record<string, string> = { 'agent-inject-secret-db': 'secret/data/db' },
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid, namespace: 'apps', object: pod(annotations) },
  });
}

describe('resolveWorkerCount', () => {
  it.each([
    [1, 0],
    [2, 1],
    [4, 3],
    [16, 4],
  ])('auto on %i CPUs is %i workers', (cpus, workers) => {
    expect(resolveWorkerCount('auto', cpus)).toBe(workers);
  });
  it('a number is kept', () => expect(resolveWorkerCount(3, 1)).toBe(3));
});

describe('AdmissionWorkerPool', () => {
  let pool: AdmissionWorkerPool;
  afterEach(async () => {
    await pool?.close();
  });

  it('answers every kind of review exactly as answerAdmissionReview does on the event loop', async () => {
    pool = new AdmissionWorkerPool({ size: 2, logger });
    const bodies = [
      reviewBody('inject'),
      reviewBody('deny', { 'agent-inject-secret-db': 'secret/data/db', 'agent-pre-populate': 'maybe' }),
      reviewBody('skip', { 'agent-inject': 'false' }),
      'not json',
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
    ];
    const answers = await Promise.all(bodies.map((body) => pool.answer(body, DEFAULTS)));
    expect(answers).toEqual(bodies.map((body) => answerAdmissionReview(body, DEFAULTS)));
    expect(answers.map((a) => (a.status === 200 ? a.outcome : a.status))).toEqual([
      'injected',
      'denied',
      'skipped',
      400,
      400,
    ]);
  });

  it('spreads concurrent reviews over the workers and keeps each uid with its answer', async () => {
    pool = new AdmissionWorkerPool({ size: 2, logger });
    const uids = Array.from({ length: 200 }, (_, i) => `uid-${i}`);
    const answers = await Promise.all(uids.map((uid) => pool.answer(reviewBody(uid), DEFAULTS)));
    expect(
      answers.map((a) =>
        a.status === 200 ? (JSON.parse(a.payload) as { response: { uid: string } }).response.uid : a.error,
      ),
    ).toEqual(uids);
    expect(pool.liveWorkers).toBe(2);
  });

  it('uses new defaults as soon as they change (ConfigMap defaults)', async () => {
    pool = new AdmissionWorkerPool({ size: 1, logger });
    const image = (answer: Awaited<ReturnType<AdmissionWorkerPool['answer']>>) => {
      if (answer.status !== 200) throw new Error(answer.error);
      const patch = JSON.parse(
        Buffer.from((JSON.parse(answer.payload) as { response: { patch: string } }).response.patch, 'base64').toString(
          'utf8',
        ),
      ) as { path: string; value: { image: string }[] }[];
      return patch.find((op) => op.path === '/spec/initContainers')?.value[0]?.image;
    };
    expect(image(await pool.answer(reviewBody('a'), { ...DEFAULTS, agentImage: 'agent:1' }))).toBe('agent:1');
    expect(image(await pool.answer(reviewBody('b'), { ...DEFAULTS, agentImage: 'agent:2' }))).toBe('agent:2');
  });

  it("a crashed worker's review in flight is answered on the event loop; the worker is replaced, and admission goes on meanwhile", async () => {
    pool = new AdmissionWorkerPool({ size: 1, logger, restartBaseDelayMs: 50 });
    const inFlight = pool.answer(reviewBody('in-flight'), DEFAULTS);
    await pool.crashWorkerForTest(0);
    // Not a 500 (which failurePolicy Ignore would turn into a pod without its agent): the same answer as inline.
    expect(await inFlight).toEqual(answerAdmissionReview(reviewBody('in-flight'), DEFAULTS));
    expect(pool.liveWorkers).toBe(0);
    // No worker: answered on the event loop instead of failing.
    const meanwhile = await pool.answer(reviewBody('meanwhile'), DEFAULTS);
    expect(meanwhile.status).toBe(200);
    const deadline = Date.now() + 5_000;
    while (pool.liveWorkers === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pool.liveWorkers).toBe(1);
    expect(pool.restarts).toBe(1);
    const after = await pool.answer(reviewBody('after'), DEFAULTS);
    expect(after.status === 200 && after.outcome).toBe('injected');
  });

  it('close() waits for the reviews in flight', async () => {
    pool = new AdmissionWorkerPool({ size: 1, logger });
    const answers = Array.from({ length: 20 }, (_, i) => pool.answer(reviewBody(`c-${i}`), DEFAULTS));
    await pool.close();
    const settled = await Promise.allSettled(answers);
    expect(settled.every((s) => s.status === 'fulfilled' && s.value.status === 200)).toBe(true);
  });
});
