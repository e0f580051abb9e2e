import type { StageName } from '../api/stages-schema.ts';
import type { DeploymentObservation } from '../stages/observations.ts';
import type { Verdict } from './verdict.ts';

/** What a gate may look at. Providers (Redis, Prometheus, probes) are the gate's own business. */
export interface GateContext {
  stage: StageName | undefined;
  step: number;
  /** Producers, consumers and canaries, as last observed. */
  deployments: readonly DeploymentObservation[];
  now: number;
}

/**
 * The one interface every check plugs in through. A gate never throws for a failed measurement:
 * it reports `error` (provider unreachable) or `inconclusive` (no data) in its verdicts instead.
 */
export interface Gate {
  readonly name: string;
  evaluate(context: GateContext): Promise<Verdict[]>;
}
