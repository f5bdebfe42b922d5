// The TLS-auto certificates made by a short-lived child process, so that the generator's modules never
// enter the long-running webhook's heap (certificate-issuer.ts says why). The child is the same program
// run as `issue-certificate`: the request goes in on stdin and the PEM pair comes back on stdout, never
// through argv or the environment, which other processes of the pod can read.
import { firstIssue, issueAnswerSchema, type CertificateIssuer, type IssueRequest } from './certificate-issuer.ts';
import type { PemKeyPair } from './certificates.ts';

export interface ChildProcessIssuerOptions {
  /** The executable and its arguments, e.g. [node, ...execArgv, injector.mjs, 'issue-certificate']. */
  command: readonly [string, ...string[]];
  /** Killed and failed after this long (default 30 s: a start and two ECDSA signatures take < 1 s). */
  timeoutMs?: number;
}

// A PEM pair is ~1.5 KiB; anything much larger is not an answer.
const MAX_ANSWER_BYTES = 64 * 1024;
// Enough of stderr for the child's error message.
const MAX_STDERR_BYTES = 4 * 1024;

/** The shipped command line's issuer: this same program, run again as `issue-certificate`. */
export function selfIssuerCommand(): [string, ...string[]] {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script is running (process.argv[1] is empty)');
  return [process.execPath, ...process.execArgv, script, 'issue-certificate'];
}

export function childProcessIssuer(options: ChildProcessIssuerOptions): CertificateIssuer {
  const request = (body: IssueRequest) => runChild(options, body);
  return {
    generateCertificateAuthority: (validityHours, now) => request({ make: 'ca', validityHours, now }),
    issueServingCertificate: (ca, hosts, validityHours, now) =>
      request({ make: 'serving', ca, hosts, validityHours, now }),
  };
}

async function runChild(options: ChildProcessIssuerOptions, body: IssueRequest): Promise<PemKeyPair> {
  // Loaded when a certificate is made (the leader, rarely), not in every replica at start.
  const { spawn } = await import('node:child_process');
  const [file, ...args] = options.command;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const what = `the certificate issuer (${[file, ...args].join(' ')})`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let failure: Error | undefined;
    const fail = (error: Error): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => fail(new Error(`${what} did not answer within ${timeoutMs / 1000} s; it was killed`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_ANSWER_BYTES) fail(new Error(`${what} wrote more than ${MAX_ANSWER_BYTES} bytes`));
      else stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    // A child that dies before reading its stdin makes the write fail (EPIPE): its exit says why.
    child.stdin.on('error', () => {});
    child.on('error', (error) => fail(new Error(`${what} could not start: ${error.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) {
        const reason = stderr.trim() || 'no message';
        return reject(new Error(`${what} exited with ${code ?? signal}: ${reason}`));
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(stdout).toString('utf8'));
      } catch {
        return reject(new Error(`${what} answered with something that is not JSON`));
      }
      const answer = issueAnswerSchema.safeParse(json);
      if (!answer.success) return reject(new Error(`${what} answered without a PEM pair: ${firstIssue(answer.error)}`));
      resolve(answer.data);
    });
    child.stdin.end(JSON.stringify(body));
  });
}
