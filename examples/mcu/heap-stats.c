/* Heap accounting for the measurements (link with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free):
 * bytes in use and their peak, counted as malloc_usable_size of every live block. Not needed in a product. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "heap-stats.h"
#include "m3_env.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

size_t heap_in_use, heap_peak;

static void *counted(void *p) {
    if (p) heap_in_use += malloc_usable_size(p);
    if (heap_in_use > heap_peak) heap_peak = heap_in_use;
    return p;
}
void *__wrap_malloc(size_t n) { return counted(__real_malloc(n)); }
void *__wrap_calloc(size_t k, size_t n) {
    void *p = k && n > (size_t)-1 / k ? NULL : __real_malloc(k * n);
    if (p) memset(p, 0, k * n);
    return counted(p);
}
void __wrap_free(void *p) {
    if (p) heap_in_use -= malloc_usable_size(p);
    __real_free(p);
}
/* realloc may move the block: old and new are both live at the peak, so count it as malloc + free */
void *__wrap_realloc(void *p, size_t n) {
    if (!p) return __wrap_malloc(n);
    size_t old = malloc_usable_size(p);
    if (n <= old) return p;
    void *q = counted(__real_malloc(n));
    if (!q) return NULL;
    memcpy(q, p, old);
    __wrap_free(p);
    return q;
}

static size_t usable(const void *p) { return p ? malloc_usable_size((void *)p) : 0; }

static size_t pages(IM3CodePage p, size_t *filled, unsigned *n) {
    size_t s = 0;
    for (; p; p = p->info.next, ++*n) {
        s += usable(p);
        *filled += p->info.lineIndex * sizeof(code_t);
    }
    return s;
}

void heap_report(IM3Runtime rt, IM3Module mod, size_t before) {
    size_t filled = 0, constants = 0;
    unsigned npages = 0, compiled = 0;
    size_t code = pages(rt->pagesOpen, &filled, &npages) + pages(rt->pagesFull, &filled, &npages);
    for (u32 i = 0; i < mod->numFunctions; i++) {
        if (mod->functions[i].compiled) compiled++;
        constants += usable(mod->functions[i].constants);
    }
    size_t memory = usable(rt->memory.mallocated), stack = usable(rt->stack), runtime = usable(rt);
    size_t functions = usable(mod->functions), segments = usable(mod->dataSegments);
    size_t known = memory + code + constants + stack + runtime + functions + segments;
    printf("heap linear_memory=%lu code_pages=%lu code_filled=%lu pages=%u functions_compiled=%u/%lu constants=%lu "
           "wasm_stack=%lu runtime=%lu function_table=%lu data_segments=%lu/%lu other=%lu\n",
           (unsigned long)memory, (unsigned long)code, (unsigned long)filled, npages, compiled,
           (unsigned long)mod->numFunctions, (unsigned long)constants, (unsigned long)stack, (unsigned long)runtime,
           (unsigned long)functions, (unsigned long)segments, (unsigned long)mod->numDataSegments,
           (unsigned long)(heap_in_use - before - known));
}
