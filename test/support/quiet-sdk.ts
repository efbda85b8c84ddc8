// The Temporal SDK logs every worker state change at INFO; tests only want its warnings (but not that an
// activity-only worker, a host's or the runbook writer's, polls no workflows: that is by design).
import { DefaultLogger, type LogLevel, type LogMetadata, Runtime } from '@temporalio/worker';

class WarningsLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (!message.startsWith('No workflows registered')) super.log(level, message, meta);
  }
}

try {
  Runtime.install({ logger: new WarningsLogger('WARN') });
} catch {
  // already installed in this process
}
