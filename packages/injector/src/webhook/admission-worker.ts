// Entry of an admission worker thread (pool.ts): answers review bodies with the same pure function the
// event loop uses. The cluster-wide defaults arrive with a task only when they changed.

import { parentPort, workerData } from 'node:worker_threads';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import type { MutateOptions } from '../mutate/mutate.ts';
import { answerAdmissionReview } from './admission-adapter.ts';

export interface WorkerTask {
  readonly id: number;
  readonly body: string;
  readonly defaults?: InjectorDefaults;
}

export type WorkerReply =
  | { readonly id: number; readonly answer: ReturnType<typeof answerAdmissionReview> }
  | { readonly id: number; readonly error: string };

if (parentPort === null) throw new Error('admission-worker.ts runs as a worker thread of the injector, not on its own');
const port = parentPort;
const options = (workerData as { options?: MutateOptions } | undefined)?.options ?? {};
let defaults: InjectorDefaults = {};

port.on('message', (task: WorkerTask) => {
  if (task.defaults !== undefined) defaults = task.defaults;
  let reply: WorkerReply;
  try {
    reply = { id: task.id, answer: answerAdmissionReview(task.body, defaults, options) };
  } catch (error) {
    // An injector bug, not bad input: the review gets a 500 and the main thread logs this.
    reply = { id: task.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  port.postMessage(reply);
});
