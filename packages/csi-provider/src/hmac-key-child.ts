// Runs hmac-key-process.ts as a child process and waits for its answer (see kube-access.ts for why).
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface HmacKeyTask {
  kubeconfigPath: string | undefined;
  namespace: string;
  secretName: string;
  loggerName: string;
  logLevel: string;
}

export type HmacKeyReply =
  | { ok: true; /** base64 */ key: string }
  /** `kubeconfig`: no usable Kubernetes access; `secret`: access, but the Secret could not be read or created. */
  | { ok: false; stage: 'kubeconfig' | 'secret'; message: string };

/** The child's entry: next to the bundle in the image, the TypeScript source otherwise (as the injector's admission worker). */
function childEntry(): { path: string; execArgv: string[] } {
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof') && !arg.startsWith('--inspect'));
  const bundled = fileURLToPath(new URL('./hmac-key-process.mjs', import.meta.url));
  if (existsSync(bundled)) return { path: bundled, execArgv };
  if (!execArgv.some((arg) => arg.includes('@vaultbridge/source'))) execArgv.push('--conditions=@vaultbridge/source');
  return { path: fileURLToPath(new URL('./hmac-key-process.ts', import.meta.url)), execArgv };
}

/** The client's requests have their own deadlines; this one bounds the whole child (exec credential plugins included). */
const deadlineMs = 60_000;

/** Reads or creates the HMAC key Secret in a child process; never throws (the reply says what failed). */
export async function loadHmacKeyInChild(task: HmacKeyTask): Promise<HmacKeyReply> {
  const entry = childEntry();
  const child = fork(entry.path, [JSON.stringify(task)], {
    execArgv: entry.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<HmacKeyReply>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            ok: false,
            stage: 'secret',
            message: `no answer from the Kubernetes API within ${deadlineMs / 1000}s`,
          }),
        deadlineMs,
      );
      child.once('message', (reply: HmacKeyReply) => resolve(reply));
      child.once('error', (error) =>
        resolve({ ok: false, stage: 'secret', message: `cannot start the HMAC key process: ${error.message}` }),
      );
      child.once('exit', (code, signal) =>
        resolve({
          ok: false,
          stage: 'secret',
          message: `the HMAC key process ended (${signal ?? `code ${code}`}) without an answer`,
        }),
      );
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
