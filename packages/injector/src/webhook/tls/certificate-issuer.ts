// What makes the TLS-auto certificates, and the one request/answer contract for making them in a child
// process. The leader makes a CA and a serving pair at the first start after an install and again at
// each rotation; @peculiar/x509, which makes them, stays in the heap once imported (+2-3.5 MiB in every
// replica that ever made one, injector README "Which replica is measured"). The shipped command line
// therefore makes them in a short-lived child (issuer-process.ts) that runs `issue-certificate` with the
// request below on stdin; tests and library users make them in process.
import * as z from 'zod/mini';
import type { PemKeyPair } from './certificates.ts';

export interface CertificateIssuer {
  generateCertificateAuthority(validityHours: number, now: number): Promise<PemKeyPair>;
  /** A serving certificate for `hosts` (DNS names and IPs), signed by `ca`. */
  issueServingCertificate(ca: PemKeyPair, hosts: string[], validityHours: number, now: number): Promise<PemKeyPair>;
}

/** Makes them in this process, importing the generator on first use. */
export const inProcessIssuer: CertificateIssuer = {
  async generateCertificateAuthority(validityHours, now) {
    const { generateCertificateAuthority } = await import('./issuer.ts');
    return generateCertificateAuthority(validityHours, now);
  },
  async issueServingCertificate(ca, hosts, validityHours, now) {
    const { issueServingCertificate } = await import('./issuer.ts');
    return issueServingCertificate(ca, hosts, validityHours, now);
  },
};

const pemBlock = z.string().check(z.startsWith('-----BEGIN '));
const pemKeyPairSchema = z.object({ certPem: pemBlock, keyPem: pemBlock });
const validityHours = z.number().check(z.positive());
const epochMs = z.number().check(z.int(), z.nonnegative());

/** The child's stdin: one JSON object. */
export const issueRequestSchema = z.discriminatedUnion('make', [
  z.object({ make: z.literal('ca'), validityHours, now: epochMs }),
  z.object({
    make: z.literal('serving'),
    ca: pemKeyPairSchema,
    hosts: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    validityHours,
    now: epochMs,
  }),
]);
export type IssueRequest = z.infer<typeof issueRequestSchema>;

/** The child's stdout on success: one JSON object. */
export const issueAnswerSchema = pemKeyPairSchema;

/** The first schema issue as `<field>: <message>`, for an error that names what was wrong. */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** What the child does with the request text: the answer's JSON, or an Error naming the bad field. */
export async function answerIssueRequest(
  requestText: string,
  issuer: CertificateIssuer = inProcessIssuer,
): Promise<string> {
  let json: unknown;
  try {
    json = JSON.parse(requestText);
  } catch {
    throw new Error('the request on stdin is not JSON: send one object with "make": "ca" or "serving"');
  }
  const parsed = issueRequestSchema.safeParse(json);
  if (!parsed.success) throw new Error(`bad request on stdin: ${firstIssue(parsed.error)}`);
  const request = parsed.data;
  const pair =
    request.make === 'ca'
      ? await issuer.generateCertificateAuthority(request.validityHours, request.now)
      : await issuer.issueServingCertificate(request.ca, request.hosts, request.validityHours, request.now);
  return JSON.stringify(pair);
}
