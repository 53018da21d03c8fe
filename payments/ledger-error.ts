/**
 * The ledgers' one error class. These are never a client's fault in a way the client could fix from a message:
 * they mark a caller bug (a commit above the ceiling, a second commit, a malformed argument) or a store that cannot
 * be used (a newer schema, a closed ledger). The engine maps every one of them to the public `internal` code; `code`
 * is stable for tests and logs; `message` names what is wrong and holds ids and amounts only, never a payload.
 */
export type LedgerErrorCode =
  /** An argument is malformed: not a uint128 amount, an empty id, a time that is not an integer. */
  | 'invalid_argument'
  /** commit() of a reservation that does not exist (never made, released, reaped). */
  | 'reservation_unknown'
  /** commit() of a reservation that was already committed: a request is charged at most once. */
  | 'reservation_committed'
  /** commit() with actual > the reservation's ceiling: the call costs more than the client agreed to. */
  | 'actual_exceeds_ceiling'
  /** recordClaim() of a transaction already recorded, or settleClaim() of one never recorded. */
  | 'claim_exists'
  | 'claim_unknown'
  /** recordClaim() asks for more than the ledger charged on a channel (or for a channel it never saw). */
  | 'claim_exceeds_charged'
  /** The store's schema was written by a newer Veil: refuse rather than misread money. */
  | 'schema_too_new'
  /** A money rule would break (charged above signedMax, reserved below zero): the store was changed outside the ledger. */
  | 'invariant_violated'
  | 'ledger_closed';

export class LedgerError extends Error {
  override name = 'LedgerError' as const;
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isLedgerError(value: unknown, code?: LedgerErrorCode): value is LedgerError {
  return value instanceof LedgerError && (code === undefined || value.code === code);
}
