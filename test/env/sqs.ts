import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EnvContext } from './context.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { waitForDaemon } from './readiness.ts';
import type { SqsEndpoint } from './state.ts';

export const SQS_REGION = 'us-east-1';

/**
 * fauxqs's own entry points (its `fauxqs` bin, `startFauxqs`) always listen on 0.0.0.0, and the
 * bin forces request logging on. Its `buildApp` export is the same server without the `listen`,
 * so this launcher listens on loopback only.
 *
 * Queue URLs: fauxqs's store defaults its host to `localhost`, which gives
 * `http://sqs.<region>.localhost:<port>/…`, a name that does not resolve here; and an SDK client
 * that takes its endpoint from AWS_ENDPOINT_URL rather than an explicit `endpoint` sends every call
 * to the QueueUrl's host. With an empty host the store uses the request's own Host header instead:
 * `http://127.0.0.1:<port>/000000000000/<name>`. The store class is not exported; app.js imports it
 * from this same relative path.
 */
const LOOPBACK_LAUNCHER = `
import { buildApp } from 'fauxqs';
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href);
const sqsStore = new SqsStore();
sqsStore.host = '';
const app = buildApp({ logger: false, defaultRegion: process.env.FAUXQS_DEFAULT_REGION, stores: { sqsStore } });
const address = await app.listen({ host: process.env.FAUXQS_LISTEN_HOST, port: Number(process.env.FAUXQS_PORT) });
process.stdout.write('fauxqs listening on ' + address + '\\n');
`;

/** An SQS client for the emulator: explicit endpoint, and the dummy credentials it accepts. */
export function sqsClient(endpoint: SqsEndpoint): SQSClient {
  return new SQSClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // A probe or a test wants the emulator's answer, not the SDK's retries around a refusal.
    maxAttempts: 1,
  });
}

/** The fauxqs SQS emulator in its own process (in-memory: a restart loses every queue). */
export async function startSqs(ctx: EnvContext): Promise<void> {
  const port = await freePort();
  const endpoint: SqsEndpoint = { daemon: 'sqs', endpoint: `http://${LOOPBACK}:${port}`, region: SQS_REGION };
  // The node running this code is Node >= 22, which fauxqs 2 needs; the machine's `node` may not be.
  const record = ctx.startDaemon({
    name: endpoint.daemon,
    command: process.execPath,
    // fauxqs loads node:sqlite (for its optional persistence) and Node warns about that on every start.
    args: ['--disable-warning=ExperimentalWarning', '--input-type=module', '--eval', LOOPBACK_LAUNCHER],
    // Bare `fauxqs` resolves from the working directory, i.e. this checkout's node_modules.
    cwd: ctx.paths.repoRoot,
    env: { FAUXQS_PORT: String(port), FAUXQS_LISTEN_HOST: LOOPBACK, FAUXQS_DEFAULT_REGION: SQS_REGION },
  });
  const client = sqsClient(endpoint);
  try {
    await waitForDaemon(
      record,
      async () => {
        await client.send(new ListQueuesCommand({}));
        return true;
      },
      { what: `the SQS emulator at ${endpoint.endpoint} to answer ListQueues`, timeoutMs: 20_000 },
    );
  } finally {
    client.destroy();
  }
  ctx.state.sqs = endpoint;
  ctx.save();
  ctx.info(`sqs emulator (fauxqs) at ${endpoint.endpoint}, region ${SQS_REGION}`);
}
