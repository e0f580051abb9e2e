import type { Redis } from 'ioredis';
import type { Known } from '../types.ts';
import { assessDurability, type DurabilityFacts, type DurabilityReport } from './durability.ts';
import { commandError, type RedisStreamsErrorContext } from './errors.ts';

export interface ReadDurabilityOptions {
  client: Redis;
  where: RedisStreamsErrorContext;
  wait: DurabilityReport['wait'];
  now: number;
}

const unknown = (reason: string): Known<never> => ({ known: false, reason });
const known = <T>(value: T): Known<T> => ({ known: true, value });

/**
 * Runs a command whose refusal is an answer: an error reply (NOPERM for a least-privilege user, an
 * unknown command when CONFIG is renamed away) makes the fact unknown. A connection failure throws.
 */
async function ask(
  client: Redis,
  where: RedisStreamsErrorContext,
  command: string,
  args: readonly string[],
): Promise<Known<unknown>> {
  try {
    return known(await client.call(command, ...args));
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError') {
      return unknown(`${command} ${args.join(' ')} was refused: ${error.message}`);
    }
    throw commandError(command, where, error);
  }
}

/** `field:value` lines of an INFO section. */
function infoFields(reply: Known<unknown>): Known<Map<string, string>> {
  if (!reply.known) return reply;
  const fields = new Map<string, string>();
  for (const line of String(reply.value).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return known(fields);
}

function field<T>(
  section: Known<Map<string, string>>,
  name: string,
  convert: (text: string) => T | undefined,
): Known<T> {
  if (!section.known) return section;
  const text = section.value.get(name);
  const value = text === undefined ? undefined : convert(text);
  return value === undefined ? unknown(`INFO has no usable ${name} (${String(text)})`) : known(value);
}

const integer = (text: string): number | undefined => (/^-?\d+$/.test(text) ? Number(text) : undefined);

/** `CONFIG GET name` answers `[name, value]` (a map under some reply mappings). */
function configValue(reply: Known<unknown>, name: string): Known<string> {
  if (!reply.known) return reply;
  const value = reply.value;
  const pairs = Array.isArray(value) ? (value as unknown[]) : Object.entries(value as object).flat();
  const index = pairs.findIndex((item, i) => i % 2 === 0 && String(item) === name);
  return index < 0 ? unknown(`CONFIG GET ${name} returned no value`) : known(String(pairs[index + 1]));
}

/** Bytes the furthest-behind online replica trails `master_repl_offset` (`slaveN:…,offset=N,…` lines). */
function replicaLag(replication: Known<Map<string, string>>): Known<number> {
  const primary = field(replication, 'master_repl_offset', integer);
  if (!primary.known || !replication.known) return primary;
  let lag = 0;
  for (const [name, value] of replication.value) {
    if (!/^slave\d+$/.test(name) || !value.includes('state=online')) continue;
    const offset = /(?:^|,)offset=(\d+)/.exec(value)?.[1];
    if (offset !== undefined) lag = Math.max(lag, primary.value - Number(offset));
  }
  return known(lag);
}

function minReplicas(
  toWriteReply: Known<unknown>,
  maxLagReply: Known<unknown>,
): Known<{ toWrite: number; maxLagS: number }> {
  const toWrite = configValue(toWriteReply, 'min-replicas-to-write');
  const maxLag = configValue(maxLagReply, 'min-replicas-max-lag');
  if (!toWrite.known) return toWrite;
  if (!maxLag.known) return maxLag;
  const [writers, lagS] = [integer(toWrite.value), integer(maxLag.value)];
  return writers === undefined || lagS === undefined
    ? unknown(`min-replicas settings are not numbers: ${toWrite.value}, ${maxLag.value}`)
    : known({ toWrite: writers, maxLagS: lagS });
}

/** The raw answers to INFO replication / persistence and CONFIG GET of each setting that matters. */
export interface DurabilityAnswers {
  replication: Known<unknown>;
  persistence: Known<unknown>;
  appendfsync: Known<unknown>;
  save: Known<unknown>;
  minReplicasToWrite: Known<unknown>;
  minReplicasMaxLag: Known<unknown>;
}

export function durabilityFacts(answers: DurabilityAnswers): DurabilityFacts {
  const replication = infoFields(answers.replication);
  const persistence = infoFields(answers.persistence);
  return {
    role: field(replication, 'role', (text) => text),
    connectedReplicas: field(replication, 'connected_slaves', integer),
    replicaLagBytes: replicaLag(replication),
    minReplicas: minReplicas(answers.minReplicasToWrite, answers.minReplicasMaxLag),
    aofEnabled: field(persistence, 'aof_enabled', (text) =>
      text === '1' ? true : text === '0' ? false : undefined,
    ),
    appendfsync: configValue(answers.appendfsync, 'appendfsync'),
    rdbSavePoints: configValue(answers.save, 'save'),
    changesSinceLastSnapshot: field(persistence, 'rdb_changes_since_last_save', integer),
    lastSnapshotAt: field(persistence, 'rdb_last_save_time', (text) => {
      const seconds = integer(text);
      return seconds === undefined ? undefined : seconds * 1_000;
    }),
  };
}

/** Reads what the server says about replication and persistence, then assesses the loss windows. */
export async function readDurability(options: ReadDurabilityOptions): Promise<DurabilityReport> {
  const { client, where } = options;
  const config = (name: string): Promise<Known<unknown>> => ask(client, where, 'CONFIG', ['GET', name]);
  const [replication, persistence, appendfsync, save, minReplicasToWrite, minReplicasMaxLag] =
    await Promise.all([
      ask(client, where, 'INFO', ['replication']),
      ask(client, where, 'INFO', ['persistence']),
      config('appendfsync'),
      config('save'),
      config('min-replicas-to-write'),
      config('min-replicas-max-lag'),
    ]);
  const facts = durabilityFacts({
    replication,
    persistence,
    appendfsync,
    save,
    minReplicasToWrite,
    minReplicasMaxLag,
  });
  return assessDurability(facts, options.wait, options.now);
}
