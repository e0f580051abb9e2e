import type { Known, LossWindow } from '../../adapter/index.ts';
import type { Reading } from '../analysis/reading.ts';

/** What the stream Redis said about itself, once it answered PING with the configured auth. */
export interface RedisFacts {
  /** Where and as whom, for the message (never a secret). */
  described: string;
  /** `maxmemory-policy`; unknown when neither INFO nor CONFIG GET would tell (managed Redis ACLs). */
  maxmemoryPolicy: Known<string>;
  /** What a restart of the primary can lose of acknowledged publishes (AOF / RDB settings). */
  lossOnRestart: Known<LossWindow>;
  /** Free share of the memory limit, as the built-in `memory-headroom-percent` metric reads it. */
  memoryHeadroom: Reading;
  /**
   * `ready`: XGROUP CREATE … 0 MKSTREAM answered OK or BUSYGROUP. `would-create`: a dry run, which
   * creates nothing, found no group yet. Unknown with the server's refusal.
   */
  streamAndGroup: Known<'ready' | 'would-create'>;
}

/** The SQS queue as GetQueueAttributes describes it (a FIFO queue never gets this far). */
export interface SqsFacts {
  retentionSeconds: number;
  /** The adapter's findings about dead-letter queues and redrive, worth a warning. */
  warnings: readonly string[];
}

/** A HorizontalPodAutoscaler whose scale target is one of the consumer Deployments. */
export interface ConsumerAutoscaler {
  name: string;
  deployment: string;
  /** Names of what it scales on (metric names, or the resource for CPU / memory targets). */
  metrics: readonly string[];
}

/**
 * Everything the `dual` preflight judges, gathered by the controller before the first Deployment
 * patch. Unknown = could not be read, with the reason (unreachable, refused, FIFO).
 */
export interface PreflightFacts {
  redis: Known<RedisFacts>;
  sqs: Known<SqsFacts>;
  autoscalers: Known<readonly ConsumerAutoscaler[]>;
}
