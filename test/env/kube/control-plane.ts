import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureCa, ensureCert, type KeyPair } from '../certs.ts';
import type { EnvContext } from '../context.ts';
import { freePort, LOOPBACK } from '../ports.ts';
import { waitUntil } from '../wait.ts';
import { writeKubeconfig } from './kubeconfig.ts';

const run = promisify(execFile);

export const KUBE_VERSION = 'v1.34.4';
const SERVICE_CIDR = '10.0.0.0/24';

/** Builds (first time) or finds the control-plane binaries; see scripts/provision/kube-binaries.sh. */
export async function kubeBinaries(ctx: EnvContext): Promise<string> {
  const script = path.join(ctx.paths.repoRoot, 'scripts', 'provision', 'kube-binaries.sh');
  const { stdout } = await run('bash', [script], {
    env: { ...process.env, KUBE_VERSION, QUEUESHIFT_CACHE: ctx.paths.cacheDir },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

interface Pki {
  ca: KeyPair;
  apiserver: KeyPair;
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

function ensurePki(dir: string): Pki {
  const ca = ensureCa(dir, 'ca', 'queueshift-local-kube-ca');
  const client = (name: string, commonName: string, organizations: string[] = []): KeyPair =>
    ensureCert(ca, dir, { name, commonName, organizations, usage: 'client' });
  const serviceAccountKey = path.join(dir, 'sa.key');
  const serviceAccountPub = path.join(dir, 'sa.pub');
  if (!fs.existsSync(serviceAccountPub)) {
    // The service-account signing pair is a plain key pair; a CA-signed leaf's key does the job.
    const sa = ensureCert(ca, dir, { name: 'sa', commonName: 'service-accounts', usage: 'client' });
    fs.renameSync(sa.keyFile, serviceAccountKey);
    fs.copyFileSync(sa.certFile, serviceAccountPub);
  }
  return {
    ca,
    apiserver: ensureCert(ca, dir, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      usage: 'server',
      ipAddresses: [LOOPBACK, '10.0.0.1'],
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
    }),
    admin: client('admin', 'queueshift-admin', ['system:masters']),
    controllerManager: client('controller-manager', 'system:kube-controller-manager'),
    scheduler: client('scheduler', 'system:kube-scheduler'),
    serviceAccountKey,
    serviceAccountPub,
  };
}

/** GET on the API server with the admin certificate; resolves to the HTTP status. */
function adminGet(server: string, pki: Pki, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      `${server}${urlPath}`,
      {
        ca: fs.readFileSync(pki.ca.certFile),
        cert: fs.readFileSync(pki.admin.certFile),
        key: fs.readFileSync(pki.admin.keyFile),
        timeout: 2_000,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`GET ${urlPath} timed out`)));
    request.on('error', reject);
  });
}

/**
 * etcd, kube-apiserver (secure serving, RBAC + Node authorisation), kube-controller-manager and
 * kube-scheduler on loopback. Resolves when the API server is ready and the controllers have
 * created the default ServiceAccount (pods cannot be admitted before that).
 */
export async function startControlPlane(ctx: EnvContext): Promise<void> {
  const bin = await kubeBinaries(ctx);
  const dir = ctx.dir('kube');
  const pki = ensurePki(path.join(dir, 'pki'));
  const [etcdClient, etcdPeer, apiPort, kcmPort, schedulerPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const etcdUrl = `http://${LOOPBACK}:${etcdClient}`;
  const server = `https://${LOOPBACK}:${apiPort}`;

  const etcdData = path.join(dir, 'etcd-data');
  fs.rmSync(etcdData, { recursive: true, force: true });
  ctx.startDaemon({
    name: 'etcd',
    command: path.join(bin, 'etcd'),
    args: [
      '--name=queueshift-local',
      `--data-dir=${etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://${LOOPBACK}:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://${LOOPBACK}:${etcdPeer}`,
      `--initial-cluster=queueshift-local=http://${LOOPBACK}:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
  });

  ctx.startDaemon({
    name: 'kube-apiserver',
    command: path.join(bin, 'kube-apiserver'),
    args: [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${LOOPBACK}`,
      `--advertise-address=${LOOPBACK}`,
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.apiserver.certFile}`,
      `--tls-private-key-file=${pki.apiserver.keyFile}`,
      `--client-ca-file=${pki.ca.certFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=0',
    ],
  });

  const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
  const kubeconfigFor = (name: string, user: string, pair: KeyPair): string => {
    const file = path.join(dir, `${name}.kubeconfig`);
    writeKubeconfig(file, server, pki.ca.certFile, user, { kind: 'certificate', ...pair });
    return file;
  };
  kubeconfigFor('admin', 'admin', pki.admin);
  const kcmKubeconfig = kubeconfigFor(
    'controller-manager',
    'system:kube-controller-manager',
    pki.controllerManager,
  );
  const schedulerKubeconfig = kubeconfigFor('scheduler', 'system:kube-scheduler', pki.scheduler);

  await waitUntil(async () => (await adminGet(server, pki, '/readyz')) === 200, {
    what: `kube-apiserver at ${server} to be ready (log: ${ctx.paths.logsDir}/kube-apiserver.log)`,
    timeoutMs: 120_000,
    intervalMs: 250,
  });

  ctx.startDaemon({
    name: 'kube-controller-manager',
    command: path.join(bin, 'kube-controller-manager'),
    args: [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${kcmPort}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.ca.certFile}`,
      `--cluster-signing-cert-file=${pki.ca.certFile}`,
      `--cluster-signing-key-file=${pki.ca.keyFile}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--controllers=*',
      '--v=0',
    ],
  });
  ctx.startDaemon({
    name: 'kube-scheduler',
    command: path.join(bin, 'kube-scheduler'),
    args: [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${schedulerPort}`,
      '--leader-elect=false',
      '--v=0',
    ],
  });

  await waitUntil(
    async () => (await adminGet(server, pki, '/api/v1/namespaces/default/serviceaccounts/default')) === 200,
    {
      what: `the controller manager to create the default ServiceAccount (log: ${ctx.paths.logsDir}/kube-controller-manager.log)`,
      timeoutMs: 120_000,
      intervalMs: 250,
    },
  );

  ctx.state.kube = {
    server,
    kubeconfig: adminKubeconfig,
    caFile: pki.ca.certFile,
    kubectl: path.join(bin, 'kubectl'),
    version: KUBE_VERSION,
  };
  ctx.save();
  ctx.info(`kubernetes ${KUBE_VERSION} at ${server} (KUBECONFIG=${adminKubeconfig})`);
}
