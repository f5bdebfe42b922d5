// The gRPC surface: v1alpha1.CSIDriverProvider (Version, Mount) on a unix socket. Thin: parse at the
// edge (config), fetch (fetch), build the answer (mount), map errors to gRPC status codes.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createMetricsRegistry, type Logger, type MetricsRegistry } from '@vaultbridge/core';
import { parseMountRequest, type ProviderFlags } from './config.ts';
import { VaultFetcher, type FetcherOptions } from './fetch.ts';
import { AuthorityRewritingConnection } from './h2-authority.ts';
import { buildMountResult, generateHmacKey, warnMountBytes } from './mount.ts';
import { warmUpGrpc, warmUpMountPath } from './warm-up.ts';
import { loadProviderService } from './provider-proto.ts';

// Re-exported where it always was (index.ts, the tests and the bench import it from here).
export { loadProviderService };

export const runtimeName = 'vaultbridge-csi-provider';
export const runtimeVersion = '0.1.0';
export const defaultEndpoint = '/var/run/secrets-store-csi-providers/vault.sock';

interface MountRequestMessage {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
}

interface MountResponseMessage {
  object_version: Array<{ id: string; version: string }>;
  files: Array<{ path: string; mode: number; contents: Buffer }>;
}

export interface ProviderServerOptions extends Omit<FetcherOptions, 'onLogin' | 'onRead'> {
  flags: ProviderFlags;
  metrics?: MetricsRegistry;
  /** HMAC key for object versions; default 32 random bytes for this process. */
  hmacKey?: Buffer;
  /** Run the mount path once before serving (default true; false to measure a cold first mount). */
  warmUp?: boolean;
}

export class ProviderServer {
  readonly metrics: MetricsRegistry;
  private readonly options: ProviderServerOptions;
  private readonly logger: Logger;
  private readonly fetcher: VaultFetcher;
  private readonly hmacKey: Buffer;
  // No channelz: nothing here serves grpc-js's channelz service, and with it on every connection and
  // call keeps counters and a trace in memory (issue 14).
  private readonly grpcServer = new grpc.Server({ 'grpc.enable_channelz': 0 });
  private readonly service = loadProviderService();
  private socketServer: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private socketPath: string | undefined;
  private readonly mounts;
  private readonly mountSeconds;

  constructor(options: ProviderServerOptions) {
    this.options = options;
    this.logger = options.logger;
    this.metrics = options.metrics ?? createMetricsRegistry();
    this.hmacKey = options.hmacKey ?? generateHmacKey();
    this.mounts = this.metrics.counter({
      name: 'vaultbridge_csi_mounts_total',
      help: 'Mount calls by gRPC status code.',
      labelNames: ['code'] as const,
    });
    this.mountSeconds = this.metrics.histogram({
      name: 'vaultbridge_csi_mount_seconds',
      help: 'Mount call duration.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    const logins = this.metrics.counter({
      name: 'vaultbridge_csi_vault_logins_total',
      help: 'Vault logins (one per pod, again when its token nears expiry).',
    });
    const reads = this.metrics.counter({
      name: 'vaultbridge_csi_vault_reads_total',
      help: 'Vault secret reads after coalescing.',
      labelNames: ['result'] as const,
    });
    this.fetcher = new VaultFetcher({
      ...options,
      allowedVaultAddresses: options.allowedVaultAddresses ?? options.flags.allowedVaultAddresses,
      defaultVaultAddress: options.defaultVaultAddress ?? options.flags.vaultAddr ?? options.env?.VAULT_ADDR,
      onLogin: () => logins.inc(),
      onRead: (result) => reads.inc({ result }),
    });
    this.grpcServer.addService(this.service, {
      Version: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        callback(null, { version: 'v1alpha1', runtime_name: runtimeName, runtime_version: runtimeVersion });
      },
      Mount: (
        call: grpc.ServerUnaryCall<MountRequestMessage, MountResponseMessage>,
        callback: grpc.sendUnaryData<MountResponseMessage>,
      ) => {
        void this.mount(call).then(
          (response) => callback(null, response),
          (error: grpc.ServiceError) => callback(error),
        );
      },
    });
  }

  private async mount(
    call: grpc.ServerUnaryCall<MountRequestMessage, MountResponseMessage>,
  ): Promise<MountResponseMessage> {
    const started = performance.now();
    const request = call.request;
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    let podLabel = '';
    try {
      const config = parseMountRequest(
        {
          attributes: request.attributes,
          targetPath: request.target_path,
          permission: request.permission,
          secrets: request.secrets,
        },
        this.options.flags,
      );
      podLabel = `${config.pod.namespace}/${config.pod.name}`;
      const responses = await this.fetcher.fetch(config, abort.signal);
      const result = buildMountResult(config, responses, this.hmacKey);
      if (result.totalBytes > warnMountBytes)
        this.logger.warn(
          { pod: podLabel, bytes: result.totalBytes },
          'mount above 1 MiB: syncing it to a Kubernetes Secret may fail',
        );
      this.mounts.inc({ code: 'OK' });
      this.logger.info(
        {
          pod: podLabel,
          targetPath: config.targetPath,
          files: result.files.map((file) => file.path),
          ms: Math.round(performance.now() - started),
        },
        'mount served',
      );
      return {
        object_version: result.objectVersions,
        files: result.files.map((file) => ({ path: file.path, mode: file.mode, contents: file.contents })),
      };
    } catch (error) {
      const code = (error as { grpcStatus?: grpc.status }).grpcStatus ?? grpc.status.INTERNAL;
      const message = error instanceof Error ? error.message : String(error);
      this.mounts.inc({ code: grpc.status[code] ?? String(code) });
      this.logger.warn({ pod: podLabel, code: grpc.status[code], err: error }, 'mount failed');
      throw Object.assign(new Error(message), { code, details: message }) as grpc.ServiceError;
    } finally {
      this.mountSeconds.observe((performance.now() - started) / 1000);
    }
  }

  /**
   * Listens on the unix socket, removing a stale socket first (the driver dials the same path after a
   * restart). The provider accepts the connections itself and hands them to grpc-js through
   * h2-authority.ts, so the driver's socket-path `:authority` is not refused.
   */
  async listen(socketPath: string): Promise<void> {
    await fs.promises.mkdir(path.dirname(socketPath), { recursive: true });
    const existing = await fs.promises.lstat(socketPath).catch(() => undefined);
    if (existing) {
      if (!existing.isSocket())
        throw new Error(`${socketPath} exists and is not a socket; remove it or choose another --endpoint`);
      await fs.promises.unlink(socketPath);
    }
    const injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    await this.warmUp(injector);
    const socketServer = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const connection = new AuthorityRewritingConnection(socket, {
        onAuthorityReplaced: (authority) =>
          this.logger.debug(
            { authority },
            "client sent an :authority Node's HTTP/2 refuses (grpc-go dialling a socket path); serving it as localhost",
          ),
        onFramingError: (error) =>
          this.logger.warn({ err: error }, 'closed a provider connection that broke HTTP/2 framing'),
      });
      injector.injectConnection(connection);
    });
    await new Promise<void>((resolve, reject) => {
      socketServer.once('error', reject);
      socketServer.listen(socketPath, () => {
        socketServer.off('error', reject);
        resolve();
      });
    });
    socketServer.on('error', (error) => this.logger.error({ err: error }, 'provider socket error'));
    this.socketServer = socketServer;
    this.socketPath = socketPath;
    this.logger.info({ endpoint: socketPath }, 'serving v1alpha1.CSIDriverProvider');
  }

  /** The first mount's code paths, run once before the socket is served (see warm-up.ts). */
  private async warmUp(injector: grpc.ConnectionInjector): Promise<void> {
    if (this.options.warmUp === false) return;
    const started = performance.now();
    try {
      const sample = warmUpMountPath(this.service, this.options.flags, this.hmacKey);
      const [called] = await Promise.all([warmUpGrpc(this.service, injector), this.fetcher.warmUp(sample)]);
      if (!called) this.logger.debug('the warm-up Version call did not finish in time');
    } catch (error) {
      // A warm-up that fails only costs the first mount its speed.
      this.logger.warn({ err: error }, 'warm-up of the mount path failed; serving anyway');
    }
    this.logger.debug({ ms: Math.round(performance.now() - started) }, 'mount path warmed up');
  }

  /** Finishes calls in flight (up to `graceMs`), stops token renewal and removes the socket. */
  async close(graceMs = 10_000): Promise<void> {
    // No new connections; the ones open finish their calls (grpc-js sends GOAWAY and closes them).
    const socketServer = this.socketServer;
    const stopped = socketServer
      ? new Promise<void>((resolve) => socketServer.close(() => resolve()))
      : Promise.resolve();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const socket of this.sockets) socket.destroy();
    await stopped;
    await this.fetcher.stop();
    if (this.socketPath) await fs.promises.rm(this.socketPath, { force: true });
  }
}
