/* sparkline.h - draws a series of samples as a one-line sparkline string
 * (tui/sparkline.c). Pure: no curses, no locale calls; the TUI's details pane
 * and any text front end pass the series and get UTF-8 or ASCII text back. */
#ifndef PVM_SPARKLINE_H
#define PVM_SPARKLINE_H

#include <stddef.h>

typedef enum {
    PVM_SPARK_BRAILLE = 0, /* UTF-8 braille, two samples a cell, 4 levels each */
    PVM_SPARK_BLOCKS,      /* UTF-8 eighth blocks U+2581..U+2588, 8 levels */
    PVM_SPARK_ASCII,       /* the 8-step ramp "._-:=+*#", one byte a cell */
} pvm_spark_style;

/* Bytes one cell takes in out (3 in the UTF-8 styles, 1 in ASCII). */
size_t pvm_spark_cell_bytes(pvm_spark_style style);
/* How many samples width cells show (2 a cell in braille, else 1). */
size_t pvm_spark_samples(size_t width, pvm_spark_style style);
/* The out size that always suffices for width cells (cells * cell bytes + NUL). */
size_t pvm_spark_buf_size(size_t width, pvm_spark_style style);

/* Renders vals[0..n) (oldest first; NaN means unknown) into exactly `width` cells,
 * right-aligned: the newest sample is in the last cell, samples beyond the width are
 * dropped, and a short series leaves blank cells in front.
 * Scale: a sample v shows at (v - lo) / (hi - lo), clamped to 0..1; when hi <= lo or hi is
 * NaN the scale is automatic, lo = 0 and hi = the largest known sample shown.
 * A known value, 0 included, draws at least the lowest level (a visible baseline); an
 * unknown one is a gap (a space, or a blank braille half), never drawn as zero.
 * out gets NUL-terminated text; when out_size is smaller than pvm_spark_buf_size, as many
 * whole cells as fit are written. Returns the bytes written, without the NUL. */
size_t pvm_sparkline(const double *vals, size_t n, size_t width, pvm_spark_style style,
                     double lo, double hi, char *out, size_t out_size);

#endif
