/* home.c - finds and creates the data folder (state.db, VM folders):
 * --home, else $PRIVARION_VM_HOME, else $XDG_DATA_HOME/privarion-vm, else
 * $HOME/.local/share/privarion-vm. Called by pvm_engine_open and doctor.c. */
#include "pvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An unset or empty variable counts as unset. */
static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

/* Joins a and b into out (either may be absolute, b is appended); fails
 * when the result does not fit. */
static int join_path(char *out, size_t size, const char *a, const char *b,
                     const char *what, pvm_error *err)
{
    size_t la = strlen(a), lb = strlen(b);
    bool slash = la > 0 && a[la - 1] != '/' && lb > 0;
    if (la + slash + lb + 1 > size)
        return pvm_error_set(err, PVM_E_INVALID, "%s: path is longer than %zu bytes", what,
                             size - 1);
    memcpy(out, a, la);
    if (slash)
        out[la++] = '/';
    memcpy(out + la, b, lb + 1);
    return 0;
}

/* Makes path absolute (relative to the working folder) and drops trailing
 * slashes, writing the result into out. */
static int make_absolute(const char *path, char *out, size_t size, const char *what,
                         pvm_error *err)
{
    if (path[0] == '/') {
        if (join_path(out, size, path, "", what, err) < 0)
            return -1;
    } else {
        char cwd[PVM_PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return pvm_error_set(err, PVM_E_IO, "%s: cannot read the working folder: %s",
                                 what, strerror(errno));
        if (join_path(out, size, cwd, path, what, err) < 0)
            return -1;
    }
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return 0;
}

/* Picks the folder by precedence into out (absolute, not yet created). */
static int home_choose(const char *home_flag, char *out, size_t size, pvm_error *err)
{
    const char *v;
    if (home_flag) {
        if (!home_flag[0])
            return pvm_error_set(err, PVM_E_USAGE, "--home: must not be empty");
        return make_absolute(home_flag, out, size, "--home", err);
    }
    if ((v = env_nonempty("PRIVARION_VM_HOME")))
        return make_absolute(v, out, size, "PRIVARION_VM_HOME", err);
    /* The XDG spec says a relative XDG_DATA_HOME is invalid and ignored. */
    if ((v = env_nonempty("XDG_DATA_HOME")) && v[0] == '/') {
        char base[PVM_PATH_MAX];
        if (make_absolute(v, base, sizeof base, "XDG_DATA_HOME", err) < 0)
            return -1;
        return join_path(out, size, base, "privarion-vm", "XDG_DATA_HOME", err);
    }
    if ((v = env_nonempty("HOME"))) {
        char base[PVM_PATH_MAX];
        if (make_absolute(v, base, sizeof base, "HOME", err) < 0)
            return -1;
        return join_path(out, size, base, ".local/share/privarion-vm", "HOME", err);
    }
    return pvm_error_set(err, PVM_E_USAGE,
                         "home: none of --home, PRIVARION_VM_HOME, XDG_DATA_HOME or HOME "
                         "is set; give --home DIR");
}

/* Creates one folder 0700; an existing folder is fine, anything else not. */
static int mkdir_one(const char *path, pvm_error *err)
{
    struct stat st;
    if (mkdir(path, 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "home: cannot create %s: %s", path,
                             strerror(errno));
    if (stat(path, &st) < 0)
        return pvm_error_set(err, PVM_E_IO, "home: cannot read %s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return pvm_error_set(err, PVM_E_IO, "home: %s exists and is not a folder", path);
    return 0;
}

/* mkdir -p with mode 0700 for every folder it creates; the last one is
 * chmod'ed so a restrictive umask cannot leave it unusable. */
static int mkdir_parents(const char *path, pvm_error *err)
{
    char buf[PVM_PATH_MAX];
    pvm_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir_one(buf, err);
        *p = '/';
        if (rc < 0)
            return -1;
    }
    if (mkdir(buf, 0700) == 0) {
        if (chmod(buf, 0700) < 0)
            return pvm_error_set(err, PVM_E_IO, "home: cannot chmod %s: %s", buf,
                                 strerror(errno));
        return 0;
    }
    return mkdir_one(buf, err);
}

int pvm_path_check_private(const char *what, const char *path, pvm_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return pvm_error_set(err, PVM_E_IO, "%s: cannot read %s: %s", what, path,
                             strerror(errno));
    uid_t me = geteuid();
    if (st.st_uid != me && st.st_uid != 0)
        return pvm_error_set(err, PVM_E_IO, "%s: %s belongs to uid %u, not to you (uid %u) or "
                             "root, so its owner could change what this program runs; fix: "
                             "chown %u %s, or use a folder of your own", what, path,
                             (unsigned)st.st_uid, (unsigned)me, (unsigned)me, path);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return pvm_error_set(err, PVM_E_IO, "%s: %s is writable by %s (mode %04o), so another "
                             "user could change what this program runs; fix: chmod go-w %s",
                             what, path,
                             (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH) ? "group and others"
                             : (st.st_mode & S_IWGRP) ? "its group" : "others",
                             (unsigned)(st.st_mode & 07777), path);
    return 0;
}

int pvm_home_resolve(const char *home_flag, char *out, size_t size, pvm_error *err)
{
    char path[PVM_PATH_MAX];
    struct stat st;

    if (home_choose(home_flag, path, sizeof path, err) < 0)
        return -1;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return pvm_error_set(err, PVM_E_IO, "home: %s exists and is not a folder", path);
    } else if (errno != ENOENT) {
        return pvm_error_set(err, PVM_E_IO, "home: cannot read %s: %s", path, strerror(errno));
    } else if (mkdir_parents(path, err) < 0) {
        return -1;
    }
    if (pvm_path_check_private("home", path, err) < 0) /* as sshd's StrictModes */
        return -1;
    if (strlen(path) + 1 > size)
        return pvm_error_set(err, PVM_E_INVALID, "home: path is longer than %zu bytes",
                             size ? size - 1 : 0);
    pvm_strlcpy(out, path, size);
    return 0;
}

/* ------------------------------------------------------------ home token */

/* HOME/home-id holds "TOKEN DEV INO": a random token bound to the folder's
 * device and inode, so a copy (cp -a: a new inode) gets a token of its own
 * while the same folder reached by another spelling (a symlink) keeps it. */
static int pvm_token_read(const char *path, const struct stat *home, char *out, size_t size)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return -1;
    char tok[32];
    unsigned long long dev = 0, ino = 0;
    int n = fscanf(fp, "%24s %llu %llu", tok, &dev, &ino);
    fclose(fp);
    if (n != 3 || strlen(tok) != 12 || dev != (unsigned long long)home->st_dev ||
        ino != (unsigned long long)home->st_ino)
        return -1;
    for (const char *c = tok; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return -1;
    pvm_strlcpy(out, tok, size);
    return 0;
}

/* The token last read, per thread: a list of 100 VMs needs it 100 times. It stays true
 * while the home is the same folder (device and inode, which home-id records) and its
 * home-id the same file, unchanged (inode and modification time). */
static _Thread_local struct {
    char home[PVM_PATH_MAX];
    dev_t dev;
    ino_t ino, file_ino;
    struct timespec file_mtime;
    char token[16];
} pvm_token_cache;

static bool pvm_token_cached(const char *home, const struct stat *st, const char *path,
                             struct stat *file)
{
    if (stat(path, file) < 0)
        return false;
    return pvm_token_cache.token[0] && st->st_dev == pvm_token_cache.dev &&
           st->st_ino == pvm_token_cache.ino && file->st_ino == pvm_token_cache.file_ino &&
           file->st_mtim.tv_sec == pvm_token_cache.file_mtime.tv_sec &&
           file->st_mtim.tv_nsec == pvm_token_cache.file_mtime.tv_nsec &&
           strcmp(home, pvm_token_cache.home) == 0;
}

static void pvm_token_remember(const char *home, const struct stat *st, const char *path,
                               const char *token)
{
    struct stat file;
    pvm_token_cache.token[0] = '\0';
    if (stat(path, &file) < 0 || strlen(home) >= sizeof pvm_token_cache.home ||
        strlen(token) >= sizeof pvm_token_cache.token)
        return;
    pvm_strlcpy(pvm_token_cache.home, home, sizeof pvm_token_cache.home);
    pvm_token_cache.dev = st->st_dev;
    pvm_token_cache.ino = st->st_ino;
    pvm_token_cache.file_ino = file.st_ino;
    pvm_token_cache.file_mtime = file.st_mtim;
    pvm_strlcpy(pvm_token_cache.token, token, sizeof pvm_token_cache.token);
}

int pvm_home_token(const char *home, char *out, size_t size, pvm_error *err)
{
    struct stat st;
    if (stat(home, &st) < 0)
        return pvm_error_set(err, PVM_E_IO, "home: cannot read %s: %s", home, strerror(errno));
    char *path = pvm_xasprintf("%s/home-id", home);
    struct stat file;
    if (pvm_token_cached(home, &st, path, &file)) {
        free(path);
        pvm_strlcpy(out, pvm_token_cache.token, size);
        return 0;
    }
    int rc = 0;
    if (pvm_token_read(path, &st, out, size) < 0) {
        unsigned char b[6];
        char tok[13];
        pvm_random_bytes(b, sizeof b);
        for (int i = 0; i < 6; i++)
            snprintf(tok + 2 * i, 3, "%02x", b[i]);
        /* A temporary file of its own (two threads of one process may get here at once) */
        char *tmp = pvm_xasprintf("%s.XXXXXX", path);
        int fd = mkostemp(tmp, O_CLOEXEC);
        FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (fd >= 0 && !fp)
            close(fd);
        bool ok = fp && fprintf(fp, "%s %llu %llu\n", tok, (unsigned long long)st.st_dev,
                                (unsigned long long)st.st_ino) > 0;
        ok = (fp && fclose(fp) == 0) && ok;
        /* link, not rename: of two writers at once the first token stays, and both
         * read it; a stale file (a copied home's) is replaced. */
        if (ok && link(tmp, path) < 0 && errno == EEXIST &&
            pvm_token_read(path, &st, out, size) < 0)
            ok = rename(tmp, path) == 0;
        if (ok && pvm_token_read(path, &st, out, size) == 0)
            rc = 0;
        else
            rc = pvm_error_set(err, PVM_E_IO, "home: cannot write %s: %s", path,
                               strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
    }
    if (rc == 0)
        pvm_token_remember(home, &st, path, out);
    free(path);
    return rc;
}
