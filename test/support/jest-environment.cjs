// jest runs each test file in its own vm realm; typed arrays created by native addons (onnxruntime-node)
// come from the host realm and fail `instanceof Float32Array` checks inside the test realm. Sharing the
// host's constructors makes both sides agree.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'SharedArrayBuffer', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

module.exports = class VeilTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
    // Every gateway a test starts from config binds its HTTP API to a free port, as tests do for gRPC (port 0):
    // the 8080 default would collide between parallel test files. An explicit http.port in a test still wins below env,
    // so a test that needs a fixed port sets VEIL_HTTP_PORT itself.
    if (this.global.process.env.VEIL_HTTP_PORT === undefined) this.global.process.env.VEIL_HTTP_PORT = '0';
  }
};
