// ws and the frame parser with its zod schema (kv-event.ts) are loaded by a stream's first connection, not
// by importing the Vault client: services that never subscribe (the CSI provider, the webhook) must not
// evaluate them (issue 14). A child process records every module it resolves, imports the client, creates
// a stream, then starts one. (zod itself is in this unbundled graph through runtime/config-values.ts,
// which uses it only inside functions a bundle drops when unused, so the parser module is what is checked.)
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const vaultIndex = path.resolve(import.meta.dirname, 'index.ts');

const child = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); loaded.push(result.url); return result; } });
const uses = (part) => loaded.some((url) => url.includes(part));
const state = () => ({ ws: uses('/node_modules/ws/'), parser: uses('/vault/kv-event.ts') });
const { VaultClient, openEventStream } = await import(${JSON.stringify(vaultIndex)});
// Port 9 (discard) on loopback: nothing listens, so the connection fails at once after the modules load.
const client = new VaultClient({ address: 'http://127.0.0.1:9', token: 'unused' });
const before = state();
const stream = openEventStream(client, { onEvent: () => undefined, retryBaseDelayMs: 60_000 });
const firstAttempt = new Promise((resolve) => {
  const again = openEventStream(client, { onEvent: () => undefined, retryBaseDelayMs: 60_000, onStatus: (status) => { if (status.state === 'retrying') resolve(again); } });
  again.start();
});
const afterCreate = state();
(await firstAttempt).close();
stream.close();
console.log(JSON.stringify({ before, afterCreate, afterStart: state() }));
`;

describe('loading of the event stream code', () => {
  it('imports ws and the frame parser only when a stream first connects', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', child], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({
      before: { ws: false, parser: false },
      afterCreate: { ws: false, parser: false },
      afterStart: { ws: true, parser: true },
    });
  });
});
