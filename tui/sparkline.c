/* sparkline.c - a series of samples as a braille, eighth-block or ASCII sparkline
 * (see sparkline.h). Called by the TUI's details pane; pure, no curses. */
#include "sparkline.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char pvm_spark_ascii[] = "._-:=+*#"; /* 8 levels, lowest first */

/* Braille dot bits per column, from the bottom row up (Unicode's dots 7,3,2,1 and 8,6,5,4). */
static const uint8_t pvm_braille_left[4] = {0x40, 0x04, 0x02, 0x01};
static const uint8_t pvm_braille_right[4] = {0x80, 0x20, 0x10, 0x08};

size_t pvm_spark_cell_bytes(pvm_spark_style style)
{
    return style == PVM_SPARK_ASCII ? 1 : 3;
}

size_t pvm_spark_samples(size_t width, pvm_spark_style style)
{
    return style == PVM_SPARK_BRAILLE ? 2 * width : width;
}

size_t pvm_spark_buf_size(size_t width, pvm_spark_style style)
{
    return width * pvm_spark_cell_bytes(style) + 1;
}

typedef struct spark_scale {
    double lo, hi;
} spark_scale;

/* The automatic top: the largest known sample of vals[0..n). */
static spark_scale spark_scale_of(const double *vals, size_t n, double lo, double hi)
{
    spark_scale s = {lo, hi};
    if (isnan(hi) || isnan(lo) || hi <= lo) {
        s.lo = 0;
        s.hi = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(vals[i]) && vals[i] > s.hi)
                s.hi = vals[i];
    }
    return s;
}

/* 0 for unknown, else 1..levels (a known value is never below 1). */
static int spark_level(double v, spark_scale s, int levels)
{
    if (isnan(v))
        return 0;
    double span = s.hi - s.lo;
    double f = span > 0 ? (v - s.lo) / span : 0;
    if (!(f > 0)) /* also -inf */
        f = 0;
    if (f > 1)
        f = 1;
    return 1 + (int)lround(f * (levels - 1));
}

/* The sample shown at position i of a window of m ending at the series' end. */
static double spark_at(const double *vals, size_t n, size_t m, size_t i)
{
    if (i + n < m)
        return NAN; /* in front of the series */
    return vals[n - m + i];
}

static size_t put_utf8_3(char *p, unsigned cp)
{
    p[0] = (char)(0xE0 | (cp >> 12));
    p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    p[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static size_t spark_cell(pvm_spark_style style, int a, int b, char *p)
{
    if (style == PVM_SPARK_ASCII) {
        p[0] = b ? pvm_spark_ascii[b - 1] : ' ';
        return 1;
    }
    if (style == PVM_SPARK_BLOCKS) {
        if (!b) {
            p[0] = ' ';
            return 1;
        }
        return put_utf8_3(p, 0x2580u + (unsigned)b);
    }
    if (!a && !b) {
        p[0] = ' ';
        return 1;
    }
    unsigned bits = 0;
    for (int i = 0; i < a; i++)
        bits |= pvm_braille_left[i];
    for (int i = 0; i < b; i++)
        bits |= pvm_braille_right[i];
    return put_utf8_3(p, 0x2800u + bits);
}

size_t pvm_sparkline(const double *vals, size_t n, size_t width, pvm_spark_style style,
                     double lo, double hi, char *out, size_t out_size)
{
    if (!out_size)
        return 0;
    size_t m = pvm_spark_samples(width, style);
    size_t shown = n < m ? n : m;
    spark_scale s = spark_scale_of(vals + (n - shown), shown, lo, hi);
    int levels = style == PVM_SPARK_BRAILLE ? 4 : 8;
    size_t len = 0, cell = pvm_spark_cell_bytes(style);
    for (size_t c = 0; c < width; c++) {
        int a = 0, b;
        if (style == PVM_SPARK_BRAILLE) {
            a = spark_level(spark_at(vals, n, m, 2 * c), s, levels);
            b = spark_level(spark_at(vals, n, m, 2 * c + 1), s, levels);
        } else {
            b = spark_level(spark_at(vals, n, m, c), s, levels);
        }
        if (len + cell + 1 > out_size)
            break;
        len += spark_cell(style, a, b, out + len);
    }
    out[len] = '\0';
    return len;
}
