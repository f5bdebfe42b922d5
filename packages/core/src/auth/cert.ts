import type { VaultClient } from '../vault/client.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

export interface CertAuthOptions {
  /** The certificate role to log in as (`auth/<mount>/certs/<name>`); Vault tries every role without it. */
  name?: string;
  /** Mount path of the auth method. Default `cert`. */
  mount?: string;
  /**
   * The client that logs in: its TLS client certificate is the credential. Default: the client passed
   * to login(). Vault Agent's cert method may name its own certificate, hence a client of its own.
   */
  loginClient?: VaultClient;
  /** Where the certificate comes from, for cache keys and messages (never the key). */
  certificateSource: string;
}

/** Vault's TLS certificate auth: `POST auth/<mount>/login {name}` over a connection with a client certificate. */
export class CertAuth implements VaultAuthMethod {
  readonly mount: string;
  readonly identity: string;
  private readonly options: CertAuthOptions;

  constructor(options: CertAuthOptions) {
    this.options = options;
    this.mount = authMountPath(options.mount ?? 'cert');
    this.identity = `cert:${this.mount}:${options.name ?? ''}:${options.certificateSource}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const name = this.options.name;
    return loginAt(
      this.options.loginClient ?? client,
      this.mount,
      name === undefined ? {} : { name },
      (detail) =>
        `certificate login to Vault${name === undefined ? '' : ` as role "${name}"`} at auth/${this.mount} failed (${detail}); check that ${this.options.certificateSource} is signed by a CA of the role and that Vault is reached over https`,
    );
  }
}
