/** Ledger channel ids of API-key budgets: never a real channel (those are 0x + 64 hex), so never claimed on chain. */
export const BUDGET_CHANNEL_PREFIX = 'apikey:';

export const budgetChannelId = (keyId: string): string => `${BUDGET_CHANNEL_PREFIX}${keyId}`;

export const isBudgetChannel = (channelId: string): boolean => channelId.startsWith(BUDGET_CHANNEL_PREFIX);
