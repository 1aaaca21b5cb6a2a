/* lock.c - flock(2) locks the kernel drops when the holder dies: the per-VM operation lock
 * (HOME/vms/<id>/lock: one start, stop or delete at a time, so never two QEMUs for one VM)
 * and the host-wide start lock that keeps the caps check honest. Called by vm*.c. */
#include "vm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int pvm_vm_lock(const pvm_vm_files *f, const char *vm_name, int *fd, pvm_error *err)
{
    /* O_CLOEXEC: a QEMU we spawn must never inherit (and so keep) the lock. */
    int l = open(f->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (l < 0)
        return pvm_error_set(err, PVM_E_IO, "VM '%s': cannot open lock file %s: %s", vm_name,
                             f->lock, strerror(errno));
    while (flock(l, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(l);
        if (e == EWOULDBLOCK)
            return pvm_error_set(err, PVM_E_BUSY,
                                 "VM '%s' is busy: another privarion-vm session is starting "
                                 "or stopping it", vm_name);
        return pvm_error_set(err, PVM_E_IO, "VM '%s': cannot lock %s: %s", vm_name, f->lock,
                             strerror(e));
    }
    *fd = l;
    return 0;
}

void pvm_vm_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing drops the flock */
}

/* One try at the start lock; true when taken or when trying cannot succeed. */
typedef struct pvm_flock_try {
    int fd, error;
} pvm_flock_try;

static bool pvm_flock_taken(void *ctx)
{
    pvm_flock_try *t = ctx;
    while (flock(t->fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return false;
        if (errno != EINTR) {
            t->error = errno;
            return true;
        }
    }
    return true;
}

int pvm_start_lock(const char *home, int wait_ms, const pvm_progress *progress, int *fd,
                   pvm_error *err)
{
    char *path = pvm_xasprintf("%s/start.lock", home);
    int l = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int e = errno;
    free(path);
    if (l < 0)
        return pvm_error_set(err, PVM_E_IO, "cannot open the start lock: %s", strerror(e));
    pvm_flock_try t = {.fd = l};
    int rc = pvm_wait_until(pvm_flock_taken, &t, wait_ms, 20, progress,
                            "waiting for another session's start", err);
    if (rc == 1 && !t.error) {
        *fd = l;
        return 0;
    }
    close(l);
    if (rc < 0)
        return -1;
    if (t.error)
        return pvm_error_set(err, PVM_E_IO, "cannot take the start lock: %s", strerror(t.error));
    return pvm_error_set(err, PVM_E_BUSY, "another privarion-vm session is starting a VM; try "
                         "again in a moment");
}

bool pvm_vm_lock_busy(const pvm_vm_files *f)
{
    /* Read-only on purpose: even a brief shared flock here would make a
     * concurrent start fail as busy. /proc/locks lists "FLOCK ... maj:min:ino". */
    struct stat st;
    if (stat(f->lock, &st) < 0)
        return false;
    char want[64];
    snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
             (unsigned long long)st.st_ino);
    FILE *fp = fopen("/proc/locks", "re");
    if (!fp)
        return false;
    char line[256];
    bool busy = false;
    while (!busy && fgets(line, sizeof line, fp)) {
        char kind[16], dev[64];
        if (sscanf(line, "%*s %15s %*s %*s %*s %63s", kind, dev) == 2)
            busy = strcmp(kind, "FLOCK") == 0 && strcmp(dev, want) == 0;
    }
    fclose(fp);
    return busy;
}
