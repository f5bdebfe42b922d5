// PEM parts of a PKI issue/sign response (`certificate`, `private_key`, `issuing_ca`, `ca_chain`). The
// chain follows what the Vault Secrets Operator puts in `tls.crt`: the certificate, then `ca_chain`
// (or `issuing_ca` when there is no chain), so a template and a TLS Secret hold the same bytes.
import { isRecord, secretData } from './secret-data.ts';

export type PemPart = 'certificate' | 'privateKey' | 'ca' | 'chain';

/** Why a PEM part could not be produced; says which field is missing, never a value. */
export class PemError extends Error {
  readonly code = 'PEM_MISSING';

  constructor(message: string) {
    super(message);
    this.name = 'PemError';
  }
}

function field(data: Record<string, unknown>, name: string): string | undefined {
  const value = data[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function chainOf(data: Record<string, unknown>): string[] {
  const chain = data.ca_chain;
  if (!Array.isArray(chain)) return [];
  return chain
    .filter((item): item is string => typeof item === 'string' && item.trim() !== '')
    .map((item) => item.trim());
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new PemError(`the PKI result has no "${name}" field`);
  return value;
}

/** The PEM text of `part` from a PKI response or its `data`; certificates joined by a newline. */
export function pemPart(result: unknown, part: PemPart): string {
  const data = secretData(result);
  if (!isRecord(data))
    throw new PemError('expected a PKI result with certificate, private_key, issuing_ca and ca_chain fields');
  switch (part) {
    case 'certificate':
      return required(field(data, 'certificate'), 'certificate');
    case 'privateKey':
      return required(field(data, 'private_key'), 'private_key');
    case 'ca': {
      const chain = chainOf(data);
      return required(field(data, 'issuing_ca') ?? chain[0], 'issuing_ca');
    }
    case 'chain': {
      const certificate = required(field(data, 'certificate'), 'certificate');
      const chain = chainOf(data);
      const rest = chain.length > 0 ? chain : [field(data, 'issuing_ca')].filter((item) => item !== undefined);
      // Some issuers include the leaf in ca_chain; it is not repeated.
      return [certificate, ...rest.filter((item) => item !== certificate)].join('\n');
    }
  }
}
