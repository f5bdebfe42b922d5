// Vault addresses compared as the admin means them, for --allowed-vault-addresses.
/** Same Vault address? Compared as URL origins (`https://vault:443` = `https://vault`); unix sockets by path. */
export function sameVaultAddress(a: string, b: string): boolean {
  const canonical = (address: string): string => {
    try {
      const url = new URL(address);
      return url.protocol === 'unix:' ? `unix:${url.pathname}` : url.origin;
    } catch {
      return address.replace(/\/+$/, '');
    }
  };
  return canonical(a) === canonical(b);
}
