/* Cortex-M reset: vector table, .data copied from flash, .bss zeroed, the FPU enabled on an M4F, the stack
 * painted (main.c measures its peak), then main(). Semihosting (newlib's librdimon) carries stdio and exit. */
#include <stdint.h>
#include <string.h>

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top, __stack_size;
extern void initialise_monitor_handles(void);
extern int main(void);
extern void exit(int);

#define STACK_PAINT 0x57ac57acu

void reset_handler(void) {
    memcpy(&__data_start, &__data_load, (uint32_t)&__data_end - (uint32_t)&__data_start);
    memset(&__bss_start, 0, (uint32_t)&__bss_end - (uint32_t)&__bss_start);
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm volatile("dsb\n isb");
#endif
    /* paint the stack below the current frame */
    uint32_t *low = (uint32_t *)((uint32_t)&__stack_top - (uint32_t)&__stack_size);
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = low; p < sp - 16; p++) *p = STACK_PAINT;
    initialise_monitor_handles();
    exit(main());
}

uint32_t stack_peak_bytes(void) {
    uint32_t *low = (uint32_t *)((uint32_t)&__stack_top - (uint32_t)&__stack_size);
    uint32_t *p = low;
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)&__stack_top - (uint32_t)p;
}

static void hang(void) {
    for (;;) exit(3);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top, reset_handler, hang, hang, hang, hang, hang, 0, 0, 0, 0, hang, hang, 0, hang, hang,
};
