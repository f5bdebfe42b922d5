// The benchmark's yardstick: a bare express HTTPS handler that parses the same AdmissionReview and
// answers with a fixed patch. Our webhook's throughput is reported as a fraction of this one's.
// Usage: node baseline-webhook.ts <port> <cert.pem> <key.pem> [patch.b64]
// With a patch file the fixed answer is that (base64) patch, e.g. the one our injector computes for
// the benchmark's pod, so both servers send the same bytes and only the work behind them differs.
import fs from 'node:fs';
import https from 'node:https';
import express from 'express';

const [port, certFile, keyFile, patchFile] = process.argv.slice(2);
const fixedPatch = patchFile
  ? fs.readFileSync(patchFile, 'utf8').trim()
  : Buffer.from(JSON.stringify([{ op: 'add', path: '/metadata/annotations/x', value: 'y' }])).toString('base64');
const app = express();
app.get('/health/ready', (_req, res) => res.status(204).end());
app.post('/mutate', express.json({ limit: '4mb' }), (req, res) => {
  const review = req.body as { apiVersion: string; request: { uid: string } };
  res.json({
    apiVersion: review.apiVersion,
    kind: 'AdmissionReview',
    response: { uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: fixedPatch },
  });
});
https
  .createServer({ cert: fs.readFileSync(certFile!), key: fs.readFileSync(keyFile!) }, app)
  .listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
