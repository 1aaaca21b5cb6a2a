/* ring.c - the fixed history ring of one figure (see ring.h). Called by the
 * sampler (engine/sampler.c) under its lock; pure and allocation-free after init. */
#include "ring.h"

#include "pvm.h"

#include <stdlib.h>

void pvm_ring_init(pvm_ring *r, size_t cap)
{
    if (cap == 0)
        cap = 1;
    r->v = pvm_xcalloc(cap, sizeof *r->v);
    r->cap = cap;
    r->head = 0;
    r->count = 0;
}

void pvm_ring_free(pvm_ring *r)
{
    free(r->v);
    r->v = NULL;
    r->cap = r->head = r->count = 0;
}

void pvm_ring_clear(pvm_ring *r)
{
    r->head = 0;
    r->count = 0;
}

void pvm_ring_push(pvm_ring *r, double v)
{
    r->v[r->head] = v;
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    if (r->count < r->cap)
        r->count++;
}

double pvm_ring_at(const pvm_ring *r, size_t i)
{
    if (i >= r->count)
        return PVM_UNKNOWN;
    size_t oldest = (r->head + r->cap - r->count) % r->cap;
    return r->v[(oldest + i) % r->cap];
}

double pvm_ring_last(const pvm_ring *r)
{
    return r->count ? r->v[(r->head + r->cap - 1) % r->cap] : PVM_UNKNOWN;
}

size_t pvm_ring_tail(const pvm_ring *r, double *out, size_t n)
{
    size_t have = r->count < n ? r->count : n;
    size_t pad = n - have;
    for (size_t i = 0; i < pad; i++)
        out[i] = PVM_UNKNOWN;
    for (size_t i = 0; i < have; i++)
        out[pad + i] = pvm_ring_at(r, r->count - have + i);
    return have;
}
