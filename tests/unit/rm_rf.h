/* rm_rf.h - removes a test's mkdtemp folder and all below it (rm -rf), saying so on
 * stderr when that fails. Header only; included by fixture.h (which the unit suites
 * include) and, until it adopts fixture.h, by test_vm_fake.c. */
#ifndef PVM_TEST_RM_RF_H
#define PVM_TEST_RM_RF_H

#include <stdio.h>
#include <stdlib.h>

#include "../../engine/pvm.h"

static void rm_rf(const char *path)
{
    char *cmd = pvm_xasprintf("rm -rf '%s'", path); /* a mkdtemp path: no quotes in it */
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup: rm -rf %s failed\n", path);
    free(cmd);
}

#endif
