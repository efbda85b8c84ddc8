// Structured JSON log lines on stdout, one object per line, and the most recent lines kept in memory
// so an alert can carry the evidence that led to it.

export type LogLevel = 'info' | 'warn' | 'error' | 'fatal';
export type LogFields = Record<string, unknown>;

export const LOG_BUFFER_LINES = 200;

export interface LogOptions {
  /** Where each finished line goes (without the newline); stdout by default. */
  write?: (line: string) => void;
  now?: () => number;
  capacity?: number;
}

export class Log {
  private readonly lines: string[] = [];
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly capacity: number;

  constructor(options: LogOptions = {}) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.capacity = options.capacity ?? LOG_BUFFER_LINES;
  }

  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }

  fatal(msg: string, fields?: LogFields): void {
    this.emit('fatal', msg, fields);
  }

  /** The last `count` lines, oldest first. */
  recent(count = this.capacity): string[] {
    return count > 0 ? this.lines.slice(-count) : [];
  }

  private emit(level: LogLevel, msg: string, fields: LogFields = {}): void {
    const record: LogFields = { time: new Date(this.now()).toISOString(), level, msg };
    // A field cannot overwrite time, level or msg: readers rely on them.
    for (const [key, value] of Object.entries(fields)) if (!(key in record)) record[key] = value;
    const line = JSON.stringify(record, errorReplacer);
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    this.write(line);
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
