import { IdempotencyError } from './idempotency-error.ts';

/**
 * The write commands a commit may carry, each with the key type it needs (`any`: works on every
 * type). The commit script is generated from this table, so the server enforces the same list.
 */
export const COMMIT_COMMANDS = {
  set: 'string',
  incrby: 'string',
  del: 'any',
  pexpire: 'any',
  hset: 'hash',
  hincrby: 'hash',
  hdel: 'hash',
  sadd: 'set',
  srem: 'set',
  zadd: 'zset',
  zincrby: 'zset',
  rpush: 'list',
} as const;

export type CommitCommand = keyof typeof COMMIT_COMMANDS;

export interface CommitOperation {
  command: CommitCommand;
  key: string;
  args: string[];
}

type Value = string | number;

/**
 * What a handler writes through `ctx.commit(tx => …)`: Redis effects that land in the same atomic
 * step as the delivery's done mark, on the idempotency store's Redis. Arguments are checked here, so
 * a bad call fails in the handler instead of half-way through the script.
 */
export class CommitTransaction {
  readonly deliveryId: string;
  readonly operations: CommitOperation[] = [];

  constructor(deliveryId: string) {
    this.deliveryId = deliveryId;
  }

  set(key: string, value: Value, options?: { expireMs?: number }): this {
    const expiry = options?.expireMs === undefined ? [] : ['PX', this.positive(options.expireMs, 'expireMs')];
    return this.add('set', key, [String(value), ...expiry]);
  }

  incrby(key: string, by: number): this {
    return this.add('incrby', key, [this.integer(by, 'increment')]);
  }

  del(key: string): this {
    return this.add('del', key, []);
  }

  pexpire(key: string, ms: number): this {
    return this.add('pexpire', key, [this.positive(ms, 'expiry')]);
  }

  hset(key: string, field: string, value: Value): this {
    return this.add('hset', key, [field, String(value)]);
  }

  hincrby(key: string, field: string, by: number): this {
    return this.add('hincrby', key, [field, this.integer(by, 'increment')]);
  }

  hdel(key: string, ...fields: string[]): this {
    return this.add('hdel', key, this.some(fields, 'field'));
  }

  sadd(key: string, ...members: Value[]): this {
    return this.add('sadd', key, this.some(members, 'member'));
  }

  srem(key: string, ...members: Value[]): this {
    return this.add('srem', key, this.some(members, 'member'));
  }

  zadd(key: string, score: number, member: Value): this {
    return this.add('zadd', key, [this.finite(score, 'score'), String(member)]);
  }

  zincrby(key: string, by: number, member: Value): this {
    return this.add('zincrby', key, [this.finite(by, 'increment'), String(member)]);
  }

  rpush(key: string, ...values: Value[]): this {
    return this.add('rpush', key, this.some(values, 'value'));
  }

  private add(command: CommitCommand, key: string, args: string[]): this {
    if (key.length === 0) this.invalid(`${command} needs a key`);
    this.operations.push({ command, key, args });
    return this;
  }

  private integer(value: number, what: string): string {
    if (!Number.isSafeInteger(value)) this.invalid(`the ${what} must be a whole number, got ${value}`);
    return String(value);
  }

  private positive(value: number, what: string): string {
    if (!Number.isSafeInteger(value) || value <= 0)
      this.invalid(`the ${what} must be a positive number of milliseconds, got ${value}`);
    return String(value);
  }

  private finite(value: number, what: string): string {
    if (!Number.isFinite(value)) this.invalid(`the ${what} must be a finite number, got ${value}`);
    return String(value);
  }

  private some(values: Value[], what: string): string[] {
    if (values.length === 0) this.invalid(`at least one ${what} is required`);
    return values.map(String);
  }

  private invalid(message: string): never {
    throw new IdempotencyError('IDEMPOTENCY_INVALID_COMMIT', this.deliveryId, `invalid commit: ${message}`);
  }
}
