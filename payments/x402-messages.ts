import { getAddress, type Address, type Hex } from 'viem';
import { PaymentError } from './payment-error';
import type { PaymentPayload, PaymentRequired, SettlementResponse } from './x402-types';

export type { ChannelPayment, ChannelStateView, PaymentPayload, PaymentRequired, PaymentRequirements, SettlementResponse, SignedUsage } from './x402-types';

/**
 * The x402 v2 messages Veil exchanges (coinbase/x402 specs/x402-specification-v2.md §5, transports-v2/http.md): the
 * same envelopes and header names, carried base64(JSON) in `PAYMENT-REQUIRED` (402), `PAYMENT-SIGNATURE` (the
 * client's payment) and `PAYMENT-RESPONSE` (the receipt), and in gRPC metadata of the same names. The scheme is
 * `veil-channel`: x402 `batch-settlement`'s shape (a channel config, a cumulative `Voucher(bytes32 channelId,
 * uint128 maxClaimableAmount)`, corrective state in `extra.channelState`) on Veil's own contract, whose EIP-712
 * domain differs, so it does not pretend to be `batch-settlement`.
 */
export const X402_VERSION = 2;
export const VEIL_CHANNEL_SCHEME = 'veil-channel';
export const PAYMENT_REQUIRED_HEADER = 'payment-required';
export const PAYMENT_SIGNATURE_HEADER = 'payment-signature';
export const PAYMENT_RESPONSE_HEADER = 'payment-response';
/** Headers past this are refused before decoding (a channel config and a voucher are ~700 bytes of base64). */
export const MAX_PAYMENT_HEADER_BYTES = 8 * 1024;

export function encodeX402(value: PaymentRequired | SettlementResponse | PaymentPayload): string {
  return Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const UINT = /^(0|[1-9][0-9]{0,38})$/;
const MAX_UINT128 = (1n << 128n) - 1n;

/**
 * Reads a client's `PAYMENT-SIGNATURE` (base64 JSON PaymentPayload of the `veil-channel` scheme). Every problem is a
 * `payment_invalid` naming the field; nothing of the header's content is echoed beyond the field's name.
 */
export function decodePaymentPayload(header: string): PaymentPayload {
  const bad = (what: string): never => {
    throw new PaymentError('payment_invalid', `${PAYMENT_SIGNATURE_HEADER}: ${what}`);
  };
  if (header.length > MAX_PAYMENT_HEADER_BYTES) bad(`longer than ${MAX_PAYMENT_HEADER_BYTES} bytes`);
  const text = header.trim();
  if (!BASE64.test(text) || text.length % 4 !== 0) bad('is not base64');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    bad('is not base64-encoded JSON');
  }
  const v = object(value, 'the payload', bad);
  if (v.x402Version !== X402_VERSION) bad(`x402Version must be ${X402_VERSION}`);
  const accepted = object(v.accepted, 'accepted', bad);
  if (accepted.scheme !== VEIL_CHANNEL_SCHEME) bad(`accepted.scheme must be ${VEIL_CHANNEL_SCHEME}`);
  if (typeof accepted.network !== 'string' || !/^eip155:[0-9]{1,20}$/.test(accepted.network)) bad('accepted.network must be eip155:<chain id>');
  const payload = object(v.payload, 'payload', bad);
  const config = object(payload.config, 'payload.config', bad);
  const voucher = object(payload.voucher, 'payload.voucher', bad);
  const address = (x: unknown, name: string): Address => (typeof x === 'string' && ADDRESS.test(x) ? getAddress(x) : bad(`${name} must be a 20-byte hex address`));
  const delay = config.withdrawDelay;
  if (!Number.isSafeInteger(delay) || (delay as number) < 0 || (delay as number) > 2 ** 40 - 1) bad('payload.config.withdrawDelay must be a uint40 number of seconds');
  if (typeof config.salt !== 'string' || !BYTES32.test(config.salt)) bad('payload.config.salt must be 32 bytes of hex');
  if (typeof voucher.channelId !== 'string' || !BYTES32.test(voucher.channelId)) bad('payload.voucher.channelId must be 32 bytes of hex');
  const max = voucher.maxClaimableAmount;
  if (typeof max !== 'string' || !UINT.test(max) || BigInt(max) > MAX_UINT128) bad('payload.voucher.maxClaimableAmount must be a decimal uint128 string');
  if (typeof voucher.signature !== 'string' || !SIGNATURE.test(voucher.signature)) bad('payload.voucher.signature must be a 65-byte hex signature');
  return {
    x402Version: X402_VERSION,
    accepted: { scheme: VEIL_CHANNEL_SCHEME, network: accepted.network as string },
    payload: {
      config: {
        payer: address(config.payer, 'payload.config.payer'),
        payerAuthorizer: address(config.payerAuthorizer, 'payload.config.payerAuthorizer'),
        receiver: address(config.receiver, 'payload.config.receiver'),
        token: address(config.token, 'payload.config.token'),
        withdrawDelay: delay as number,
        salt: (config.salt as string).toLowerCase() as Hex,
      },
      voucher: {
        channelId: (voucher.channelId as string).toLowerCase() as Hex,
        maxClaimableAmount: BigInt(max as string),
        signature: (voucher.signature as string).toLowerCase() as Hex,
      },
    },
  };
}

/** Reads a base64 JSON x402 message a client receives (PAYMENT-REQUIRED or PAYMENT-RESPONSE); the SDK checks its fields. */
export function decodeX402<T>(header: string, name: string): T {
  if (header.length > 64 * 1024 || !BASE64.test(header.trim())) throw new PaymentError('payment_invalid', `${name}: is not base64`);
  try {
    return JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8')) as T;
  } catch {
    throw new PaymentError('payment_invalid', `${name}: is not base64-encoded JSON`);
  }
}

function object(value: unknown, name: string, bad: (what: string) => never): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(`${name} must be an object`);
  return value as Record<string, unknown>;
}
