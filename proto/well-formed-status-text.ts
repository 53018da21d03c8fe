/**
 * A gRPC status message (or trailer value) that grpc-js can send. Messages may echo a client's model id or variant,
 * truncated; a cut between the two halves of a surrogate pair leaves a lone surrogate, which makes grpc-js's
 * `encodeURI` throw *outside* any handler and end the process. Lone surrogates become U+FFFD, as TextEncoder would.
 */
export function wellFormedStatusText(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
