// The demo in real pods (npm run demo as root on Linux): the stack with a one-node cluster, the chart
// installed, one app per method, each printing what it sees into its log (read through the kubelet,
// as the cluster tests do), one rotation in Vault, and the comparison. Every step is timed.
import {
  agentAnnotations,
  appNamespace,
  appRole,
  clusterEnv,
  createAppDeployment,
  createOperatorAuth,
  createOperatorObject,
  createSecretProviderClass,
  csiVolume,
  installChart,
  podPrinting,
  printingContainer,
  startStack,
  type ClusterStack,
} from '@vaultbridge/testenv';

const demoStarted = Date.now();
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const stepTimes: Array<[string, number]> = [];

/** Runs one step, printing its title before and its wall time after. */
async function step<T>(title: string, run: () => Promise<T>): Promise<T> {
  console.log(`\n▶ ${title}`);
  const started = Date.now();
  const result = await run();
  const took = Date.now() - started;
  stepTimes.push([title, took]);
  console.log(`  (${seconds(took)})`);
  return result;
}

const stack = await step(
  'starting the stack with a one-node cluster (etcd, kube-apiserver, Vault, PostgreSQL, containerd, kubelet, CSI driver)',
  () => startStack({ cluster: true, onProgress: (m) => console.log(`  ${m}`) }),
);

interface App {
  method: string;
  delivery: string;
  label: string;
  /** What the app prints with the password `p`. */
  expect: (password: string) => string;
  /** How a rotation reaches the app. */
  rotation: string;
  firstMs?: number;
  rotatedMs?: number;
  before?: string;
  after?: string;
  podBefore?: string;
  podAfter?: string;
}

try {
  const env: ClusterStack = clusterEnv(stack, 'the demo stack started without its node');
  const { images } = env.cluster;
  await step('helm install charts/vaultbridge (injector, CSI provider, operator) and wait for every pod Ready', () =>
    installChart(env),
  );

  const namespace = await step(
    'Vault: a KV secret, a policy and Kubernetes-auth roles for the demo namespace',
    async () => {
      const ns = await appNamespace(env, 'demo');
      await env.stack.vaultAdmin.write(`secret/data/${ns}/web`, { data: { password: 'first-password' } });
      // The agent and the CSI provider log in with the pod's token; the operator asks for audience vault.
      await appRole(env, ns);
      await appRole(env, ns, { name: `${ns}-op`, audience: 'vault' });
      console.log(`  namespace ${ns}, secret secret/data/${ns}/web (password=first-password)`);
      return ns;
    },
  );
  const secretPath = `secret/data/${namespace}/web`;

  const apps: App[] = [
    {
      method: 'injector',
      delivery: 'agent sidecar renders /vault/secrets/config.txt',
      label: 'injector',
      expect: (p) => `password=${p}\n`,
      rotation: 'same pod, file re-rendered',
    },
    {
      method: 'CSI provider',
      delivery: 'driver mounts /mnt/secrets/password',
      label: 'csi',
      expect: (p) => `${p}\n`,
      rotation: 'same pod, file rewritten by the rotation poll',
    },
    {
      method: 'operator',
      delivery: 'VaultStaticSecret → Secret → env',
      label: 'operator',
      expect: (p) => `password=${p}\n`,
      rotation: 'new pod (rollout restart)',
    },
  ];
  const deployedAt = await step('deploying one app per method (each prints what it sees every 0.5 s)', async () => {
    await createAppDeployment(
      env,
      namespace,
      'injector',
      { containers: [printingContainer(images.injector, 'cat /vault/secrets/config.txt')] },
      agentAnnotations(`${namespace}-app`, secretPath),
    );
    console.log('  injector: Deployment injector annotated vault.hashicorp.com/agent-inject');

    await createSecretProviderClass(env, namespace, 'web', {
      roleName: `${namespace}-app`,
      objects: [{ objectName: 'password', secretPath, secretKey: 'password' }],
    });
    await env.stack.kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'csi', labels: { app: 'csi' } },
        spec: {
          serviceAccountName: 'app',
          containers: [
            {
              ...printingContainer(images.injector, 'cat /mnt/secrets/password; echo'),
              volumeMounts: [{ name: 'secrets', mountPath: '/mnt/secrets', readOnly: true }],
            },
          ],
          volumes: [csiVolume('secrets', 'web')],
        },
      },
    });
    console.log('  CSI provider: pod csi with a SecretProviderClass volume');

    await createOperatorAuth(env, namespace, `${namespace}-op`);
    await createAppDeployment(env, namespace, 'operator', {
      containers: [
        {
          ...printingContainer(images.injector, 'echo "password=$PASSWORD"'),
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'web-credentials', key: 'password' } } }],
        },
      ],
    });
    await createOperatorObject(env, namespace, 'vaultstaticsecrets', 'VaultStaticSecret', 'web', {
      vaultAuthRef: 'app',
      mount: 'secret',
      path: `${namespace}/web`,
      type: 'kv-v2',
      refreshAfter: '1s',
      destination: { name: 'web-credentials', create: true },
      rolloutRestartTargets: [{ kind: 'Deployment', name: 'operator' }],
    });
    console.log(
      '  operator: Deployment operator reading env PASSWORD from Secret web-credentials, synced by VaultStaticSecret web',
    );
    return Date.now();
  });

  /** The Running pod of the app other than `except` whose last print is `expected`. */
  const appPrinting = async (app: App, expected: string, except?: string): Promise<string> =>
    (
      await podPrinting(
        env,
        namespace,
        `app=${app.label}`,
        `the ${app.method} app printing ${JSON.stringify(expected)}`,
        (print) => print === expected,
        { ...(except === undefined ? {} : { except }), timeoutMs: 180_000 },
      )
    ).pod;

  await step('waiting until each app prints the secret (read from its container log through the kubelet)', async () => {
    await Promise.all(
      apps.map(async (app) => {
        const expected = app.expect('first-password');
        app.podBefore = await appPrinting(app, expected);
        app.firstMs = Date.now() - deployedAt;
        app.before = expected.trim();
        console.log(
          `  ${app.method.padEnd(12)} pod ${app.podBefore} sees: ${app.before}   (${seconds(app.firstMs)} after deploying)`,
        );
      }),
    );
    const injected = await env.stack.kube.core.readNamespacedPod({ namespace, name: apps[0]!.podBefore! });
    console.log(
      `  the injector's pod runs ${[...(injected.spec?.initContainers ?? []), ...injected.spec!.containers].map((c) => c.name).join(', ')}`,
    );
  });

  await step(
    'rotating the secret in Vault (password=second-password) and waiting until each app prints it',
    async () => {
      await env.stack.vaultAdmin.write(secretPath, { data: { password: 'second-password' } });
      const rotatedAt = Date.now();
      await Promise.all(
        apps.map(async (app) => {
          const expected = app.expect('second-password');
          // The operator's app sees the new Secret only in a new pod: its env is read at start.
          app.podAfter = await appPrinting(app, expected, app.method === 'operator' ? app.podBefore : undefined);
          app.rotatedMs = Date.now() - rotatedAt;
          app.after = expected.trim();
          console.log(
            `  ${app.method.padEnd(12)} pod ${app.podAfter} sees: ${app.after}   (${seconds(app.rotatedMs)} after the write)`,
          );
        }),
      );
    },
  );

  console.log('\n▶ comparison (this run)');
  const rows = [
    ['method', 'delivery', 'before', 'after', 'first secret', 'rotation seen', 'how the rotation arrived'],
    ...apps.map((a) => [
      a.method,
      a.delivery,
      a.before!,
      a.after!,
      seconds(a.firstMs!),
      seconds(a.rotatedMs!),
      `${a.rotation}${a.podAfter === a.podBefore ? ` (${a.podAfter})` : ` (${a.podBefore} → ${a.podAfter})`}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(rows[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('"first secret" counts from the apps\' creation (pod scheduling, image start and login included);');
  console.log('"rotation seen" from the write in Vault to the app printing the new value.');
} finally {
  await step('stopping the stack (every pod process, containerd, the servers)', () => stack.stop());
  console.log('\n▶ step times');
  for (const [title, took] of stepTimes) console.log(`  ${seconds(took).padStart(7)}  ${title}`);
  console.log(
    `  ${seconds(Date.now() - demoStarted).padStart(7)}  total (this process; tools/demo.sh's setup and bundling before it are timed above it)`,
  );
}
// The stack's API clients keep sockets and timers that outlive stop(); end here as the testenv CLI
// does, once everything is stopped (a failure above has already ended the process with its error).
process.exit(0);
