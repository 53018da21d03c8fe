import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './logger';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

describe('log lines carry the active span', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => context.disable());

  const inSpan = (fn: () => void) => context.with(trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }), fn);

  test('json: trace_id and span_id when a span is active, neither otherwise', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l), now: () => new Date(0) });
    inSpan(() => logger.info('rpc ok', { rpc: 'Predict' }));
    logger.info('outside');
    expect(JSON.parse(lines[0]!)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'rpc ok', trace_id: TRACE_ID, span_id: SPAN_ID, rpc: 'Predict' });
    expect(JSON.parse(lines[1]!)).toEqual({ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'outside' });
  });

  test('text: the same ids as key=value', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'text', write: (l) => lines.push(l), now: () => new Date(0) });
    inSpan(() => logger.warn('slow'));
    expect(lines[0]).toBe(`1970-01-01T00:00:00.000Z WARN  slow trace_id=${TRACE_ID} span_id=${SPAN_ID}`);
  });

  test('an invalid (all-zero) span context adds nothing', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l), now: () => new Date(0) });
    context.with(trace.setSpanContext(context.active(), { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }), () => logger.info('x'));
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('trace_id');
  });
});
