// A Node-API addon with one function, trim(): glibc's malloc_trim(0), which hands the free pages inside
// every malloc arena back to the kernel. Node has no way to ask for it, and glibc itself only shrinks
// the top of a heap: after a burst (TLS buffers, compiler zones, parsed requests) the freed chunks
// in the middle of the arenas stay resident until the next burst reuses them. Core's idle memory trim
// calls it after V8's memory-reducing collection (packages/core/README.md, runtime helpers).
// Built beside each service's bundle by tools/native.js; returns true when memory was released.
#define NAPI_VERSION 8
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#if defined(__GLIBC__)
  released = malloc_trim(0);
#endif
  napi_value result = NULL;
  if (napi_get_boolean(env, released != 0, &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function = NULL;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", function) != napi_ok) return NULL;
  return exports;
}
