// The few HTTP calls the cloud auth methods make outside Vault (instance metadata, AWS STS, Google's
// token and IAM Credentials APIs). Node's built-in fetch with a deadline on every call; errors name
// the endpoint and the status, never a credential (answers of credential endpoints are not quoted).
import { VaultError } from '../vault/errors.ts';
import { registerSecret } from '../runtime/secret-redactor.ts';

export const CLOUD_CALL_TIMEOUT_MS = 10_000;

export interface CloudRequest {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** What is asked for, for messages ("the EC2 instance identity document"). */
  what: string;
  /** Quote up to 200 characters of an error answer (only for endpoints that return no credential). */
  quoteErrors?: boolean;
  timeoutMs?: number;
}

/** Where a URL points, without its query (which may carry an assertion or audience). */
function endpointOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** A cloud call that failed: not a Vault refusal, and retrying may help (a metadata server starting). */
export class CloudCredentialError extends VaultError {
  override readonly code = 'CLOUD_CREDENTIAL';
}

export async function cloudCall(url: string, request: CloudRequest): Promise<{ status: number; text: string }> {
  const timeoutMs = request.timeoutMs ?? CLOUD_CALL_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(url, {
      method: request.method ?? 'GET',
      ...(request.headers === undefined ? {} : { headers: request.headers }),
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
    throw new CloudCredentialError(`cannot get ${request.what} from ${endpointOf(url)} (${reason})`, { cause: error });
  }
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    const quote = request.quoteErrors === true ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : '';
    throw new CloudCredentialError(
      `cannot get ${request.what} from ${endpointOf(url)} (HTTP ${response.status}${quote})`,
      { status: response.status },
    );
  }
  return { status: response.status, text };
}

/** JSON answer of a cloud call; `what` names it in the error when it is not JSON. */
export async function cloudJson<T>(url: string, request: CloudRequest): Promise<T> {
  const { text } = await cloudCall(url, request);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CloudCredentialError(`${request.what} from ${endpointOf(url)} is not JSON`, { cause: error });
  }
}

/** Keeps a credential out of every log line of this process, then returns it. */
export function secretValue(value: string): string {
  if (value.length >= 8) registerSecret(value);
  return value;
}
