// Public API of @vaultbridge/operator.
export * from './api/common.ts';
export { crds, kinds, type CustomResourceDefinition } from './api/crds.ts';
export * from './api/vault-auth.ts';
export * from './api/vault-connection.ts';
export * from './api/vault-static-secret.ts';
export * from './api/vault-dynamic-secret.ts';
export * from './api/vault-pki-secret.ts';
export * from './api/secret-transformation.ts';
export { WorkQueue, type ReconcileResult, type WorkQueueOptions } from './runtime/queue.ts';
export { RestartingInformer } from './runtime/informer.ts';
export { setConditions } from './runtime/conditions.ts';
export { buildSecretData, planWrite, MANAGED_BY, MANAGED_BY_LABEL } from './sync/destination.ts';
export { secretMac, macInput } from './sync/hmac.ts';
export { installCrds } from './install-crds.ts';
export { startOperator, type OperatorOptions, type RunningOperator } from './operator.ts';
export { runOperatorCli } from './cli.ts';
