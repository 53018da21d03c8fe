import { randomBytes } from 'node:crypto';
import {
  computeReportData, isAttestationError, parseEnvelope, verifyEvidence as attestationVerifyEvidence,
  type AttestationEnvelope, type AttestationPolicy, type VerifyEvidenceOptions, type VerifyEvidenceResult,
} from '../../attestation';
import {
  createHpkeSuite, createTeeChannel, decodeTeeResponseBody, encodeTeeRequestBody, isTeeError, newRequestId, TEE_PROTOCOL, TeeError, teeSignatureText, verifyTeeSignature,
  type SealedTeeRequest, type TeeTensorMap,
} from '../../tee';
import { createTeeTransport, type TeeTransport } from './create-tee-transport';

/** The caller's attestation policy; the client itself fills in the nonce, the report_data binding and the simulated opt-in. */
export type TeePolicy = Omit<AttestationPolicy, 'nonce' | 'reportDataBinding' | 'simulated'>;

export type TeeEvidenceVerifier = (
  envelope: AttestationEnvelope,
  policy: AttestationPolicy,
  options: VerifyEvidenceOptions,
) => Promise<VerifyEvidenceResult>;

export type ConnectTeeModelParameters = {
  modelId: string;
  policy: TeePolicy;
  /** Accept SIMULATED evidence (development only: it proves nothing about hardware). Default false. */
  allowSimulated?: boolean;
  /** Trust anchors for verifyEvidence (e.g. `{ simulated: [provider.verifierKey] }`). */
  roots?: VerifyEvidenceOptions['roots'];
  /** Reuse one HPKE handshake for later requests (default true); see tee/PROTOCOL.md. */
  reuseSession?: boolean;
  now?: () => Date;
  /** Defaults to attestation's verifyEvidence. */
  verifyEvidence?: TeeEvidenceVerifier;
} & ({ target: string; transport?: undefined } | { transport: TeeTransport; target?: undefined });

export type TeeInferTimings = {
  kind: 'handshake' | 'session';
  sealMs: number;
  roundTripMs: number;
  verifyMs: number;
  openMs: number;
  totalMs: number;
  /** Reported by the node (not verifiable). */
  nodeMs: number;
  computeMs: number;
};

export type TeeInference = {
  outputs: TeeTensorMap;
  signatureValid: true;
  /** The EIP-191 receipt: anyone holding the sealed bytes can re-check it against the attested address. */
  receipt: { text: string; signature: string; signingAddress: string; requestBytes: Uint8Array; responseBytes: Uint8Array };
  platform: string;
  measurement: string;
  timings: TeeInferTimings;
};

export type TeeModelClient = {
  readonly modelId: string;
  readonly platform: string;
  readonly measurement: string;
  readonly signingAddress: string;
  readonly simulated: boolean;
  /** @throws {TeeError} `tee_bad_signature`, `tee_decrypt_failed`, `tee_replay`, `tee_stale_request`, `invalid_input`, … */
  infer(inputs: TeeTensorMap): Promise<TeeInference>;
  close(): void;
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Attests a TEE node, then returns a client whose requests only that enclave can read. It fetches evidence
 * for a fresh nonce, verifies it against `policy` (refusing SIMULATED evidence unless `allowSimulated`),
 * checks that report_data binds the node's HPKE key, signing address and the nonce, and from then on
 * seals every request to that key and verifies every response signature against that address.
 * @throws {TeeError} `tee_simulated_refused`, `tee_attestation_failed`, `tee_binding_mismatch`, `unavailable`
 * @example
 * const model = await connectTeeModel({ target: '127.0.0.1:50061', modelId: 'breast-cancer-lr', policy });
 * const { outputs } = await model.infer({ x: { dims: [1, 30], data } });
 */
export async function connectTeeModel(params: ConnectTeeModelParameters): Promise<TeeModelClient> {
  const transport = params.transport ?? createTeeTransport({ target: params.target! });
  const now = params.now ?? (() => new Date());
  const verify = params.verifyEvidence ?? attestationVerifyEvidence;
  try {
    const nonce = new Uint8Array(randomBytes(32));
    const evidence = await transport.getEvidence({ nonce });
    let envelope: AttestationEnvelope;
    try {
      const parsed = parseEnvelope(evidence.envelopeJson);
      if (!('nonce' in parsed)) throw new TeeError('tee_binding_mismatch', 'the evidence binds no keys or nonce');
      envelope = parsed;
    } catch (err) {
      if (isTeeError(err)) throw err;
      throw new TeeError('tee_attestation_failed', 'the node returned a malformed evidence envelope', undefined, { cause: err });
    }
    if (envelope.platform === 'simulated' && !params.allowSimulated) {
      throw new TeeError(
        'tee_simulated_refused',
        'the node offered SIMULATED attestation, which proves nothing about hardware; pass allowSimulated: true to accept it (development only)',
      );
    }
    const policy: AttestationPolicy = { ...params.policy, nonce: hex(nonce), reportDataBinding: 'required', simulated: params.allowSimulated ? 'allow' : 'forbid' };
    const result = await verify(envelope, policy, { now: now(), roots: params.roots });
    if (!result.ok) {
      throw new TeeError('tee_attestation_failed', `the node's evidence was refused: ${result.failures.map((f) => f.code).join(', ')}`, { failures: result.failures });
    }
    const identity = evidence.identity;
    const address = envelope.signingAddress.toLowerCase();
    const expectedReportData = hex(computeReportData({ hpkePublicKey: Buffer.from(envelope.hpkePublicKey, 'hex'), signingAddress: envelope.signingAddress, nonce }));
    if (
      !identity || identity.protocol !== TEE_PROTOCOL || envelope.nonce !== hex(nonce) || result.claims.reportData !== expectedReportData
      || hex(identity.hpkePublicKey) !== envelope.hpkePublicKey || identity.signingAddress.toLowerCase() !== address
    ) {
      throw new TeeError('tee_binding_mismatch', 'the evidence does not bind the keys the node presented and this client\'s nonce');
    }

    const { modelId } = params;
    const platform = result.claims.platform;
    const measurement = result.claims.measurement;
    const channel = createTeeChannel({ suite: createHpkeSuite(), hpkePublicKey: Buffer.from(envelope.hpkePublicKey, 'hex'), modelId, reuseSession: params.reuseSession });

    const exchange = async (inputs: TeeTensorMap, retry: boolean): Promise<TeeInference> => {
      const t0 = performance.now();
      const requestId = newRequestId();
      const request: SealedTeeRequest = await channel.seal(encodeTeeRequestBody({ requestId, timestampMs: now().getTime(), modelId, inputs }));
      const t1 = performance.now();
      let response;
      try {
        response = await transport.infer({ modelId, sealedRequest: request.sealed });
      } catch (err) {
        request.fail();
        if (retry && request.kind === 'session' && isTeeError(err, 'tee_session_unknown')) {
          channel.reset();
          return exchange(inputs, false);
        }
        throw err;
      }
      const t2 = performance.now();
      try {
        // Verify the receipt over the exact bytes first: a tampered or substituted response fails here.
        await verifyTeeSignature({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse, signature: response.signature, signingAddress: address });
        const t3 = performance.now();
        const body = decodeTeeResponseBody(request.open(response.sealedResponse));
        if (hex(body.requestId) !== hex(requestId)) throw new TeeError('tee_decrypt_failed', 'the response answers another request');
        const t4 = performance.now();
        return {
          outputs: body.outputs,
          signatureValid: true,
          receipt: {
            text: teeSignatureText({ modelId, requestBytes: request.sealed, responseBytes: response.sealedResponse }), signature: response.signature, signingAddress: envelope.signingAddress,
            requestBytes: request.sealed, responseBytes: response.sealedResponse,
          },
          platform,
          measurement,
          timings: {
            kind: request.kind, sealMs: t1 - t0, roundTripMs: t2 - t1, verifyMs: t3 - t2, openMs: t4 - t3, totalMs: t4 - t0,
            nodeMs: response.nodeMicros / 1000, computeMs: response.computeMicros / 1000,
          },
        };
      } catch (err) {
        request.fail();
        throw err;
      }
    };

    return {
      modelId,
      platform,
      measurement,
      signingAddress: envelope.signingAddress,
      simulated: result.claims.simulated,
      infer: (inputs) => exchange(inputs, true),
      close: () => transport.close?.(),
    };
  } catch (err) {
    if (!params.transport) transport.close?.();
    if (isAttestationError(err)) throw new TeeError('tee_attestation_failed', err.message, undefined, { cause: err });
    throw err;
  }
}
