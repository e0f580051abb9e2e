import { COMMIT_COMMANDS } from './commit-transaction.ts';
import { LuaScript } from './lua-script.ts';

// Every script takes KEYS[1] = lease key, KEYS[2] = done key (one hash slot), ARGV[1] = lease token.

/** ARGV[2] = lease ms. → {'done'} | {'acquired'} | {'held', remaining ms}. */
export const ACQUIRE = new LuaScript(
  'acquire',
  `
if redis.call('EXISTS', KEYS[2]) == 1 then return {'done'} end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'acquired'} end
return {'held', redis.call('PTTL', KEYS[1])}
`,
);

/** ARGV[2] = lease ms. → 1 renewed, 0 the lease is no longer ours. */
export const RENEW = new LuaScript(
  'renew',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`,
);

/** → 1 released, 0 the lease was not ours (expired, or taken by another worker). */
export const RELEASE = new LuaScript(
  'release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
);

/**
 * Shared head of the two finishing scripts. A done mark under our own token means an earlier try of
 * this very step landed after the client gave up on it (a command timeout while the connection was
 * re-established): that is our success. A missing lease (expired while the handler ran) does not
 * stop them: nobody else is running the delivery then, and the work did succeed. Only a lease held
 * under another token means another worker has it now.
 */
const finishGuard = (landed: string): string => `
local done = redis.call('GET', KEYS[2])
if done == ARGV[1] then return '${landed}' end
if done then return 'already-done' end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 'lost' end
`;

/** Writes the done mark under the token; ARGV[2] = retention ms. */
const FINISH = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if holder then redis.call('DEL', KEYS[1]) end
`;

/** ARGV[2] = retention ms. → 'marked' | 'already-done' | 'lost'. */
export const MARK_DONE = new LuaScript(
  'mark-done',
  `${finishGuard('marked')}${FINISH}
return 'marked'
`,
);

const allowedCommands = Object.entries(COMMIT_COMMANDS)
  .map(([command, type]) => `${command} = '${type}'`)
  .join(', ');

/**
 * ARGV[2] = retention ms, ARGV[3] = JSON list of [command, KEYS index, args...]; KEYS[3..] are the
 * effect keys. → 'committed' | 'already-done' | 'lost'.
 *
 * Redis does not roll back a script that fails half-way, so every command, key type and counter is
 * checked before the first write (tracking the type each earlier operation leaves behind). Refusals
 * start with QSCOMMIT; any other error would come from a write itself.
 */
export const COMMIT = new LuaScript(
  'commit',
  `${finishGuard('committed')}
local allowed = { ${allowedCommands} }
local function refuse(message) return redis.error_reply('QSCOMMIT ' .. message) end
local function integer(value) return value == false or string.match(value, '^-?%d+$') ~= nil end
local ops = cjson.decode(ARGV[3])
local types = {}
for _, op in ipairs(ops) do
  local command, key = op[1], KEYS[op[2]]
  local want = allowed[command]
  if not want then return refuse(tostring(command) .. ' is not allowed in a commit') end
  local have = types[key] or redis.call('TYPE', key)['ok']
  if want ~= 'any' and have ~= 'none' and have ~= want then
    return refuse(command .. ' needs a ' .. want .. ' but ' .. key .. ' holds a ' .. have)
  end
  if command == 'incrby' and have == 'string' and not integer(redis.call('GET', key)) then
    return refuse('incrby on ' .. key .. ', which does not hold an integer')
  end
  if command == 'hincrby' and have == 'hash' and not integer(redis.call('HGET', key, op[3])) then
    return refuse('hincrby on field ' .. op[3] .. ' of ' .. key .. ', which does not hold an integer')
  end
  if command == 'del' then types[key] = 'none' elseif want ~= 'any' then types[key] = want end
end
for _, op in ipairs(ops) do
  redis.call(op[1], KEYS[op[2]], unpack(op, 3))
end
${FINISH}
return 'committed'
`,
);
