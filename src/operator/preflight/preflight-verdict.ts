import { DEFAULT_METRICS } from '../analysis/metric-catalog.ts';
import { judge } from '../analysis/measurement-verdict.ts';
import { durationMs } from '../api/durations.ts';
import type { QueueMigrationSpec } from '../api/spec-schema.ts';
import type { PreflightCheck, PreflightStatus } from '../api/status-schema.ts';
import type { DeploymentObservation } from '../stages/observations.ts';
import { envFromCheck, storeLocationCheck } from './env-from-sources.ts';
import type { PreflightFacts, RedisFacts, SqsFacts } from './preflight-facts.ts';

const ok = (name: string, message: string): PreflightCheck => ({ name, outcome: 'ok', message });
const warning = (name: string, message: string): PreflightCheck => ({ name, outcome: 'warning', message });
const failed = (name: string, message: string): PreflightCheck => ({ name, outcome: 'failed', message });

function evictionPolicy(facts: RedisFacts): PreflightCheck {
  const name = 'redis-eviction-policy';
  const policy = facts.maxmemoryPolicy;
  if (!policy.known) {
    return warning(
      name,
      `maxmemory-policy unknown (${policy.reason}); make sure it is noeviction: any other policy may evict the stream`,
    );
  }
  return policy.value === 'noeviction'
    ? ok(name, 'maxmemory-policy is noeviction')
    : failed(
        name,
        `maxmemory-policy is ${policy.value}: at the memory limit Redis would evict keys, the stream and ` +
          'its pending entries included; set maxmemory-policy noeviction',
      );
}

function persistence(facts: RedisFacts): PreflightCheck {
  const name = 'redis-persistence';
  const loss = facts.lossOnRestart;
  if (!loss.known) return warning(name, `persistence unknown: ${loss.reason}`);
  const window = loss.value;
  switch (window.kind) {
    case 'none':
    case 'not-applicable':
      return ok(name, `a restart loses no acknowledged publish: ${window.why}`);
    case 'bounded':
      return ok(name, `a restart may lose up to ${window.upToMs} ms of publishes: ${window.why}`);
    case 'unbounded':
    case 'unknown':
      return warning(name, `a restart may lose acknowledged publishes (${window.kind}): ${window.why}`);
  }
}

/** The spec's memory-headroom threshold (or the built-in default), so preflight warns on what analysis fails. */
function memoryHeadroom(spec: QueueMigrationSpec, facts: RedisFacts): PreflightCheck {
  const name = 'redis-memory-headroom';
  const metric = [...spec.analysis.metrics, ...DEFAULT_METRICS].find(
    (m) => m.redis === 'memory-headroom-percent',
  );
  if (metric === undefined) return ok(name, 'no memory headroom threshold applies');
  const judged = judge(metric, facts.memoryHeadroom, undefined);
  return judged.verdict === 'success' ? ok(name, judged.message) : warning(name, judged.message);
}

function redisChecks(spec: QueueMigrationSpec, facts: PreflightFacts['redis']): PreflightCheck[] {
  if (!facts.known) {
    return [
      failed(
        'redis-reachable',
        `${facts.reason}; check spec.redis.endpoint, username, passwordSecretRef and tls`,
      ),
    ];
  }
  const redis = facts.value;
  const { stream, group } = spec.redis;
  return [
    ok('redis-reachable', `${redis.described} answered`),
    evictionPolicy(redis),
    persistence(redis),
    memoryHeadroom(spec, redis),
    !redis.streamAndGroup.known
      ? failed(
          'redis-stream-group',
          `could not create group ${group} on stream ${stream}: ${redis.streamAndGroup.reason}`,
        )
      : redis.streamAndGroup.value === 'ready'
        ? ok('redis-stream-group', `stream ${stream} and group ${group} exist (group created from id 0)`)
        : ok('redis-stream-group', `dry run: group ${group} on stream ${stream} would be created from id 0`),
  ];
}

function sqsQueue(facts: SqsFacts): PreflightCheck {
  return facts.warnings.length === 0
    ? ok('sqs-queue', 'standard queue reachable')
    : warning('sqs-queue', `standard queue reachable; ${facts.warnings.join('; ')}`);
}

/**
 * Messages may wait in SQS through the whole stability window (a rollback from cleanup sends
 * producers back to it); a retention no longer than that window could delete them unread.
 */
function sqsRetention(spec: QueueMigrationSpec, facts: SqsFacts): PreflightCheck {
  const name = 'sqs-retention';
  const windowText = spec.stages.cleanup.stabilityWindow;
  const retention = `MessageRetentionPeriod ${facts.retentionSeconds}s`;
  return facts.retentionSeconds * 1_000 > durationMs(windowText)
    ? ok(name, `${retention} is longer than the stability window ${windowText}`)
    : failed(
        name,
        `${retention} is not longer than the stability window ${windowText}: raise the queue's ` +
          'retention or shorten stages.cleanup.stabilityWindow',
      );
}

function sqsChecks(spec: QueueMigrationSpec, facts: PreflightFacts['sqs']): PreflightCheck[] {
  if (!facts.known) {
    return [failed('sqs-queue', `${facts.reason}; check spec.sqs and the operator's AWS credentials`)];
  }
  return [sqsQueue(facts.value), sqsRetention(spec, facts.value)];
}

function autoscalers(facts: PreflightFacts['autoscalers']): PreflightCheck {
  const name = 'consumer-autoscalers';
  if (!facts.known) return warning(name, `HorizontalPodAutoscalers not listed: ${facts.reason}`);
  if (facts.value.length === 0) return ok(name, 'no HorizontalPodAutoscaler targets a consumer');
  const found = facts.value.map((hpa) => `${hpa.name} scales ${hpa.deployment} on ${hpa.metrics.join(', ')}`);
  return warning(
    name,
    `${found.join('; ')}: a metric of SQS depth falls to 0 once producers publish to Redis, and the ` +
      'autoscaler would scale consumers in while the stream backlog grows',
  );
}

/**
 * Each check of the `dual` preflight from what was gathered: failed blocks the start, warning is
 * reported. `deployments` are the producers and consumers as observed (none: no envFrom to report).
 */
export function preflightChecks(
  spec: QueueMigrationSpec,
  facts: PreflightFacts,
  deployments: ReadonlyMap<string, DeploymentObservation> = new Map(),
): PreflightCheck[] {
  return [
    ...redisChecks(spec, facts.redis),
    ...sqsChecks(spec, facts.sqs),
    autoscalers(facts.autoscalers),
    ...envFromCheck(spec, deployments),
    ...storeLocationCheck(spec, deployments),
  ];
}

/** The preflight's status at `nowIso`: passed (and from then on pinned) when no check failed. */
export function preflightStatus(
  spec: QueueMigrationSpec,
  facts: PreflightFacts,
  nowIso: string,
  deployments: ReadonlyMap<string, DeploymentObservation> = new Map(),
): PreflightStatus {
  const checks = preflightChecks(spec, facts, deployments);
  const passed = checks.every((check) => check.outcome !== 'failed');
  return { checkedAt: nowIso, ...(passed && { passedAt: nowIso }), checks };
}
