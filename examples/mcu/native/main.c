/* The MCU host on a desktop: `edgec-host runtime.wasm model.edgec in.bin out.bin [memory_bytes]` (model `-`:
 * runtime.wasm is an `edgec compile --mcu` image) runs every
 * sample of in.bin (docs/embedding.md, "WASI command" file format) through edgec-host.c and prints the heap
 * peak. Same code path as the firmware; for tests and for callgrind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edgec-host.h"
#include "heap-stats.h"

static uint8_t *slurp(const char *path, uint32_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    *len = (uint32_t)fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: edgec-host runtime.wasm model.edgec|- in.bin out.bin [memory_bytes]\n");
        return 2;
    }
    edgec_host_config c = {0};
    uint32_t in_len = 0;
    uint8_t *in;
    c.wasm = slurp(argv[1], &c.wasm_len);
    c.bundle = strcmp(argv[2], "-") ? slurp(argv[2], &c.bundle_len) : NULL; /* -: an `edgec compile --mcu` image */
    in = slurp(argv[3], &in_len);
    if (!c.wasm || (!c.bundle && strcmp(argv[2], "-")) || !in) {
        fprintf(stderr, "edgec-host: cannot read an input file\n");
        return 1;
    }
    c.memory_bytes = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 0;
    c.stack_bytes = 8 * 1024;
    c.verify_checksum = 1;
    size_t before = heap_in_use;
    static edgec_host h;
    const char *err = edgec_host_open(&h, &c);
    if (err) {
        fprintf(stderr, "edgec-host: %s\n", err);
        return 1;
    }
    if (h.in_bytes == 0 || in_len % h.in_bytes != 0) {
        fprintf(stderr, "edgec-host: %s has %u bytes, not a multiple of %u\n", argv[3], in_len, h.in_bytes);
        return 1;
    }
    FILE *out = fopen(argv[4], "wb");
    uint8_t *y = malloc(h.out_bytes);
    for (uint32_t k = 0; k < in_len / h.in_bytes; k++) {
        if ((err = edgec_host_run(&h, in + k * h.in_bytes, y))) {
            fprintf(stderr, "edgec-host: %s\n", err);
            return 1;
        }
        fwrite(y, 1, h.out_bytes, out);
    }
    fclose(out);
    printf("heap peak %zu, in use after the runs %zu (wasm3 and the runtime, this host's buffers excluded)\n",
           heap_peak - before, heap_in_use - before);
    edgec_host_close(&h);
    return 0;
}
