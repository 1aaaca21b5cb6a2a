/* image.c - a VM's screen as pixels: the binary PPM (P6) QEMU's screendump writes, read into
 * a pvm_image, and PNG files written with libpng's simplified API. Pure apart from the
 * files named; called by the QEMU backend (screendump) and screen.c (vm screenshot). */
#include "pvm.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVM_IMAGE_MAX_SIDE 16384

void pvm_image_free(pvm_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    img->rgb = NULL;
    img->width = img->height = 0;
}

/* One header number after blanks and '#' comments; -1 when there is none. */
static long pvm_ppm_number(const unsigned char *d, size_t len, size_t *pos)
{
    for (;;) {
        while (*pos < len && (d[*pos] == ' ' || d[*pos] == '\t' || d[*pos] == '\n' ||
                              d[*pos] == '\r'))
            (*pos)++;
        if (*pos < len && d[*pos] == '#') {
            while (*pos < len && d[*pos] != '\n')
                (*pos)++;
            continue;
        }
        break;
    }
    long v = 0;
    size_t start = *pos;
    while (*pos < len && d[*pos] >= '0' && d[*pos] <= '9' && *pos - start < 6)
        v = v * 10 + (d[(*pos)++] - '0');
    return *pos == start ? -1 : v;
}

int pvm_ppm_parse(const void *data, size_t len, pvm_image *out, pvm_error *err)
{
    const unsigned char *d = data;
    size_t pos = 2;
    memset(out, 0, sizeof *out);
    if (len < 2 || d[0] != 'P' || d[1] != '6')
        return pvm_error_set(err, PVM_E_QEMU, "screen: not a binary PPM (P6) image");
    long w = pvm_ppm_number(d, len, &pos), h = pvm_ppm_number(d, len, &pos);
    long max = pvm_ppm_number(d, len, &pos);
    if (w < 1 || h < 1 || w > PVM_IMAGE_MAX_SIDE || h > PVM_IMAGE_MAX_SIDE || max != 255 ||
        pos >= len)
        return pvm_error_set(err, PVM_E_QEMU, "screen: PPM header is not WIDTH HEIGHT 255 "
                             "within %d pixels", PVM_IMAGE_MAX_SIDE);
    pos++; /* the one blank after the maximum */
    size_t need = (size_t)w * (size_t)h * 3;
    if (len - pos < need)
        return pvm_error_set(err, PVM_E_QEMU, "screen: PPM data is short (%zu of %zu bytes)",
                             len - pos, need);
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = pvm_xmalloc(need);
    memcpy(out->rgb, d + pos, need);
    return 0;
}

int pvm_image_write_png(const pvm_image *img, const char *path, pvm_error *err)
{
    FILE *fp = fopen(path, "wbe");
    if (!fp)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    p.width = (png_uint_32)img->width;
    p.height = (png_uint_32)img->height;
    p.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_stdio(&p, fp, 0, img->rgb, 0, NULL);
    int closed = fclose(fp);
    if (!ok || closed != 0) {
        pvm_error_set(err, PVM_E_IO, "%s: PNG not written: %s", path,
                      ok ? strerror(errno) : p.message);
        png_image_free(&p);
        remove(path);
        return -1;
    }
    return 0;
}

bool pvm_image_blank(const pvm_image *img)
{
    size_t n = (size_t)img->width * (size_t)img->height * 3;
    for (size_t i = 3; i < n; i++)
        if (img->rgb[i] != img->rgb[i % 3])
            return false;
    return true;
}
