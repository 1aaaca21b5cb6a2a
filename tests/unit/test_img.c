/* test_img.c - unit tests of engine/qemu/img.c against the real qemu-img: create, info
 * (an image with 60 internal snapshots, whose JSON is far past 8 KiB, is read whole),
 * resize, an unreadable image, and vm create --image on that image through the engine.
 * Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/vm_internal.h"
#include "rm_rf.h"

#define MIB (1024ULL * 1024)

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = pvm_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pvm-test-img-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    setenv("PRIVARION_VM_ACCEL", "tcg", 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* Runs qemu-img with argv through the engine's own runner; fails the test otherwise. */
static char *qemu_img(char *const *argv)
{
    char *out = NULL;
    int status = -1;
    pvm_error err = {0};
    if (pvm_proc_run(argv, 60000, &out, &status, &err) < 0)
        fail_msg("%s: %s", argv[1], err.msg);
    if (status != 0)
        fail_msg("qemu-img %s failed (%d): %s (is qemu-utils installed?)", argv[1], status, out);
    return out;
}

static void test_create_info_resize(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *disk = pvm_xasprintf("%s/d.qcow2", f->dir);
    assert_int_equal(pvm_img_create(disk, 16 * MIB, NULL, NULL, "disk", &err), 0);
    char fmt[32];
    uint64_t size = 0;
    assert_int_equal(pvm_img_info(disk, fmt, &size, &err), 0);
    assert_string_equal(fmt, "qcow2");
    assert_int_equal(size, 16 * MIB);
    assert_int_equal(pvm_img_resize(disk, 32 * MIB, "disk (resize)", &err), 0);
    assert_int_equal(pvm_img_info(disk, fmt, &size, &err), 0);
    assert_int_equal(size, 32 * MIB);
    char *top = pvm_xasprintf("%s/top.qcow2", f->dir);
    assert_int_equal(pvm_img_create(top, 64 * MIB, disk, "qcow2", "image (overlay)", &err), 0);
    assert_int_equal(pvm_img_info(top, fmt, &size, &err), 0);
    assert_int_equal(size, 64 * MIB);
    /* not an image: refused naming the field and the path */
    char *junk = pvm_xasprintf("%s/missing.img", f->dir);
    assert_int_equal(pvm_img_info(junk, fmt, &size, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "image: "));
    assert_non_null(strstr(err.msg, junk));
    /* a qemu-img that is not there: how to install it */
    char *path = pvm_xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", "/nonexistent", 1); /* no qemu-img to be found */
    int rc = pvm_img_create(junk, MIB, NULL, NULL, "disk", &err);
    setenv("PATH", path, 1);
    free(path);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, PVM_E_QEMU);
    assert_non_null(strstr(err.msg, "apt-get install qemu-utils"));
    free(junk);
    free(top);
    free(disk);
}

/* The regression: qemu-img info of an image with 60 internal snapshots prints far more
 * than 8 KiB of JSON; cut there it did not parse and the image was refused. */
static void test_image_with_60_snapshots_accepted(void **state)
{
    fixture *f = *state;
    pvm_error err = {0};
    char *img = pvm_xasprintf("%s/snaps.qcow2", f->dir);
    char *create[] = {"qemu-img", "create", "-q", "-f", "qcow2", img, "16M", NULL};
    free(qemu_img(create));
    for (int i = 0; i < 60; i++) {
        char name[32];
        snprintf(name, sizeof name, "snapshot-%02d", i);
        char *snap[] = {"qemu-img", "snapshot", "-c", name, img, NULL};
        free(qemu_img(snap));
    }
    char *info[] = {"qemu-img", "info", "--output=json", "-U", "--", img, NULL};
    char *json = qemu_img(info);
    assert_true(strlen(json) > 8192); /* the precondition: past the old fixed buffer */
    assert_non_null(strstr(json, "snapshot-59"));
    free(json);
    char fmt[32];
    uint64_t size = 0;
    assert_int_equal(pvm_img_info(img, fmt, &size, &err), 0);
    assert_string_equal(fmt, "qcow2");
    assert_int_equal(size, 16 * MIB);

    /* and through the engine: vm create --image takes it (as an overlay and as a copy) */
    char *home = pvm_xasprintf("%s/home", f->dir);
    pvm_engine *e = NULL;
    assert_int_equal(pvm_engine_open(&e, home, &err), 0);
    pvm_profile p;
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, "p", &err), 0);
    const pvm_preset *preset = pvm_preset_find("dell-latitude-7520");
    assert_non_null(preset);
    pvm_preset_apply(preset, &p);
    pvm_identity_randomize(&p, preset);
    assert_int_equal(pvm_profile_create(e, &p, NULL, &err), 0);
    pvm_vm_opts o = {.memory = 128 * MIB, .net = PVM_NET_NONE, .image = img,
                     .image_mode = PVM_IMAGE_OVERLAY};
    pvm_vm vm;
    if (pvm_vm_create(e, "over", "p", &o, &vm, &err) < 0)
        fail_msg("vm create --image (overlay): %s", err.msg);
    assert_int_equal(vm.disk_bytes, 16 * MIB);
    o.image_mode = PVM_IMAGE_COPY;
    o.disk = 32 * MIB; /* copied, then grown */
    if (pvm_vm_create(e, "copy", "p", &o, &vm, &err) < 0)
        fail_msg("vm create --image (copy): %s", err.msg);
    assert_int_equal(vm.disk_bytes, 32 * MIB);
    pvm_engine_close(e);
    free(home);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_info_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_with_60_snapshots_accepted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
