'use strict';
/**
 * The addon if it was built (`npm ci` runs node-gyp for it on install), else `available: false` and
 * the reason, so the caller can say exactly what is missing instead of crashing on a require.
 */
let binding;
let loadError;
try {
  binding = require('./build/Release/nsm.node');
} catch (error) {
  loadError = error;
}

module.exports = {
  available: binding !== undefined,
  loadError: loadError === undefined ? undefined : String(loadError.message ?? loadError),
  NSM_IOCTL_RAW: binding?.NSM_IOCTL_RAW,
  NSM_REQUEST_MAX_SIZE: binding?.NSM_REQUEST_MAX_SIZE,
  NSM_RESPONSE_MAX_SIZE: binding?.NSM_RESPONSE_MAX_SIZE,
  /** One raw NSM request: CBOR in, CBOR out. Throws with `code` set to the errno name. */
  request(devicePath, bytes) {
    if (binding === undefined) {
      const error = new Error(`the NSM addon is not built: ${module.exports.loadError}`);
      error.code = 'ENOADDON';
      throw error;
    }
    return binding.request(devicePath, bytes);
  },
};
