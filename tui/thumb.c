/* thumb.c - the live thumbnail of a running VM's screen in the details pane: the engine
 * thread takes the screen (pvm_vm_screen, QMP screendump) every TUI_THUMB_MS while the
 * thumbnail is shown, the UI thread scales it to the room there is and draws it with
 * upper-half blocks (two pixels a cell: the upper one the foreground, the lower one the
 * background; 256 colours, else the 8 nearest) or, with --ascii or without colour, ASCII
 * shades. Called by details.c (draw), tui.c (tick, job events, exit). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUI_THUMB_MS 1500   /* a new screen this often while shown */
#define TUI_THUMB_MIN_W 16  /* smaller than this (cells) is not drawn */
#define TUI_THUMB_MIN_H 4

/* A screen request: written by the engine thread, read by the UI thread after the done
 * event; the UI thread frees it. */
typedef struct tui_thumb_req {
    char vm[PVM_UUID_LEN + 1];
    pvm_image img;
} tui_thumb_req;

struct tui_thumb {
    unsigned job;              /* the screen job queued or running, 0 none */
    tui_thumb_req *req;        /* its request */
    char vm[PVM_UUID_LEN + 1]; /* whose screen img is */
    pvm_image img;             /* the newest screen, width 0 none yet */
    char error[256];           /* why there is none ("" when fine) */
    char error_vm[PVM_UUID_LEN + 1]; /* whose screen error is: shown only under that VM */
    int64_t asked_ms;          /* when the last job was queued */
    bool shown;                /* drawn by the last details draw */
    char shown_vm[PVM_UUID_LEN + 1];
    unsigned frames;           /* screens received, for the caption */
};

static tui_thumb *tui_thumb_get(tui_app *app)
{
    if (!app->thumb)
        app->thumb = pvm_xcalloc(1, sizeof *app->thumb);
    return app->thumb;
}

static int tui_thumb_job(pvm_engine *e, void *arg, const pvm_progress *progress, pvm_error *err)
{
    (void)progress;
    tui_thumb_req *req = arg;
    return pvm_vm_screen(e, req->vm, &req->img, err);
}

static void tui_thumb_ask(tui_app *app, tui_thumb *t)
{
    if (t->job || !t->shown)
        return;
    pvm_error err = {0};
    tui_thumb_req *req = pvm_xcalloc(1, sizeof *req);
    pvm_strlcpy(req->vm, t->shown_vm, sizeof req->vm);
    unsigned id;
    if (pvm_worker_submit_fn(app->worker, "screen", tui_thumb_job, req, NULL, &id, &err) < 0) {
        free(req);
        pvm_strlcpy(t->error, err.msg, sizeof t->error);
        pvm_strlcpy(t->error_vm, t->shown_vm, sizeof t->error_vm);
        return;
    }
    t->job = id;
    t->req = req;
    t->asked_ms = tui_now_ms();
}

void tui_thumb_tick(tui_app *app)
{
    tui_thumb *t = app->thumb;
    if (t && t->shown && !t->job && tui_now_ms() - t->asked_ms >= TUI_THUMB_MS)
        tui_thumb_ask(app, t);
}

bool tui_thumb_event(tui_app *app, const pvm_worker_event *ev)
{
    tui_thumb *t = app->thumb;
    if (!t || !t->job || ev->job != t->job)
        return false;
    if (!ev->done)
        return true;
    tui_thumb_req *req = t->req;
    t->job = 0;
    t->req = NULL;
    if (ev->rc == 0) {
        pvm_image_free(&t->img);
        t->img = req->img;
        req->img.rgb = NULL;
        pvm_strlcpy(t->vm, req->vm, sizeof t->vm);
        t->error[0] = '\0';
        t->frames++;
    } else {
        pvm_strlcpy(t->error, ev->err.msg, sizeof t->error);
        pvm_strlcpy(t->error_vm, req->vm, sizeof t->error_vm);
    }
    pvm_image_free(&req->img);
    free(req);
    if (t->shown)
        app->dirty |= TUI_DIRTY_DETAILS;
    return true;
}

void tui_thumb_free(tui_app *app)
{
    tui_thumb *t = app->thumb;
    if (!t)
        return;
    if (t->req) { /* called once the worker has stopped: no job holds it any more */
        pvm_image_free(&t->req->img);
        free(t->req);
    }
    pvm_image_free(&t->img);
    free(t);
    app->thumb = NULL;
}

/* ------------------------------------------------------------ drawing */

/* The mean colour of the source box [x0,x1) x [y0,y1), at least one pixel. */
static void tui_thumb_mean(const pvm_image *img, int x0, int x1, int y0, int y1,
                           unsigned char rgb[3])
{
    unsigned long sum[3] = {0, 0, 0}, n = 0;
    x1 = x1 > x0 ? x1 : x0 + 1;
    y1 = y1 > y0 ? y1 : y0 + 1;
    x1 = x1 > img->width ? img->width : x1;
    y1 = y1 > img->height ? img->height : y1;
    /* at most 4x4 samples a box: a big screen stays cheap */
    int sx = (x1 - x0) / 4 + 1, sy = (y1 - y0) / 4 + 1;
    for (int y = y0; y < y1; y += sy)
        for (int x = x0; x < x1; x += sx) {
            const unsigned char *p = img->rgb + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
            sum[0] += p[0];
            sum[1] += p[1];
            sum[2] += p[2];
            n++;
        }
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)(n ? sum[c] / n : 0);
}

/* xterm's 256 colours: the 6x6x6 cube or the grey ramp, whichever is nearer. */
static int tui_thumb_256(const unsigned char c[3])
{
    static const int level[6] = {0, 95, 135, 175, 215, 255};
    int q[3], d_cube = 0;
    for (int i = 0; i < 3; i++) {
        q[i] = c[i] < 48 ? 0 : c[i] < 115 ? 1 : (c[i] - 35) / 40;
        int d = c[i] - level[q[i]];
        d_cube += d * d;
    }
    int avg = (c[0] + c[1] + c[2]) / 3;
    int g = avg > 238 ? 23 : (avg - 3) / 10 < 0 ? 0 : (avg - 3) / 10;
    int gv = 8 + 10 * g, d_grey = 0;
    for (int i = 0; i < 3; i++)
        d_grey += (c[i] - gv) * (c[i] - gv);
    return d_grey < d_cube ? 232 + g : 16 + 36 * q[0] + 6 * q[1] + q[2];
}

/* The nearest of the 8 basic colours (curses numbers: red 1, green 2, blue 4). */
static int tui_thumb_8(const unsigned char c[3])
{
    return (c[0] >= 128 ? COLOR_RED : 0) | (c[1] >= 128 ? COLOR_GREEN : 0) |
           (c[2] >= 128 ? COLOR_BLUE : 0);
}

static bool tui_thumb_colour(const tui_app *app)
{
    return !app->ascii_lines && !app->no_colour && has_colors() && COLORS >= 8 &&
           pvm_color_wanted();
}

/* One cell of two pixels (upper, lower). */
static void tui_thumb_cell(const tui_app *app, int y, int x, const unsigned char up[3],
                           const unsigned char lo[3])
{
    if (!tui_thumb_colour(app)) {
        static const char ramp[] = " .:-=+*#%@";
        int l = (up[0] * 3 + up[1] * 6 + up[2] + lo[0] * 3 + lo[1] * 6 + lo[2]) / 20;
        mvaddch(y, x, (chtype)(unsigned char)ramp[l * 9 / 255]);
        return;
    }
    bool wide = COLORS >= 256;
    int fg = wide ? tui_thumb_256(up) : tui_thumb_8(up);
    int bg = wide ? tui_thumb_256(lo) : tui_thumb_8(lo);
    int pair = alloc_pair(fg, bg);
    if (pair < 0)
        pair = 0;
    cchar_t cc;
    wchar_t half[2] = {0x2580, 0}; /* UPPER HALF BLOCK */
    setcchar(&cc, half, A_NORMAL, 0, &pair);
    mvadd_wch(y, x, &cc);
}

/* Draws img scaled into r (cells), keeping its proportions (a cell is two square pixels). */
static void tui_thumb_pixels(const tui_app *app, const pvm_image *img, tui_rect r)
{
    double s1 = (double)img->width / r.w, s2 = (double)img->height / (2.0 * r.h);
    double s = s1 > s2 ? s1 : s2;
    int w = (int)(img->width / s), h = (int)(img->height / s); /* pixels, h in half-cells */
    w = w < 1 ? 1 : w > r.w ? r.w : w;
    h = h < 2 ? 2 : h > 2 * r.h ? 2 * r.h : h;
    for (int cy = 0; cy < (h + 1) / 2; cy++)
        for (int cx = 0; cx < w; cx++) {
            unsigned char up[3], lo[3];
            int x0 = (int)(cx * s), x1 = (int)((cx + 1) * s);
            int y0 = (int)(2 * cy * s), y1 = (int)((2 * cy + 1) * s), y2 = (int)((2 * cy + 2) * s);
            tui_thumb_mean(img, x0, x1, y0, y1, up);
            if (2 * cy + 1 < h)
                tui_thumb_mean(img, x0, x1, y1, y2, lo);
            else
                memset(lo, 0, sizeof lo);
            tui_thumb_cell(app, r.y + cy, r.x + cx, up, lo);
        }
    attrset(A_NORMAL);
}

void tui_thumb_draw(tui_app *app, const pvm_vm *vm, tui_rect r)
{
    tui_thumb *t = tui_thumb_get(app);
    bool same = strcmp(t->shown_vm, vm ? vm->id : "") == 0;
    t->shown = false;
    if (!vm || vm->state != PVM_VM_RUNNING || vm->display == PVM_DISPLAY_NONE ||
        r.w < TUI_THUMB_MIN_W || r.h < TUI_THUMB_MIN_H + 1)
        return;
    t->shown = true;
    pvm_strlcpy(t->shown_vm, vm->id, sizeof t->shown_vm);
    if (!same || !t->asked_ms)
        tui_thumb_ask(app, t); /* a new VM shown: its screen at once */
    char cap[300];
    bool have = t->img.width > 0 && strcmp(t->vm, vm->id) == 0;
    /* an error of another VM's job (the selection moved while it ran) is not this one's */
    bool failed = t->error[0] && !have && strcmp(t->error_vm, vm->id) == 0;
    snprintf(cap, sizeof cap, "%s", failed ? t->error
                                   : have ? "live, every 1.5 s (D: how to connect a viewer)"
                                          : "waiting for the first screen ...");
    tui_draw_text(r.y, r.x, 11, tui_theme_attr(TUI_EL_DIM), "Screen");
    tui_draw_text(r.y, r.x + 11, r.w - 11, tui_theme_attr(failed ? TUI_EL_ERROR
                                                                              : TUI_EL_TEXT),
                  cap);
    if (have)
        tui_thumb_pixels(app, &t->img, (tui_rect){r.y + 1, r.x, r.h - 1, r.w});
}
