#!/usr/bin/env node
/**
 * Entry point: argv → config → relay.start(); SIGTERM/SIGINT → graceful close → exit 0; SIGHUP → re-read the config
 * file and reload it (an invalid file is refused and logged; the running config is kept).
 * Exit codes: 0 ok, 1 runtime failure (e.g. a port in use), 2 usage or config error.
 */
import { ConfigError } from './config/errors.js';
import { loadConfigFile } from './config/load.js';
import { LOG_LEVELS } from './config/enums.js';
import { parseArgs, USAGE, UsageError, type MainArgs } from './cli-args.js';
import { Relay } from './relay.js';
import { createLogger, type LogLevel } from './telemetry/logger.js';
import { VERSION } from './version.js';

async function main(argv: readonly string[]): Promise<number> {
  let args: MainArgs;
  try {
    args = parseArgs(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`influx-relay: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`influx-relay ${VERSION}\n`);
      return 0;
    case 'haproxy': {
      const { haproxyCommand } = await import('./haproxy/cli.js');
      return haproxyCommand([...args.rest]);
    }
    case 'missed': {
      const { missedCommand } = await import('./integrity/cli.js');
      return missedCommand([...args.rest]);
    }
    case 'verify': {
      const { verifyCommand } = await import('./integrity/verify-cli.js');
      return verifyCommand([...args.rest]);
    }
    case 'repair': {
      const { repairCommand } = await import('./integrity/repair-cli.js');
      return repairCommand([...args.rest]);
    }
    case 'status': {
      const { statusCommand } = await import('./status/cli.js');
      return statusCommand([...args.rest]);
    }
    case 'check':
    case 'run':
      return runOrCheck(args);
  }
}

async function runOrCheck(args: MainArgs): Promise<number> {
  if (args.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(args.logLevel)) {
    process.stderr.write(`influx-relay: -log-level must be one of ${LOG_LEVELS.join(', ')}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfigFile(args.config!);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`influx-relay: invalid config:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.command === 'check') {
    process.stdout.write(`${args.config}: ok\n`);
    return 0;
  }

  const logger = createLogger((args.logLevel ?? config.logLevel) as LogLevel);
  const relay = new Relay(config, logger);
  const file = args.config!;
  // Loading throws a ConfigError naming the key path; the caller keeps the running config.
  relay.reloadFromFile = async () => relay.reload(loadConfigFile(file));
  let started = false;
  // Installed before start(): a SIGHUP during startup must not kill the relay either (Node's default would).
  process.on('SIGHUP', () => {
    if (!started) return void logger.warn({ signal: 'SIGHUP' }, 'still starting: reload ignored, send it again');
    relay.reloadFromFile!().catch((err: unknown) => {
      const reason = err instanceof ConfigError ? err.message : (err as Error).message;
      logger.error({ signal: 'SIGHUP', config: file, error: reason }, 'reload refused: the running config is kept');
    });
  });
  try {
    await relay.start();
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    return 1;
  }
  started = true;
  logger.info({ version: VERSION, config: args.config }, 'relay started');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'signal received');
      relay.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let pino flush; then exit even if a stray handle would keep the loop alive.
    process.exitCode = code;
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`influx-relay: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
