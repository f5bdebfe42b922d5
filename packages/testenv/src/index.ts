export { startStack, useExistingStack, RunningStack, type StartOptions } from './stack.ts';
export { TestStack, sharedStack, readHandle, type StackHandle, type KubernetesRoleOptions } from './handle.ts';
export { KubeAdmin, type TokenOptions } from './kube-admin.ts';
export { VaultAdmin } from './vault-api.ts';
export {
  CountingProxy,
  type CountingProxyOptions,
  type ProxyFault,
  type RecordedRequest,
  type RequestCounts,
} from './counting-proxy.ts';
export { defaultVaultLayout, type VaultLayout, type PostgresConnection } from './vault-setup.ts';
export { binaryPath, postgresBinDir, repoRoot, toolVersions } from './binaries.ts';
export { freeLoopbackPort } from './ports.ts';
export { inPodRoot, writePodToken } from './pod-root.ts';
export { InterruptibleTcpProxy, apiServerThroughProxy } from './tcp-proxy.ts';
export { startConnectProxy, type ConnectProxy } from './connect-proxy.ts';
export {
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from './certs.ts';
export {
  appNamespace,
  chartNamespace,
  clusterEnv,
  diagnose,
  helm,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  release,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from './cluster/workloads.ts';
export {
  agentAnnotations,
  appDeployment,
  appRole,
  createAppDeployment,
  createOperatorAuth,
  createOperatorObject,
  createSecretProviderClass,
  csiVolume,
  operatorGroup,
  operatorVersion,
  podPrinting,
  secretField,
  secretProviderClass,
  waitForPrint,
  type AppRoleOptions,
  type PodPrintingOptions,
  type SecretProviderClassOptions,
  type SpcObject,
} from './cluster/apps.ts';
export { startStsStandIn, verifySigV4, type StsStandIn, type StsRequest, type StsKeys } from './aws-sts.ts';
export {
  vsoDatabaseSample,
  vsoGroup,
  vsoPkiSample,
  vsoPlural,
  vsoTutorialManifests,
  vsoVersion,
  type VsoManifest,
  type VsoTutorialOptions,
} from './vso-manifests.ts';
export { untilEventArrives, type UntilEventArrivesOptions } from './kv-events.ts';
export { bundleCommands, commonJsWrappersOf, eagerWrapperCalls, moduleLogHook } from './bundle-checks.ts';
export { parseDockerfile, wrapperNodeFlags, type BuildStep, type ImageRecipe } from './cluster/dockerfile.ts';
