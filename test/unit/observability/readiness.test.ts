import { describe, expect, it } from 'vitest';
import { Readiness, type ReadinessLogger } from '../../../src/observability/readiness.ts';
import { ManualClock, settle } from '../../support/manual-clock.ts';

/** A dependency check the test answers by hand. */
class Dependency {
  calls = 0;
  private answer: ((error?: Error) => void) | undefined;

  readonly check = (): Promise<void> => {
    this.calls += 1;
    return new Promise((resolve, reject) => {
      this.answer = (error) => {
        if (error) reject(error);
        else resolve();
      };
    });
  };

  respond(error?: Error): void {
    this.answer?.(error);
  }
}

class Notes implements ReadinessLogger {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(fields: { reason: string }, message: string): void {
    this.lines.push(`warn ${message}: ${fields.reason}`);
  }
}

function setup(): { clock: ManualClock; dependency: Dependency; notes: Notes; readiness: Readiness } {
  const clock = new ManualClock();
  const dependency = new Dependency();
  const notes = new Notes();
  const readiness = new Readiness({
    check: dependency.check,
    timeoutMs: 2_000,
    clock,
    logger: notes,
  });
  return { clock, dependency, notes, readiness };
}

describe('readiness', () => {
  it('is ready when the check answers, and not ready with its reason when it fails', async () => {
    const { dependency, readiness } = setup();

    const first = readiness.probe();
    dependency.respond();
    expect(await first).toEqual({ ready: true });

    const second = readiness.probe();
    dependency.respond(new Error('ECONNREFUSED 127.0.0.1:6379'));
    expect(await second).toEqual({ ready: false, reason: 'ECONNREFUSED 127.0.0.1:6379' });
  });

  it('names every cause when none of several back ends answers', async () => {
    const { dependency, readiness } = setup();

    const probe = readiness.probe();
    dependency.respond(
      new AggregateError([new Error('sqs: refused'), new Error('redis: timeout')], 'all failed'),
    );

    expect(await probe).toEqual({ ready: false, reason: 'sqs: refused; redis: timeout' });
  });

  it('counts a check that hangs past its timeout as not ready', async () => {
    const { clock, readiness } = setup();

    const probe = readiness.probe();
    await clock.advance(2_000);

    expect(await probe).toEqual({ ready: false, reason: 'dependencies did not answer within 2000 ms' });
    expect(clock.scheduled).toBe(0);
  });

  it('shares one check among probes that arrive while it runs', async () => {
    const { dependency, readiness } = setup();

    const probes = [readiness.probe(), readiness.probe(), readiness.probe()];
    dependency.respond();

    expect(await Promise.all(probes)).toEqual([{ ready: true }, { ready: true }, { ready: true }]);
    expect(dependency.calls).toBe(1);
  });

  it('logs each change between ready and not ready once', async () => {
    const { dependency, readiness, notes } = setup();
    const answer = async (error?: Error): Promise<void> => {
      const probe = readiness.probe();
      await settle();
      dependency.respond(error);
      await probe;
    };

    await answer();
    await answer(new Error('down'));
    await answer(new Error('still down'));
    await answer();

    expect(notes.lines).toEqual(['warn not ready: down', 'info ready again']);
  });

  it('is never ready once draining, without asking the dependencies', async () => {
    const { dependency, readiness } = setup();

    readiness.drain();

    expect(await readiness.probe()).toEqual({ ready: false, reason: 'shutting down' });
    expect(dependency.calls).toBe(0);
  });
});
