// One frame of Vault 1.13's KV event stream (see events.ts for the contract) parsed into a KvEvent. Its
// own module so the zod schema is built only when a stream first connects (events.ts loads it then).
// zod/mini: the CSI provider and the webhook, which check their input with zod/mini, then bundle one
// zod core and not also the whole of zod for this one schema.
import * as z from 'zod/mini';

/** One KV change, with what a consumer needs to find the objects that read it. */
export interface KvEvent {
  /** `kv-v2/data-write`, `kv-v2/data-patch`, `kv-v2/delete`, `kv-v1/write`, … */
  eventType: string;
  /** The engine's mount without slashes at either end (`secret`, `team/kv`). */
  mount: string;
  /** The secret's path inside the mount (`app/db`), without kv-v2's `data/`, `metadata/`… prefix. */
  path: string;
  /** kv-v2's `current_version` after the change, when Vault sent it. */
  version?: number;
  /**
   * The Vault namespace the change happened in, without slashes at either end ('' for the root), when
   * Vault sent one (Enterprise; 1.13 community sends none, its only namespace being the root).
   */
  namespace?: string;
}

const envelopeSchema = z.looseObject({
  data: z.looseObject({
    event_type: z.string().check(z.minLength(1)),
    event: z.looseObject({
      metadata: z.looseObject({ path: z.string(), current_version: z.optional(z.string()) }),
    }),
    plugin_info: z.looseObject({ mount_path: z.string().check(z.minLength(1)), plugin: z.optional(z.string()) }),
    namespace: z.optional(z.string()),
  }),
});

/** kv-v2 API prefixes an event path carries (data/app/db); the secret path is what follows. */
const kvV2Prefix = /^(data|metadata|delete|undelete|destroy|subkeys)\//;

/**
 * Parses one frame of the 1.13 stream into a KvEvent; null for a frame that is not a KV event (other
 * plugins' events, or a shape this code does not know, which is ignored rather than guessed at).
 */
export function parseKvEvent(frame: string): KvEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch {
    return null;
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) return null;
  const { event_type: eventType, event, plugin_info: plugin, namespace: eventNamespace } = parsed.data.data;
  const isV2 = eventType.startsWith('kv-v2/');
  if (!isV2 && !eventType.startsWith('kv-v1/')) return null;
  const mount = plugin.mount_path.replace(/^\/+|\/+$/g, '');
  let path = event.metadata.path.replace(/^\/+/, '');
  if (isV2) {
    // kv-v2/config-write is about the mount's settings, not a secret.
    if (!kvV2Prefix.test(path)) return null;
    path = path.replace(kvV2Prefix, '');
  }
  if (mount === '' || path === '') return null;
  const version = event.metadata.current_version === undefined ? undefined : Number(event.metadata.current_version);
  const namespace = eventNamespace?.replace(/^\/+|\/+$/g, '');
  return {
    eventType,
    mount,
    path,
    ...(version !== undefined && Number.isInteger(version) && version > 0 ? { version } : {}),
    ...(namespace === undefined ? {} : { namespace }),
  };
}
