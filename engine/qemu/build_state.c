/* build_state.c - what of the stealth QEMU is built: the cache folder, the status of the
 * installed QEMU and patch set (remembered under a stat() fingerprint so a start spawns
 * nothing), the cache's builds and their pruning, and which binary a start runs. Called by
 * cli/cmd_qemu.c (`qemu show`), doctor.c, vm_info.c, backend.c (pick) and build.c. */
#include "qemu/build.h"
#include "vm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- facts */


/* Writes text to path whole (pvm_write_file_atomic), the error naming the build. */
int pvm_qb_write(const char *path, const char *text, pvm_error *err)
{
    if (pvm_write_file_atomic(path, text) == 0)
        return 0;
    return pvm_error_set(err, PVM_E_IO, "qemu build: cannot write %s: %s", path,
                         strerror(errno));
}

/* Runs argv (no shell) for at most timeout_ms; 0 with *out (malloc'd, trimmed of its
 * last newline) when it exits 0, else -1 with err naming what and its output's end. */
int pvm_qb_run(char *const *argv, int timeout_ms, const char *what, char **out,
                      pvm_error *err)
{
    char *text = NULL;
    int status = 0;
    if (pvm_proc_run(argv, timeout_ms, &text, &status, err) < 0)
        return -1;
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (status != 0) {
        const char *tail = n > 300 ? text + n - 300 : text;
        pvm_error_set(err, PVM_E_IO, "qemu build: %s failed (status %d): %s", what, status,
                      tail);
        free(text);
        return -1;
    }
    if (out)
        *out = text;
    else
        free(text);
    return 0;
}

/* The Debian source version of the installed QEMU, e.g. "1:7.2+dfsg-7+deb12u18". */
static int pvm_qb_source_version(char *out, size_t size, pvm_error *err)
{
    char *argv[] = { "dpkg-query", "-W", "-f=${source:Version}", PVM_QB_PKG, NULL };
    char *text = NULL;
    if (pvm_qb_run(argv, 10000, "dpkg-query " PVM_QB_PKG, &text, err) < 0)
        return pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: QEMU's package %s is not "
                             "installed (apt-get install qemu-system-x86)", PVM_QB_PKG);
    if (!text[0] || strlen(text) >= size || strcspn(text, " /\n") != strlen(text)) {
        free(text);
        return pvm_error_set(err, PVM_E_IO, "qemu build: odd source version of %s",
                             PVM_QB_PKG);
    }
    pvm_strlcpy(out, text, size);
    free(text);
    return 0;
}

int pvm_qemu_stealth_cache_dir(char *out, size_t size, pvm_error *err)
{
    int n;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *env = getenv("PRIVARION_VM_QEMU_CACHE");
    if (env && env[0] == '/')
        n = snprintf(out, size, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(out, size, "/var/cache/privarion-vm/qemu-stealth");
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/privarion-vm/qemu-stealth", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.cache/privarion-vm/qemu-stealth", home);
    else
        return pvm_error_set(err, PVM_E_INVALID, "qemu build: no cache folder (HOME is not "
                             "set; set XDG_CACHE_HOME)");
    if (n < 0 || (size_t)n >= size)
        return pvm_error_set(err, PVM_E_INVALID, "qemu build: cache folder path too long");
    return 0;
}

/* The patch folder: the checkout's patches/qemu-7.2 beside the binary, else SHAREDIR's. */
static int pvm_qb_series_dir(char *out, size_t size, pvm_error *err)
{
    if (pvm_share_find(PVM_QB_SERIES_DIR, PVM_QB_SERIES_DIR, out, size) < 0)
        return pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: no %s beside the binary nor "
                             "in %s (make install copies it)", PVM_QB_SERIES_DIR,
                             pvm_share_dir());
    return 0;
}

/* Names of the series file, in order: one per line, '#' comments, no '/' (a name, not a
 * path). *names is malloc'd (free each, then the array). */
int pvm_qb_series(const char *dir, char ***names, int *count, pvm_error *err)
{
    char *path = pvm_xasprintf("%s/series", dir);
    FILE *f = fopen(path, "re");
    if (!f) {
        pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    char line[256];
    int n = 0, cap = 16;
    char **v = pvm_xmalloc(sizeof *v * (size_t)cap);
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n#")] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            s[--len] = '\0';
        if (!len)
            continue;
        if (strchr(s, '/') || s[0] == '.' || n >= 64) {
            rc = pvm_error_set(err, PVM_E_INVALID, "qemu build: %s: '%s' is not a patch file "
                               "name of this folder (or more than 64 patches)", path, s);
            break;
        }
        if (n == cap)
            v = pvm_xrealloc(v, sizeof *v * (size_t)(cap *= 2));
        v[n++] = pvm_xstrdup(s);
    }
    fclose(f);
    free(path);
    if (rc == 0 && n == 0)
        rc = pvm_error_set(err, PVM_E_INVALID, "qemu build: %s/series names no patch", dir);
    if (rc < 0) {
        while (n)
            free(v[--n]);
        free(v);
        return -1;
    }
    *names = v;
    *count = n;
    return 0;
}

void pvm_qb_names_free(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* SHA-256 over the configure line, the series file's names and each patch's bytes, in
 * order, as hex: the build's inputs besides the source version. */
static int pvm_qb_series_hash(const char *dir, char **names, int n, char hex[65],
                              pvm_error *err)
{
    struct sha256_ctx md;
    sha256_init(&md);
    for (size_t i = 0; i < pvm_qb_nconfigure; i++)
        sha256_update(&md, strlen(pvm_qb_configure[i]) + 1, (const uint8_t *)pvm_qb_configure[i]);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        sha256_update(&md, strlen(names[i]) + 1, (const uint8_t *)names[i]);
        char *path = pvm_xasprintf("%s/%s", dir, names[i]);
        FILE *f = fopen(path, "re");
        if (!f) {
            rc = pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: %s (named in series): %s",
                               path, strerror(errno));
        } else {
            unsigned char buf[8192];
            size_t got;
            while ((got = fread(buf, 1, sizeof buf, f)) > 0)
                sha256_update(&md, got, buf);
            fclose(f);
        }
        free(path);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&md, sizeof d, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return rc;
}

/* Reads "key value" lines of the stamp into info (version, patches, seconds). */
static bool pvm_qb_stamp_read(const char *path, pvm_qemu_stealth *s)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    char line[512], key[32], val[400];
    bool have_key = false;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31s %399[^\n]", key, val) != 2)
            continue;
        if (!strcmp(key, "key"))
            have_key = !strcmp(val, s->key);
        else if (!strcmp(key, "build_seconds"))
            s->build_seconds = atoi(val);
        else if (!strcmp(key, "built_at"))
            pvm_strlcpy(s->built_at, val, sizeof s->built_at);
    }
    fclose(f);
    return have_key;
}

/* The length of name's key part when name has the cache's key shape: VERSION-HASH, VERSION
 * a Debian version without its epoch ([0-9A-Za-z.+~-], starting with a letter or digit,
 * at most 80 bytes), HASH 12 lowercase hex digits; then nothing, or one of ".log",
 * ".lock", ".work". 0 for any other name (the status memos, strangers' files). */
static size_t pvm_qb_key_len(const char *name)
{
    static const char *const tails[] = { "", ".log", ".lock", ".work" };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        size_t t = strlen(tails[i]), k = n - t;
        if (n <= t + 13 || strcmp(name + k, tails[i]) != 0 || name[k - 13] != '-')
            continue;
        size_t v = k - 13; /* the version's length */
        bool ok = v <= 80 && ((name[0] >= '0' && name[0] <= '9') ||
                              (name[0] >= 'a' && name[0] <= 'z') ||
                              (name[0] >= 'A' && name[0] <= 'Z'));
        for (size_t j = 0; ok && j < v; j++)
            ok = name[j] && strchr("0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-", name[j]) != NULL;
        for (size_t j = v + 1; ok && j < k; j++)
            ok = (name[j] >= '0' && name[j] <= '9') || (name[j] >= 'a' && name[j] <= 'f');
        if (ok)
            return k;
    }
    return 0;
}

/* Other builds in the cache folder (an older QEMU or patch set), for doctor. */
static void pvm_qb_find_other(pvm_qemu_stealth *s)
{
    DIR *d = opendir(s->cache_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* a build: a name of the key's shape, a folder with the binary in it */
        if (pvm_qb_key_len(e->d_name) != strlen(e->d_name) || !strcmp(e->d_name, s->key))
            continue;
        char *bin = pvm_xasprintf("%s/%s/%s", s->cache_dir, e->d_name, PVM_QB_BINARY);
        if (access(bin, X_OK) == 0)
            pvm_strlcpy(s->other_key, e->d_name, sizeof s->other_key);
        free(bin);
    }
    closedir(d);
}

/* ------------------------------------------------------------- the status memo */

/* The answer of dpkg-query and the series' hash is remembered in cache_dir/status-H.cache
 * (H: a hash of the patch folder's path, one file per checkout) under a fingerprint of
 * everything it depends on, each read by stat() alone: dpkg's status file (rewritten by
 * every package change), the stock QEMU binary in PATH, the series file and each patch,
 * and the configure line. A start of a hidden-hypervisor VM then spawns nothing. */

static void pvm_qb_stat_line(struct sha256_ctx *md, const char *what, const char *path)
{
    struct stat st;
    char line[PVM_PATH_MAX + 160];
    int n;
    if (path && stat(path, &st) == 0)
        n = snprintf(line, sizeof line, "%s %s %llu %llu %lld %lld.%09ld\n", what, path,
                     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                     (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
    else
        n = snprintf(line, sizeof line, "%s %s -\n", what, path ? path : "-");
    if (n > 0)
        sha256_update(md, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1,
                      (const uint8_t *)line);
}

/* The stock binary a start would otherwise run: qemu-system-x86_64 in PATH (malloc'd), or
 * NULL. */
static char *pvm_qb_stock_path(void)
{
    const char *path = getenv("PATH");
    char *copy = pvm_xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL, *found = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *full = pvm_xasprintf("%s/%s", d, PVM_QB_BINARY);
        if (access(full, X_OK) == 0)
            found = full;
        else
            free(full);
    }
    free(copy);
    return found;
}

static void pvm_qb_fingerprint(const char *series, char **names, int n, char hex[65])
{
    struct sha256_ctx md;
    sha256_init(&md);
    sha256_update(&md, 3, (const uint8_t *)"v1\n");
    for (size_t i = 0; i < pvm_qb_nconfigure; i++)
        sha256_update(&md, strlen(pvm_qb_configure[i]) + 1, (const uint8_t *)pvm_qb_configure[i]);
    pvm_qb_stat_line(&md, "dpkg", "/var/lib/dpkg/status");
    char *stock = pvm_qb_stock_path();
    pvm_qb_stat_line(&md, "qemu", stock);
    free(stock);
    char *file = pvm_xasprintf("%s/series", series);
    pvm_qb_stat_line(&md, "series", file);
    free(file);
    for (int i = 0; i < n; i++) {
        file = pvm_xasprintf("%s/%s", series, names[i]);
        pvm_qb_stat_line(&md, "patch", file);
        free(file);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&md, sizeof d, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static char *pvm_qb_memo_path(const pvm_qemu_stealth *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)s->series_dir; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return pvm_xasprintf("%s/status-%016llx.cache", s->cache_dir, (unsigned long long)h);
}

static bool pvm_qb_hex64(const char *v)
{
    return strlen(v) == 64 && strspn(v, "0123456789abcdef") == 64;
}

/* Fills version, hash and count from the memo when its fingerprint is fp. */
static bool pvm_qb_memo_read(pvm_qemu_stealth *s, const char *fp)
{
    char *path = pvm_qb_memo_path(s);
    FILE *f = fopen(path, "re");
    free(path);
    if (!f)
        return false;
    char line[256], key[32], val[200];
    bool same = false, version = false, hash = false;
    int count = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%31s %199s", key, val) != 2)
            continue;
        if (!strcmp(key, "fingerprint"))
            same = !strcmp(val, fp);
        else if (!strcmp(key, "source_version") && strlen(val) < sizeof s->source_version &&
                 strcspn(val, "/") == strlen(val))
            version = pvm_strlcpy(s->source_version, val, sizeof s->source_version) > 0;
        else if (!strcmp(key, "patch_hash") && pvm_qb_hex64(val))
            hash = pvm_strlcpy(s->patch_hash, val, sizeof s->patch_hash) > 0;
        else if (!strcmp(key, "patches"))
            count = atoi(val);
    }
    fclose(f);
    if (!same || !version || !hash || count < 1 || count > 64)
        return false;
    s->npatches = count;
    return true;
}

/* Best effort: a folder that cannot be written only means no memo. */
static void pvm_qb_memo_write(const pvm_qemu_stealth *s, const char *fp)
{
    if (mkdir(s->cache_dir, 0755) != 0 && errno != EEXIST) {
        char *parent = pvm_xstrdup(s->cache_dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            (void)mkdir(parent, 0755); /* ~/.cache/privarion-vm */
        }
        free(parent);
        if (mkdir(s->cache_dir, 0755) != 0 && errno != EEXIST)
            return;
    }
    char *path = pvm_qb_memo_path(s);
    char *text = pvm_xasprintf("fingerprint %s\nsource_version %s\npatch_hash %s\npatches %d\n",
                               fp, s->source_version, s->patch_hash, s->npatches);
    (void)pvm_write_file_atomic(path, text); /* a memo: one not written is asked again */
    free(text);
    free(path);
}

/* Source version, series hash and count: from the memo, else dpkg-query and the hash
 * (then remembered). */
static int pvm_qb_inputs(pvm_qemu_stealth *s, pvm_error *err)
{
    char **names = NULL;
    int n = 0;
    if (pvm_qb_series(s->series_dir, &names, &n, err) < 0)
        return -1;
    char fp[65];
    pvm_qb_fingerprint(s->series_dir, names, n, fp);
    int rc = 0;
    if (!pvm_qb_memo_read(s, fp)) {
        rc = pvm_qb_source_version(s->source_version, sizeof s->source_version, err);
        if (rc == 0)
            rc = pvm_qb_series_hash(s->series_dir, names, n, s->patch_hash, err);
        s->npatches = n;
        if (rc == 0)
            pvm_qb_memo_write(s, fp);
    }
    pvm_qb_names_free(names, n);
    return rc;
}

int pvm_qemu_stealth_status(pvm_qemu_stealth *s, pvm_error *err)
{
    memset(s, 0, sizeof *s);
    if (pvm_qemu_stealth_cache_dir(s->cache_dir, sizeof s->cache_dir, err) < 0 ||
        pvm_qb_series_dir(s->series_dir, sizeof s->series_dir, err) < 0 ||
        pvm_qb_inputs(s, err) < 0)
        return -1;
    /* the key: the version without its epoch, '+' and '~' kept, and 12 hex of the series */
    const char *v = strchr(s->source_version, ':');
    v = v ? v + 1 : s->source_version;
    snprintf(s->key, sizeof s->key, "%.80s-%.12s", v, s->patch_hash);
    int len = snprintf(s->binary, sizeof s->binary, "%s/%s/%s", s->cache_dir, s->key,
                       PVM_QB_BINARY);
    if (len < 0 || (size_t)len >= sizeof s->binary)
        return pvm_error_set(err, PVM_E_INVALID, "qemu build: cache folder path too long");
    char *stamp = pvm_xasprintf("%s/%s/%s", s->cache_dir, s->key, PVM_QB_STAMP);
    s->built = access(s->binary, X_OK) == 0 && pvm_qb_stamp_read(stamp, s);
    free(stamp);
    if (!s->built)
        pvm_qb_find_other(s);
    return 0;
}

/* ------------------------------------------------------------- shared with build.c */

int pvm_qb_rm_rf(const char *path, pvm_error *err)
{
    char *argv[] = { "rm", "-rf", "--one-file-system", (char *)path, NULL };
    return pvm_qb_run(argv, 120000, "removing the old work folder", NULL, err);
}

/* ------------------------------------------------------------- the cache's builds */

/* Bytes of the files directly in dir (a build folder holds a binary and a stamp). */
static uint64_t pvm_qb_dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    uint64_t sum = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            sum += (uint64_t)st.st_size;
    }
    closedir(d);
    return sum;
}

/* The key an entry of the cache folder belongs to ("KEY", "KEY.log", "KEY.lock",
 * "KEY.work", of the key's shape: pvm_qb_key_len) into key; false for anything else. */
static bool pvm_qb_entry_key(const char *name, char *key, size_t size)
{
    size_t k = pvm_qb_key_len(name);
    if (!k || k >= size)
        return false;
    snprintf(key, size, "%.*s", (int)k, name);
    return true;
}

/* Whether the cache's key other is a build of the same patch set and configure line as
 * s->key under another QEMU version: what an upgrade of QEMU made stale. Keys of another
 * patch set belong to other checkouts or installs sharing the cache. */
static bool pvm_qb_same_patches(const pvm_qemu_stealth *s, const char *other)
{
    size_t a = strlen(s->key), b = strlen(other);
    return a > 13 && b > 13 && strcmp(s->key, other) != 0 &&
           strcmp(s->key + a - 13, other + b - 13) == 0;
}

int pvm_qemu_stealth_cached(const pvm_qemu_stealth *s, pvm_qemu_cached **out, size_t *count,
                            pvm_error *err)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(s->cache_dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", s->cache_dir,
                             strerror(errno));
    }
    size_t n = 0, cap = 0;
    pvm_qemu_cached *v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        char key[128];
        char *bin = pvm_xasprintf("%s/%s/%s", s->cache_dir, e->d_name, PVM_QB_BINARY);
        bool build = pvm_qb_entry_key(e->d_name, key, sizeof key) &&
                     !strcmp(key, e->d_name) && access(bin, X_OK) == 0;
        free(bin);
        if (!build)
            continue;
        if (n == cap)
            v = pvm_xrealloc(v, sizeof *v * (cap = cap ? cap * 2 : 4));
        memset(&v[n], 0, sizeof v[n]);
        pvm_strlcpy(v[n].key, key, sizeof v[n].key);
        char *dir = pvm_xasprintf("%s/%s", s->cache_dir, key);
        v[n].bytes = pvm_qb_dir_bytes(dir);
        pvm_qemu_stealth other;
        memset(&other, 0, sizeof other);
        pvm_strlcpy(other.key, key, sizeof other.key);
        char *stamp = pvm_xasprintf("%s/%s", dir, PVM_QB_STAMP);
        v[n].stamped = pvm_qb_stamp_read(stamp, &other);
        pvm_strlcpy(v[n].built_at, other.built_at, sizeof v[n].built_at);
        v[n].current = !strcmp(key, s->key) && s->built;
        v[n].stale = pvm_qb_same_patches(s, key);
        free(stamp);
        free(dir);
        n++;
    }
    closedir(d);
    *out = v;
    *count = n;
    return 0;
}

/* Removes the builds an upgrade of QEMU made stale: the keys of the same patch set and
 * configure line and another QEMU version, each with its log, lock and work folder, except
 * a key another process builds now (its lock is held). Keys of other patch sets stay
 * (other checkouts share the cache), and so do names not of the key's shape. What went is
 * named in s->removed. */
void pvm_qb_prune(pvm_qemu_stealth *s)
{
    DIR *d = opendir(s->cache_dir);
    if (!d)
        return;
    struct dirent *e;
    char busy[8][128];
    int nbusy = 0;
    while ((e = readdir(d))) {
        char key[128];
        if (!pvm_qb_entry_key(e->d_name, key, sizeof key) || !pvm_qb_same_patches(s, key))
            continue;
        bool skip = false;
        for (int i = 0; i < nbusy; i++)
            skip |= !strcmp(busy[i], key);
        char *lock = pvm_xasprintf("%s/%s.lock", s->cache_dir, key);
        int fd = skip ? -1 : open(lock, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
            skip = true; /* another build of that key runs */
            if (nbusy < 8)
                pvm_strlcpy(busy[nbusy++], key, sizeof busy[0]);
        }
        if (!skip) {
            char *path = pvm_xasprintf("%s/%s", s->cache_dir, e->d_name);
            bool build = !strcmp(key, e->d_name);
            uint64_t bytes = build ? pvm_qb_dir_bytes(path) : 0;
            if (pvm_qb_rm_rf(path, NULL) == 0 && build && s->nremoved < PVM_QB_REMOVED_MAX) {
                pvm_strlcpy(s->removed[s->nremoved].key, key, sizeof s->removed[0].key);
                s->removed[s->nremoved++].bytes = bytes;
            }
            free(path);
        }
        if (fd >= 0)
            close(fd);
        free(lock);
    }
    closedir(d);
}

/* The note of a hidden-hypervisor start on stock QEMU under qemu_stealth = auto: why the
 * stealth build was not used, and what to run. */
static void pvm_qb_stock_note(const pvm_qemu_stealth *s, int status_rc, const pvm_error *e,
                              char *note, size_t size)
{
    if (!note || !size)
        return;
    const char *tail = "started on stock QEMU, which a guest can recognise (run `privarion-vm "
                       "qemu build`)";
    if (status_rc < 0)
        snprintf(note, size, "the profile hides the hypervisor, but whether the stealth QEMU is "
                 "built cannot be told (%.160s): %s", e->msg, tail);
    else if (s->other_key[0])
        snprintf(note, size, "the profile hides the hypervisor, but the stealth QEMU build is "
                 "stale (built for another QEMU version or patch set: %.100s; this one needs "
                 "%.100s): %s", s->other_key, s->key, tail);
    else
        snprintf(note, size, "the profile hides the hypervisor, but the stealth QEMU is not "
                 "built: %s", tail);
}

int pvm_qemu_stealth_pick(const pvm_config *cfg, bool hide_hypervisor, const char **binary,
                          char *path, size_t size, char *note, size_t note_size,
                          pvm_error *err)
{
    *binary = cfg->qemu;
    if (note && note_size)
        note[0] = '\0';
    if (!strcmp(cfg->qemu_stealth, "off") || !hide_hypervisor)
        return 0;
    /* auto never overrides a QEMU the config names: the user's binary (a wrapper, another
     * build) is what they asked for; on still insists on the stealth build. */
    if (!strcmp(cfg->qemu_stealth, "auto") && strcmp(cfg->qemu, "qemu-system-x86_64") != 0)
        return 0;
    pvm_qemu_stealth s;
    pvm_error e = {0};
    int rc = pvm_qemu_stealth_status(&s, &e);
    if (rc == 0 && s.built) {
        pvm_strlcpy(path, s.binary, size);
        *binary = path;
        return 1;
    }
    if (!strcmp(cfg->qemu_stealth, "auto")) {
        pvm_qb_stock_note(&s, rc, &e, note, note_size);
        return 0;
    }
    if (rc < 0)
        return pvm_error_set(err, PVM_E_NOTFOUND, "qemu_stealth = on: %s", e.msg);
    return pvm_error_set_field(err, PVM_E_NOTFOUND, "qemu_stealth", "qemu_stealth = on, but "
                               "the stealth QEMU for %s with this patch set is not built%s%s "
                               "(run `privarion-vm qemu build`, or set qemu_stealth = auto)",
                               s.source_version, s.other_key[0] ? "; a stale build is cached: " : "",
                               s.other_key);
}
