/* hv.c - picks the hypervisor backend (hv.h) an engine handle uses: the one the
 * config's `backend` key names (qemu by default; the fake only when named), opened
 * once per handle, and the open/close/check both backends share. Called by vm.c and
 * vm_ops.c; the shared operations by qemu/backend.c and fake/backend.c. */
#include "hv.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const pvm_hv_ops *const pvm_hv_all[] = {&pvm_hv_qemu, &pvm_hv_fake};

const pvm_hv_ops *pvm_hv_find(const char *name)
{
    for (size_t i = 0; i < sizeof pvm_hv_all / sizeof pvm_hv_all[0]; i++)
        if (name && strcmp(pvm_hv_all[i]->name, name) == 0)
            return pvm_hv_all[i];
    return NULL;
}

bool pvm_hv_word_ok(const char *name)
{
    return pvm_hv_find(name) != NULL;
}

int pvm_engine_hv(pvm_engine *e, const pvm_config *cfg, const pvm_hv_ops **ops, void **ctx,
                  pvm_error *err)
{
    const pvm_hv_ops *want = pvm_hv_find(cfg->backend);
    if (!want)
        return pvm_error_set_field(err, PVM_E_INVALID, "backend",
                                   "backend: '%.20s' is not a backend (qemu or fake)",
                                   cfg->backend);
    if (e->hv != want) {
        if (e->hv && e->hv->close)
            e->hv->close(e->hv_ctx);
        e->hv = NULL;
        e->hv_ctx = NULL;
        void *c = NULL;
        if (want->open && want->open(e->home, &c, err) < 0)
            return -1;
        e->hv = want;
        e->hv_ctx = c;
    }
    *ops = e->hv;
    *ctx = e->hv_ctx;
    return 0;
}

int pvm_engine_hv_load(pvm_engine *e, const pvm_hv_ops **ops, void **ctx, pvm_error *err)
{
    pvm_config cfg;
    if (pvm_config_load(e->home, &cfg, err) < 0)
        return -1;
    return pvm_engine_hv(e, &cfg, ops, ctx, err);
}

int pvm_engine_hv_probe(pvm_engine *e, const pvm_hv_ops **ops, void **ctx, pvm_error *config_err,
                        pvm_error *err)
{
    pvm_config cfg;
    if (pvm_config_load(e->home, &cfg, config_err) == 0)
        return pvm_engine_hv(e, &cfg, ops, ctx, err);
    pvm_config_defaults(&cfg);
    return pvm_engine_hv(e, &cfg, ops, ctx, err);
}

/* ------------------------------------------------ shared by both backends */

int pvm_hv_home_open(const char *home, void **ctx, pvm_error *err)
{
    pvm_hv_home *c = pvm_xcalloc(1, sizeof *c);
    if (pvm_strlcpy(c->home, home, sizeof c->home) >= sizeof c->home) {
        free(c);
        return pvm_error_set(err, PVM_E_INVALID, "home: %s is too long a path", home);
    }
    *ctx = c;
    return 0;
}

void pvm_hv_home_close(void *ctx)
{
    free(ctx);
}

int pvm_hv_argv_check(void *ctx, const pvm_profile *p, const pvm_vm *vm, pvm_error *err)
{
    (void)ctx;
    return pvm_qemu_argv_check(p, vm, err);
}

int pvm_vm_file_write_line(const pvm_vm_files *files, const char *name, const char *text,
                           pvm_error *err)
{
    char *path = pvm_xasprintf("%s/%s", files->dir, name);
    char *line = pvm_xasprintf("%s\n", text);
    int rc = pvm_write_file_atomic(path, line);
    if (rc < 0)
        pvm_error_set(err, PVM_E_IO, "%s: cannot write: %s", path, strerror(errno));
    free(line);
    free(path);
    return rc;
}

int pvm_hv_devices_record(const pvm_vm_files *files, const char *text, pvm_error *err)
{
    return pvm_vm_file_write_line(files, "devices", text, err);
}

int pvm_hv_devices_recorded(const pvm_vm_files *files, char *out, size_t size)
{
    char *path = pvm_xasprintf("%s/devices", files->dir);
    FILE *f = fopen(path, "re");
    free(path);
    out[0] = '\0';
    if (!f)
        return -1;
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
    return out[0] ? 0 : -1;
}
