// AdmissionReview (admission.k8s.io/v1 and v1beta1) as received by POST /mutate, parsed into a typed
// value. A review that is not one (no request, no uid, no object) is the caller's error: the HTTP layer
// answers 400 with the message, as vault-k8s does for malformed requests.

import { podShapeProblem } from './object-shape.ts';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
export type AdmissionApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface AdmissionRequest {
  readonly uid: string;
  /** the request namespace: pods created by controllers have no metadata.namespace yet */
  readonly namespace?: string;
  readonly operation?: string;
  readonly kind?: GroupVersionKind;
  readonly name?: string;
  readonly dryRun?: boolean;
  /** the object as sent; the patch is computed against exactly this */
  readonly object: Readonly<Record<string, unknown>>;
}

export interface AdmissionReview {
  readonly apiVersion: AdmissionApiVersion;
  readonly request: AdmissionRequest;
}

export type AdmissionReviewErrorCode =
  | 'not-an-object'
  | 'unsupported-version'
  | 'wrong-kind'
  | 'missing-request'
  | 'missing-uid'
  | 'missing-object'
  | 'invalid-object';

/** The body is not a usable AdmissionReview; map to HTTP 400. */
export class AdmissionReviewError extends Error {
  readonly code: AdmissionReviewErrorCode;
  readonly httpStatus = 400;

  constructor(code: AdmissionReviewErrorCode, message: string) {
    super(message);
    this.name = 'AdmissionReviewError';
    this.code = code;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parseKind(value: unknown): GroupVersionKind | undefined {
  if (!isRecord(value) || typeof value.kind !== 'string') return undefined;
  return {
    group: typeof value.group === 'string' ? value.group : '',
    version: typeof value.version === 'string' ? value.version : '',
    kind: value.kind,
  };
}

export function parseAdmissionReview(body: unknown): AdmissionReview {
  if (!isRecord(body)) throw new AdmissionReviewError('not-an-object', 'the body is not a JSON object');
  const apiVersion = body.apiVersion;
  if (apiVersion !== ADMISSION_V1 && apiVersion !== ADMISSION_V1BETA1) {
    throw new AdmissionReviewError(
      'unsupported-version',
      `apiVersion ${JSON.stringify(apiVersion ?? null)} is not ${ADMISSION_V1} or ${ADMISSION_V1BETA1}`,
    );
  }
  if (body.kind !== 'AdmissionReview')
    throw new AdmissionReviewError('wrong-kind', `kind ${JSON.stringify(body.kind ?? null)} is not AdmissionReview`);
  const request = body.request;
  if (!isRecord(request)) throw new AdmissionReviewError('missing-request', 'the AdmissionReview has no request');
  const uid = optionalString(request, 'uid');
  if (uid === undefined) throw new AdmissionReviewError('missing-uid', 'the AdmissionReview request has no uid');
  const object = request.object;
  if (!isRecord(object)) throw new AdmissionReviewError('missing-object', 'the AdmissionReview request has no object');

  // Only a Pod is read further; other kinds are skipped without looking inside.
  const kindOfObject = parseKind(request.kind)?.kind;
  if (kindOfObject === undefined || kindOfObject === 'Pod') {
    const problem = podShapeProblem(object);
    if (problem !== undefined)
      throw new AdmissionReviewError('invalid-object', `the object is not a valid Pod: ${problem}`);
  }

  const namespace = optionalString(request, 'namespace');
  const operation = optionalString(request, 'operation');
  const name = optionalString(request, 'name');
  const kind = parseKind(request.kind);
  return {
    apiVersion,
    request: {
      uid,
      object,
      ...(namespace === undefined ? {} : { namespace }),
      ...(operation === undefined ? {} : { operation }),
      ...(name === undefined ? {} : { name }),
      ...(kind === undefined ? {} : { kind }),
      ...(typeof request.dryRun === 'boolean' ? { dryRun: request.dryRun } : {}),
    },
  };
}
