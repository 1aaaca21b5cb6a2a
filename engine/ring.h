/* ring.h - a fixed-size history of one figure (engine/ring.c): the sampler keeps one
 * ring per VM and figure, the TUI copies a window out of it to draw a sparkline.
 * Pure: no locking (the owner locks), one allocation at init, none per sample. */
#ifndef PVM_RING_H
#define PVM_RING_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

/* The value of a figure that could not be read: a NaN, never 0. */
#define PVM_UNKNOWN ((double)NAN)
static inline bool pvm_known(double v) { return !isnan(v); }

typedef struct pvm_ring {
    double *v;     /* cap slots */
    size_t cap;    /* capacity, > 0 */
    size_t head;   /* next slot to write */
    size_t count;  /* filled slots, <= cap */
} pvm_ring;

/* Allocates cap slots (cap 0 is taken as 1); the ring starts empty. */
void pvm_ring_init(pvm_ring *r, size_t cap);
void pvm_ring_free(pvm_ring *r);
/* Forgets every value (no allocation). */
void pvm_ring_clear(pvm_ring *r);
/* Appends v (PVM_UNKNOWN allowed), overwriting the oldest value when full. O(1). */
void pvm_ring_push(pvm_ring *r, double v);
/* The i-th value counted from the oldest (0) held; PVM_UNKNOWN when i >= count. */
double pvm_ring_at(const pvm_ring *r, size_t i);
/* The newest value, PVM_UNKNOWN when empty. */
double pvm_ring_last(const pvm_ring *r);
/* Copies the newest n values into out[0..n), oldest first. When fewer than n are held,
 * the front of out is padded with PVM_UNKNOWN so the newest value is always out[n-1].
 * Returns how many real (held) values were copied. */
size_t pvm_ring_tail(const pvm_ring *r, double *out, size_t n);

#endif
