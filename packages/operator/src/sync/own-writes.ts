// The destination watch sees our own Secret writes come back. Telling them from someone else's edit by
// the owner's status.secretMAC is not enough: the watch event often arrives before that status is
// written, and the operator then "repairs" its own write, reading Vault a second time per change.
import type { V1Secret } from '@kubernetes/client-node';
import { secretMac } from './hmac.ts';

/**
 * Fingerprints (keyed MACs, never the data) of the last data this process wrote to each destination
 * Secret. Bounded by the Secrets the operator manages; an entry goes when its Secret is deleted.
 */
export class OwnWrites {
  private readonly fingerprints = new Map<string, string>();
  private readonly key: Buffer;

  constructor(key: Buffer) {
    this.key = key;
  }

  /** Call before the write: the watch event can arrive before the write's own response. */
  record(namespace: string, name: string, base64Data: Record<string, string>): void {
    this.fingerprints.set(`${namespace}/${name}`, secretMac(this.key, base64Data));
  }

  /** The same, when the caller already has secretMac(key, data) (the controllers compute it for status). */
  recordMac(namespace: string, name: string, mac: string): void {
    this.fingerprints.set(`${namespace}/${name}`, mac);
  }

  /** True when `secret` holds exactly the data this process last wrote to it. */
  isOwn(secret: Pick<V1Secret, 'metadata' | 'data'>, mac: string = secretMac(this.key, secret.data ?? {})): boolean {
    const fingerprint = this.fingerprints.get(`${secret.metadata?.namespace}/${secret.metadata?.name}`);
    return fingerprint !== undefined && fingerprint === mac;
  }

  forget(namespace: string | undefined, name: string | undefined): void {
    this.fingerprints.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.fingerprints.size;
  }
}
