// Public API of @vaultbridge/injector: the annotation surface, the pure pod mutation and the admission
// decision. The webhook server builds on these; the agent contract is @vaultbridge/agent/contract.

export {
  A,
  ANNOTATION_PREFIX,
  ANNOTATION_TABLE,
  DEFAULT_AGENT_IMAGE,
  annotationFor,
  isKnownAnnotation,
  type AnnotationEntry,
  type AnnotationKey,
  type AnnotationScope,
} from './annotations/table.ts';
export { checkAnnotationDefaultKeys, type InjectorDefaults, type ResourceDefaults } from './annotations/defaults.ts';
export { InvalidAnnotationsError, formatIssue, type AnnotationIssue, type ValueSource } from './annotations/errors.ts';
export { checkInjectorDefaults, parseAnnotations, type ParseContext } from './annotations/parse.ts';
export type * from './annotations/spec.ts';

export { buildAgentConfig } from './mutate/agent-config.ts';
export * from './mutate/names.ts';
export { MutationError } from './mutate/errors.ts';
export { mutatePod, type MutateOptions } from './mutate/mutate.ts';
export { createPatch } from './mutate/patch.ts';

export {
  ADMISSION_V1,
  ADMISSION_V1BETA1,
  AdmissionReviewError,
  parseAdmissionReview,
  type AdmissionApiVersion,
  type AdmissionRequest,
  type AdmissionReview,
  type AdmissionReviewErrorCode,
} from './admission/review.ts';
export {
  SYSTEM_NAMESPACES,
  decide,
  shouldInject,
  type AdmissionDecision,
  type InjectionType,
  type SkipReason,
} from './admission/decide.ts';
export { admissionResponse, type AdmissionResponse, type AdmissionReviewResponse } from './admission/response.ts';
export { handleAdmissionReview, type AdmissionResult } from './admission/handle.ts';

export { renderManifest, runRender, type RenderOptions, type RenderOutcome } from './cli/render.ts';
export type { CliIo } from '@vaultbridge/core';
export { findPod, type PodSlot } from './cli/pod-templates.ts';
export { applyServiceAccountAdmission } from './cli/service-account-admission.ts';
