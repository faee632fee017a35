#!/usr/bin/env node
import { helpText, parseCli } from './cli';
import { loadConfig } from './config';
import { ProblemsError } from './contract';
import { useIpv4TokenExchangeService } from './credentials';
import { LOCAL_MODE_NOT_BUNDLED, providedLocalMode } from './local-mode-slot';
import { createLogger, describeError } from './logger';
import { runConnector, type RunningConnector } from './run';

/** Exit code for a command line or configuration the connector cannot run with. */
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<void> {
  // A bug in a callback must not take queued records down with the process: log it and carry on. Installed before
  // anything starts, as are the signal handlers below, so that no phase of start-up is without them.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`Unhandled rejection: ${describeError(reason).errorMessage}\n`);
  });
  let cli;
  try {
    cli = parseCli(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nRun firehose-connector --help for the options.\n`);
    process.exit(EXIT_USAGE);
  }
  if (cli.help) {
    process.stdout.write(helpText());
    return;
  }

  let running: RunningConnector | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    // Greengrass's Shutdown step sends SIGTERM, and the nucleus sends another when the step ends: the second one must
    // not cut the flush short (the nucleus's SIGKILL 5 s later remains the hard stop).
    if (stopping) {
      process.stderr.write(`Received ${signal} again: still flushing queued records\n`);
      return;
    }
    stopping = true;
    if (running === undefined) {
      // Still loading the configuration or starting the local mode's broker: nothing is queued yet.
      process.stderr.write(`Received ${signal} before the connector started: exiting\n`);
      process.exit(0);
    }
    process.stderr.write(`Received ${signal}: flushing queued records before exit\n`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Shutdown failed: ${describeError(error).errorMessage}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    if (cli.local) {
      const runLocal = providedLocalMode();
      if (runLocal === undefined) {
        process.stderr.write(LOCAL_MODE_NOT_BUNDLED);
        process.exit(EXIT_USAGE);
      }
      running = await runLocal({ configFile: cli.configFile });
    } else {
      useIpv4TokenExchangeService(process.env);
      const config = loadConfig({ file: cli.configFile, env: process.env });
      running = runConnector(config, { logger: createLogger(config.logLevel) });
    }
  } catch (error) {
    if (error instanceof ProblemsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`firehose-connector failed to start: ${describeError(error).errorMessage}\n`);
  process.exit(1);
});
