// npm run demo: on a root Linux machine the three methods run in real pods on a one-node cluster
// (cluster.ts); elsewhere a node cannot run, so the process-level demo (processes.ts) runs the same
// bundles as plain processes against the real API server and Vault, and says so.
if (process.platform === 'linux' && process.getuid?.() === 0) {
  await import('./cluster.ts');
} else {
  console.log('This machine is not root on Linux, so no node can run here: showing the process-level demo');
  console.log(
    "(the services as processes against the real API server and Vault, the kubelet's part done by the demo).",
  );
  console.log('Run `npm run demo` as root on Linux to see the three methods in real pods.');
  await import('./processes.ts');
}
