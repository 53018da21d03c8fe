import { MIN_KEY_CHUNK_BYTES, type CreateSessionResponse, type TeeInferResponse } from '../../proto';
import { applyMutations } from './bytes-mutation';
import type { FuzzMaterial } from './create-fuzz-material';
import type {
  Body, CtRecipe, Declared, FrameRecipe, FuzzCase, GroupRecipe, KeySource, PredictRecipe, SessionRef, TeeBodyRecipe, UploadRecipe,
} from './rpc-case-arbitraries';
import type { RpcName } from './veil-codec';
import type { WireAnswer, WireClient } from './wire-client';

/** Mutable state shared by the cases of one run: live sessions, accepted TEE frames (for replays), the big buffer. */
export type FuzzState = {
  material: FuzzMaterial;
  gateway: WireClient;
  worker: WireClient;
  limits: { gateway: number; worker: number };
  sessions: { blocks: string; featureMajor: string; closed: string };
  accepted: Uint8Array[];
  deadlineMs: number;
  /**
   * Messages over a size limit cost seconds each (tens of MiB on loopback) and all meet the same check, so only the
   * first few per RPC are sent; later ones are counted as skipped.
   */
  oversized: { maxPerRpc: number; sent: Map<string, number> };
  big?: Buffer;
};

/** Thrown for a case the run chose not to send (see `FuzzState.oversized`). */
export class SkippedCase extends Error {
  override name = 'SkippedCase' as const;
}

/** What one case did: the answer to the RPC under test and, when the request was certainly invalid, why. */
export type CaseRun = {
  rpc: RpcName;
  answer: WireAnswer;
  /** Set when the request is invalid by construction: an OK answer is then a violation. */
  mustRefuse: string | undefined;
  /** Bytes of the request (sum of frames for a stream). */
  requestBytes: number;
};

const MODEL = 'breast-cancer-lr';
const TS_WINDOW_MS = 60_000;
/** Offsets this far from the window's edge are judged; nearer ones are left alone (clock skew between processes). */
const TS_MARGIN_MS = 5_000;

export async function runFuzzCase(state: FuzzState, c: FuzzCase): Promise<CaseRun> {
  switch (c.rpc) {
    case 'Models.ListModels':
    case 'Trust.GetRegistry':
    case 'Tee.ListNodes':
      return unary(state, c.rpc, c.body, async () => ({ request: {}, mustRefuse: undefined }));
    case 'Models.GetFheSpec':
      return unary(state, c.rpc, c.body, async (m) => ({ request: m, mustRefuse: undefined }));
    case 'Fhe.Predict':
      return unary(state, c.rpc, c.body, async (m) => predictRequest(state, m));
    case 'Fhe.CloseSession':
      return unary(state, c.rpc, c.body, async (m) => {
        if (m.session === 'fresh') return { request: { sessionId: await keylessSession(state) }, mustRefuse: undefined };
        return { request: { sessionId: sessionId(state, m.session) }, mustRefuse: `closes session ${describeSession(m.session)}` };
      });
    case 'Fhe.CreateSession':
      return upload(state, c.upload);
    case 'Tee.GetEvidence':
      return unary(state, c.rpc, c.body, async (m) => ({
        request: { modelId: m.modelId, nonce: Buffer.from(m.nonce), excludeNodeIds: m.exclude },
        mustRefuse: m.nonce.byteLength === 0 || m.nonce.byteLength > 1024 ? `nonce of ${m.nonce.byteLength} bytes` : m.modelId !== MODEL ? 'unknown model' : undefined,
      }));
    case 'Tee.Infer':
      return unary(state, c.rpc, c.body, async (m) => {
        const frame = await frameBytes(state, m.frame, 'Tee.Infer');
        const wrongNode = m.nodeId !== state.material.tee.nodeId ? 'no such node' : undefined;
        const wrongModel = m.modelId !== MODEL ? 'routed to another model than sealed for' : undefined;
        return { request: { nodeId: m.nodeId, modelId: m.modelId, sealedRequest: frame.bytes }, mustRefuse: frame.mustRefuse ?? wrongNode ?? wrongModel, frame: frame.bytes };
      });
    case 'TeeNode.GetEvidence':
      return unary(state, c.rpc, c.body, async (m) => ({
        request: { nonce: Buffer.from(m.nonce) },
        mustRefuse: m.nonce.byteLength > 1024 ? `nonce of ${m.nonce.byteLength} bytes` : undefined,
      }));
    case 'TeeNode.Infer':
      return unary(state, c.rpc, c.body, async (m) => {
        const frame = await frameBytes(state, m.frame, 'TeeNode.Infer');
        const wrongModel = m.modelId !== MODEL ? 'sent for another model than sealed for' : undefined;
        return { request: { modelId: m.modelId, sealedRequest: frame.bytes }, mustRefuse: frame.mustRefuse ?? wrongModel, frame: frame.bytes };
      });
  }
}

type Built = { request: object; mustRefuse: string | undefined; frame?: Uint8Array };

async function unary<M>(state: FuzzState, rpc: RpcName, body: Body<M>, build: (message: M) => Promise<Built>): Promise<CaseRun> {
  const { codec } = state.material;
  const client = rpc.startsWith('TeeNode.') ? state.worker : state.gateway;
  const limit = rpc.startsWith('TeeNode.') ? state.limits.worker : state.limits.gateway;
  let bytes: Uint8Array;
  let mustRefuse: string | undefined;
  let frame: Uint8Array | undefined;
  if ('raw' in body) bytes = body.raw;
  else if ('oversized' in body) {
    bytes = bigBuffer(state, rpc).subarray(0, limit + 1);
    mustRefuse = `a ${limit + 1}-byte message (limit ${limit})`;
  } else {
    const built = await build(body.message);
    const encoded = codec.encode(rpc, built.request);
    bytes = applyMutations(encoded, body.wire);
    // Edited bytes may still decode to a valid request, so only an unedited message keeps its verdict.
    mustRefuse = body.wire.length === 0 || Buffer.from(bytes).equals(encoded) ? built.mustRefuse : undefined;
    frame = built.frame;
  }
  const answer = await client.unary(codec.path(rpc), bytes, { deadlineMs: state.deadlineMs });
  if (answer.status === 0 && frame) remember(state, frame);
  if (answer.veilCode === 'tee_session_unknown') state.material.tee.resetChannel();
  return { rpc, answer, mustRefuse, requestBytes: bytes.byteLength };
}

/** Accepted sealed requests, kept (bounded) so later cases can replay them. */
function remember(state: FuzzState, frame: Uint8Array): void {
  state.accepted.push(frame);
  if (state.accepted.length > 64) state.accepted.shift();
}

function bigBuffer(state: FuzzState, rpc: RpcName): Buffer {
  const sent = state.oversized.sent.get(rpc) ?? 0;
  if (sent >= state.oversized.maxPerRpc) throw new SkippedCase(`oversized (over the cap of ${state.oversized.maxPerRpc} per RPC)`);
  state.oversized.sent.set(rpc, sent + 1);
  state.big ??= Buffer.alloc(Math.max(state.limits.gateway, state.limits.worker) + 64 * 1024, 0x01);
  return state.big;
}

function sessionId(state: FuzzState, ref: SessionRef): string {
  if (ref === 'blocks') return state.sessions.blocks;
  if (ref === 'feature-major') return state.sessions.featureMajor;
  if (ref === 'closed') return state.sessions.closed;
  if (ref === 'empty') return '';
  return ref.id;
}

function describeSession(ref: SessionRef): string {
  return typeof ref === 'string' ? ref : `id "${ref.id.slice(0, 40)}"`;
}

/** A keyless feature-major session (0 key bytes), for CloseSession cases that close a real session. */
export async function keylessSession(state: FuzzState): Promise<string> {
  const { codec, fhe } = state.material;
  const header = codec.encode('Fhe.CreateSession', { header: { modelId: MODEL, variant: 'feature-major', galoisKeysBytes: 0, relinKeysBytes: 0, specSha256: fhe.featureMajor.specSha256 } });
  const answer = await state.gateway.clientStream(codec.path('Fhe.CreateSession'), [header], { deadlineMs: state.deadlineMs });
  if (!answer.response) throw new Error(`setup: a keyless session was refused (${answer.status} ${answer.veilCode ?? ''} ${answer.details})`);
  return codec.decode<CreateSessionResponse>('Fhe.CreateSession', answer.response).sessionId;
}

// ---- Fhe.Predict -------------------------------------------------------------------------------------------------

const REFUSED_SOURCES = new Set(['wrongLevel', 'foreign', 'random', 'empty', 'zeros']);

function ciphertext(state: FuzzState, recipe: CtRecipe, index: number): Uint8Array {
  const cts = state.material.fhe.ciphertexts;
  const base = (() => {
    switch (recipe.source) {
      case 'valid': return cts.valid[index % cts.valid.length]!;
      case 'fullForm': return cts.fullForm;
      case 'wrongLevel': return cts.wrongLevel;
      case 'foreign': return cts.foreign[index % cts.foreign.length]!;
      case 'featureMajor': return cts.featureMajorGroup[index % cts.featureMajorGroup.length]!;
      case 'random': return recipe.randomBytes;
      case 'empty': return new Uint8Array(0);
      case 'zeros': return new Uint8Array(cts.valid[0]!.byteLength);
    }
  })();
  return applyMutations(base, recipe.edits);
}

function predictRequest(state: FuzzState, m: PredictRecipe): Built {
  const session = sessionId(state, m.session);
  const badSession = m.session === 'closed' || m.session === 'empty' || typeof m.session === 'object' ? `session ${describeSession(m.session)}` : undefined;
  if ('manyGroups' in m) {
    return { request: { sessionId: session, groups: Array.from({ length: m.manyGroups }, () => ({ ciphertexts: [Buffer.of(1)] })) }, mustRefuse: `${m.manyGroups} groups` };
  }
  const expected = m.session === 'feature-major' ? state.material.fhe.featureMajor.spec.inputCiphertexts : state.material.fhe.blocks.spec.inputCiphertexts;
  let why = badSession ?? (m.groups.length === 0 ? 'no groups' : undefined);
  const groups = m.groups.map((g: GroupRecipe, gi) => {
    const count = g.count === 'expected' ? expected : g.count;
    if (count !== expected) why ??= `group ${gi} holds ${count} ciphertexts, not ${expected}`;
    const recipes = Array.from({ length: count }, () => g.base);
    for (const odd of g.odd) if (count > 0) recipes[odd.at % count] = odd.ct;
    const ciphertexts = recipes.map((r, i) => {
      if (REFUSED_SOURCES.has(r.source)) why ??= `a ${r.source} ciphertext`;
      return Buffer.from(ciphertext(state, r, gi + i));
    });
    return { ciphertexts };
  });
  return { request: { sessionId: session, groups }, mustRefuse: why };
}

// ---- Fhe.CreateSession -------------------------------------------------------------------------------------------

function keyBytes(state: FuzzState, source: KeySource): Uint8Array | undefined {
  const { galoisKeys, foreignGaloisKeys } = state.material.fhe;
  if (source === 'none') return undefined;
  if (source === 'real') return galoisKeys;
  if (source === 'foreign') return foreignGaloisKeys;
  if ('garbage' in source) return Uint8Array.from({ length: source.garbage }, (_, i) => (i * 2654435761) >>> 24);
  if ('truncated' in source) return galoisKeys.subarray(0, source.truncated % galoisKeys.byteLength);
  return applyMutations(galoisKeys, source.edited);
}

function declared(value: Declared, actual: number): number | string {
  if (value === 'exact') return actual;
  if (value === 'minus') return Math.max(0, actual - 1);
  if (value === 'plus') return actual + 1;
  return value.bytes;
}

async function upload(state: FuzzState, u: UploadRecipe): Promise<CaseRun> {
  const { codec, fhe } = state.material;
  const galois = keyBytes(state, u.galois);
  const relin = keyBytes(state, u.relin);
  const encode = (message: object) => codec.encode('Fhe.CreateSession', message);
  const headerFrame = u.header === 'missing' ? undefined : (() => {
    const h = u.header;
    const variant = h.variant === 'feature-major' ? fhe.featureMajor : fhe.blocks;
    return encode({
      header: {
        modelId: h.model, variant: h.variant,
        galoisKeysBytes: declared(h.galois, galois?.byteLength ?? 0), relinKeysBytes: declared(h.relin, relin?.byteLength ?? 0),
        specSha256: h.spec === 'real' ? variant.specSha256 : h.spec === 'wrong' ? 'ab'.repeat(32) : '',
      },
    });
  })();
  const chunkFrames: Buffer[] = [];
  const chunkBytes = Math.max(1, u.chunkBytes);
  for (const [kind, bytes] of [['KIND_GALOIS', galois], ['KIND_RELIN', relin]] as const) {
    if (!bytes) continue;
    for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) chunkFrames.push(encode({ chunk: { kind, data: Buffer.from(bytes.subarray(offset, offset + chunkBytes)) } }));
  }
  let frames: Uint8Array[] = [...(headerFrame ? [headerFrame] : []), ...chunkFrames];
  let refuse: string | undefined;
  let judged = true;
  for (const extra of u.extras) {
    switch (extra.kind) {
      case 'emptyChunks':
        frames.splice(Math.min(1, frames.length), 0, ...Array.from({ length: extra.count }, () => encode({ chunk: { kind: 'KIND_GALOIS', data: Buffer.alloc(0) } })));
        break;
      case 'unspecifiedKind':
        frames.push(encode({ chunk: { kind: 'KIND_UNSPECIFIED', data: Buffer.alloc(16) } }));
        refuse ??= 'a chunk of unspecified kind';
        break;
      case 'chunkFirst':
        frames.unshift(encode({ chunk: { kind: 'KIND_GALOIS', data: Buffer.alloc(16) } }));
        refuse ??= 'a chunk before the header';
        break;
      case 'twoHeaders':
        if (headerFrame) frames.splice(1, 0, headerFrame);
        refuse ??= headerFrame ? 'two headers' : undefined;
        break;
      case 'extraChunk':
        frames.push(encode({ chunk: { kind: 'KIND_GALOIS', data: Buffer.alloc(extra.bytes, 3) } }));
        refuse ??= 'more key bytes than declared';
        break;
      case 'rawFrame':
        frames.splice(Math.min(extra.at, frames.length), 0, extra.bytes);
        judged = false;
        break;
      case 'oversizedFrame':
        frames.push(bigBuffer(state, 'Fhe.CreateSession').subarray(0, state.limits.gateway + 1));
        refuse ??= `a ${state.limits.gateway + 1}-byte message`;
        break;
    }
  }
  if (u.frameEdits.length > 0) {
    frames = frames.map((f, i) => applyMutations(f, u.frameEdits.filter((e) => e.frame % Math.max(1, frames.length) === i).map((e) => e.edit)));
    judged = false;
  }
  refuse ??= judged ? uploadVerdict(state, u, galois, relin) : undefined;
  const answer = await state.gateway.clientStream(codec.path('Fhe.CreateSession'), frames, { deadlineMs: state.deadlineMs, cancelAfter: u.cancelAfter });
  return { rpc: 'Fhe.CreateSession', answer, mustRefuse: u.cancelAfter === undefined ? refuse : undefined, requestBytes: frames.reduce((n, f) => n + f.byteLength, 0) };
}

/** Why a well-framed upload is certainly invalid for breast-cancer-lr, if it is. */
function uploadVerdict(state: FuzzState, u: UploadRecipe, galois: Uint8Array | undefined, relin: Uint8Array | undefined): string | undefined {
  if (u.header === 'missing') return 'no header';
  const h = u.header;
  if (h.model !== MODEL) return 'unknown model';
  if (!['', 'blocks', 'feature-major'].includes(h.variant)) return `variant "${h.variant}"`;
  if (h.spec === 'wrong') return 'keys for another spec';
  if (declared(h.galois, galois?.byteLength ?? 0) !== (galois?.byteLength ?? 0)) return 'a header that lies about the Galois key size';
  if (declared(h.relin, relin?.byteLength ?? 0) !== (relin?.byteLength ?? 0)) return 'a header that lies about the relinearisation key size';
  const chunkBytes = Math.max(1, u.chunkBytes);
  if (chunkBytes < MIN_KEY_CHUNK_BYTES && [galois, relin].some((k) => k && k.byteLength > chunkBytes)) return `key chunks of ${chunkBytes} bytes`;
  if (h.variant === 'feature-major') return undefined;
  if (u.galois === 'none') return 'no Galois keys';
  if (u.galois === 'foreign') return 'Galois keys under foreign parameters';
  if (typeof u.galois === 'object' && ('garbage' in u.galois || 'truncated' in u.galois)) return 'Galois keys that are not keys';
  if (u.relin === 'foreign' || (typeof u.relin === 'object' && ('garbage' in u.relin || 'truncated' in u.relin))) return 'relinearisation bytes that are not keys';
  return undefined;
}

// ---- TEE frames --------------------------------------------------------------------------------------------------

type Frame = { bytes: Uint8Array; mustRefuse: string | undefined };

async function frameBytes(state: FuzzState, f: FrameRecipe, rpc: RpcName): Promise<Frame> {
  const tee = state.material.tee;
  switch (f.kind) {
    case 'random':
      return { bytes: f.bytes, mustRefuse: f.bytes.byteLength > 0 ? 'random bytes as a sealed request' : 'an empty sealed request' };
    case 'unknownSession': {
      const header = Buffer.alloc(25);
      header[0] = 0x02;
      header.set(f.sessionId, 1);
      header.writeBigUInt64BE(BigInt(f.seq), 17);
      return { bytes: Buffer.concat([header, f.tail]), mustRefuse: 'a session frame for a session that does not exist' };
    }
    case 'oversized': {
      const bytes = bigBuffer(state, rpc).subarray(0, state.limits.worker + 1024);
      return { bytes, mustRefuse: `a ${bytes.byteLength}-byte sealed request (the worker's limit is ${state.limits.worker})` };
    }
    case 'replay': {
      if (state.accepted.length === 0) return frameBytes(state, { kind: 'random', bytes: Buffer.of(1) }, rpc);
      const original = state.accepted[f.pick % state.accepted.length]!;
      const bytes = applyMutations(original, f.edits);
      return { bytes, mustRefuse: Buffer.from(bytes).equals(original) ? 'a replay of an accepted request' : 'a tampered replay' };
    }
    case 'fresh': {
      const { bytes: body, mustRefuse: bodyVerdict } = teeBody(state, f.body);
      let sealed: Uint8Array;
      if (f.sealModel === 'other') sealed = await tee.sealHandshake(body, tee.otherModelId);
      else if (f.as === 'handshake') sealed = await tee.sealHandshake(body);
      else sealed = await sessionFrame(state, body);
      const bytes = applyMutations(sealed, f.edits);
      const tampered = Buffer.from(bytes).equals(Buffer.from(sealed)) ? undefined : 'a tampered sealed request';
      return { bytes, mustRefuse: tampered ?? (f.sealModel === 'other' ? 'sealed for another model' : undefined) ?? bodyVerdict };
    }
  }
}

/** A session frame on the shared channel, establishing the session first with one real exchange if needed. */
async function sessionFrame(state: FuzzState, body: Uint8Array): Promise<Uint8Array> {
  const tee = state.material.tee;
  for (let attempt = 0; attempt < 2; attempt++) {
    const sealed = await tee.channel.seal(body);
    if (sealed.kind === 'session') return sealed.sealed;
    // The channel had no session: this handshake carried the case's body, so redo it with a valid one and open it.
    sealed.fail();
    tee.resetChannel();
    const setup = await tee.channel.seal(tee.body({ rows: 1, tsOffsetMs: 0 }));
    const { codec } = state.material;
    const answer = await state.worker.unary(codec.path('TeeNode.Infer'), codec.encode('TeeNode.Infer', { modelId: MODEL, sealedRequest: setup.sealed }), { deadlineMs: state.deadlineMs });
    if (!answer.response) {
      setup.fail();
      break;
    }
    setup.open(codec.decode<TeeInferResponse>('TeeNode.Infer', answer.response).sealedResponse);
  }
  return tee.sealHandshake(body);
}

function teeBody(state: FuzzState, b: TeeBodyRecipe): { bytes: Uint8Array; mustRefuse: string | undefined } {
  const tee = state.material.tee;
  const stale = (offset: number) => (Math.abs(offset) >= TS_WINDOW_MS + TS_MARGIN_MS ? `a timestamp ${offset} ms from now` : undefined);
  switch (b.kind) {
    case 'valid':
      return {
        bytes: tee.body({ rows: b.rows, tsOffsetMs: b.tsOffsetMs, values: b.values, modelId: b.bodyModel === 'other' ? tee.otherModelId : undefined }),
        mustRefuse: b.bodyModel === 'other' ? 'a body naming another model' : stale(b.tsOffsetMs),
      };
    case 'tensors':
      return {
        bytes: tee.cbor([1, randomId(), Date.now() + b.tsOffsetMs, MODEL, b.tensors.map((t) => [t.name, t.dims, new Uint8Array(t.dataBytes)])]),
        mustRefuse: undefined,
      };
    case 'fields':
      return { bytes: safeCbor(tee, [b.version, new Uint8Array(b.requestIdBytes), b.timestamp, b.modelId, []]), mustRefuse: undefined };
    case 'cbor':
      return { bytes: safeCbor(tee, b.value), mustRefuse: 'a body that is not a request' };
    case 'bytes':
      return { bytes: b.bytes, mustRefuse: 'a body that is not a request' };
  }
}

function safeCbor(tee: FuzzMaterial['tee'], value: unknown): Uint8Array {
  try {
    return tee.cbor(value);
  } catch {
    return tee.cbor(String(value));
  }
}

function randomId(): Uint8Array {
  return new Uint8Array(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
}

