import { VaultConfigError } from './errors.ts';

/** A Vault address, parsed once: where requests go and how to show it in messages. */
export interface VaultAddress {
  /** Base URL of the API, ending in `/v1/`. For a unix socket the host is a placeholder. */
  apiBaseUrl: string;
  /** Set for `unix:///path/to.sock`: requests go over this socket (axios `socketPath`). */
  socketPath: string | undefined;
  tls: boolean;
  /** The address as the user gave it, without credentials: safe for messages. */
  display: string;
}

const expectedForm =
  'expected http(s)://host[:port] (e.g. https://vault.example.com:8200) or unix:///absolute/path/to.sock';

/**
 * Parses `VAULT_ADDR` / the `address` option. Anything malformed is rejected here, at construction,
 * with a message that names the setting and the expected form, rather than failing on the first request.
 */
export function parseVaultAddress(raw: string, setting = 'address'): VaultAddress {
  const value = raw.trim();
  const fail = (why: string, shown = value): never => {
    throw new VaultConfigError(`${setting} "${shown}" is not a valid Vault address: ${why}; ${expectedForm}`, {
      setting,
    });
  };
  if (value === '') fail('it is empty');

  if (value.startsWith('unix:')) {
    // unix:///var/run/vault.sock → path /var/run/vault.sock. unix:/path is accepted too (Go's url.Parse does).
    const socketPath = value.replace(/^unix:(\/\/)?/, '');
    if (!socketPath.startsWith('/')) fail('a unix socket address needs an absolute path');
    if (/[?#]/.test(socketPath)) fail('a unix socket address cannot have a query or fragment');
    return { apiBaseUrl: 'http://localhost/v1/', socketPath, tls: false, display: `unix://${socketPath}` };
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? 'it cannot be parsed as a URL' : 'the scheme is missing');
  }
  // Never echo a password from the address back into a message.
  const shown = url.password ? value.replace(url.password, '***') : value;
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail(`the scheme "${url.protocol.replace(/:$/, '')}" is not supported`, shown);
  if (url.hostname === '') fail('the host is missing', shown);
  if (url.username || url.password) fail('credentials in the address are not supported (use a token)', shown);
  if (url.search || url.hash) fail('an address cannot have a query or fragment', shown);
  // A path prefix (Vault behind a reverse proxy at /vault) is kept; "/v1" itself is added by the client.
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return {
    apiBaseUrl: `${url.protocol}//${url.host}${prefix}/v1/`,
    socketPath: undefined,
    tls: url.protocol === 'https:',
    display: `${url.protocol}//${url.host}${prefix}`,
  };
}
