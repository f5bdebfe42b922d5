// Public API of @vaultbridge/core. Everything not exported here is internal.
export * from './retry/index.ts';
export * from './vault/index.ts';
export * from './auth/index.ts';
export * from './kube/index.ts';
export * from './runtime/index.ts';
export * from './template/index.ts';
export * from './encoding/index.ts';
export * from './gotemplate/index.ts';
export * from './regex/index.ts';
