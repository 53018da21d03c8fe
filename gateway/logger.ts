import { trace } from '@opentelemetry/api';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** Structured fields only: ids, sizes, durations, codes. Never payloads, plaintexts, ciphertexts or keys. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type Logger = {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
};

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type CreateLoggerOptions = {
  level: LogLevel;
  format: 'text' | 'json';
  /** Where lines go (default stderr), injectable so tests can read exactly what was logged. */
  write?: (line: string) => void;
  now?: () => Date;
};

/**
 * A small structured logger. Its API takes only flat scalar fields, which makes it awkward by design to
 * log a buffer or a tensor: privacy is the product, and the log is the most common leak.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const threshold = RANK[options.level];
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields: LogFields = {}) => {
    if (RANK[level] < threshold) return;
    const time = now().toISOString();
    // The active span (the request being served), so a log line and its trace can be found from each other.
    const span = trace.getActiveSpan()?.spanContext();
    const ids = span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
    if (options.format === 'json') {
      write(JSON.stringify({ time, level, msg: message, ...ids, ...fields }));
    } else {
      const extras = Object.entries({ ...ids, ...fields })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extras ? ` ${extras}` : ''}`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
