/* fixture.h - the scratch folder of the unit suites that touch files: a
 * mkdtemp folder under /tmp with home/ and state.db paths inside it, removed
 * with everything below it afterwards, and optionally an engine or a store
 * opened there; for the VM suites (test_vm_fake.c, test_qemu_backend.c) a
 * stand-in QEMU process, profiles and VMs. Header only; included by the unit
 * suites after <cmocka.h> (rm_rf comes from rm_rf.h). */
#ifndef PVM_TEST_FIXTURE_H
#define PVM_TEST_FIXTURE_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../db/store.h"
#include "../../engine/pvm.h"
#include "rm_rf.h"

/* Makes dir (size bytes) a new folder /tmp/pvm-test-NAME.XXXXXX: 0, or -1. */
static inline int fixture_mkdtemp(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/pvm-test-%s.XXXXXX", name);
    return mkdtemp(dir) ? 0 : -1;
}

typedef struct fixture {
    char dir[64];        /* the mkdtemp folder, removed afterwards */
    char home[80];       /* dir/home: an engine's data folder (not made) */
    char db[80];         /* dir/state.db: a store's file (not made) */
    pvm_engine *e;       /* opened by fixture_setup_engine, else NULL */
    pvm_store *s;        /* opened by fixture_setup_store, else NULL */
    pid_t fake;          /* a stand-in QEMU (fixture_fake_qemu), killed by the teardown */
} fixture;

/* cmocka setup: a fresh folder and the paths inside it; the home variables
 * are cleared so no engine finds the developer's own data. */
static inline int fixture_setup(void **state)
{
    fixture *f = pvm_xcalloc(1, sizeof *f);
    if (fixture_mkdtemp(f->dir, sizeof f->dir, "unit") < 0) {
        free(f);
        return -1;
    }
    snprintf(f->home, sizeof f->home, "%s/home", f->dir);
    snprintf(f->db, sizeof f->db, "%s/state.db", f->dir);
    unsetenv("PRIVARION_VM_HOME");
    unsetenv("XDG_DATA_HOME");
    *state = f;
    return 0;
}

/* cmocka setup: fixture_setup, then an engine on f->home. */
static inline int fixture_setup_engine(void **state)
{
    pvm_error err = {0};
    if (fixture_setup(state) < 0)
        return -1;
    fixture *f = *state;
    if (pvm_engine_open(&f->e, f->home, &err) < 0) {
        fprintf(stderr, "engine open failed: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* cmocka setup: fixture_setup, then a store at f->db. */
static inline int fixture_setup_store(void **state)
{
    pvm_error err = {0};
    if (fixture_setup(state) < 0)
        return -1;
    fixture *f = *state;
    if (pvm_store_open(f->db, &f->s, &err) < 0) {
        fprintf(stderr, "store open failed: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* cmocka teardown: closes what is open and removes the folder. */
static inline int fixture_teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    if (f->fake > 0) {
        kill(f->fake, SIGKILL);
        waitpid(f->fake, NULL, 0);
    }
    if (f->e)
        pvm_engine_close(f->e);
    if (f->s)
        pvm_store_close(f->s);
    rm_rf(f->dir);
    free(f);
    *state = NULL;
    return 0;
}

/* ------------------------------------------------------- the VM suites */

#if defined(CMOCKA_H_) && defined(PVM_VM_INTERNAL_H) /* after <cmocka.h> and vm_internal.h */
/* cmocka setup: fixture_setup_engine with TCG forced (no KVM probe boot). */
static inline int fixture_setup_vms(void **state)
{
    setenv("PRIVARION_VM_ACCEL", "tcg", 1);
    return fixture_setup_engine(state);
}

/* A process whose command line names tag (as QEMU's names its VM's runtime folder). */
static inline pid_t fixture_fake_qemu(const char *tag)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", tag, "-c", "sleep 60; :", tag, (char *)NULL);
        _exit(127);
    }
    /* until exec has replaced the fork's command line (bounded) */
    for (int i = 0; i < 200 && !pvm_proc_cmdline_has(pid, tag); i++)
        usleep(5000);
    return pid;
}

/* A profile with a CPU brand and this MAC (a VM with a NIC needs one), none when NULL. */
static inline void fixture_make_profile_mac(pvm_engine *e, const char *name, const char *mac)
{
    pvm_profile p;
    pvm_error err = {0};
    pvm_profile_init(&p);
    assert_int_equal(pvm_profile_set_name(&p, name, &err), 0);
    if (mac)
        strcpy(p.mac, mac);
    strcpy(p.hw.cpu_model, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
    assert_int_equal(pvm_profile_create(e, &p, NULL, &err), 0);
}

static inline void fixture_make_profile(pvm_engine *e, const char *name)
{
    fixture_make_profile_mac(e, name, "a4:bb:6d:00:00:01");
}

static inline void fixture_write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Profile p1 and a small VM (1M disk, 64M memory) wearing it. */
static inline void fixture_create_vm(fixture *f, const char *name, pvm_vm *vm)
{
    pvm_error err = {0};
    pvm_vm_opts o = {.disk = 1024 * 1024, .memory = 64 * 1024 * 1024};
    fixture_make_profile(f->e, "p1");
    if (pvm_vm_create(f->e, name, "p1", &o, vm, &err) < 0)
        fail_msg("vm create: %s", err.msg);
}
#endif

#endif
