// @vaultbridge/agent/contract: everything the webhook and the agent must agree on, in one module both
// import (the webhook writes it, the agent reads and validates it). Nothing here runs the agent.

export * from './env.ts';
export * from './paths.ts';
export * from './types.ts';
export {
  AGENT_CONFIG_DEFAULTS,
  compactAgentConfig,
  decodeAgentConfigText,
  encodeAgentConfig,
  expandAgentConfig,
} from './encode.ts';
export { AgentConfigError, agentConfigSchema, parseAgentConfig, type AgentConfigIssue } from './schema.ts';
export * from './values.ts';
export { compileSecretRenderer, toHandlebarsSource, type FetchedSecret, type SecretRenderer } from './render.ts';
