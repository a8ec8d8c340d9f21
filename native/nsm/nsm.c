/*
 * The one thing Node cannot do by itself inside a Nitro Enclave: a raw request to the Nitro Security
 * Module. request(devicePath, bytes) opens the device, issues NSM_IOCTL_RAW with the CBOR request and
 * a 0x3000-byte response buffer, and returns the response bytes as the driver sized them. Encoding the
 * request and decoding the answer is done in TypeScript (src/enclave/attestation/nitro-provider.ts).
 *
 * The ioctl, as the Linux driver (drivers/misc/nsm.c, include/uapi/linux/nsm.h) defines it:
 *   struct nsm_iovec { __u64 addr; __u64 len; };
 *   struct nsm_raw { struct nsm_iovec request; struct nsm_iovec response; };
 *   #define NSM_IOCTL_RAW _IOWR(0x0A, 0, struct nsm_raw)
 * Failures throw an Error whose `code` is the errno name (ENOENT, EACCES, ENOTTY, …) and whose
 * message names the call that failed; nothing else about the process is touched.
 */
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __linux__
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#endif

#define NSM_REQUEST_MAX_SIZE 0x1000
#define NSM_RESPONSE_MAX_SIZE 0x3000
#define NSM_DEVICE_PATH_MAX 4096

struct nsm_iovec {
  uint64_t addr;
  uint64_t len;
};

struct nsm_raw {
  struct nsm_iovec request;
  struct nsm_iovec response;
};

#ifdef __linux__
#define NSM_IOCTL_RAW _IOWR(0x0A, 0, struct nsm_raw)
#else
#define NSM_IOCTL_RAW 0xC0200A00u
#endif

static const char *errno_name(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EBUSY: return "EBUSY";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case EIO: return "EIO";
    case EINTR: return "EINTR";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOSYS: return "ENOSYS";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_error(napi_env env, const char *code, const char *message) {
  napi_value code_value, message_value, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *call, int error) {
  char message[256];
  snprintf(message, sizeof message, "%s failed: %s", call, strerror(error));
  return throw_error(env, errno_name(error), message);
}

/* request(devicePath: string, request: Uint8Array): Buffer */
static napi_value request(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2)
    return throw_error(env, "EINVAL", "request(devicePath, bytes) takes two arguments");

  char path[NSM_DEVICE_PATH_MAX];
  size_t path_length = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_length) != napi_ok ||
      path_length == 0 || path_length >= sizeof path - 1)
    return throw_error(env, "EINVAL", "devicePath must be a non-empty string");

  bool is_typed_array = false;
  napi_is_typedarray(env, argv[1], &is_typed_array);
  if (!is_typed_array) return throw_error(env, "EINVAL", "bytes must be a Uint8Array");
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  napi_value array_buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &array_buffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return throw_error(env, "EINVAL", "bytes must be a Uint8Array");
  if (length == 0 || length > NSM_REQUEST_MAX_SIZE)
    return throw_error(env, "EMSGSIZE", "the request must be 1 to 4096 bytes");

#ifdef __linux__
  uint8_t response[NSM_RESPONSE_MAX_SIZE];
  struct nsm_raw raw;
  memset(&raw, 0, sizeof raw);
  raw.request.addr = (uint64_t)(uintptr_t)data;
  raw.request.len = (uint64_t)length;
  raw.response.addr = (uint64_t)(uintptr_t)response;
  raw.response.len = (uint64_t)sizeof response;

  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open", errno);
  int result;
  do {
    result = ioctl(fd, NSM_IOCTL_RAW, &raw);
  } while (result < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (result < 0) return throw_errno(env, "ioctl NSM_IOCTL_RAW", saved);
  if (raw.response.len > sizeof response)
    return throw_error(env, "EMSGSIZE", "the NSM answered more than its response buffer holds");

  napi_value buffer;
  void *copy = NULL;
  if (napi_create_buffer_copy(env, (size_t)raw.response.len, response, &copy, &buffer) != napi_ok)
    return throw_error(env, "ENOMEM", "cannot allocate the response");
  return buffer;
#else
  (void)data;
  return throw_errno(env, "ioctl NSM_IOCTL_RAW (Linux only)", ENOSYS);
#endif
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value function, ioctl_number, request_max, response_max;
  napi_create_function(env, "request", NAPI_AUTO_LENGTH, request, NULL, &function);
  napi_set_named_property(env, exports, "request", function);
  napi_create_uint32(env, (uint32_t)NSM_IOCTL_RAW, &ioctl_number);
  napi_set_named_property(env, exports, "NSM_IOCTL_RAW", ioctl_number);
  napi_create_uint32(env, NSM_REQUEST_MAX_SIZE, &request_max);
  napi_set_named_property(env, exports, "NSM_REQUEST_MAX_SIZE", request_max);
  napi_create_uint32(env, NSM_RESPONSE_MAX_SIZE, &response_max);
  napi_set_named_property(env, exports, "NSM_RESPONSE_MAX_SIZE", response_max);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
