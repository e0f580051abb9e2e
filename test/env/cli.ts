// `npm run env:up | env:down | env:status`: the test environment from a terminal.
import { down, environmentVariables, up } from './environment.ts';
import { envPaths } from './paths.ts';
import { isAlive } from './processes.ts';
import { readState } from './state.ts';

const log = (line: string): void => {
  console.error(`[env] ${line}`);
};

async function main(command: string | undefined): Promise<number> {
  const paths = envPaths();
  switch (command) {
    case 'up': {
      const state = await up(paths, log);
      console.log(`environment up (${state.daemons.length} processes); logs in ${paths.logsDir}`);
      for (const [name, value] of Object.entries(environmentVariables(state))) {
        if (!/SECRET|PASSWORD|TOKEN/.test(name)) console.log(`  ${name}=${value}`);
      }
      console.log(`use it from a shell: . ${paths.envFile}`);
      return 0;
    }
    case 'down':
      await down(paths, log);
      return 0;
    case 'status': {
      const state = readState(paths.stateFile);
      if (!state) {
        console.log('environment is not up');
        return 1;
      }
      for (const daemon of state.daemons) {
        console.log(
          `${isAlive(daemon.pid) ? 'running' : 'STOPPED'}  ${daemon.name} (pid ${daemon.pid}) ${daemon.logFile}`,
        );
      }
      return state.daemons.every((d) => isAlive(d.pid)) ? 0 : 1;
    }
    default:
      console.error('usage: node test/env/cli.ts up|down|status');
      return 2;
  }
}

process.exitCode = await main(process.argv[2]);
