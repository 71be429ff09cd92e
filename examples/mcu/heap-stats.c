/* Heap accounting for the measurements (link with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free):
 * bytes in use and their peak, counted as malloc_usable_size of every live block. Not needed in a product. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "heap-stats.h"

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
