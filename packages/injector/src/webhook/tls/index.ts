export type { CertificateSource, ServingCertificate } from './source.ts';
export { FileCertificateSource, type FileCertificateOptions } from './file-source.ts';
export { AutoCertificateSource, type AutoCertificateOptions } from './auto-source.ts';
export { caBundleTrusts, publishCaBundle } from './ca-bundle.ts';
