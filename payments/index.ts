/**
 * `payments/`: per-call billing with payment channels (issue #11). This file is the module's public face; everything
 * else is internal. The ledger contract (`PaymentLedger`) and its two implementations: SQLite for one gateway,
 * PostgreSQL for several replicas.
 */
export type {
  ClaimableChannel,
  LedgerChannel,
  LedgerTotals,
  OnchainChannelState,
  PaymentLedger,
  PaymentReceipt,
  PendingClaim,
  ReserveRequest,
  ReserveResult,
} from './payment-ledger';
export { LedgerError, isLedgerError, type LedgerErrorCode } from './ledger-error';
export { openSqliteLedger, type OpenSqliteLedgerOptions } from './open-sqlite-ledger';
export { openPostgresLedger, type OpenPostgresLedgerOptions } from './open-postgres-ledger';
