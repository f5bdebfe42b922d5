// A service-account JWT read from a file or handed over by a caller: the two sources a workload
// needs to log in to Vault. Kept apart from the TokenRequest source so that importing them (and the
// `@vaultbridge/core/auth` entry) does not load @kubernetes/client-node.
import fs from 'node:fs/promises';
import { ServiceAccountTokenError } from './errors.ts';

export const defaultServiceAccountTokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface ServiceAccountTokenSource {
  /** Whose token this is (never the token): part of cache keys and messages. */
  readonly identity: string;
  /** A current JWT. */
  token(): Promise<string>;
}

/** A JWT given by the caller, e.g. the pod token the CSI driver passes in a mount request. */
export class StaticTokenSource implements ServiceAccountTokenSource {
  readonly identity: string;
  private readonly jwt: string;

  constructor(jwt: string, identity: string) {
    if (!jwt.trim()) throw new ServiceAccountTokenError(`the service-account token for ${identity} is empty`);
    this.jwt = jwt.trim();
    this.identity = identity;
  }

  async token(): Promise<string> {
    return this.jwt;
  }
}

/**
 * The token in a file, re-read when the file changes. The kubelet rotates projected tokens by
 * swapping a symlink, so a stat (which follows links) on each use sees the new inode or mtime; the
 * content is read only then.
 */
export class FileTokenSource implements ServiceAccountTokenSource {
  readonly identity: string;
  readonly path: string;
  private cached: { stamp: string; token: string } | undefined;

  constructor(options: { path?: string } = {}) {
    this.path = options.path ?? defaultServiceAccountTokenPath;
    this.identity = `file:${this.path}`;
  }

  async token(): Promise<string> {
    let stamp: string;
    try {
      // Nanosecond times (bigint): an in-place rewrite with a same-length JWT still changes the stamp.
      const stat = await fs.stat(this.path, { bigint: true });
      stamp = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    } catch (error) {
      throw this.unreadable(error);
    }
    if (this.cached?.stamp === stamp) return this.cached.token;
    let text: string;
    try {
      text = (await fs.readFile(this.path, 'utf8')).trim();
    } catch (error) {
      throw this.unreadable(error);
    }
    if (!text) throw new ServiceAccountTokenError(`the service-account token file ${this.path} is empty`);
    this.cached = { stamp, token: text };
    return text;
  }

  private unreadable(error: unknown): ServiceAccountTokenError {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return new ServiceAccountTokenError(
      `the service-account token file ${this.path} cannot be read (${code}); mount a projected service-account token there or use TokenRequest`,
      { cause: error },
    );
  }
}
