/**
 * Runs `work` while the process `pid` is frozen with SIGSTOP, and thaws it with SIGCONT whatever
 * `work` does. A frozen server keeps its memory and its listening socket: clients connect (the
 * kernel completes the handshake) and then wait for an answer that never comes, as with a server
 * that hangs. That is how the SQS emulator is made unreachable: it keeps its queues in memory
 * only, so a restart would lose them, which real SQS never does.
 */
export async function whileFrozen<T>(pid: number, work: () => Promise<T>): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
