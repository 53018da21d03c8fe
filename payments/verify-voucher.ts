import { concat, getAddress, getTypesForEIP712Domain, hashDomain, hashStruct, keccak256, type Address, type Hex } from 'viem';
import { channelId as channelIdOf, PAYMENT_CHANNEL_TYPES, paymentChannelsDomain, type PaymentChannelsDeployment } from '../chain';
import { recoverSignerAddress } from '../tee';
import { PaymentError } from './payment-error';
import type { ChannelPayment } from './x402-messages';

export type VerifyVoucherParameters = PaymentChannelsDeployment & {
  payment: ChannelPayment;
  /** The gateway's receiving address and token: a voucher for anyone else's channel is worthless here. */
  receiver: Address;
  token: Address;
  minWithdrawDelay: number;
};

/** What a verified voucher proves: its channel, amount and who signed it (the channel's authorizer is checked against the chain by the caller). */
export type VerifiedVoucher = { channelId: Hex; maxClaimableAmount: bigint; signer: Address };

/**
 * Checks a channel payment without touching the chain: the config names this gateway as receiver, its token and a
 * withdraw delay long enough to claim in; the channel id is the EIP-712 hash of that config on this chain and
 * contract (so a voucher from another chain or deployment, or for another config, fails here); and the voucher's
 * EIP-712 signature recovers (libsecp256k1, low-S only, as the contract requires). Pure CPU: ~0.1 ms.
 * @throws {PaymentError} `voucher_wrong_network`, `voucher_signature_invalid`
 */
export function verifyVoucher({ chainId, contractAddress, payment, receiver, token, minWithdrawDelay }: VerifyVoucherParameters): VerifiedVoucher {
  const { config, voucher } = payment;
  // Case-insensitive: addresses here are already checked 20-byte hex; comparing checksums would cost a keccak each.
  if (config.receiver.toLowerCase() !== receiver.toLowerCase()) throw new PaymentError('voucher_wrong_network', 'the channel pays another receiver than this gateway');
  if (config.token.toLowerCase() !== token.toLowerCase()) throw new PaymentError('voucher_wrong_network', 'the channel holds another token than this gateway takes');
  if (config.withdrawDelay < minWithdrawDelay) {
    throw new PaymentError('voucher_wrong_network', `the channel's withdraw delay (${config.withdrawDelay} s) is shorter than the ${minWithdrawDelay} s this gateway needs to claim in`);
  }
  const id = cachedChannelId(chainId, contractAddress, config);
  if (id.toLowerCase() !== voucher.channelId.toLowerCase()) {
    throw new PaymentError('voucher_wrong_network', 'the voucher\'s channel id is not its config\'s on this chain and contract');
  }
  // hashTypedData's own steps (EIP-712: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))), with the domain
  // separator computed once per deployment: the per-voucher cost is then one struct hash and the recovery.
  const digest = keccak256(concat(['0x1901', domainSeparator(chainId, contractAddress), hashStruct({
    data: { channelId: id, maxClaimableAmount: voucher.maxClaimableAmount }, primaryType: 'Voucher', types: PAYMENT_CHANNEL_TYPES,
  })]));
  const signer = recoverSignerAddress(Buffer.from(digest.slice(2), 'hex'), voucher.signature);
  if (!signer) throw new PaymentError('voucher_signature_invalid', 'the voucher signature is malformed');
  return { channelId: id, maxClaimableAmount: voucher.maxClaimableAmount, signer: getAddress(signer) };
}

const separators = new Map<string, Hex>();

function domainSeparator(chainId: number, contractAddress: Address): Hex {
  const key = `${chainId}:${contractAddress.toLowerCase()}`;
  let separator = separators.get(key);
  if (!separator) {
    const domain = paymentChannelsDomain(chainId, contractAddress);
    // The same call hashTypedData makes (viem's own EIP-712 code), once per deployment.
    separator = hashDomain({ domain, types: { EIP712Domain: getTypesForEIP712Domain({ domain }), ...PAYMENT_CHANNEL_TYPES } } as Parameters<typeof hashDomain>[0]);
    separators.set(key, separator);
  }
  return separator;
}

/** Channel ids by config (an EIP-712 struct hash, ~0.3 ms): a payer sends the same config with every call. Bounded. */
const channelIds = new Map<string, Hex>();
const MAX_CACHED_IDS = 10_000;

function cachedChannelId(chainId: number, contractAddress: Address, config: ChannelPayment['config']): Hex {
  const key = [chainId, contractAddress, config.payer, config.payerAuthorizer, config.receiver, config.token, config.withdrawDelay, config.salt].join(':').toLowerCase();
  let id = channelIds.get(key);
  if (!id) {
    id = channelIdOf({ chainId, contractAddress, config });
    if (channelIds.size >= MAX_CACHED_IDS) channelIds.delete(channelIds.keys().next().value!);
    channelIds.set(key, id);
  }
  return id;
}
