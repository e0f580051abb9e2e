// `npm run demo` (after scripts/demo/demo.sh provisioned, started the environment and built dist/):
// the webhook pipeline on SQS under live signed load, migrated to Redis Streams by the operator —
// or, with --rollback, rolled back by it after a real fault on the Redis path — shown live, ending
// with the run's report. It drives the very same LivePipeline as test/e2e/migration-under-load.test.ts:
// only its endpoints come from the running environment's state instead of vitest.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/operator/api/names.ts';
import type { QueueMigrationStatus } from '../../src/operator/api/status-schema.ts';
import { LivePipeline, SHORT_STAGES } from '../../test/e2e/support/live-pipeline.ts';
import { publishRunReport } from '../../test/e2e/support/run-report.ts';
import type { SteadyLoad } from '../../test/e2e/support/steady-load.ts';
import { adminKubeConfig } from '../../test/env/kube/accounts.ts';
import { kubeTools } from '../../test/env/local-node/e2e-support.ts';
import { envPaths } from '../../test/env/paths.ts';
import { readState, type EnvironmentState } from '../../test/env/state.ts';
import { waitUntil } from '../../test/env/wait.ts';
import { DemoError } from './demo-error.ts';
import { demoProblems, FINAL_PHASES } from './demo-verdict.ts';
import { parseDemoOptions, type DemoOptions } from './demo-options.ts';
import type { DeliveryCounts } from './live-view.ts';
import { RollbackStory } from './rollback-story.ts';
import { TerminalView } from './terminal-view.ts';

const MIGRATION = 'live';
const TICK_MS = 250;
/** The whole migration (or rollback) under load, rollouts included, on a busy 2-core machine. */
const STORY_TIMEOUT_MS = 600_000;

type Endpoints = Required<Pick<EnvironmentState, 'kube' | 'sqs' | 'redis' | 'prometheus'>>;

function runningEnvironment(): Endpoints {
  const paths = envPaths();
  const { kube, sqs, redis, prometheus, localNode } = readState(paths.stateFile) ?? {};
  if (!kube || !sqs || !redis || !prometheus || !localNode) {
    throw new DemoError(
      'DEMO_NO_ENVIRONMENT',
      `no running environment in ${paths.stateDir}: run \`npm run demo\`, which starts one, or \`npm run env:up\``,
    );
  }
  return { kube, sqs, redis, prometheus };
}

/** What the demo created, so that an interruption at any point removes exactly that. */
interface Resources {
  pipeline?: LivePipeline;
  load?: SteadyLoad;
  story?: RollbackStory;
  namespaceCreated?: boolean;
}

interface Following {
  pipeline: LivePipeline;
  load: SteadyLoad;
  view: TerminalView;
  readStatus: () => Promise<QueueMigrationStatus | undefined>;
  canarySteps: number;
  startedAt: number;
  stopping: AbortSignal;
  story: RollbackStory | undefined;
}

/** Shows the migration live until it reaches a final phase, and returns its status then. */
async function follow(live: Following): Promise<QueueMigrationStatus> {
  const counts: DeliveryCounts = { sent: 0, accepted: 0, refused: 0, handled: 0 };
  let status: QueueMigrationStatus | undefined;
  const deadline = Date.now() + STORY_TIMEOUT_MS;
  while (status?.phase === undefined || !FINAL_PHASES.includes(status.phase)) {
    live.stopping.throwIfAborted();
    if (Date.now() > deadline)
      throw new Error(`the migration did not end within ${String(STORY_TIMEOUT_MS)} ms`);
    // A read that fails (the API server busy) keeps the last figures for this frame.
    status = (await live.readStatus().catch(() => status)) ?? status;
    counts.sent = live.load.sentCount;
    counts.accepted = live.load.acceptedCount;
    counts.refused = live.load.refusedCount;
    counts.handled = await live.pipeline.ledgerSize().catch(() => counts.handled);
    live.story?.observe(status);
    live.view.show({
      status,
      canarySteps: live.canarySteps,
      counts,
      elapsedMs: Date.now() - live.startedAt,
      ...(live.story?.fault !== undefined && { fault: live.story.fault }),
    });
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  return status;
}

async function run(
  options: DemoOptions,
  env: Endpoints,
  view: TerminalView,
  made: Resources,
  namespace: string,
  stopping: AbortSignal,
): Promise<boolean> {
  const startedAt = Date.now();
  const tools = kubeTools(env.kube);
  const migrations = adminKubeConfig(env.kube).makeApiClient(CustomObjectsApi);
  const readStatus = async (): Promise<QueueMigrationStatus | undefined> => {
    const object = (await migrations.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURAL,
      name: MIGRATION,
    })) as { status?: QueueMigrationStatus };
    return object.status;
  };

  view.note(`namespace ${namespace}: webhook ×2 and worker ×2 on SQS, rolling out…`);
  await tools.core.createNamespace({ body: { metadata: { name: namespace } } });
  made.namespaceCreated = true;
  const pipeline = new LivePipeline({ ...env, tools, namespace });
  made.pipeline = pipeline;
  await pipeline.setUp();
  view.note('starting the operator (with config/rbac’s rights, watching this namespace)…');
  await pipeline.startOperator();

  view.note(`sending ${String(options.rate)} signed GitHub deliveries/s to the ready webhook pods…`);
  const load = pipeline.startLoad(options.rate);
  made.load = load;
  await waitUntil(() => load.acceptedCount >= options.rate, {
    what: 'the load to flow through SQS',
    timeoutMs: 60_000,
  });

  let spec: Record<string, unknown> = {};
  if (options.rollback) {
    const story = await RollbackStory.prepare(env.kube, namespace, env.redis.streams);
    made.story = story;
    spec = story.spec(pipeline, env.prometheus.url);
    view.note('rollback story: in canary the stream Redis link slows down; a p99 gate will fail');
  }
  await pipeline.applyMigration(spec);
  const { stages } = pipeline.migration(spec)['spec'] as { stages: typeof SHORT_STAGES };
  const canarySteps = stages.canary.steps.length;
  view.note(`applied QueueMigration ${namespace}/${MIGRATION}; following it:`);

  const final = await follow({
    pipeline,
    load,
    view,
    readStatus,
    canarySteps,
    startedAt,
    stopping,
    story: made.story,
  });
  view.keep();

  // Traffic goes on a little on the queue the story ended on before the count.
  const endedAt = load.acceptedCount;
  await waitUntil(() => load.acceptedCount >= endedAt + options.rate, {
    what: 'load on the final queue',
    timeoutMs: 60_000,
  });
  stopping.throwIfAborted();
  view.note('stopping the load; counting once every accepted delivery had its time to be handled…');
  const result = await pipeline.settle(load);
  delete made.load;
  const verdictToSqsMs = await made.story?.verdictToSqsMs(final);
  publishRunReport({
    scenario: options.rollback
      ? `demo: rollback at ${String(options.rate)}/s`
      : `demo: migration at ${String(options.rate)}/s`,
    ...result,
    history: final.history ?? [],
    ...(verdictToSqsMs !== undefined && { verdictToSqsMs }),
    notes: [
      ...(made.story?.notes(final) ?? []),
      ...(final.rollback === undefined ? [] : [`rollback reason: ${final.rollback.reason}`]),
    ],
  });

  const problems = demoProblems({
    rollback: options.rollback,
    final,
    account: result.account,
    fault: made.story?.fault,
    verdictToSqsMs,
  });
  view.note(
    problems.length === 0
      ? `demo passed: ${final.phase ?? ''}, nothing lost, nothing handled twice, no non-2xx`
      : `demo FAILED: ${problems.join('; ')}`,
  );
  return problems.length === 0;
}

/** Removes what the demo made, each part even when another fails; the environment stays up. */
async function cleanUp(made: Resources, namespace: string, view: TerminalView): Promise<void> {
  view.keep();
  view.note(`removing namespace ${namespace}…`);
  const parts: [string, () => Promise<unknown>][] = [
    ['stopping the load', async () => made.load?.stop()],
    ['closing the Redis link', async () => made.story?.close()],
    ['stopping the operator and deleting the queue', async () => made.pipeline?.tearDown()],
    [
      `deleting namespace ${namespace}`,
      async () =>
        made.namespaceCreated === true &&
        made.pipeline?.tools.kubectl(['delete', 'namespace', namespace, '--wait=false']),
    ],
  ];
  for (const [what, part] of parts) {
    await part().catch((error: unknown) => {
      view.note(`${what} failed: ${(error as Error).message}`);
    });
  }
}

async function main(): Promise<number> {
  const view = new TerminalView(process.stdout);
  const options = parseDemoOptions(process.argv.slice(2));
  const env = runningEnvironment();
  const namespace = `queueshift-demo-${Date.now().toString(36)}`;
  const made: Resources = {};
  const stopping = new AbortController();
  const interrupted = new Promise<never>((_, reject) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        const error = new DemoError('DEMO_INTERRUPTED', `${signal}: stopping the load and cleaning up`);
        stopping.abort(error);
        reject(error);
      });
    }
  });
  try {
    const story = run(options, env, view, made, namespace, stopping.signal);
    return (await Promise.race([story, interrupted])) ? 0 : 1;
  } catch (error) {
    view.keep();
    view.note((error as Error).message);
    return error instanceof DemoError && error.code === 'DEMO_INTERRUPTED' ? 130 : 1;
  } finally {
    await cleanUp(made, namespace, view);
    view.note('the environment is still running; `npm run env:down` stops it');
  }
}

// Whatever a cut-short story left waiting (a poll, a timer) must not keep the demo alive.
process.exit(
  await main().catch((error: unknown) => {
    console.error((error as Error).message);
    return error instanceof DemoError && error.code === 'DEMO_USAGE' ? 2 : 1;
  }),
);
