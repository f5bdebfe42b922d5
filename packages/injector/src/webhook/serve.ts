import type { AddressInfo } from 'node:net';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import {
  createLogger,
  countIdleMemoryTrims,
  createShutdown,
  kubeStatusOf,
  connectKube,
  KubeHttp,
  type Logger,
  type LogLevel,
  startServiceMemoryTrim,
  turnOnTurbofanWhenReady,
} from '@vaultbridge/core';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { admissionHandler } from './admission-adapter.ts';
import { AdmissionWorkerPool, resolveWorkerCount } from './admission-pool.ts';
import { serveWarnings, type ServeConfig } from './config.ts';
import { InjectorMetrics } from './metrics.ts';
import { WebhookServer } from './server.ts';
import {
  AutoCertificateSource,
  FileCertificateSource,
  publishCaBundle,
  type CertificateSource,
  type ServingCertificate,
  type CertificateIssuer,
} from './tls/index.ts';

export interface RunningWebhook {
  address: AddressInfo;
  server: WebhookServer;
  close(): Promise<void>;
}

/**
 * Cluster-wide annotation defaults from a ConfigMap, re-read every `intervalMs`. A bad or missing
 * ConfigMap keeps the last good defaults and is logged; it never stops admission.
 */
function watchAnnotationDefaults(
  kube: KubeHttp,
  namespace: string,
  name: string,
  base: InjectorDefaults,
  logger: Logger,
  intervalMs = 30_000,
) {
  let current = base;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
  const refresh = async (): Promise<void> => {
    try {
      const configMap = await kube.get<V1ConfigMap>(path);
      current = { ...base, annotations: { ...base.annotations, ...configMap.data } };
    } catch (error) {
      logger.warn(
        { configMap: `${namespace}/${name}`, status: kubeStatusOf(error) },
        'could not read the annotation defaults ConfigMap; keeping the last defaults',
      );
    }
  };
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return { defaults: () => current, ready: refresh(), stop: () => clearInterval(timer) };
}

/**
 * With certificate files, a CA file and --tls-auto, the CA is patched into the webhook configuration
 * at start and whenever the files change (vault-k8s's certWatcher does the same with -tls-ca-cert-file).
 */
function publishCaFromFiles(
  certificates: CertificateSource,
  kube: KubeHttp,
  webhookConfigName: string,
  logger: Logger,
): () => void {
  const publish = (caPem: string | undefined): void => {
    if (caPem === undefined) return;
    publishCaBundle(kube, webhookConfigName, caPem).catch((error: unknown) => {
      logger.warn(
        { err: error, webhookConfiguration: webhookConfigName },
        'could not patch the CA bundle into the webhook configuration; retrying on the next certificate change',
      );
    });
  };
  const onChange = (next: ServingCertificate): void => publish(next.caPem);
  certificates.on('changed', onChange);
  return () => certificates.off('changed', onChange);
}

/** Starts the webhook as `vaultbridge-injector serve` does; SIGTERM drains in-flight reviews. */
export async function serveWebhook(
  config: ServeConfig,
  options: {
    kube?: KubeHttp;
    kubeConfig?: KubeConfig;
    installSignalHandlers?: boolean;
    /** What makes the --tls-auto certificates (default: in this process; the command line: a child). */
    certificateIssuer?: CertificateIssuer;
  } = {},
): Promise<RunningWebhook> {
  const logger = createLogger({ name: 'vaultbridge-injector', level: config.logLevel as LogLevel });
  const needsKube =
    config.tls.mode === 'auto' ||
    config.annotationDefaultsConfigMap !== undefined ||
    (config.tls.caFile !== undefined && config.tls.webhookConfigName !== undefined);
  // Plain JSON on node:https (KubeHttp): in a pod the service account is read as client-node's
  // in-cluster config reads it. Only a kubeconfig file ($KUBECONFIG, ~/.kube/config) loads client-node,
  // from kube-config-client.mjs beside the bundle, so injector.mjs carries none of its source.
  const kube =
    options.kube ??
    (options.kubeConfig
      ? KubeHttp.fromKubeConfig(options.kubeConfig)
      : needsKube
        ? await connectKube(undefined)
        : undefined);

  let certificates: CertificateSource;
  let stopCaPublisher = (): void => {};
  if (config.tls.mode === 'files') {
    certificates = new FileCertificateSource({
      certFile: config.tls.certFile,
      keyFile: config.tls.keyFile,
      ...(config.tls.caFile ? { caFile: config.tls.caFile } : {}),
    });
    if (config.tls.caFile && config.tls.webhookConfigName && kube) {
      stopCaPublisher = publishCaFromFiles(certificates, kube, config.tls.webhookConfigName, logger);
    }
  } else {
    certificates = new AutoCertificateSource({
      kube: kube!,
      namespace: config.namespace,
      secretName: config.tls.secretName,
      webhookConfigName: config.tls.webhookConfigName,
      hosts: config.tls.hosts,
      identity: config.podName,
      ...(options.certificateIssuer ? { issuer: options.certificateIssuer } : {}),
    });
  }
  let defaults = (): InjectorDefaults => config.defaults;
  let stopDefaults = (): void => {};
  if (config.annotationDefaultsConfigMap && kube) {
    const watched = watchAnnotationDefaults(
      kube,
      config.namespace,
      config.annotationDefaultsConfigMap,
      config.defaults,
      logger,
    );
    await watched.ready;
    defaults = watched.defaults;
    stopDefaults = watched.stop;
  }
  const workers = resolveWorkerCount(config.workers);
  const pool = workers > 0 ? new AdmissionWorkerPool({ size: workers, logger }) : undefined;
  const metrics = new InjectorMetrics();
  const server = new WebhookServer({
    handler: pool ? pool.handler(defaults) : admissionHandler(defaults),
    certificates,
    metrics,
    logger,
    minVersion: config.tlsMinVersion,
    // Two reviews per worker (one computing, one in the hand-off), one on the event loop; the rest wait
    // in the per-namespace fair queue, not inside a worker.
    concurrency: workers > 0 ? workers * 2 : 1,
    ...(config.tlsCiphers === undefined ? {} : { ciphers: config.tlsCiphers }),
    ...(config.telemetryPath === undefined ? {} : { telemetryPath: config.telemetryPath }),
  });
  let address: AddressInfo;
  try {
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await pool?.close();
    throw error;
  }
  logger.info({ host: address.address, port: address.port, tls: config.tls.mode, workers }, 'webhook listening');
  for (const warning of serveWarnings(config)) logger.warn(warning);
  // The image starts node without TurboFan, so that start-up optimises nothing; reviews need it.
  turnOnTurbofanWhenReady({ logger });
  // The young generation a burst of reviews grew is given back once the webhook is quiet (only this
  // thread's heap: admission workers, when configured, keep theirs).
  const memoryTrim = startServiceMemoryTrim({ logger, onTrim: countIdleMemoryTrims(metrics.registry) });
  const close = async (): Promise<void> => {
    memoryTrim?.stop();
    stopDefaults();
    stopCaPublisher();
    await server.close();
    await pool?.close();
    // The client made here: its kept-alive sockets go with the webhook (a caller's own client stays).
    if (options.kube === undefined) kube?.close();
  };
  if (options.installSignalHandlers) {
    const shutdown = createShutdown({ logger });
    shutdown.onShutdown('webhook', close);
    shutdown.listen();
  }
  return { address, server, close };
}
