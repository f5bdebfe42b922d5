export type { CertificateSource, ServingCertificate } from './source.ts';
export { FileCertificateSource, type FileCertificateOptions } from './file-source.ts';
export { AutoCertificateSource, type AutoCertificateOptions } from './auto-source.ts';
export { caBundleTrusts, publishCaBundle } from './ca-bundle.ts';
export { inProcessIssuer, type CertificateIssuer } from './certificate-issuer.ts';
export { childProcessIssuer, selfIssuerCommand, type ChildProcessIssuerOptions } from './issuer-process.ts';
