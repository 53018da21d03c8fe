import { toVeilError, VeilError } from '../errors';

/** What decides how a framework error reads: the size limit to name, and whether the route takes only sealed bodies. */
export type HttpErrorSituation = { bodyLimitBytes: number; sealedRoute: boolean };

/**
 * Classifies anything an HTTP request produced — fastify's own errors (body parsing, size, content-type, bad URL)
 * as well as what routes throw — as a `VeilError`, so the one error handler encodes it with `toOpenAIError`. A
 * framework error keeps its public meaning but never its text (which names fastify internals); anything else goes
 * through `toVeilError`, the one classifier.
 */
export function toHttpVeilError(err: unknown, situation: HttpErrorSituation): VeilError {
  if (err instanceof VeilError) return toVeilError(err);
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const sealedOnly = () => new VeilError('sealed_request_required', undefined, { cause: err });
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VeilError('message_too_large', `the request body exceeds ${situation.bodyLimitBytes} bytes (http.bodyLimitBytes)`, { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return situation.sealedRoute ? sealedOnly() : new VeilError('unsupported_media_type', undefined, { cause: err, param: 'content-type' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return situation.sealedRoute ? sealedOnly() : new VeilError('invalid_argument', 'the request body is not valid JSON', { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new VeilError('invalid_argument', 'the request body does not match its content-length', { cause: err });
    case 'FST_ERR_BAD_URL':
      return new VeilError('invalid_argument', 'the request URL is not valid (bad percent-encoding)', { cause: err });
    case 'ECONNRESET':
    case 'ECONNABORTED':
      return new VeilError('cancelled', 'the client closed the connection', { cause: err });
    default:
      break;
  }
  // Any other framework refusal of the request itself (a malformed URL, a bad header): a 4xx, its text withheld.
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (code.startsWith('FST_') && typeof status === 'number' && status >= 400 && status < 500) {
    return new VeilError('invalid_argument', 'the HTTP request is malformed', { cause: err, details: { fastify: code } });
  }
  return toVeilError(err);
}
