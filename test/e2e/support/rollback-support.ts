import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { V1EnvVar } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import type { RedisEndpoints } from '../../env/state.ts';
import type { LivePipeline } from './live-pipeline.ts';

/** Writes a fresh abort token, as `kubectl queueshift abort` does. */
export async function abortMigration(pipeline: LivePipeline): Promise<void> {
  await pipeline.tools.kubectl([
    'annotate',
    '--overwrite',
    'qm',
    'live',
    '-n',
    pipeline.namespace,
    `queueshift.dev/abort=${randomUUID()}`,
  ]);
}

/** The pipeline's stream as the stream Redis holds it: what a test checks besides the ledger. */
export class StreamView {
  private readonly redis: Redis;
  private readonly stream: string;
  private readonly group: string;

  constructor(endpoints: RedisEndpoints, stream: string, group: string) {
    this.redis = new Redis({ host: endpoints.streams.host, port: endpoints.streams.port });
    this.stream = stream;
    this.group = group;
  }

  /** Entries ever published and not yet trimmed. */
  length(): Promise<number> {
    return this.redis.xlen(this.stream);
  }

  /** Entries read by `consumer` of the group and not acknowledged. */
  async pendingOf(consumer: string): Promise<number> {
    const rows = await this.redis.xpending(this.stream, this.group, '-', '+', 10_000, consumer);
    return rows.length;
  }

  close(): void {
    this.redis.disconnect();
  }
}

const STALLING_HANDLER = path.join(import.meta.dirname, 'rollback-stalling-handler.ts');

/**
 * A downstream all the workers' handlers depend on, which can hang: while it does, every handler
 * holds its delivery without an outcome (rollback-stalling-handler.ts), so the workers make no
 * progress on any queue.
 */
export class HangingDownstream {
  private readonly file: string;

  constructor() {
    this.file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-downstream-')), 'hangs');
  }

  /** The worker env that makes its handlers depend on this downstream. */
  workerEnv(): V1EnvVar[] {
    return [
      { name: 'HANDLER_MODULE', value: STALLING_HANDLER },
      { name: 'STALL_FILE', value: this.file },
    ];
  }

  hang(): void {
    fs.writeFileSync(this.file, '');
  }

  recover(): void {
    fs.rmSync(this.file, { force: true });
  }
}
