// Stops the stack that stack-setup.js started (a stack named from outside is left alone).
export default async function teardown() {
  const child = globalThis.__vaultbridgeStack;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
