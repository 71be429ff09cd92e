/* Heap in use and its peak in bytes, and where wasm3's share of it goes (heap-stats.c; measurement builds only). */
#ifndef EDGEC_HEAP_STATS_H
#define EDGEC_HEAP_STATS_H
#include <stddef.h>
#include "wasm3.h"
extern size_t heap_in_use, heap_peak;
/* Prints one `heap` line of key=bytes: linear memory, compiled code (pages, and the lines filled), wasm stack,
 * runtime (incl. wasm3's compiler state), module tables (functions, data segments) and the rest. */
void heap_report(IM3Runtime rt, IM3Module mod, size_t before);
#endif
