/**
 * Every transition has its own reason: it names the history entry and the Event, so a user can
 * select Events by reason (`kubectl get events --field-selector reason=RollbackStarted`).
 */
export const TRANSITION_REASONS = {
  DualStarted: { type: 'Normal', description: 'Originals recorded; consumers read both queues.' },
  PreflightFailed: {
    type: 'Warning',
    description: 'A preflight check failed: the migration stays Pending and nothing is patched.',
  },
  StagingStarted: { type: 'Normal', description: 'The rehearsal stage began.' },
  CanaryStepStarted: { type: 'Normal', description: 'A canary step began; canaries publish to Redis.' },
  FullStarted: { type: 'Normal', description: 'Producers publish to Redis, with SQS as fallback.' },
  ConsumersSwitched: { type: 'Normal', description: 'SQS drained; consumers read only Redis.' },
  CleanupStarted: { type: 'Normal', description: 'The stability window began.' },
  FallbackRemoved: { type: 'Normal', description: 'Producers no longer fall back to SQS.' },
  QueueDeleted: {
    type: 'Normal',
    description:
      'Cleanup deletes the swept SQS queue, as spec.stages.cleanup.deleteQueue asks; no rollback after this.',
  },
  Succeeded: { type: 'Normal', description: 'The migration is complete.' },
  RollbackStarted: {
    type: 'Warning',
    description: 'A failed gate, an abort or a deletion started a rollback.',
  },
  RollbackConsumersToDual: { type: 'Normal', description: 'Rollback: consumers read both queues again.' },
  RollbackProducersToOriginal: { type: 'Normal', description: 'Rollback: producers publish to SQS again.' },
  RollbackDrainRedis: { type: 'Normal', description: 'Rollback: waiting for the Redis backlog to drain.' },
  RollbackConsumersToOriginal: {
    type: 'Normal',
    description: 'Rollback: consumers get their recorded settings back.',
  },
  RollbackStepFailing: {
    type: 'Warning',
    description: 'A rollback step is failing; it is retried, never skipped.',
  },
  RollbackMoverStarted: {
    type: 'Warning',
    description: 'Consumers made no progress draining Redis: the operator moves the entries to SQS itself.',
  },
  RollbackRefused: {
    type: 'Warning',
    description:
      'A rollback was asked for after cleanup deleted the SQS queue: there is nothing to go back to.',
  },
  RolledBack: { type: 'Normal', description: 'Every Deployment has its original settings again.' },
  Promoted: { type: 'Normal', description: 'A promote token skipped time, metric and approval waits.' },
  Aborted: { type: 'Warning', description: 'An abort token was handled.' },
  Retried: { type: 'Normal', description: 'A retry token restarted the migration or cleared a conflict.' },
  ControlIgnored: {
    type: 'Normal',
    description: 'A token that does not apply in the current phase was recorded as handled.',
  },
  Paused: { type: 'Normal', description: 'spec.paused holds the migration.' },
  Resumed: { type: 'Normal', description: 'The migration continues.' },
  FieldConflict: {
    type: 'Warning',
    description: 'Another field manager changed a field the operator manages; the migration paused.',
  },
  GatesFailing: {
    type: 'Warning',
    description: 'A gate failed and automatic rollback is off: the migration paused.',
  },
  AnalysisInconclusive: {
    type: 'Warning',
    description: 'Metrics had no data past the inconclusive limit: the migration paused.',
  },
  FinalizerReleased: { type: 'Normal', description: 'Deletion may proceed.' },
} as const satisfies Record<string, { type: 'Normal' | 'Warning'; description: string }>;

export type TransitionReason = keyof typeof TRANSITION_REASONS;
