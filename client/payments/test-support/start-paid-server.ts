import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from 'viem';
import { getChannel, type RegistryPublicClient } from '../../../chain';
import {
  createPaymentGate, encodeX402, isPaymentError, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER,
  type PaymentGate, type PaymentLedger, type ReservationLeases, type SettlementResponse,
} from '../../../payments';

/** What a test call asks the emulated gateway to do (the JSON body of POST /call). */
export type PaidCallBody = { ceiling: number; cost: number; delayMs?: number };

export type PaidServerOptions = {
  publicClient: RegistryPublicClient;
  chainId: number;
  contractAddress: Address;
  receiver: Address;
  token: Address;
  ledger: PaymentLedger;
  minWithdrawDelaySeconds?: number;
  /** How long the gate trusts a chain read (default 0 here: every test sees deposits at once). */
  chainCacheMs?: number;
  /** A dishonest gateway: rewrites the receipt before it is sent. */
  tamper?: (response: SettlementResponse) => SettlementResponse;
  /** The status a served call answers with (default 200): a gateway that charges and still says 402. */
  statusAfterCommit?: number;
  /** A gateway that commits the charge and then drops the connection (the client never sees the receipt). */
  dropAfterCommit?: (body: PaidCallBody) => boolean;
  /** Drop the connection after admission, neither committing nor releasing: a replica that crashed mid-call (its reservation stays until it expires). */
  dropBeforeCommit?: (body: PaidCallBody) => boolean;
  /** The gate's reservation leases (default: its own). */
  leases?: ReservationLeases;
};

export type PaidServer = { url: string; gate: PaymentGate; served: number; /** 402s that carried the channel's state. */ corrections: number; /** HTTP requests received. */ requests: number; stop(): Promise<void> };

/**
 * TEST ONLY: a tiny HTTP gateway around the REAL payment gate (payments/createPaymentGate) on a real chain: POST /call
 * costs `cost` with ceiling `ceiling`; unpaid or under-covered calls get the gate's 402 with PAYMENT-REQUIRED; a paid
 * call waits `delayMs` (so concurrent answers come back in any order), commits and answers with PAYMENT-RESPONSE.
 * The request id is the client's Idempotency-Key, else a fresh one.
 */
export async function startPaidServer(options: PaidServerOptions): Promise<PaidServer> {
  const { publicClient, contractAddress } = options;
  const gate = createPaymentGate({
    ledger: options.ledger,
    deployment: { chainId: options.chainId, contractAddress },
    receiver: options.receiver,
    token: options.token,
    minWithdrawDelaySeconds: options.minWithdrawDelaySeconds ?? 900,
    chainCacheMs: options.chainCacheMs ?? 0,
    ...(options.leases ? { leases: options.leases } : {}),
    readChannel: async (channelId) => {
      const block = await publicClient.getBlockNumber({ cacheTime: 0 }); // viem caches the block number; a fresh deposit must be seen
      return { ...(await getChannel(publicClient, { contractAddress, channelId, blockNumber: block })), block };
    },
  });
  let served = 0;
  let corrections = 0;
  let requests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as PaidCallBody;
    const header = req.headers[PAYMENT_SIGNATURE_HEADER];
    const requestId = (req.headers['idempotency-key'] as string | undefined) ?? randomUUID();
    let admission;
    try {
      admission = await gate.admit({ requestId, resource: 'test/call', ceiling: BigInt(body.ceiling), header: typeof header === 'string' ? header : undefined });
    } catch (err) {
      if (isPaymentError(err) && err.paymentRequired) {
        if (err.paymentRequired.accepts.some((a) => a.extra.channelState)) corrections++;
        res.writeHead(402, { [PAYMENT_REQUIRED_HEADER]: encodeX402(err.paymentRequired), 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
        return;
      }
      const status = isPaymentError(err, 'payment_invalid') ? 400 : isPaymentError(err) ? 409 : 503;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: (err as Error).message, ...(isPaymentError(err) ? { code: err.code } : {}) } }));
      return;
    }
    if (admission.kind === 'replay') {
      res.writeHead(200, { [PAYMENT_RESPONSE_HEADER]: encodeX402(admission.response) });
      res.end('{"replay":true}');
      return;
    }
    if (body.delayMs) await new Promise((r) => setTimeout(r, body.delayMs));
    if (options.dropBeforeCommit?.(body)) {
      res.socket?.destroy();
      return;
    }
    const { response } = await admission.commit(BigInt(body.cost));
    served++;
    if (options.dropAfterCommit?.(body)) {
      res.socket?.destroy();
      return;
    }
    const sent = options.tamper ? options.tamper(structuredClone(response)) : response;
    const asksAgain = options.statusAfterCommit === 402 ? { [PAYMENT_REQUIRED_HEADER]: encodeX402(gate.requirements('test/call', BigInt(body.ceiling))) } : {};
    res.writeHead(options.statusAfterCommit ?? 200, { [PAYMENT_RESPONSE_HEADER]: encodeX402(sent), ...asksAgain, 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String((err as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/call`,
    gate,
    get served() {
      return served;
    },
    get corrections() {
      return corrections;
    },
    get requests() {
      return requests;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
