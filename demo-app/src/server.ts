// Entry point: read the configuration, serve, and stop promptly on SIGTERM/SIGINT.
// Runs under tsx and bundled to CommonJS by esbuild, so no import.meta and no top-level await.
import { createDemoApp } from './app.js';
import { ConfigError, type DemoConfig, loadConfig } from './config.js';
import { Log } from './log.js';

/** Hung requests are cut off, so stopping is quick; this is the backstop. */
const SHUTDOWN_DEADLINE_MS = 1000;

function configOrExit(): DemoConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    new Log().fatal('invalid configuration; fix these environment variables and start again', { problems });
    process.exit(1);
  }
}

function main(): void {
  const config = configOrExit();
  const demo = createDemoApp(config);

  process.on('uncaughtException', (err) => {
    demo.log.fatal('uncaught exception, process exiting', { error: err.stack ?? err.message });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    demo.log.fatal('unhandled promise rejection, process exiting', {
      error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
    process.exit(1);
  });

  demo.listen(config.port, config.host).catch((err: Error) => {
    demo.log.fatal('could not listen; is the port in use?', {
      host: config.host,
      port: config.port,
      error: err.message,
    });
    process.exit(1);
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(0);
    stopping = true;
    demo.log.info('shutting down', { signal });
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    void demo.close().then(() => {
      demo.log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
