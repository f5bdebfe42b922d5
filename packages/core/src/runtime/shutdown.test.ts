import { EventEmitter } from 'node:events';
import { createLogger } from './logger.ts';
import { SecretRedactor } from './secret-redactor.ts';
import { createShutdown, ShutdownHookError } from './shutdown.ts';

function setup(options: { timeoutMs?: number; forceOnSecondSignal?: boolean } = {}) {
  const exits: number[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const signals = new EventEmitter();
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    redactor: new SecretRedactor(),
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const shutdown = createShutdown({ ...options, logger, exit: (code) => void exits.push(code), signalSource: signals });
  return { exits, logs, signals, shutdown };
}

describe('GracefulShutdown', () => {
  test('runs hooks by order, then by registration, then exits 0', async () => {
    const { exits, shutdown } = setup();
    const ran: string[] = [];
    shutdown.onShutdown('revoke token', () => void ran.push('revoke token'), { order: 20 });
    shutdown.onShutdown('stop server', async () => void ran.push('stop server'), { order: 10 });
    shutdown.onShutdown('flush logs', () => void ran.push('flush logs'), { order: 30 });
    shutdown.onShutdown('stop workers', () => void ran.push('stop workers'), { order: 10 });
    expect(await shutdown.shutdown('test')).toBe(0);
    expect(ran).toEqual(['stop server', 'stop workers', 'revoke token', 'flush logs']);
    expect(exits).toEqual([0]);
  });

  test('is idempotent: hooks run once, exit is called once', async () => {
    const { exits, shutdown } = setup();
    let runs = 0;
    shutdown.onShutdown('count', () => void runs++);
    const first = shutdown.shutdown('one');
    const second = shutdown.shutdown('two', 3);
    expect(second).toBe(first);
    await first;
    await shutdown.shutdown('three');
    expect(runs).toBe(1);
    expect(exits).toEqual([0]);
  });

  test('a failing hook does not stop the others; the exit code becomes 1', async () => {
    const { exits, shutdown } = setup();
    const ran: string[] = [];
    shutdown.onShutdown('fails', () => {
      throw new Error('boom');
    });
    shutdown.onShutdown('still runs', () => void ran.push('still runs'));
    expect(await shutdown.shutdown('test')).toBe(1);
    expect(ran).toEqual(['still runs']);
    expect(exits).toEqual([1]);
  });

  test('keeps a requested non-zero exit code', async () => {
    const { exits, shutdown } = setup();
    await shutdown.shutdown('fatal error', 2);
    expect(exits).toEqual([2]);
  });

  test('a hook past its own timeout fails and the next one runs', async () => {
    const { logs, shutdown } = setup();
    const ran: string[] = [];
    shutdown.onShutdown('hangs', () => new Promise<void>(() => undefined), { timeoutMs: 20 });
    shutdown.onShutdown('next', () => void ran.push('next'));
    const started = Date.now();
    expect(await shutdown.shutdown('test')).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(ran).toEqual(['next']);
    expect(logs).toContainEqual(
      expect.objectContaining({
        hook: 'hangs',
        msg: 'shutdown hook failed',
        err: expect.objectContaining({ code: 'SHUTDOWN_HOOK_TIMEOUT' }),
      }),
    );
  });

  test('the overall budget stops a hung shutdown and skips the rest', async () => {
    const { exits, logs, shutdown } = setup({ timeoutMs: 50 });
    const ran: string[] = [];
    shutdown.onShutdown('hangs', () => new Promise<void>(() => undefined));
    shutdown.onShutdown('skipped', () => void ran.push('skipped'));
    expect(await shutdown.shutdown('test')).toBe(1);
    expect(ran).toEqual([]);
    expect(exits).toEqual([1]);
    expect(logs).toContainEqual(
      expect.objectContaining({ err: expect.objectContaining({ code: 'SHUTDOWN_BUDGET_EXCEEDED' }) }),
    );
    expect(logs).toContainEqual(expect.objectContaining({ skipped: ['skipped'] }));
  });

  test('SIGTERM starts the shutdown and aborts the signal', async () => {
    const { exits, signals, shutdown } = setup();
    let reason: unknown;
    shutdown.onShutdown('observe', (why) => void (reason = why));
    shutdown.listen();
    expect(shutdown.signal.aborted).toBe(false);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(shutdown.signal.aborted).toBe(true);
    expect(shutdown.isShuttingDown).toBe(true);
    await shutdown.shutdown('ignored');
    expect(reason).toBe('SIGTERM');
    expect(exits).toEqual([0]);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  test('a second signal while shutting down exits at once with 1', async () => {
    const { exits, signals, shutdown } = setup();
    const { promise: hookStarted, resolve: started } = Promise.withResolvers<() => void>();
    shutdown.onShutdown('slow', () => new Promise<void>((resolve) => started(resolve)));
    shutdown.listen();
    signals.emit('SIGINT', 'SIGINT');
    signals.emit('SIGINT', 'SIGINT');
    expect(exits).toEqual([1]);
    (await hookStarted)();
    await shutdown.shutdown('done');
    expect(exits).toEqual([1, 0]);
  });

  test('listen twice installs the handlers once; unlisten removes them', () => {
    const { signals, shutdown } = setup();
    shutdown.listen().listen();
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    expect(signals.listenerCount('SIGINT')).toBe(1);
    shutdown.unlisten();
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  test('a removed hook does not run', async () => {
    const { shutdown } = setup();
    let ran = false;
    const remove = shutdown.onShutdown('removed', () => void (ran = true));
    remove();
    await shutdown.shutdown('test');
    expect(ran).toBe(false);
  });

  test('ShutdownHookError names the hook', () => {
    const error = new ShutdownHookError('SHUTDOWN_HOOK_TIMEOUT', 'close server', 100);
    expect(error.message).toBe('shutdown hook "close server" did not finish within 100 ms');
    expect(error.code).toBe('SHUTDOWN_HOOK_TIMEOUT');
  });
});
