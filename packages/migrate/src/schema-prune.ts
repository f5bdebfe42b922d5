// The operator's schema pruning (what the API server would drop), shared with its converter.
export { pruneBySchema, type Pruned } from '@vaultbridge/operator';
