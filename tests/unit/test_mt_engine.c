/* test_mt_engine.c - two engine handles on two threads (as the TUI's engine thread beside
 * a second one): each starts, lists, inspects and stops its own VM over the fake backend
 * many times at once, then both race to start the same VM (exactly one wins, the other
 * is refused as busy or already running). Run plain, under ASan+UBSan and under
 * ThreadSanitizer (build/unit-tsan/, see the Makefile) by tests/run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/pvm.h"
#include "../../engine/qemu/qemu.h"
#include "rm_rf.h"

#define ROUNDS 15

typedef struct fixture {
    char dir[256];
    char home[PATH_MAX];
} fixture;

/* What one thread did; checked on the main thread (cmocka asserts are not thread-safe). */
typedef struct worker {
    const fixture *f;
    const char *vm;     /* its own VM */
    const char *other;  /* the other thread's VM, which it must see in the list */
    pthread_barrier_t *go;
    int rounds_done;
    int race_rc;
    pvm_errcode race_code;
    char failure[600];  /* "" when every step went as expected */
} worker;

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fixture *f = pvm_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pvm-test-mt-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->home, sizeof f->home, "%s/home", f->dir);
    pvm_engine *e = NULL;
    pvm_error err = {0};
    if (pvm_engine_open(&e, f->home, &err) < 0) {
        fprintf(stderr, "engine open: %s\n", err.msg);
        return -1;
    }
    /* Two 1-vCPU VMs run at once: the caps must allow two (a 2-core host at least). */
    char *cfg = pvm_xasprintf("%s/config", f->home);
    write_text(cfg, "backend = fake\naccel = tcg\nmax_cpus = 2\nmax_memory = 256M\n");
    free(cfg);
    pvm_profile p;
    pvm_profile_init(&p);
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 32ull << 20};
    int rc = pvm_profile_set_name(&p, "p1", &err);
    strcpy(p.mac, "a4:bb:6d:00:00:01");
    strcpy(p.hw.cpu_model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
    if (rc == 0)
        rc = pvm_profile_create(e, &p, NULL, &err);
    if (rc == 0)
        rc = pvm_vm_create(e, "left", "p1", &o, NULL, &err);
    if (rc == 0)
        rc = pvm_vm_create(e, "right", "p1", &o, NULL, &err);
    if (rc == 0)
        rc = pvm_vm_create(e, "shared", "p1", &o, NULL, &err);
    pvm_engine_close(e);
    if (rc < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
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

static int failed(worker *w, const char *step, const pvm_error *err)
{
    snprintf(w->failure, sizeof w->failure, "%s %s (round %d): %s", w->vm, step,
             w->rounds_done, err ? err->msg : "");
    return -1;
}

/* The VM named name in the list, or NULL. */
static const pvm_vm *find(const pvm_vm *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static int one_round(worker *w, pvm_engine *e)
{
    pvm_error err = {0};
    pvm_vm got, *list = NULL;
    size_t n = 0;
    if (pvm_vm_start(e, w->vm, 0, NULL, &err) < 0)
        return failed(w, "start", &err);
    if (pvm_vm_list(e, &list, &n, &err) < 0)
        return failed(w, "list", &err);
    const pvm_vm *mine = find(list, n, w->vm);
    bool seen = find(list, n, w->other) != NULL && mine && mine->state == PVM_VM_RUNNING;
    free(list);
    if (!seen)
        return failed(w, "list: own VM not running or the other VM missing", NULL);
    if (pvm_vm_get(e, w->vm, &got, &err) < 0 || got.state != PVM_VM_RUNNING)
        return failed(w, "get after start", &err);
    if (pvm_vm_stop(e, w->vm, false, 5, NULL, &err) < 0)
        return failed(w, "stop", &err);
    if (pvm_vm_get(e, w->vm, &got, &err) < 0 || got.state != PVM_VM_STOPPED)
        return failed(w, "get after stop", &err);
    return 0;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    pvm_engine *e = NULL;
    pvm_error err = {0};
    if (pvm_engine_open(&e, w->f->home, &err) < 0) { /* this thread's own handle */
        failed(w, "engine open", &err);
        pthread_barrier_wait(w->go);
        pthread_barrier_wait(w->go);
        return NULL;
    }
    pthread_barrier_wait(w->go);
    while (!w->failure[0] && w->rounds_done < ROUNDS && one_round(w, e) == 0)
        w->rounds_done++;
    pthread_barrier_wait(w->go); /* both done with their own VM: race for the shared one */
    pvm_error race = {0};
    w->race_rc = pvm_vm_start(e, "shared", 0, NULL, &race);
    w->race_code = race.code;
    pvm_engine_close(e);
    return NULL;
}

static void test_two_handles_two_threads(void **state)
{
    fixture *f = *state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    worker w[2] = {
        {.f = f, .vm = "left", .other = "right", .go = &go},
        {.f = f, .vm = "right", .other = "left", .go = &go},
    };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++) {
        if (w[i].failure[0])
            fail_msg("%s", w[i].failure);
        assert_int_equal(w[i].rounds_done, ROUNDS);
    }
    /* exactly one start of the shared VM won; the loser was told why */
    assert_int_equal(w[0].race_rc + w[1].race_rc, -1);
    pvm_errcode lost = w[0].race_rc < 0 ? w[0].race_code : w[1].race_code;
    assert_true(lost == PVM_E_BUSY || lost == PVM_E_STATE);

    pvm_engine *e = NULL;
    pvm_error err = {0};
    pvm_vm got;
    assert_int_equal(pvm_engine_open(&e, f->home, &err), 0);
    assert_int_equal(pvm_vm_get(e, "shared", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_RUNNING);
    assert_int_equal(pvm_vm_get(e, "left", &got, &err), 0);
    assert_int_equal(got.state, PVM_VM_STOPPED);
    assert_int_equal(pvm_vm_stop(e, "shared", true, 5, NULL, &err), 0);
    pvm_engine_close(e);
}

/* Two handles on a home without a config both write the default one at once: both
 * loads succeed and the file is whole (each writer has its own temporary file). */
typedef struct loader {
    const char *home;
    pthread_barrier_t *go;
    int failures;
    char msg[512];
} loader;

#define CONFIG_ROUNDS 200

static void *run_loader(void *arg)
{
    loader *l = arg;
    for (int i = 0; i < CONFIG_ROUNDS; i++) {
        pthread_barrier_wait(l->go); /* the main thread removed the config */
        pvm_error err = {0};
        pvm_config cfg;
        if (pvm_config_load(l->home, &cfg, &err) < 0) {
            l->failures++;
            snprintf(l->msg, sizeof l->msg, "%s", err.msg);
        }
        pthread_barrier_wait(l->go);
    }
    return NULL;
}

static void test_default_config_written_at_once(void **state)
{
    fixture *f = *state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 3);
    loader l[2] = {{.home = f->home, .go = &go}, {.home = f->home, .go = &go}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_loader, &l[i]), 0);
    char *cfg = pvm_xasprintf("%s/config", f->home);
    for (int i = 0; i < CONFIG_ROUNDS; i++) {
        unlink(cfg);
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&go);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < 2; i++)
        if (l[i].failures)
            fail_msg("%d of %d loads failed: %s", l[i].failures, CONFIG_ROUNDS, l[i].msg);
    char *cmd = pvm_xasprintf("grep -qx 'backend = qemu' '%s' && ! ls '%s'.* 2>/dev/null", cfg,
                              cfg);
    assert_int_equal(system(cmd), 0); /* whole, and no temporary file left */
    free(cmd);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_handles_two_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_config_written_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
