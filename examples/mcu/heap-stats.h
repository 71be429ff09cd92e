/* Heap in use and its peak in bytes (heap-stats.c; measurement builds only). */
#ifndef EDGEC_HEAP_STATS_H
#define EDGEC_HEAP_STATS_H
#include <stddef.h>
extern size_t heap_in_use, heap_peak;
#endif
