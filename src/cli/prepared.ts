import type { Logger } from 'pino';
import type { Service } from '../observability/service.ts';

/** A service built from a valid configuration, ready to run. */
export interface Prepared {
  service: Service;
  logger: Logger;
  /** How long a graceful shutdown may take before the process gives up on it. */
  stopBudgetMs: number;
}
