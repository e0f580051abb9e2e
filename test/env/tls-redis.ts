import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureCa, ensureCert } from './certs.ts';
import type { EnvContext } from './context.ts';
import { freePort, LOOPBACK } from './ports.ts';
import {
  NO_EVICTION_NO_SNAPSHOTS,
  startRedisDaemon,
  answersPing,
  type RedisConnectionOptions,
} from './redis.ts';
import type { TlsRedisEndpoint } from './state.ts';

export const TLS_REDIS_USER = 'queueshift';
/** The only keys the ACL user may touch. */
export const TLS_REDIS_KEY_PATTERN = 'queueshift:*';

/**
 * Least privilege for a stream producer, consumer and the operator, command by command.
 * Not granted: EVAL/EVALSHA/FUNCTION (no scripts yet; add them here when the adapter needs one),
 * KEYS/SCAN (key-pattern ACLs do not filter them, so they would list keys outside the pattern),
 * XDEL, pub/sub channels, and anything administrative (CONFIG, FLUSH*, CLIENT KILL, ACL).
 */
const ALLOWED_COMMANDS = [
  // Connection set-up as ioredis does it. HELLO and AUTH need no grant. CLIENT SETINFO does not
  // exist before Redis 7.2 (naming it is a config error on 7.0); ioredis ignores its failure.
  'ping',
  'info', // ioredis's ready check
  'client|setname',
  'client|getname',
  'client|id',
  // Producing, and consuming through consumer groups, including recovery of stuck entries.
  'xadd',
  'xreadgroup',
  'xread',
  'xack',
  'xautoclaim',
  'xclaim',
  'xpending',
  // What the operator inspects and manages: groups, lag, length, trimming acknowledged history.
  'xinfo',
  'xgroup',
  'xlen',
  'xrange',
  'xrevrange',
  'xtrim',
  // Atomic batches (XADD with XACK), and cleaning up streams a run created.
  'multi',
  'exec',
  'discard',
  'exists',
  'type',
  'del',
] as const;

function aclDirectives(passwordHash: string): string[] {
  const grants = ALLOWED_COMMANDS.map((command) => `+${command}`).join(' ');
  return [
    // Off, and should anyone switch it on, still without a password or a command.
    'user default off resetpass -@all',
    // The hash, not the password: the config never holds the secret itself.
    `user ${TLS_REDIS_USER} on #${passwordHash} resetkeys ~${TLS_REDIS_KEY_PATTERN} resetchannels -@all ${grants}`,
  ];
}

/** ioredis options for the TLS server: client certificate, CA, and the ACL user. */
export function tlsRedisOptions(endpoint: TlsRedisEndpoint): RedisConnectionOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    password: endpoint.password,
    tls: {
      ca: fs.readFileSync(endpoint.caFile),
      cert: fs.readFileSync(endpoint.certFile),
      key: fs.readFileSync(endpoint.keyFile),
    },
  };
}

/**
 * A TLS-only Redis (no plain-text port) that requires a client certificate signed by its own CA
 * and an ACL user restricted to `queueshift:*` keys and stream commands; the default user is off.
 */
export async function startTlsRedis(ctx: EnvContext): Promise<void> {
  const name = 'redis-tls';
  const pkiDir = path.join(ctx.dir(name), 'pki');
  const ca = ensureCa(pkiDir, 'ca', 'queueshift-redis-tls-ca');
  const server = ensureCert(ca, pkiDir, {
    name: 'server',
    commonName: 'queueshift-redis-tls',
    dnsNames: ['localhost'],
    ipAddresses: [LOOPBACK],
    usage: 'server',
  });
  const client = ensureCert(ca, pkiDir, { name: 'client', commonName: TLS_REDIS_USER, usage: 'client' });
  const password = crypto.randomBytes(24).toString('base64url');
  const endpoint: TlsRedisEndpoint = {
    host: LOOPBACK,
    port: await freePort(),
    daemon: name,
    caFile: ca.certFile,
    certFile: client.certFile,
    keyFile: client.keyFile,
    username: TLS_REDIS_USER,
    password,
  };
  await startRedisDaemon(ctx, {
    name,
    port: endpoint.port,
    tls: true,
    directives: [
      ...NO_EVICTION_NO_SNAPSHOTS,
      `tls-cert-file ${server.certFile}`,
      `tls-key-file ${server.keyFile}`,
      `tls-ca-cert-file ${ca.certFile}`,
      'tls-auth-clients yes',
      ...aclDirectives(crypto.createHash('sha256').update(password).digest('hex')),
    ],
    probe: () => answersPing(tlsRedisOptions(endpoint)),
  });
  ctx.state.tlsRedis = endpoint;
  ctx.save();
  ctx.info(
    `redis with TLS and ACLs at ${LOOPBACK}:${endpoint.port} (user ${TLS_REDIS_USER}, CA ${ca.certFile})`,
  );
}
