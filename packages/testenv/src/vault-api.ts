/** Minimal Vault HTTP calls for setting up the stack. Tests of our own client use @vaultbridge/core. */
export class VaultAdmin {
  readonly addr: string;
  readonly token: string;

  constructor(addr: string, token: string) {
    this.addr = addr;
    this.token = token;
  }

  async request<T = unknown>(method: string, apiPath: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.addr}/v1/${apiPath.replace(/^\//, '')}`, {
      method,
      headers: { 'X-Vault-Token': this.token, 'Content-Type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`Vault ${method} ${apiPath} failed with ${response.status}: ${text.slice(0, 500)}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  write<T = unknown>(apiPath: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', apiPath, body);
  }

  read<T = unknown>(apiPath: string): Promise<T> {
    return this.request<T>('GET', apiPath);
  }

  delete(apiPath: string): Promise<unknown> {
    return this.request('DELETE', apiPath);
  }
}
