import { FairQueue, QueueFullError, namespaceHint } from './fair-queue.ts';

describe('FairQueue', () => {
  test('a flooding namespace waits behind its own reviews; every other namespace goes next', async () => {
    const queue = new FairQueue({ concurrency: 1, maxQueuedPerKey: 100 });
    const order: string[] = [];
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) runs.push(queue.run('attacker', () => order.push(`attacker-${i}`)));
    runs.push(queue.run('victim-a', () => order.push('victim-a')));
    runs.push(queue.run('victim-b', () => order.push('victim-b')));
    await Promise.all(runs);
    // The first attacker review was already running; each victim then gets the next free turn.
    expect(order.slice(0, 5)).toEqual(['attacker-0', 'attacker-1', 'victim-a', 'victim-b', 'attacker-2']);
    expect(order).toHaveLength(22);
  });

  test('within a namespace, first come first served; results and errors reach their caller', async () => {
    const queue = new FairQueue({ concurrency: 2, maxQueuedPerKey: 10 });
    const results = await Promise.all([1, 2, 3].map((n) => queue.run('ns', async () => n * 10)));
    expect(results).toEqual([10, 20, 30]);
    await expect(
      queue.run('ns', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(queue.run('ns', () => Promise.reject(new Error('async boom')))).rejects.toThrow('async boom');
    expect(await queue.run('ns', () => 'still serving')).toBe('still serving');
  });

  test('never runs more than `concurrency` at once', async () => {
    const queue = new FairQueue({ concurrency: 2, maxQueuedPerKey: 50 });
    let running = 0;
    let most = 0;
    const task = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => queue.run(`ns-${i % 3}`, task)));
    expect(most).toBe(2);
    expect(queue.running).toBe(0);
    expect(queue.waiting).toBe(0);
  });

  test('a full namespace gets QueueFullError; other namespaces are still queued', async () => {
    const queue = new FairQueue({ concurrency: 1, maxQueuedPerKey: 2 });
    // The first starts at once (it no longer waits); two more may wait.
    const accepted = [queue.run('flood', () => 1), queue.run('flood', () => 2), queue.run('flood', () => 3)];
    await expect(queue.run('flood', () => 4)).rejects.toBeInstanceOf(QueueFullError);
    expect(await queue.run('other', () => 'ok')).toBe('ok');
    expect(await Promise.all(accepted)).toEqual([1, 2, 3]);
  });

  test('a review whose caller has gone is dropped unrun', async () => {
    const queue = new FairQueue({ concurrency: 1, maxQueuedPerKey: 10 });
    const ran: number[] = [];
    const results = await Promise.all([
      queue.run('ns', () => ran.push(1)),
      queue.run(
        'ns',
        () => ran.push(2),
        () => true,
      ),
      queue.run('ns', () => ran.push(3)),
    ]);
    expect(ran).toEqual([1, 3]);
    expect(results[1]).toBeUndefined();
  });
});

describe('namespaceHint', () => {
  test.each([
    [
      '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","name":"p","namespace":"team-a","object":{"metadata":{"namespace":"x"}}}}',
      'team-a',
    ],
    ['{"request": {"namespace" : "ns1"}}', 'ns1'],
    ['{"request":{"uid":"u","object":{}}}', ''],
    ['{"request":{"namespace":"Not_A_Name"}}', ''],
  ])('%s → %s', (body, expected) => {
    expect(namespaceHint(Buffer.from(body))).toBe(expected);
  });
});
