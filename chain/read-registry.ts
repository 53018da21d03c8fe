/**
 * Shared wrapper for view calls so every read classifies its failures the same way.
 * @internal
 */
import { toChainError } from './to-chain-error';

export async function readRegistry<T>(operation: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw toChainError(err, operation);
  }
}
