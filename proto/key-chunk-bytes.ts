/**
 * The smallest key chunk a CreateSession upload may carry, except the chunk that completes its key. The server pays a
 * fixed cost per message (gRPC framing, decoding, one turn of the read loop): without a floor, 1.3 MB of Galois keys
 * sent as 19-byte chunks is 70,000 messages and keeps a core busy past any deadline (found by the fuzzer), and the
 * 18 MB of digits keys in 1-byte chunks would cost minutes. 16 KiB is one default HTTP/2 frame.
 */
export const MIN_KEY_CHUNK_BYTES = 16 * 1024;
