/* edgec on a Cortex-M under wasm3, no WASI: runs every sample linked in (blobs.S) through edgec-host.c and
 * prints the output bytes in hex on the semihosting console, then what it cost: flash is measured by the
 * build (size), RAM here (.data + .bss, heap peak, stack peak), instructions by QEMU's virtual clock (below). */
#include <stdio.h>
#include <stdlib.h>
#include "edgec-host.h"
#include "heap-stats.h"

extern const uint8_t edgec_wasm[], edgec_wasm_end[], edgec_bundle[], edgec_bundle_end[], edgec_input[],
    edgec_input_end[];
extern uint32_t __data_start, __bss_end;
uint32_t stack_peak_bytes(void);

/* The MPS2 FPGA I/O block's COUNTER (0x40028018) counts the 25 MHz system clock in QEMU's virtual time; with
 * -icount shift=0 one instruction is one nanosecond, so instructions = ticks * 40 (40-instruction resolution).
 * (QEMU's semihosting SYS_ELAPSED reads the host clock, not the instruction count.) */
#define MPS2_COUNTER (*(volatile uint32_t *)0x40028018u)
#define INSNS_PER_TICK 40u
static uint64_t elapsed(void) { return (uint64_t)MPS2_COUNTER * INSNS_PER_TICK; }

#ifndef EDGEC_MEMORY_BYTES
#define EDGEC_MEMORY_BYTES 0
#endif

int main(void) {
    edgec_host_config c = {0};
    c.wasm = edgec_wasm;
    c.wasm_len = (uint32_t)(edgec_wasm_end - edgec_wasm);
    c.bundle_len = (uint32_t)(edgec_bundle_end - edgec_bundle);
    c.bundle = c.bundle_len ? edgec_bundle : NULL; /* none: the wasm is an `edgec compile --mcu` image */
    c.memory_bytes = EDGEC_MEMORY_BYTES;
    c.stack_bytes = 4 * 1024;
    c.verify_checksum = 1;
    static edgec_host h;
    size_t before = heap_in_use;
    uint64_t t0 = elapsed();
    const char *err = edgec_host_open(&h, &c);
    uint64_t t1 = elapsed();
    if (err) {
        printf("edgec-fw: %s\n", err);
        return 1;
    }
    uint32_t in_len = (uint32_t)(edgec_input_end - edgec_input);
    if (h.in_bytes == 0 || in_len % h.in_bytes != 0) {
        printf("edgec-fw: input has %lu bytes, not a multiple of %lu\n", (unsigned long)in_len, (unsigned long)h.in_bytes);
        return 1;
    }
    uint8_t *y = malloc(h.out_bytes);
    uint64_t run = 0;
    for (uint32_t k = 0; k < in_len / h.in_bytes; k++) {
        uint64_t a = elapsed();
        if ((err = edgec_host_run(&h, edgec_input + k * h.in_bytes, y))) {
            printf("edgec-fw: %s\n", err);
            return 1;
        }
        run += elapsed() - a;
        printf("out ");
        for (uint32_t i = 0; i < h.out_bytes; i++) printf("%02x", y[i]);
        printf("\n");
    }
    heap_report(h.rt, h.mod, before);
    /* newlib-nano's printf has no %llu; the counts stay far below 2^32 */
    printf("stats samples=%lu load_insns=%lu run_insns=%lu static_ram=%lu heap_peak=%lu heap_in_use=%lu stack_peak=%lu\n",
           (unsigned long)(in_len / h.in_bytes), (unsigned long)(t1 - t0), (unsigned long)run,
           (unsigned long)((uint32_t)&__bss_end - (uint32_t)&__data_start), (unsigned long)heap_peak,
           (unsigned long)heap_in_use, (unsigned long)stack_peak_bytes());
    return 0;
}
