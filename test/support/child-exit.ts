import type { ChildProcess } from 'node:child_process';

/** True once the child has ended, by an exit code or by a signal (a SIGKILLed child keeps `exitCode === null`). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Resolves when the child has ended, at once if it already has. Waiting on `'exit'` alone hangs for good when the
 * event fired before the wait began, which is what happens after an `await` between the kill and the wait.
 */
export function childExit(child: ChildProcess): Promise<void> {
  return hasExited(child) ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}
