// A Vault Agent configuration file (what vault-k8s users put in their `agent-configmap` as
// config.hcl / config-init.hcl, in HCL or JSON) read into the agent's own configuration, so a pod
// moved from vault-k8s keeps its ConfigMap as it is: `vault { }`, `auto_auth { method … sink … }`,
// every `template { }` stanza (contents or source, destination, delimiters, error_on_missing_key,
// perms, command / exec), `template_config { }`, `exit_after_auth`, `pid_file`, and `cache` with a
// `listener "tcp"`. A setting the agent cannot honour is an error naming it, never silently dropped.
//
// The result is JSON in the agent's schema; config.ts validates it like any other configuration.
import path from 'node:path/posix';
import { HclError, type HclBody, type HclValue, isBody, parseHcl } from './hcl.ts';
import { READY_FILE, type AgentConfigIssue } from './contract/index.ts';

type Json = Record<string, unknown>;

export const DEFAULT_KUBERNETES_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The values of `key` in `body`, lists of blocks flattened (HCL 1 reads `template = [{…}, {…}]` as two). */
function all(body: HclBody, key: string): HclValue[] {
  return (body.entries.get(key) ?? []).flatMap((v) => (Array.isArray(v) && v.every(isBody) ? v : [v]));
}

class Reader {
  readonly issues: AgentConfigIssue[] = [];

  issue(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** The single value of `key`, or undefined; a repeated attribute is an issue. */
  one(body: HclBody, key: string, field: string): HclValue | undefined {
    const values = all(body, key);
    if (values.length > 1 && !values.every(isBody)) this.issue(field, `set ${values.length} times; set it once`);
    if (values.length > 1 && values.every(isBody)) {
      // Repeated blocks of one kind merge, as HCL 1 decodes them into one struct.
      const entries = new Map<string, HclValue[]>();
      for (const b of values as HclBody[])
        for (const [k, v] of b.entries) entries.set(k, [...(entries.get(k) ?? []), ...v]);
      return { entries, line: (values[0] as HclBody).line };
    }
    return values[0];
  }

  string(body: HclBody, key: string, field: string): string | undefined {
    const v = this.one(body, key, field);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    this.issue(field, 'expected a string');
    return undefined;
  }

  bool(body: HclBody, key: string, field: string): boolean | undefined {
    const v = this.one(body, key, field);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && /^(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/.test(v))
      return /^(true|1|t|TRUE|True|T)$/.test(v);
    this.issue(field, 'expected true or false');
    return undefined;
  }

  block(body: HclBody, key: string, field: string): HclBody | undefined {
    const v = this.one(body, key, field);
    if (v === undefined) return undefined;
    if (isBody(v)) return v;
    this.issue(field, 'expected a block { … }');
    return undefined;
  }

  /** Fails on keys this reader does not know, naming each with `allowed`. */
  only(body: HclBody, field: string, allowed: readonly string[], why: Readonly<Record<string, string>> = {}): void {
    for (const key of body.entries.keys()) {
      if (allowed.includes(key)) continue;
      this.issue(
        field === '' ? key : `${field}.${key}`,
        why[key] ?? `not a setting Vaultbridge's agent reads (it reads ${allowed.join(', ')})`,
      );
    }
  }
}

/** A Go duration ("10m", "1h30m") or a number of seconds, in milliseconds. */
function durationMs(value: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = value;
  let total = 0;
  if (rest === '') return undefined;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (m === null) return undefined;
    total += Number(m[1]) * (units[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** A file mode: "0600", "600" or the number 0600 (HCL 1 reads it as octal). */
function fileMode(value: HclValue | undefined): number | undefined | 'bad' {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 0o7777 ? value : 'bad';
  if (typeof value === 'string' && /^0?[0-7]{1,4}$/.test(value)) return parseInt(value, 8);
  return 'bad';
}

const shellQuote = (arg: string): string =>
  /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

/** `method "kubernetes" { … }`, `method { type = "kubernetes" … }` or `"method" = { "type" = … }`: type and body. */
function typed(reader: Reader, value: HclBody, field: string): { type: string; body: HclBody } | undefined {
  const type = value.entries.get('type');
  if (type !== undefined) {
    const name = reader.string(value, 'type', `${field}.type`);
    return name === undefined ? undefined : { type: name, body: value };
  }
  const labels = [...value.entries.keys()];
  const inner = labels.length === 1 ? value.entries.get(labels[0] as string)?.[0] : undefined;
  if (labels.length === 1 && isBody(inner)) return { type: labels[0] as string, body: inner };
  reader.issue(field, 'expected a type: method "kubernetes" { … } or type = "kubernetes"');
  return undefined;
}

function readVault(reader: Reader, body: HclBody | undefined): Json {
  if (body === undefined) return {};
  reader.only(body, 'vault', [
    'address',
    'ca_cert',
    'ca_path',
    'client_cert',
    'client_key',
    'tls_skip_verify',
    'tls_server_name',
    'namespace',
    'retry',
  ]);
  const vault: Json = {};
  const set = (key: string, field: string) => {
    const v = reader.string(body, key, `vault.${key}`);
    if (v !== undefined) vault[field] = v;
  };
  set('address', 'address');
  set('ca_cert', 'caCert');
  set('ca_path', 'caPath');
  set('client_cert', 'clientCert');
  set('client_key', 'clientKey');
  set('tls_server_name', 'tlsServerName');
  set('namespace', 'namespace');
  const skip = reader.bool(body, 'tls_skip_verify', 'vault.tls_skip_verify');
  if (skip !== undefined) vault.tlsSkipVerify = skip;
  const retry = reader.block(body, 'retry', 'vault.retry');
  if (retry !== undefined) {
    reader.only(retry, 'vault.retry', ['num_retries']);
    const n = reader.string(retry, 'num_retries', 'vault.retry.num_retries');
    if (n !== undefined) {
      if (/^-?\d+$/.test(n)) vault.maxRetries = Math.max(0, Number(n));
      else reader.issue('vault.retry.num_retries', 'expected a whole number');
    }
  }
  return vault;
}

function readAutoAuth(reader: Reader, body: HclBody | undefined): { auth: Json; sinks: string[] } {
  const sinks: string[] = [];
  if (body === undefined) {
    reader.issue('auto_auth', 'missing: the agent logs in with auto_auth { method … }');
    return { auth: {}, sinks };
  }
  reader.only(body, 'auto_auth', ['method', 'sink', 'enable_reauth_on_new_credentials']);
  const auth: Json = { config: {}, exitOnError: false };
  const methodValue = reader.block(body, 'method', 'auto_auth.method');
  const method = methodValue === undefined ? undefined : typed(reader, methodValue, 'auto_auth.method');
  if (methodValue === undefined) reader.issue('auto_auth.method', 'missing: which auth method the agent logs in with');
  if (method !== undefined) {
    const field = `auto_auth.method`;
    reader.only(
      method.body,
      field,
      ['type', 'mount_path', 'namespace', 'config', 'min_backoff', 'max_backoff', 'exit_on_err'],
      {
        wrap_ttl: 'response wrapping of the agent token is not supported; remove wrap_ttl',
      },
    );
    if (!['kubernetes', 'jwt', 'approle', 'cert'].includes(method.type)) {
      reader.issue(
        `${field}.type`,
        `"${method.type}" is not a method Vaultbridge's agent logs in with (kubernetes, jwt, approle, cert); use vault.hashicorp.com/agent-kind: vault for it`,
      );
    }
    auth.type = method.type;
    auth.mountPath = reader.string(method.body, 'mount_path', `${field}.mount_path`) ?? `auth/${method.type}`;
    const config = reader.block(method.body, 'config', `${field}.config`);
    const values: Record<string, string> = {};
    if (config !== undefined) {
      for (const key of config.entries.keys()) {
        const v = reader.string(config, key, `${field}.config.${key}`);
        if (v !== undefined) values[key] = v;
      }
    }
    const { role, token_path: tokenPath, path: jwtPath, ...rest } = values;
    if (role !== undefined) auth.role = role;
    auth.serviceAccountTokenPath = (method.type === 'jwt' ? jwtPath : tokenPath) ?? DEFAULT_KUBERNETES_TOKEN_PATH;
    auth.config = rest;
    const exit = reader.bool(method.body, 'exit_on_err', `${field}.exit_on_err`);
    if (exit !== undefined) auth.exitOnError = exit;
    for (const [key, name] of [
      ['min_backoff', 'minBackoffMs'],
      ['max_backoff', 'maxBackoffMs'],
    ] as const) {
      const v = reader.string(method.body, key, `${field}.${key}`);
      if (v === undefined) continue;
      const ms = durationMs(v);
      if (ms === undefined) reader.issue(`${field}.${key}`, `expected a duration such as 5s, got "${v}"`);
      else auth[name] = ms;
    }
  }
  all(body, 'sink').forEach((value, index) => {
    const field = `auto_auth.sink[${index}]`;
    if (!isBody(value)) {
      reader.issue(field, 'expected a block');
      return;
    }
    // Labelled sinks come as one body per label: sink "file" { … } sink "file" { … }.
    const sinkBodies = value.entries.has('type')
      ? [value]
      : [...value.entries.values()]
          .flat()
          .filter(isBody)
          .map((b) => ({ entries: new Map([['file', [b]]]), line: b.line }) as HclBody);
    for (const sinkBody of sinkBodies) {
      const sink = typed(reader, sinkBody, field);
      if (sink === undefined) continue;
      if (sink.type !== 'file') {
        reader.issue(`${field}.type`, `"${sink.type}" sinks are not supported; the agent writes file sinks`);
        continue;
      }
      reader.only(sink.body, field, ['type', 'config'], {
        wrap_ttl: 'response-wrapped sinks are not supported; remove wrap_ttl',
        dh_type: 'encrypted (Diffie-Hellman) sinks are not supported; remove dh_type',
        dh_path: 'encrypted (Diffie-Hellman) sinks are not supported; remove dh_path',
        aad: 'encrypted sinks are not supported; remove aad',
        aad_env_var: 'encrypted sinks are not supported; remove aad_env_var',
      });
      const config = reader.block(sink.body, 'config', `${field}.config`);
      const file = config === undefined ? undefined : reader.string(config, 'path', `${field}.config.path`);
      if (file === undefined) reader.issue(`${field}.config.path`, 'missing: the file the token is written to');
      else sinks.push(file);
    }
  });
  return { auth, sinks };
}

const TEMPLATE_KEYS = [
  'contents',
  'source',
  'destination',
  'left_delimiter',
  'right_delimiter',
  'error_on_missing_key',
  'perms',
  'command',
  'command_timeout',
  'exec',
  'create_dest_dirs',
  'wait',
  'backup',
];

function readTemplate(reader: Reader, body: HclBody, index: number, secretsVolume: string): Json {
  const field = `template[${index}]`;
  reader.only(body, field, TEMPLATE_KEYS, {
    sandbox_path:
      "sandbox_path is not supported: the agent reads files (file) only inside the pod's volumes; remove it",
    function_denylist: 'function_denylist is not supported; remove it (plugin, sockaddr and spew_* are always refused)',
    function_blacklist:
      'function_blacklist is not supported; remove it (plugin, sockaddr and spew_* are always refused)',
    user: 'file ownership per template is not supported; remove user (the agent writes as its own user; writeToFile sets owners)',
    group: 'file ownership per template is not supported; remove group',
  });
  const contents = reader.string(body, 'contents', `${field}.contents`);
  const source = reader.string(body, 'source', `${field}.source`);
  const destination = reader.string(body, 'destination', `${field}.destination`);
  if (destination === undefined) reader.issue(`${field}.destination`, 'missing: the file the template renders into');
  if (contents === undefined && source === undefined) reader.issue(`${field}`, 'needs contents or source');
  if (contents !== undefined && source !== undefined)
    reader.issue(`${field}.source`, 'contents and source are both set; keep one');
  if (reader.bool(body, 'backup', `${field}.backup`) === true)
    reader.issue(`${field}.backup`, 'backups of the previous file are not supported; remove backup');
  const secret: Json = {
    name: destination === undefined ? `template-${index}` : path.basename(destination),
    ...(contents === undefined ? {} : { template: contents }),
    ...(source === undefined ? {} : { templateFile: source }),
    ...(destination === undefined ? {} : { destination }),
    defaultTemplate: 'map',
    leftDelimiter: reader.string(body, 'left_delimiter', `${field}.left_delimiter`) || '{{',
    rightDelimiter: reader.string(body, 'right_delimiter', `${field}.right_delimiter`) || '}}',
    errorOnMissingKey: reader.bool(body, 'error_on_missing_key', `${field}.error_on_missing_key`) ?? false,
    // Vault Agent's templates are consul-template's: always Go.
    templateEngine: 'go',
  };
  if (destination !== undefined && destination !== secretsVolume && !destination.startsWith(`${secretsVolume}/`)) {
    secret.volume = path.dirname(destination);
  }
  const perms = fileMode(reader.one(body, 'perms', `${field}.perms`));
  if (perms === 'bad') reader.issue(`${field}.perms`, 'expected an octal file mode such as "0600"');
  else if (perms !== undefined) secret.perms = perms;
  const command = reader.one(body, 'command', `${field}.command`);
  const exec = reader.block(body, 'exec', `${field}.exec`);
  const commandLine = (value: HclValue | undefined, name: string): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      return (value as string[]).map(shellQuote).join(' ');
    reader.issue(name, 'expected a command line or a list of arguments');
    return undefined;
  };
  const line =
    commandLine(command, `${field}.command`) ??
    (exec === undefined
      ? undefined
      : commandLine(reader.one(exec, 'command', `${field}.exec.command`), `${field}.exec.command`));
  if (exec !== undefined) reader.only(exec, `${field}.exec`, ['command', 'timeout']);
  if (line !== undefined && line.trim() !== '') secret.command = line;
  return secret;
}

export interface VaultAgentFile {
  /** The agent configuration in its JSON schema (still to be validated). */
  readonly value: Json;
  readonly issues: readonly AgentConfigIssue[];
}

const LISTENER_SETTINGS = [
  'type',
  'address',
  'tls_disable',
  'tls_cert_file',
  'tls_key_file',
  'tls_min_version',
  'agent_api',
] as const;

/**
 * `listener "tcp"`: its address, TLS (Vault Agent's listener serves TLS unless `tls_disable`, and then
 * needs both files) and `agent_api { enable_quit }`. Any other listener setting (client certificates,
 * cipher suites, a unix socket, `require_request_header`, `role`…) is refused by name.
 */
function readListener(
  reader: Reader,
  listener: { type: string; body: HclBody },
): { address: string; tls?: Json; enableQuit: boolean } | undefined {
  if (listener.type !== 'tcp') {
    reader.issue('listener', `listener "${listener.type}" is not supported: use listener "tcp" on 127.0.0.1`);
    return undefined;
  }
  reader.only(listener.body, 'listener', LISTENER_SETTINGS);
  const address = reader.string(listener.body, 'address', 'listener.address') ?? '127.0.0.1:8200';
  const disabled = reader.bool(listener.body, 'tls_disable', 'listener.tls_disable') ?? false;
  const certFile = reader.string(listener.body, 'tls_cert_file', 'listener.tls_cert_file');
  const keyFile = reader.string(listener.body, 'tls_key_file', 'listener.tls_key_file');
  const minVersion = reader.string(listener.body, 'tls_min_version', 'listener.tls_min_version');
  let tls: Json | undefined;
  // With tls_disable (vault-k8s's own listener), plain HTTP on localhost; Vault Agent then ignores the
  // TLS files, and so does this agent.
  if (!disabled && (certFile === undefined || keyFile === undefined)) {
    reader.issue(
      `listener.${certFile === undefined ? 'tls_cert_file' : 'tls_key_file'}`,
      "required: Vault Agent's listener serves TLS unless tls_disable = true; give tls_cert_file and tls_key_file (PEM), or set tls_disable = true",
    );
  } else if (!disabled && certFile !== undefined && keyFile !== undefined) {
    if (minVersion !== undefined && !['tls10', 'tls11', 'tls12', 'tls13'].includes(minVersion))
      reader.issue('listener.tls_min_version', `expected tls10, tls11, tls12 or tls13, got "${minVersion}"`);
    tls = { certFile, keyFile, ...(minVersion === undefined ? {} : { minVersion }) };
  }
  let enableQuit = false;
  const api = reader.block(listener.body, 'agent_api', 'listener.agent_api');
  if (api !== undefined) {
    reader.only(api, 'listener.agent_api', ['enable_quit']);
    enableQuit = reader.bool(api, 'enable_quit', 'listener.agent_api.enable_quit') ?? false;
  }
  return { address, ...(tls === undefined ? {} : { tls }), enableQuit };
}

/**
 * Reads a Vault Agent configuration (`config.hcl`, `config-init.hcl`, HCL or JSON) as the agent's
 * own. `mode`: `init` for config-init (or `exit_after_auth = true`), else `sidecar`.
 */
export function readVaultAgentFile(text: string, fileName: string, secretsVolume = '/vault/secrets'): VaultAgentFile {
  const reader = new Reader();
  let body: HclBody;
  try {
    body = parseHcl(text);
  } catch (error) {
    if (error instanceof HclError)
      return { value: {}, issues: [{ field: fileName, message: `not valid HCL: ${error.message}` }] };
    throw error;
  }
  reader.only(
    body,
    '',
    [
      'vault',
      'auto_auth',
      'template',
      'template_config',
      'exit_after_auth',
      'pid_file',
      'cache',
      'listener',
      'api_proxy',
      'log_level',
      'log_format',
      'telemetry',
    ],
    {
      env_template: 'env_template (process supervisor mode) is not supported; render files with template stanzas',
      exec: 'exec (process supervisor mode) is not supported; render files with template stanzas',
    },
  );
  const value: Json = { version: 1 };
  const exitAfterAuth = reader.bool(body, 'exit_after_auth', 'exit_after_auth');
  value.mode = exitAfterAuth === true || /(^|\/)config-init\.(hcl|json)$/.test(fileName) ? 'init' : 'sidecar';
  // The sidecar marks its first complete render, as with the webhook's own config (native-sidecar probe).
  if (value.mode === 'sidecar') value.readyFile = READY_FILE;
  value.vault = readVault(reader, reader.block(body, 'vault', 'vault'));
  const { auth, sinks } = readAutoAuth(reader, reader.block(body, 'auto_auth', 'auto_auth'));
  value.auth = auth;
  value.tokenSinks = sinks;
  value.secrets = all(body, 'template').flatMap((t, i) => {
    if (!isBody(t)) {
      reader.issue(`template[${i}]`, 'expected a block');
      return [];
    }
    return [readTemplate(reader, t, i, secretsVolume)];
  });
  const templateConfig = reader.block(body, 'template_config', 'template_config');
  const tc: Json = { exitOnRetryFailure: true };
  if (templateConfig !== undefined) {
    reader.only(templateConfig, 'template_config', [
      'exit_on_retry_failure',
      'static_secret_render_interval',
      'max_connections_per_host',
      'lease_renewal_threshold',
    ]);
    const exit = reader.bool(templateConfig, 'exit_on_retry_failure', 'template_config.exit_on_retry_failure');
    if (exit !== undefined) tc.exitOnRetryFailure = exit;
    const interval = reader.string(
      templateConfig,
      'static_secret_render_interval',
      'template_config.static_secret_render_interval',
    );
    if (interval !== undefined) {
      const ms = durationMs(interval);
      if (ms === undefined || ms <= 0)
        reader.issue(
          'template_config.static_secret_render_interval',
          `expected a duration such as 5m, got "${interval}"`,
        );
      else tc.staticSecretRenderIntervalMs = ms;
    }
    const max = reader.string(templateConfig, 'max_connections_per_host', 'template_config.max_connections_per_host');
    if (max !== undefined) tc.maxConnectionsPerHost = Number(max);
    const threshold = reader.string(
      templateConfig,
      'lease_renewal_threshold',
      'template_config.lease_renewal_threshold',
    );
    if (threshold !== undefined) tc.leaseRenewalThreshold = Number(threshold);
  }
  value.templateConfig = tc;
  const pid = reader.string(body, 'pid_file', 'pid_file');
  if (pid !== undefined) value.pidFile = pid;
  // The cache's localhost listener: `cache { use_auto_auth_token = … }` (or api_proxy) with `listener "tcp"`.
  const cache = reader.block(body, 'cache', 'cache') ?? reader.block(body, 'api_proxy', 'api_proxy');
  const listenerValue = reader.block(body, 'listener', 'listener');
  const listener = listenerValue === undefined ? undefined : typed(reader, listenerValue, 'listener');
  const read = listener === undefined ? undefined : readListener(reader, listener);
  if (cache !== undefined && read !== undefined) {
    const useToken = reader.string(cache, 'use_auto_auth_token', 'cache.use_auto_auth_token') ?? 'false';
    value.cache = {
      listenerAddress: read.address,
      useAutoAuthToken: useToken === 'force' ? 'force' : useToken === 'true' ? 'true' : 'false',
      ...(read.tls === undefined ? {} : { tls: read.tls }),
    };
    if (read.enableQuit) value.quit = { listenerAddress: read.address };
  }
  // A hand-written Vault Agent config keeps Vault Agent's behaviour: no init → sidecar handover without a
  // persist stanza (ours is for the webhook's own configs; cache/handover.ts), and nothing extra on the
  // secrets volume (test/agent-configmap-e2e.test.ts compares its files with Vault Agent's).
  value.handover = false;
  const level = reader.string(body, 'log_level', 'log_level');
  const format = reader.string(body, 'log_format', 'log_format');
  value.log = { level: level ?? 'info', format: format ?? 'standard' };
  const telemetry = reader.block(body, 'telemetry', 'telemetry');
  if (telemetry !== undefined) {
    const out: Json = {};
    for (const key of telemetry.entries.keys()) {
      const v = reader.one(telemetry, key, `telemetry.${key}`);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
      else reader.issue(`telemetry.${key}`, 'expected a string, number or boolean');
    }
    value.telemetry = out;
  }
  return { value, issues: reader.issues };
}
