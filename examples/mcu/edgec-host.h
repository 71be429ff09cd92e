/* edgec on wasm3 without WASI: runs one model through the runtime's plain-i32 ABI (docs/embedding.md).
 * The runtime wasm (build/edgec-scalar.wasm) and the bundle stay where they are (flash); wasm3 keeps pointers
 * into the wasm bytes, so they must outlive the host. The bundle is copied once into linear memory. Or one
 * `edgec compile --mcu` image (runtime + model, loaded at compile time) and no bundle.
 * Copy this file pair into your firmware together with wasm3's source/m3_*.c (no m3_api_*.c needed). */
#ifndef EDGEC_HOST_H
#define EDGEC_HOST_H
#include <stdint.h>
#include "wasm3.h"

typedef struct {
    IM3Environment env;
    IM3Runtime rt;
    IM3Module mod;
    IM3Function run, in_count, in_ptr, in_size, out_count, out_ptr, out_size, err_ptr, err_len;
    uint32_t in_bytes, out_bytes; /* one sample: every input (output) in bundle order */
    char error[200];
} edgec_host;

typedef struct {
    const uint8_t *wasm;
    uint32_t wasm_len;
    /* NULL when `wasm` is an `edgec compile --mcu` image: the model is inside, loaded already (the smallest
     * RAM: wasm3 never compiles edgec_load's decoder); else the bundle for the runtime wasm to load */
    const uint8_t *bundle;
    uint32_t bundle_len;
    /* bytes of wasm linear memory wasm3 may allocate; 0 = whole 64 KiB pages as the module grows.
     * `edgec inspect --mcu` and `edgec compile --mcu` print the figure a model needs. */
    uint32_t memory_bytes;
    /* wasm3's value stack for the interpreter; edgec's call depth is small */
    uint32_t stack_bytes;
    /* 0: skip the bundle's CRC-32 (one table lookup per byte) */
    int verify_checksum;
} edgec_host_config;

/* NULL on success, else a message (also in h->error). */
const char *edgec_host_open(edgec_host *h, const edgec_host_config *c);
/* Runs one sample: `in` holds h->in_bytes, `out` receives h->out_bytes. */
const char *edgec_host_run(edgec_host *h, const uint8_t *in, uint8_t *out);
void edgec_host_close(edgec_host *h);

#endif
