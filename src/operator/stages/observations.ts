import type { Known } from '../../adapter/types.ts';
import type { Phase, RecordedEnvVar } from '../api/status-schema.ts';
import type { RoundReadings } from '../analysis/analysis-engine.ts';
import type { Verdict } from '../analysis/verdict.ts';
import type { PreflightFacts } from '../preflight/preflight-facts.ts';

/** An env entry of a container: a literal or a reference (the same shape status records). */
export type EnvEntry = RecordedEnvVar;

/** A source of a container's `envFrom`: every key of a ConfigMap or Secret, under an optional prefix. */
export interface EnvFromSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  /** Put before every key of the source; absent when there is none. */
  prefix?: string;
}

export interface ContainerObservation {
  env: readonly EnvEntry[];
  volumeMounts: readonly { name: string; mountPath: string }[];
  /**
   * Where the container takes whole sets of variables from, in order; absent when it has none.
   * An `env` entry wins over them for the same name, but cleanup touches only `env`.
   */
  envFrom?: readonly EnvFromSource[];
}

/**
 * What SQS still holds once consumers read only Redis (full step 1 on, cleanup): the operator
 * sweeps it into Redis. `gone` once the queue no longer exists; `none` when it has no DLQ.
 */
export interface SqsRemainder {
  queue: Known<number> | 'gone';
  deadLetters: Known<number> | 'none';
}

/**
 * The running count of one mover instance (it starts at 0 with each operator process): the stage
 * machine adds what grew since it last looked, so a count is never taken in twice.
 */
export interface RedisMoveTally {
  mover: string;
  moved: number;
  /** Why the latest move failed; absent once one succeeded. */
  error?: string;
}

/** What the stage machine needs to know about one Deployment, gathered by the controller. */
export interface DeploymentObservation {
  name: string;
  /** spec.replicas. */
  replicas: number;
  generation: number;
  observedGeneration: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** status.replicas: pods of every template, old ones included. */
  totalReplicas: number;
  progressDeadlineExceeded: boolean;
  /** Pods of the current template in CrashLoopBackOff; older templates' pods never count. */
  crashLoopingPods: readonly string[];
  /** The container the migration manages; absent when the Deployment has no such container. */
  container?: ContainerObservation;
  volumes: readonly string[];
  /**
   * Operator-managed variables of the container that another field manager now owns, seen only
   * once the operator has applied to this Deployment (before that, every field is someone else's).
   */
  foreignFields: readonly { variable: string; manager: string }[];
}

export interface Observations {
  /** Producers and consumers by Deployment name; a missing entry is a missing Deployment. */
  deployments: ReadonlyMap<string, DeploymentObservation>;
  /** Canary Deployments by the name of the producer they copy. */
  canaries: ReadonlyMap<string, DeploymentObservation>;
  /** Latest verdicts of every gate. */
  verdicts: readonly Verdict[];
  /** The readings of the analysis round that was due, when the controller measured one. */
  analysis?: RoundReadings;
  /** Phase of `stages.staging.rehearsal`, or missing when that QueueMigration does not exist. */
  rehearsal?: Phase | 'missing';
  /** SQS depth (visible + in flight + delayed) sampled now; absent until a provider reads it. */
  sqsDepth?: Known<number>;
  /** Redis backlog (lag + pending) sampled now; absent until a provider reads it. */
  redisBacklog?: Known<number>;
  /** SQS and its DLQ sampled now, while the operator sweeps them (full step 1 on, cleanup). */
  sqsRemainder?: SqsRemainder;
  /** What the `dual` preflight judges; gathered only while Pending and not yet passed. */
  preflight?: PreflightFacts;
  /** What this operator process's Redis→SQS mover of the migration has done, once it ran. */
  redisMoves?: RedisMoveTally;
}
