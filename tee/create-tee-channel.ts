import { randomBytes } from 'node:crypto';
import type { CipherSuite } from '@hpke/core';
import { aeadOpen, aeadSeal, channelNonce, deriveChannelKeys, sha256, toArrayBuffer, type ChannelKeys } from './channel-keys';
import {
  FRAME_HANDSHAKE_REQUEST, FRAME_SESSION_REQUEST, hpkeInfo, parseResponseFrame, responseAad, seqHeader, sessionIdOf, sessionRequestAad,
} from './tee-frames';
import { REQUEST_ID_BYTES, type TeeStreamEventKind } from './tee-protocol';
import { decodeTeeStreamEvent } from './tee-operation-codec';
import { createStreamTranscript, parseStreamEventFrame, streamEventAad, streamEventNonce } from './tee-stream-frames';
import { TeeError } from './tee-error';

export type CreateTeeChannelParameters = {
  suite: CipherSuite;
  /** The enclave's attested HPKE public key (raw X25519, 32 bytes). */
  hpkePublicKey: Uint8Array;
  modelId: string;
  /**
   * `true` (default): the first request is a handshake and later ones reuse its exported keys (one X25519
   * setup per channel). `false`: every request is a handshake (one-shot, no server-side session state).
   */
  reuseSession?: boolean;
};

/** One sealed request, ready to send, and the means to open its response. */
export type SealedTeeRequest = {
  /** The exact bytes to send as `sealed_request` (and to hash for the signature). */
  readonly sealed: Uint8Array;
  readonly kind: 'handshake' | 'session';
  /** Opens the matching sealed response; marks the session established after a handshake. @throws {TeeError} `tee_decrypt_failed` */
  open(sealedResponse: Uint8Array): Uint8Array;
  /**
   * Opens the answer as a stream of sealed events instead (issue #10): each `open` must get the next event in order.
   * `requestId` is the id inside the sealed body; every event must carry it.
   */
  openStream(requestId: Uint8Array): TeeStreamOpener;
  /** Call when the exchange failed, so a failed handshake does not leave waiters blocked. */
  fail(): void;
};

/** One opened stream event. */
export type OpenedTeeStreamEvent = { index: number; kind: TeeStreamEventKind; body: Uint8Array };

/** The client end of one streamed answer (tee/PROTOCOL.md §10). */
export type TeeStreamOpener = {
  /**
   * Authenticates and opens the next event frame.
   * @throws {TeeError} `tee_stream_invalid` for an event out of order, repeated, altered, for another request, or after the last
   */
  open(frame: Uint8Array): OpenedTeeStreamEvent;
  /** Whether the terminal (`end` / `error`) event has been opened. */
  readonly ended: boolean;
  /** What the receipt must cover: the transcript hash over every frame opened so far, and their count. */
  transcript(): { hash: Uint8Array; count: number };
};

export type TeeChannel = {
  seal(body: Uint8Array): Promise<SealedTeeRequest>;
  /** Forgets the session (e.g. the node answered `tee_session_unknown`); the next request re-handshakes. */
  reset(): void;
};

/** A fresh random request id (16 bytes) for replay protection. */
export function newRequestId(): Uint8Array {
  return new Uint8Array(randomBytes(REQUEST_ID_BYTES));
}

/**
 * The client end of the TEE channel. Keys live only in this closure.
 * @example const channel = createTeeChannel({ suite, hpkePublicKey, modelId }); const req = await channel.seal(body);
 */
export function createTeeChannel(params: CreateTeeChannelParameters): TeeChannel {
  const { suite, modelId } = params;
  const info = hpkeInfo(modelId);
  const reuse = params.reuseSession ?? true;
  let recipient: ReturnType<CipherSuite["kem"]["deserializePublicKey"]> | undefined;
  let session: { id: Buffer; keys: ChannelKeys; seq: bigint } | undefined;
  let pending: Promise<void> | undefined;

  const recipientKey = () => (recipient ??= suite.kem.deserializePublicKey(toArrayBuffer(params.hpkePublicKey)));

  function streamOpener(keys: ChannelKeys, seq: bigint, sealed: Uint8Array, onOpen: () => void) {
    const requestHash = sha256(sealed);
    return (requestId: Uint8Array): TeeStreamOpener => {
      const transcript = createStreamTranscript();
      let ended = false;
      const invalid = (why: string) => new TeeError('tee_stream_invalid', `the stream was tampered with: ${why}`);
      return {
        open(frameBytes) {
          if (ended) throw invalid('an event arrived after the last one');
          let frame;
          try {
            frame = parseStreamEventFrame(frameBytes);
          } catch {
            throw invalid('an event is not a veil-tee-v1 event frame');
          }
          if (frame.seq !== seq) throw invalid('an event answers another request (sequence mismatch)');
          // The index is also in the nonce and the AAD; checking it first gives a clear reason for a dropped or moved event.
          if (frame.index !== transcript.count) throw invalid(`event ${frame.index} arrived where event ${transcript.count} was due (dropped, repeated or reordered)`);
          let plaintext: Buffer;
          try {
            plaintext = aeadOpen(keys.s2cKey, streamEventNonce(keys.s2cNonce, seq, frame.index), streamEventAad(requestHash, frame.header), frame.ciphertext, 'response');
          } catch {
            throw invalid(`event ${frame.index} did not authenticate (altered, or sealed for another stream)`);
          }
          let event;
          try {
            event = decodeTeeStreamEvent(plaintext);
          } catch {
            throw invalid(`event ${frame.index} is not a valid event body`);
          }
          if (event.index !== frame.index || Buffer.compare(event.requestId, requestId) !== 0) throw invalid(`event ${frame.index} belongs to another request`);
          transcript.add(frameBytes);
          if (transcript.count === 1) onOpen();
          if (event.kind !== 'data') ended = true;
          return { index: event.index, kind: event.kind, body: event.body };
        },
        get ended() {
          return ended;
        },
        transcript: () => ({ hash: new Uint8Array(transcript.digest()), count: transcript.count }),
      };
    };
  }

  function responseOpener(keys: ChannelKeys, seq: bigint, sealed: Uint8Array, onOpen: () => void) {
    const requestHash = sha256(sealed);
    return (sealedResponse: Uint8Array): Uint8Array => {
      const frame = parseResponseFrame(sealedResponse);
      if (frame.seq !== seq) throw new TeeError('tee_decrypt_failed', 'the response answers another request (sequence mismatch)');
      const body = aeadOpen(keys.s2cKey, channelNonce(keys.s2cNonce, seq), responseAad(requestHash, frame.header), frame.ciphertext, 'response');
      onOpen();
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    };
  }

  async function handshake(body: Uint8Array): Promise<SealedTeeRequest> {
    // Claim the handshake before the first await so concurrent callers wait for it instead of starting their own.
    let settle: { resolve(): void; reject(err: unknown): void } | undefined;
    if (reuse) {
      pending = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      pending.catch(() => undefined);
    }
    const done = (ok: boolean, keys?: ChannelKeys, enc?: Uint8Array) => {
      if (!settle) return;
      if (ok && keys && enc) session = { id: sessionIdOf(enc), keys, seq: 0n };
      pending = undefined;
      if (ok) settle.resolve();
      else settle.reject(new Error('handshake failed'));
      settle = undefined;
    };
    try {
      return await sealHandshake(body, done);
    } catch (err) {
      done(false);
      throw err;
    }
  }

  async function sealHandshake(body: Uint8Array, done: (ok: boolean, keys?: ChannelKeys, enc?: Uint8Array) => void): Promise<SealedTeeRequest> {
    const context = await suite.createSenderContext({ recipientPublicKey: await recipientKey(), info: toArrayBuffer(info) });
    const enc = new Uint8Array(context.enc);
    const header = Buffer.concat([Buffer.of(FRAME_HANDSHAKE_REQUEST), enc]);
    const ciphertext = new Uint8Array(await context.seal(toArrayBuffer(body), toArrayBuffer(header)));
    const keys = await deriveChannelKeys(context);
    const sealed = new Uint8Array(Buffer.concat([header, ciphertext]));
    const established = () => done(true, keys, enc);
    return { sealed, kind: 'handshake', open: responseOpener(keys, 0n, sealed, established), openStream: streamOpener(keys, 0n, sealed, established), fail: () => done(false) };
  }

  function sessionRequest(current: NonNullable<typeof session>, body: Uint8Array): SealedTeeRequest {
    // seq 0 was the handshake's response; requests in the session count from 1, never reused.
    current.seq += 1n;
    const seq = current.seq;
    const header = seqHeader(FRAME_SESSION_REQUEST, seq, current.id);
    const ciphertext = aeadSeal(current.keys.c2sKey, channelNonce(current.keys.c2sNonce, seq), sessionRequestAad(modelId, header), body);
    const sealed = new Uint8Array(Buffer.concat([header, ciphertext]));
    return {
      sealed, kind: 'session', open: responseOpener(current.keys, seq, sealed, () => undefined), openStream: streamOpener(current.keys, seq, sealed, () => undefined), fail: () => undefined,
    };
  }

  return {
    async seal(body) {
      if (!reuse) return handshake(body);
      for (;;) {
        if (session) return sessionRequest(session, body);
        if (!pending) return handshake(body);
        // Another request is establishing the session: wait for it rather than paying a second X25519 setup.
        await pending.catch(() => undefined);
      }
    },
    reset() {
      session = undefined;
    },
  };
}
