/** OpenSSL's X509_NAME_hash of a PEM certificate's subject (what `openssl x509 -subject_hash` prints), 8 hex digits (ca-directory.js). */
export declare function subjectHash(pem: string): string;
/** Writes `certificates` (default: Node's tls.rootCertificates) into `dir` as an OpenSSL hashed directory, replacing it; returns the file count (ca-directory.js). */
export declare function writeCaDirectory(dir: string, certificates?: readonly string[]): number;
