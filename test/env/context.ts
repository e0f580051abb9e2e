import fs from 'node:fs';
import type { EnvPaths } from './paths.ts';
import { startDaemon, type DaemonRecord, type DaemonSpec } from './processes.ts';
import { writeState, type EnvironmentState } from './state.ts';

/**
 * What each component's start function gets: where to put files, and a way to start daemons
 * that records them in the state file at once, so a failed `up` can still be torn down.
 */
export class EnvContext {
  readonly paths: EnvPaths;
  readonly state: EnvironmentState;
  private readonly log: (line: string) => void;

  constructor(paths: EnvPaths, state: EnvironmentState, log: (line: string) => void) {
    this.paths = paths;
    this.state = state;
    this.log = log;
    fs.mkdirSync(paths.logsDir, { recursive: true });
  }

  startDaemon(spec: DaemonSpec): DaemonRecord {
    const record = startDaemon(spec, this.paths.logsDir, this.state.marker);
    this.state.daemons.push(record);
    this.save();
    return record;
  }

  save(): void {
    writeState(this.paths.stateFile, this.state);
  }

  info(line: string): void {
    this.log(line);
  }

  /** A folder under the state folder for one component's generated files. */
  dir(name: string): string {
    const dir = `${this.paths.stateDir}/${name}`;
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}
