/**
 * CPU time a benchmarked server spends, read from the outside (/proc/<pid>/stat), so that the
 * server under test carries no measuring code. On a shared machine requests/s move with the load
 * from elsewhere; CPU seconds per request do not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of utime and stime. */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User plus system CPU seconds the process has used so far (its threads included). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat: ${stat}`);
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds `pid` used while `work` ran, with what the work returned. */
export async function measureCpu<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const before = cpuSeconds(pid);
  const value = await work();
  return { value, cpu: cpuSeconds(pid) - before };
}
