/* fixture.h - the scratch folder of the unit suites that touch files: a
 * mkdtemp folder under /tmp with home/ and state.db paths inside it, removed
 * with everything below it afterwards, and optionally an engine or a store
 * opened there. Header only; included by test_engine.c, test_store.c,
 * test_store_vms.c, test_qmp.c and test_host.c (rm_rf comes from rm_rf.h). */
#ifndef PVM_TEST_FIXTURE_H
#define PVM_TEST_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

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
    if (f->e)
        pvm_engine_close(f->e);
    if (f->s)
        pvm_store_close(f->s);
    rm_rf(f->dir);
    free(f);
    *state = NULL;
    return 0;
}

#endif
