import { dueRound } from '../../../../src/operator/analysis/analysis-round.ts';
import type { RoundReadings } from '../../../../src/operator/analysis/analysis-engine.ts';
import { metricsForStage } from '../../../../src/operator/analysis/metric-catalog.ts';
import type { Reading } from '../../../../src/operator/analysis/reading.ts';
import { RolloutHealthGate } from '../../../../src/operator/analysis/rollout-health-gate.ts';
import type { Verdict } from '../../../../src/operator/analysis/verdict.ts';
import type { Known } from '../../../../src/adapter/types.ts';
import { queueMigrationSpec, type QueueMigrationSpec } from '../../../../src/operator/api/spec-schema.ts';
import type { QueueMigrationStatus } from '../../../../src/operator/api/status-schema.ts';
import type { Action, ContainerSettings, Decision } from '../../../../src/operator/stages/actions.ts';
import { TLS_VOLUME } from '../../../../src/operator/stages/container-settings.ts';
import type { ControlTokens } from '../../../../src/operator/stages/controls.ts';
import type {
  DeploymentObservation,
  EnvEntry,
  Observations,
  SqsRemainder,
} from '../../../../src/operator/stages/observations.ts';
import { PASSING_PREFLIGHT } from '../preflight-fixtures.ts';
import { roundClockOf } from '../../../../src/operator/stages/analysis-step.ts';
import { decide } from '../../../../src/operator/stages/stage-machine.ts';
import { minimalSpec } from '../fixtures/migrations.ts';

export const T0 = Date.parse('2026-11-26T10:00:00.000Z');

/** A spec with one-second waits, so that tests reason in seconds. */
export function fastSpec(overrides: Record<string, unknown> = {}): QueueMigrationSpec {
  return queueMigrationSpec.parse({
    ...minimalSpec(),
    stages: {
      dual: { duration: '10s' },
      staging: { duration: '10s' },
      canary: {
        steps: [
          { weight: 25, duration: '10s' },
          { weight: 50, duration: '10s' },
        ],
      },
      full: { bakeTime: '10s', drainWindow: '60s' },
      cleanup: { stabilityWindow: '10s' },
    },
    analysis: { interval: '1s' },
    ...overrides,
  });
}

/** A reading that meets the metric's threshold exactly (the bound itself passes `<=` and `>=`). */
function passing(threshold: { operator: string; value: number }): Reading {
  const nudge = threshold.operator === '<' ? -1 : threshold.operator === '>' ? 1 : 0;
  return { kind: 'value', value: threshold.value + nudge };
}

export const SQS_ENV: EnvEntry[] = [
  { name: 'QUEUE_TYPE', value: 'sqs' },
  { name: 'SQS_QUEUE_URL', value: 'https://sqs.eu-west-1.amazonaws.com/123456789012/github-webhooks' },
];

/** A Deployment as observed, rolled out, with the given container env. */
export function observed(name: string, env: EnvEntry[], replicas = 2): DeploymentObservation {
  return {
    name,
    replicas,
    generation: 1,
    observedGeneration: 1,
    updatedReplicas: replicas,
    availableReplicas: replicas,
    totalReplicas: replicas,
    progressDeadlineExceeded: false,
    crashLoopingPods: [],
    container: { env, volumeMounts: [] },
    volumes: [],
    foreignFields: [],
  };
}

/**
 * The inputs of the pure stage machine over time: Deployments whose env changes when the
 * machine's actions say so, whose rollouts finish when the test says so, and the status the last
 * decision wrote. It applies actions the way the controller's server-side apply would (the
 * operator's variables replaced, a template change bumping the generation); it is test data, not
 * a stand-in for the API server.
 */
export class SimulatedDeployments {
  readonly deployments = new Map<string, DeploymentObservation>();
  readonly canaries = new Map<string, DeploymentObservation>();
  status: QueueMigrationStatus = {};
  spec: QueueMigrationSpec;
  now = T0;
  tokens: ControlTokens = {};
  finalizerPresent = false;
  deleting = false;
  /** Rollouts finish on their own after each pass unless this is false. */
  autoRollout = true;
  sqsDepth: Known<number> | undefined = { known: true, value: 0 };
  redisBacklog: Known<number> | undefined = { known: true, value: 0 };
  sqsRemainder: SqsRemainder | undefined = { queue: { known: true, value: 0 }, deadLetters: 'none' };
  extraVerdicts: Verdict[] = [];
  /** What each metric reads when a round is due; by default every metric meets its threshold. */
  readings = new Map<string, Reading>();
  readonly decisions: Decision[] = [];

  constructor(spec: QueueMigrationSpec = fastSpec()) {
    this.spec = spec;
    for (const target of [...spec.producers, ...spec.consumers]) {
      this.deployments.set(target.name, observed(target.name, structuredClone(SQS_ENV)));
    }
  }

  deployment(name: string): DeploymentObservation {
    const found = this.deployments.get(name) ?? this.canaries.get(name.replace(/-canary$/, ''));
    if (found === undefined) throw new Error(`no Deployment ${name}`);
    return found;
  }

  env(name: string, variable: string): string | undefined {
    const entry = this.deployment(name).container?.env.find((e) => e.name === variable);
    return entry?.value;
  }

  /** One reconcile: decide from the current inputs, then carry out the actions. */
  async pass(): Promise<Decision> {
    const all = [...this.deployments.values(), ...this.canaries.values()];
    const verdicts = [
      ...(await new RolloutHealthGate().evaluate({
        stage: this.status.stage,
        step: 0,
        deployments: all,
        now: this.now,
      })),
      ...this.extraVerdicts,
    ];
    const decision = this.passObserving({
      verdicts,
      ...this.measure(),
      ...(this.sqsDepth !== undefined && { sqsDepth: this.sqsDepth }),
      ...(this.redisBacklog !== undefined && { redisBacklog: this.redisBacklog }),
      ...(this.sqsRemainder !== undefined && { sqsRemainder: this.sqsRemainder }),
    });
    if (this.autoRollout) this.finishRollouts();
    this.decisions.push(decision);
    return decision;
  }

  /**
   * One reconcile with observations the test gives rather than ones the simulation measures (no
   * rollout verdicts unless given), its actions carried out: for inputs the simulation does not model.
   */
  passObserving(given: Partial<Observations>): Decision {
    const decision = decide({
      spec: this.spec,
      status: this.status,
      generation: 1,
      tokens: this.tokens,
      finalizerPresent: this.finalizerPresent,
      deleting: this.deleting,
      now: this.now,
      observations: {
        deployments: this.deployments,
        canaries: this.canaries,
        verdicts: [],
        preflight: PASSING_PREFLIGHT,
        ...given,
      },
    });
    for (const action of decision.actions) this.carryOut(action);
    return decision;
  }

  /** The due analysis round, measured as the reconciler would: one reading per applicable metric. */
  private measure(): { analysis?: RoundReadings } {
    const clock = roundClockOf(this.spec, this.status);
    const due =
      clock && this.status.phase === 'Progressing'
        ? dueRound(clock, this.status.analysis, this.now)
        : undefined;
    if (clock === undefined || due === undefined) return {};
    const metrics = metricsForStage(this.spec.analysis, clock.stage);
    const readings = new Map(metrics.map((m) => [m.name, this.readings.get(m.name) ?? passing(m.threshold)]));
    return { analysis: { due, readings } };
  }

  /** Passes `seconds` of time, one pass per second. */
  async run(seconds: number): Promise<void> {
    for (let i = 0; i < seconds; i += 1) {
      this.now += 1_000;
      await this.pass();
    }
  }

  /** Passes until `done` holds (at most `limit` seconds). */
  async runUntil(done: () => boolean, limit = 600): Promise<void> {
    for (let i = 0; i < limit && !done(); i += 1) {
      this.now += 1_000;
      await this.pass();
    }
    if (!done())
      throw new Error(
        `not reached within ${limit} s: phase ${this.status.phase ?? ''}, ${this.status.message ?? ''}`,
      );
  }

  finishRollouts(): void {
    for (const d of [...this.deployments.values(), ...this.canaries.values()]) {
      d.observedGeneration = d.generation;
      d.updatedReplicas = d.replicas;
      d.availableReplicas = d.replicas;
      d.totalReplicas = d.replicas;
    }
  }

  /** Variables each Deployment's container got from the operator's last apply. */
  private readonly applied = new Map<string, Set<string>>();

  /**
   * Server-side apply of the operator's fields: its variables are set (taking them over from
   * their previous owner), and those it applied last time but not now are removed.
   */
  private applyTo(deployment: DeploymentObservation, settings: ContainerSettings): void {
    const names = new Set(settings.env.map((e) => e.name));
    const before = this.applied.get(deployment.name) ?? new Set<string>();
    const kept = (deployment.container?.env ?? []).filter((e) => !names.has(e.name) && !before.has(e.name));
    const env = [...kept, ...structuredClone(settings.env)];
    this.applied.set(deployment.name, names);
    const volumes = settings.tlsVolume === undefined ? [] : [TLS_VOLUME];
    const volumeMounts =
      settings.tlsVolume === undefined ? [] : [{ name: TLS_VOLUME, mountPath: settings.tlsVolume.mountPath }];
    const changed =
      JSON.stringify(env) !== JSON.stringify(deployment.container?.env) ||
      JSON.stringify(volumes) !== JSON.stringify(deployment.volumes);
    deployment.container = { env, volumeMounts };
    deployment.volumes = volumes;
    if (changed) this.startRollout(deployment);
  }

  private startRollout(deployment: DeploymentObservation): void {
    deployment.generation += 1;
    deployment.updatedReplicas = 0;
  }

  carryOut(action: Action): void {
    switch (action.kind) {
      case 'addFinalizer':
        this.finalizerPresent = true;
        break;
      case 'removeFinalizer':
        this.finalizerPresent = false;
        break;
      case 'writeStatus':
        this.status = structuredClone(action.status);
        break;
      case 'applySettings':
        this.applyTo(this.deployment(action.deployment), action.settings);
        break;
      case 'applyCanary': {
        const canary =
          this.canaries.get(action.producer) ?? observed(action.name, structuredClone(SQS_ENV), 0);
        this.canaries.set(action.producer, canary);
        if (canary.replicas !== action.replicas) {
          canary.replicas = action.replicas;
          this.startRollout(canary);
        }
        this.applyTo(canary, action.settings);
        break;
      }
      case 'deleteCanary':
        this.canaries.delete(action.producer);
        this.applied.delete(action.name);
        break;
      case 'recordEvent':
        break;
    }
  }
}

export function reasons(sim: SimulatedDeployments): string[] {
  return (sim.status.history ?? []).map((entry) => entry.reason);
}
