import { createReceiptSigner } from './secp256k1-receipts';
import { inspect } from 'node:util';
import type { Hex } from 'viem';
import { createHpkeSuite, TEE_HPKE_SUITE } from './create-hpke-suite';
import { aeadOpen, aeadSeal, channelNonce, deriveChannelKeys, sha256, toArrayBuffer, type ChannelKeys } from './channel-keys';
import { decodeAnyTeeRequestBody, encodeTeeStreamEvent, type AnyTeeRequestBody } from './tee-operation-codec';
import { createStreamTranscript, streamEventAad, streamEventHeader, streamEventNonce } from './tee-stream-frames';
import type { TeeStreamEventKind } from './tee-protocol';
import { FRAME_RESPONSE, hpkeInfo, parseRequestFrame, responseAad, seqHeader, sessionIdOf, sessionRequestAad } from './tee-frames';
import { teeSignatureText, teeStreamSignatureText, type TeeSignatureTextParameters } from './tee-signature';
import { teeUsageText, type TeeUsageCounts } from './tee-usage';
import { TeeError } from './tee-error';

export type CreateEnclaveIdentityOptions = {
  /** Most channel sessions held at once (least recently used dropped first). Default 10 000. */
  maxSessions?: number;
  /** A session unused this long is dropped; the client then re-handshakes. Default 10 min. */
  sessionIdleMs?: number;
  now?: () => number;
};

/** A decrypted, decoded request and what is needed to answer it (its keys are held privately, not here). */
export type OpenedTeeRequest = {
  /** Version 1 (tensors) or version 2 (an OpenAI operation, issue #10). */
  readonly body: AnyTeeRequestBody;
  readonly kind: 'handshake' | 'session';
  /** Hex session id (public: derived from the HPKE `enc`), safe to log. */
  readonly sessionId: string;
  readonly seq: bigint;
  /** SHA-256 of the sealed request bytes, bound into the response AAD. */
  readonly requestHash: Uint8Array;
};

export type OpenTeeRequestParameters = { modelId: string; sealed: Uint8Array };

/** The enclave end of one streamed answer (tee/PROTOCOL.md §10). */
export type TeeStreamSealer = {
  /** Seals the next event (index 0, 1, …); `end` or `error` is the last one. @throws {TeeError} `tee_stream_invalid` after the last */
  seal(kind: TeeStreamEventKind, body: Uint8Array): Uint8Array;
  readonly count: number;
  readonly ended: boolean;
  /** The receipt over the whole transcript; only after the last event. */
  sign(): Promise<Hex>;
};

/** Public parts of an enclave identity; this is all `toJSON` and `inspect` ever show. */
export type EnclaveIdentityPublic = { hpkePublicKey: string; signingAddress: string; hpkeSuite: string };

export type EnclaveIdentity = {
  /** Raw X25519 public key (a copy on each read). */
  readonly hpkePublicKey: Uint8Array;
  readonly signingAddress: Hex;
  readonly sessionCount: number;
  /** @throws {TeeError} `tee_decrypt_failed`, `tee_session_unknown`, `invalid_input` */
  open(params: OpenTeeRequestParameters): Promise<OpenedTeeRequest>;
  /** Seals a response body back to the requester of `opened`. */
  sealResponse(opened: OpenedTeeRequest, body: Uint8Array): Uint8Array;
  /**
   * Seals the answer to `opened` as a stream of events instead of one response (issue #10). Like sealResponse it takes
   * the request's reply keys, so one request gets one answer, single or streamed, never both.
   */
  createStreamSealer(opened: OpenedTeeRequest): TeeStreamSealer;
  /** EIP-191 signature over {@link teeSignatureText}. */
  sign(params: TeeSignatureTextParameters): Promise<Hex>;
  /** EIP-191 signature over {@link teeUsageText}: a call's token counts, for the relay to charge and the client to check. */
  signUsage(opened: OpenedTeeRequest, events: number, usage: TeeUsageCounts): Hex;
  toJSON(): EnclaveIdentityPublic;
};

/**
 * Creates the enclave's keys in process memory: an X25519 HPKE key pair (requests are sealed to it) and a
 * secp256k1 key (responses are signed with it). Both are bound into the hardware evidence through
 * report_data. Private keys exist only inside this closure: they are never exported, serialised, logged
 * or written, so they die with the process; a restarted node has a new identity and new evidence.
 * @example const identity = await createEnclaveIdentity(); identity.signingAddress // '0x…'
 */
export async function createEnclaveIdentity(options: CreateEnclaveIdentityOptions = {}): Promise<EnclaveIdentity> {
  const suite = createHpkeSuite();
  const keyPair = await suite.kem.generateKeyPair();
  const hpkePublicKey = new Uint8Array(await suite.kem.serializePublicKey(keyPair.publicKey));
  // The signing key lives only inside this closure (native libsecp256k1 signs a receipt in ~0.05 ms).
  const signer = createReceiptSigner();
  const maxSessions = options.maxSessions ?? 10_000;
  const idleMs = options.sessionIdleMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;

  type Session = { modelId: string; keys: ChannelKeys; lastUsed: number };
  const sessions = new Map<string, Session>();
  // Keys needed to answer an opened request, keyed by the opened object so nothing printable carries them.
  const replyKeys = new WeakMap<OpenedTeeRequest, ChannelKeys>();

  const touch = (id: string, session: Session) => {
    session.lastUsed = now();
    sessions.delete(id);
    sessions.set(id, session);
  };
  const evict = () => {
    const cutoff = now() - idleMs;
    for (const [id, s] of sessions) {
      if (sessions.size <= maxSessions && s.lastUsed >= cutoff) break;
      sessions.delete(id);
    }
  };

  const publicParts = (): EnclaveIdentityPublic => ({ hpkePublicKey: Buffer.from(hpkePublicKey).toString('hex'), signingAddress: signer.address, hpkeSuite: TEE_HPKE_SUITE });

  const identity: EnclaveIdentity & { [inspect.custom](): string } = {
    get hpkePublicKey() {
      return hpkePublicKey.slice();
    },
    signingAddress: signer.address,
    get sessionCount() {
      return sessions.size;
    },
    async open({ modelId, sealed }) {
      const frame = parseRequestFrame(sealed);
      const requestHash = sha256(sealed);
      let plaintext: Uint8Array;
      let keys: ChannelKeys;
      let sessionId: string;
      let seq: bigint;
      if (frame.kind === 'handshake') {
        let context;
        try {
          context = await suite.createRecipientContext({ recipientKey: keyPair, enc: toArrayBuffer(frame.enc), info: toArrayBuffer(hpkeInfo(modelId)) });
          plaintext = new Uint8Array(await context.open(toArrayBuffer(frame.ciphertext), toArrayBuffer(frame.header)));
        } catch (cause) {
          if (cause instanceof TeeError) throw cause;
          throw new TeeError('tee_decrypt_failed', 'the sealed request did not open (tampered, sealed to another key, or for another model)', undefined, { cause });
        }
        keys = await deriveChannelKeys(context);
        sessionId = sessionIdOf(frame.enc).toString('hex');
        seq = 0n;
        evict();
        touch(sessionId, { modelId, keys, lastUsed: now() });
      } else {
        sessionId = Buffer.from(frame.sessionId).toString('hex');
        const session = sessions.get(sessionId);
        if (!session || now() - session.lastUsed > idleMs) {
          sessions.delete(sessionId);
          throw new TeeError('tee_session_unknown', 'the node holds no such session (expired or restarted); start a new one');
        }
        if (session.modelId !== modelId) throw new TeeError('tee_decrypt_failed', 'the session was established for another model');
        if (frame.seq === 0n) throw new TeeError('tee_decrypt_failed', 'session requests start at sequence 1');
        keys = session.keys;
        seq = frame.seq;
        plaintext = aeadOpen(keys.c2sKey, channelNonce(keys.c2sNonce, seq), sessionRequestAad(modelId, frame.header), frame.ciphertext, 'request');
        touch(sessionId, session);
      }
      const body = decodeAnyTeeRequestBody(plaintext);
      if (body.modelId !== modelId) throw new TeeError('tee_decrypt_failed', 'the sealed request names another model');
      const opened: OpenedTeeRequest = Object.freeze({ body, kind: frame.kind, sessionId, seq, requestHash });
      replyKeys.set(opened, keys);
      return opened;
    },
    sealResponse(opened, body) {
      const keys = replyKeys.get(opened);
      if (!keys) throw new TeeError('internal', 'sealResponse needs a request opened by this identity');
      // One response per request: forget the keys so the same (key, nonce) can never seal twice.
      replyKeys.delete(opened);
      const header = seqHeader(FRAME_RESPONSE, opened.seq);
      const ciphertext = aeadSeal(keys.s2cKey, channelNonce(keys.s2cNonce, opened.seq), responseAad(opened.requestHash, header), body);
      return new Uint8Array(Buffer.concat([header, ciphertext]));
    },
    createStreamSealer(opened) {
      const keys = replyKeys.get(opened);
      if (!keys) throw new TeeError('internal', 'createStreamSealer needs a request opened by this identity, not yet answered');
      replyKeys.delete(opened);
      const transcript = createStreamTranscript();
      let ended = false;
      return {
        seal(kind, body) {
          if (ended) throw new TeeError('tee_stream_invalid', 'the stream already ended');
          const index = transcript.count;
          const header = streamEventHeader(opened.seq, index);
          const plaintext = encodeTeeStreamEvent({ requestId: opened.body.requestId, index, kind, body });
          const frame = new Uint8Array(Buffer.concat([header, aeadSeal(keys.s2cKey, streamEventNonce(keys.s2cNonce, opened.seq, index), streamEventAad(opened.requestHash, header), plaintext)]));
          transcript.add(frame);
          if (kind !== 'data') ended = true;
          return frame;
        },
        get count() {
          return transcript.count;
        },
        get ended() {
          return ended;
        },
        async sign() {
          if (!ended) throw new TeeError('internal', 'a stream is signed only after its last event');
          return signer.sign(teeStreamSignatureText({ modelId: opened.body.modelId, requestHash: opened.requestHash, transcriptHash: transcript.digest(), count: transcript.count }));
        },
      };
    },
    sign: async (params) => signer.sign(teeSignatureText(params)),
    signUsage: (opened, events, usage) => signer.sign(teeUsageText({ modelId: opened.body.modelId, requestHash: opened.requestHash, events, ...usage })),
    toJSON: publicParts,
    [inspect.custom]: () => `EnclaveIdentity ${inspect(publicParts())}`,
  };
  return identity;
}
