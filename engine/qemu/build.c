/* build.c - the stealth QEMU: Debian's source of the installed QEMU plus the project's
 * patch series (patches/qemu-7.2), built into a cache folder outside the clone and keyed by
 * the source version and the series' hash. Called by cli/cmd_qemu.c (`qemu build`),
 * doctor.c (is it built and current) and backend.c (which binary a VM runs). */
#include "qemu/qemu.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PVM_QB_PKG "qemu-system-x86"   /* the binary package whose source we build */
#define PVM_QB_SERIES_DIR "patches/qemu-7.2"
#define PVM_QB_BINARY "qemu-system-x86_64"
#define PVM_QB_STAMP "stamp"
#define PVM_QB_FETCH_MS (10 * 60 * 1000) /* apt-get update/source, dpkg-source, patch */
#define PVM_QB_CONFIGURE_MS (15 * 60 * 1000)

/* The configure line of QEMU-NOTES.md: the x86_64 system emulator with TCG, KVM and
 * user networking, VNC (the engine's display: -vnc unix:...) and the TPM (--tpm's
 * tpm-crb/tpm-tis with swtpm: Windows 11 VMs run this binary too); no docs, tools, guest
 * agent, user-mode emulation or debug info. Part of the key: a change rebuilds. */
static const char *const pvm_qb_configure[] = {
    "--target-list=x86_64-softmmu", "--without-default-features", "--enable-tcg",
    "--enable-kvm", "--enable-slirp", "--enable-vnc", "--enable-tpm", "--disable-docs",
    "--disable-tools",
    "--disable-guest-agent", "--disable-user", "--disable-debug-info", "--disable-werror",
};

/* What the build needs on the host: a program, or a pkg-config module, and the Debian
 * package that brings it (the build-dependencies of this configure line). */
typedef struct pvm_qb_need {
    const char *prog;   /* in PATH, or NULL */
    const char *module; /* pkg-config module, or NULL */
    const char *deb;
} pvm_qb_need;

static const pvm_qb_need pvm_qb_needs[] = {
    { "apt-get", NULL, "apt" },          { "dpkg-source", NULL, "dpkg-dev" },
    { "patch", NULL, "patch" },          { "env", NULL, "coreutils" },
    { "cc", NULL, "gcc" },               { "python3", NULL, "python3" },
    { "ninja", NULL, "ninja-build" },    { "meson", NULL, "meson" },
    { "pkg-config", NULL, "pkg-config" }, { NULL, "glib-2.0", "libglib2.0-dev" },
    { NULL, "pixman-1", "libpixman-1-dev" }, { NULL, "slirp", "libslirp-dev" },
    { NULL, "zlib", "zlib1g-dev" },
};

#define PVM_QB_DEBS "apt dpkg-dev patch gcc python3 python3-venv ninja-build meson " \
                    "pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev zlib1g-dev"

/* ------------------------------------------------------------- facts */

/* Writes text to path through a temporary file and a rename (mode 0644). */
static int pvm_qb_write(const char *path, const char *text, pvm_error *err)
{
    char *tmp = pvm_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    int rc = -1;
    if (f) {
        bool ok = fputs(text, f) >= 0;
        ok &= fclose(f) == 0;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
    }
    if (rc < 0) {
        pvm_error_set(err, PVM_E_IO, "qemu build: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static bool pvm_qb_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char *copy = pvm_xstrdup(path && *path ? path : "/usr/bin:/bin");
    bool found = false;
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *full = pvm_xasprintf("%s/%s", d, prog);
        found = access(full, X_OK) == 0;
        free(full);
    }
    free(copy);
    return found;
}

/* Runs argv (no shell) for at most timeout_ms; 0 with *out (malloc'd, trimmed of its
 * last newline) when it exits 0, else -1 with err naming what and its output's end. */
static int pvm_qb_run(char *const *argv, int timeout_ms, const char *what, char **out,
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
static int pvm_qb_series(const char *dir, char ***names, int *count, pvm_error *err)
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

static void pvm_qb_names_free(char **names, int n)
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
    for (size_t i = 0; i < sizeof pvm_qb_configure / sizeof pvm_qb_configure[0]; i++)
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

/* Other builds in the cache folder (an older QEMU or patch set), for doctor. */
static void pvm_qb_find_other(pvm_qemu_stealth *s)
{
    DIR *d = opendir(s->cache_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* keys hold dots ("7.2+dfsg-..."): a build is a folder with the binary in it */
        if (e->d_name[0] == '.' || !strcmp(e->d_name, s->key))
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
    for (size_t i = 0; i < sizeof pvm_qb_configure / sizeof pvm_qb_configure[0]; i++)
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
    char *tmp = pvm_xasprintf("%s.%ld.tmp", path, (long)getpid()); /* two writers, two files */
    FILE *f = fopen(tmp, "we");
    bool ok = false;
    if (f) {
        ok = fprintf(f, "fingerprint %s\nsource_version %s\npatch_hash %s\npatches %d\n", fp,
                     s->source_version, s->patch_hash, s->npatches) > 0;
        ok &= fclose(f) == 0;
    }
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(tmp);
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

/* ------------------------------------------------------------- build */

/* The first thing the build needs and the host lacks, named with its package. */
static int pvm_qb_check_needs(pvm_error *err)
{
    for (size_t i = 0; i < sizeof pvm_qb_needs / sizeof pvm_qb_needs[0]; i++) {
        const pvm_qb_need *q = &pvm_qb_needs[i];
        bool ok;
        if (q->prog) {
            ok = pvm_qb_in_path(q->prog);
        } else {
            char *argv[] = { "pkg-config", "--exists", (char *)q->module, NULL };
            char *out = NULL;
            int status = 1;
            ok = pvm_proc_run(argv, 10000, &out, &status, NULL) == 0 && status == 0;
            free(out);
        }
        if (!ok)
            return pvm_error_set(err, PVM_E_NOTFOUND,
                                 "qemu build: missing %s %s (Debian package %s); install the "
                                 "build's packages as root: apt-get install %s (or run "
                                 "`make stealth-qemu` as root, which installs them)",
                                 q->prog ? "program" : "development files of",
                                 q->prog ? q->prog : q->module, q->deb, PVM_QB_DEBS);
    }
    return 0;
}

typedef struct pvm_qb {
    const pvm_progress *progress;
    pvm_qemu_stealth *s;
    char work[PVM_PATH_MAX];   /* cache_dir/KEY.work: everything temporary */
    char src[PVM_PATH_MAX];    /* work/qemu: the unpacked, patched source */
    char log[PVM_PATH_MAX];    /* cache_dir/KEY.log: the build's whole output */
    char series[PVM_PATH_MAX];
} pvm_qb;

static void pvm_qb_step(const pvm_qb *b, const char *step, double fraction)
{
    if (b->progress && b->progress->report)
        b->progress->report(b->progress->ctx, step, fraction);
}

static int pvm_qb_mkdirs(const char *path, pvm_error *err)
{
    char buf[PVM_PATH_MAX];
    pvm_strlcpy(buf, path, sizeof buf);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", buf, strerror(errno));
    return 0;
}

static int pvm_qb_rm_rf(const char *path, pvm_error *err)
{
    char *argv[] = { "rm", "-rf", "--one-file-system", (char *)path, NULL };
    return pvm_qb_run(argv, 120000, "removing the old work folder", NULL, err);
}

/* The private apt configuration: a deb-src list for this release, its own lists, cache
 * and an empty sources.list.d, so the system's apt setup is read for nothing and
 * changed in nothing. Fills opts (the -o arguments, malloc'd strings) and returns
 * their count. */
static int pvm_qb_apt_setup(pvm_qb *b, char *opts[12], pvm_error *err)
{
    char codename[64] = "";
    FILE *f = fopen("/etc/os-release", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "VERSION_CODENAME=%63[a-z]", codename) == 1)
                break;
        fclose(f);
    }
    if (!codename[0])
        return pvm_error_set(err, PVM_E_NOTFOUND, "qemu build: /etc/os-release names no "
                             "Debian release (VERSION_CODENAME); this build needs Debian");
    char *list = pvm_xasprintf("%s/apt/sources.list", b->work);
    char *parts = pvm_xasprintf("%s/apt/sources.list.d", b->work);
    char *state = pvm_xasprintf("%s/apt/state", b->work);
    char *lists = pvm_xasprintf("%s/apt/state/lists/partial", b->work);
    char *cache = pvm_xasprintf("%s/apt/cache/archives/partial", b->work);
    int rc = pvm_qb_mkdirs(parts, err) || pvm_qb_mkdirs(lists, err) ||
             pvm_qb_mkdirs(cache, err) ? -1 : 0;
    if (rc == 0) {
        char *text = pvm_xasprintf(
            "deb-src http://deb.debian.org/debian %s main\n"
            "deb-src http://deb.debian.org/debian %s-updates main\n"
            "deb-src http://deb.debian.org/debian-security %s-security main\n",
            codename, codename, codename);
        rc = pvm_qb_write(list, text, err);
        free(text);
    }
    int n = 0;
    opts[n++] = pvm_xasprintf("Dir::Etc::SourceList=%s", list);
    opts[n++] = pvm_xasprintf("Dir::Etc::SourceParts=%s", parts);
    opts[n++] = pvm_xasprintf("Dir::State=%s/apt/state", b->work);
    opts[n++] = pvm_xstrdup("Dir::State::status=/var/lib/dpkg/status");
    opts[n++] = pvm_xasprintf("Dir::Cache=%s/apt/cache", b->work);
    opts[n++] = pvm_xstrdup("APT::Sandbox::User=root");
    free(list);
    free(parts);
    free(state);
    free(lists);
    free(cache);
    return rc < 0 ? -1 : n;
}

static int pvm_qb_logged(pvm_qb *b, char *const *argv, int timeout_ms, const char *step,
                         pvm_error *err);

/* apt-get [-o OPT]... ARGS..., run in dir (env -C: posix_spawn has no working folder),
 * its output in the build log, a cancel ending it and what it started. */
static int pvm_qb_apt(pvm_qb *b, char *opts[], int nopts, const char *dir, const char *what,
                      const char *const *args, pvm_error *err)
{
    char *argv[48];
    int n = 0;
    argv[n++] = "env";
    argv[n++] = "-C";
    argv[n++] = (char *)dir;
    argv[n++] = "apt-get";
    argv[n++] = "-q";
    for (int i = 0; i < nopts; i++) {
        argv[n++] = "-o";
        argv[n++] = opts[i];
    }
    for (int i = 0; args[i] && n < 47; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return pvm_qb_logged(b, argv, PVM_QB_FETCH_MS, what, err);
}

/* Fetches the source package of the installed version into work/ and unpacks it
 * (dpkg-source applies Debian's own patches) into src. */
static int pvm_qb_fetch(pvm_qb *b, pvm_error *err)
{
    char *opts[12];
    int nopts = pvm_qb_apt_setup(b, opts, err);
    if (nopts < 0)
        return -1;
    const char *update[] = { "update", NULL };
    int rc = pvm_qb_apt(b, opts, nopts, b->work, "apt-get update (private deb-src list)",
                        update, err);
    char *want = pvm_xasprintf("qemu=%s", b->s->source_version);
    if (rc == 0) {
        const char *source[] = { "source", "--download-only", want, NULL };
        rc = pvm_qb_apt(b, opts, nopts, b->work, "apt-get source qemu (about 24 MB)", source,
                        err);
    }
    free(want);
    for (int i = 0; i < nopts; i++)
        free(opts[i]);
    if (rc < 0)
        return -1;
    const char *v = strchr(b->s->source_version, ':');
    v = v ? v + 1 : b->s->source_version;
    char *dsc = pvm_xasprintf("%s/qemu_%s.dsc", b->work, v);
    char *argv[] = { "dpkg-source", "--no-check", "-x", dsc, b->src, NULL };
    rc = pvm_qb_logged(b, argv, PVM_QB_FETCH_MS, "dpkg-source -x (Debian's patches)", err);
    free(dsc);
    return rc;
}

static int pvm_qb_patch(pvm_qb *b, pvm_error *err)
{
    char **names = NULL;
    int n = 0;
    if (pvm_qb_series(b->series, &names, &n, err) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char step[160];
        snprintf(step, sizeof step, "patch %d/%d: %.120s", i + 1, n, names[i]);
        pvm_qb_step(b, step, (double)i / n);
        char *file = pvm_xasprintf("%s/%s", b->series, names[i]);
        char *argv[] = { "patch", "-p1", "--forward", "--batch", "-d", b->src, "-i", file,
                         NULL };
        rc = pvm_qb_logged(b, argv, 60000, step, err);
        free(file);
    }
    pvm_qb_names_free(names, n);
    return rc;
}

typedef struct pvm_qb_wait {
    pid_t child;
    int status;
    bool done;
    const pvm_qb *b;
    const char *step;
    int64_t last_report;
} pvm_qb_wait;

/* The last "[N/M]" ninja printed in the log: the fraction done, or -1. */
static double pvm_qb_ninja_fraction(const char *log)
{
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)sizeof buf - 1 ? end - (off_t)sizeof buf + 1 : 0;
    ssize_t got = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = '\0';
    double f = -1;
    for (char *p = buf; (p = strchr(p, '[')); p++) {
        unsigned a, m;
        if (sscanf(p, "[%u/%u]", &a, &m) == 2 && m > 0 && a <= m)
            f = (double)a / m;
    }
    return f;
}

static bool pvm_qb_child_done(void *ctx)
{
    pvm_qb_wait *w = ctx;
    int st;
    pid_t r = waitpid(w->child, &st, WNOHANG);
    if (r == w->child) {
        w->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        w->done = true;
        return true;
    }
    int64_t now = pvm_proc_now_ms();
    if (now - w->last_report >= 1000) {
        w->last_report = now;
        pvm_qb_step(w->b, w->step, pvm_qb_ninja_fraction(w->b->log));
    }
    return false;
}

/* Runs argv with its output appended to the build log, reporting ninja's progress;
 * a cancel kills it. */
static int pvm_qb_logged(pvm_qb *b, char *const *argv, int timeout_ms, const char *step,
                         pvm_error *err)
{
    int fd = open(b->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", b->log, strerror(errno));
    pid_t child;
    int rc = pvm_proc_start(argv, fd, PVM_SPAWN_PGROUP, &child, err);
    close(fd);
    if (rc < 0)
        return -1;
    pvm_qb_wait w = { .child = child, .b = b, .step = step };
    pvm_progress cancel_only = { .cancel_fd = b->progress ? b->progress->cancel_fd : -1 };
    pvm_qb_step(b, step, -1);
    rc = pvm_wait_until(pvm_qb_child_done, &w, timeout_ms, 250, &cancel_only, step, err);
    if (rc != 1) {
        kill(-child, SIGKILL);
        waitpid(child, NULL, 0);
        if (rc == 0)
            pvm_error_set(err, PVM_E_IO, "qemu build: %s did not finish within %d min (log: "
                          "%s)", step, timeout_ms / 60000, b->log);
        return -1;
    }
    if (w.status != 0) {
        char tail[400];
        pvm_proc_tail(b->log, 4, tail, sizeof tail);
        return pvm_error_set(err, PVM_E_IO, "qemu build: %s failed (status %d; whole log: "
                             "%s): %s", step, w.status, b->log, tail);
    }
    return 0;
}

static int pvm_qb_compile(pvm_qb *b, pvm_error *err)
{
    char *bdir = pvm_xasprintf("%s/build", b->src);
    char *argv[32];
    int n = 0;
    argv[n++] = "env";
    argv[n++] = "-C";
    argv[n++] = bdir;
    argv[n++] = "../configure";
    for (size_t i = 0; i < sizeof pvm_qb_configure / sizeof pvm_qb_configure[0]; i++)
        argv[n++] = (char *)pvm_qb_configure[i];
    argv[n] = NULL;
    int rc = pvm_qb_mkdirs(bdir, err);
    if (rc == 0)
        rc = pvm_qb_logged(b, argv, PVM_QB_CONFIGURE_MS, "configure", err);
    if (rc == 0) {
        char jobs[16];
        snprintf(jobs, sizeof jobs, "-j%d", pvm_host_cores());
        char *ninja[] = { "ninja", "-C", bdir, jobs, PVM_QB_BINARY, NULL };
        rc = pvm_qb_logged(b, ninja, -1, "compiling (ninja)", err);
    }
    free(bdir);
    return rc;
}

/* Copies the binary into cache_dir/KEY/ and writes the stamp last (both by rename). */
static int pvm_qb_install(pvm_qb *b, int seconds, pvm_error *err)
{
    pvm_qemu_stealth *s = b->s;
    char *dir = pvm_xasprintf("%s/%s", s->cache_dir, s->key);
    char *from = pvm_xasprintf("%s/build/%s", b->src, PVM_QB_BINARY);
    char *tmp = pvm_xasprintf("%s.tmp", s->binary);
    char *argv[] = { "cp", "-f", from, tmp, NULL };
    int rc = pvm_qb_mkdirs(dir, err);
    if (rc == 0)
        rc = pvm_qb_run(argv, 60000, "copying the binary", NULL, err);
    if (rc == 0 && (chmod(tmp, 0755) != 0 || rename(tmp, s->binary) != 0))
        rc = pvm_error_set(err, PVM_E_IO, "qemu build: %s: %s", s->binary, strerror(errno));
    if (rc == 0) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(s->built_at, sizeof s->built_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
        s->build_seconds = seconds;
        char *text = pvm_xasprintf("key %s\nsource_version %s\npatch_hash %s\npatches %d\n"
                                   "build_seconds %d\nbuilt_at %s\n", s->key,
                                   s->source_version, s->patch_hash, s->npatches, seconds,
                                   s->built_at);
        char *stamp = pvm_xasprintf("%s/%s", dir, PVM_QB_STAMP);
        rc = pvm_qb_write(stamp, text, err);
        free(stamp);
        free(text);
    }
    free(dir);
    free(from);
    free(tmp);
    return rc;
}

/* After a failure or a cancel: no work folder and no half-made KEY folder stay (a
 * failure keeps its log, which the error names; a cancel's is removed too). */
static void pvm_qb_abandon(pvm_qb *b, const pvm_error *err)
{
    char *dir = pvm_xasprintf("%s/%s", b->s->cache_dir, b->s->key);
    (void)pvm_qb_rm_rf(b->work, NULL);
    (void)pvm_qb_rm_rf(dir, NULL);
    if (err && err->code == PVM_E_CANCELLED)
        unlink(b->log);
    free(dir);
}

static int pvm_qb_run_all(pvm_qb *b, pvm_error *err)
{
    int64_t t0 = pvm_proc_now_ms();
    unlink(b->log);
    if (pvm_qb_rm_rf(b->work, err) < 0 || pvm_qb_mkdirs(b->work, err) < 0 ||
        pvm_qb_fetch(b, err) < 0 || pvm_qb_patch(b, err) < 0 || pvm_qb_compile(b, err) < 0 ||
        pvm_qb_install(b, (int)((pvm_proc_now_ms() - t0 + 500) / 1000), err) < 0) {
        pvm_qb_abandon(b, err);
        return -1;
    }
    b->s->built = true;
    pvm_qb_step(b, "removing the work folder", 1);
    (void)pvm_qb_rm_rf(b->work, NULL); /* a leftover is removed by the next build */
    return 0;
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
 * "KEY.work"), into key; false for anything else (the status memos, strangers). */
static bool pvm_qb_entry_key(const char *cache, const char *name, char *key, size_t size)
{
    static const char *const tails[] = { ".log", ".lock", ".work" };
    size_t n = strlen(name);
    if (name[0] == '.' || n >= size || !strncmp(name, "status-", 7))
        return false;
    for (size_t i = 0; i < 3; i++) {
        size_t t = strlen(tails[i]);
        if (n > t && !strcmp(name + n - t, tails[i])) {
            snprintf(key, size, "%.*s", (int)(n - t), name);
            return true;
        }
    }
    char *bin = pvm_xasprintf("%s/%s/%s", cache, name, PVM_QB_BINARY);
    char *stamp = pvm_xasprintf("%s/%s/%s", cache, name, PVM_QB_STAMP);
    bool build = access(bin, F_OK) == 0 || access(stamp, F_OK) == 0;
    free(bin);
    free(stamp);
    if (build)
        pvm_strlcpy(key, name, size);
    return build;
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
        bool build = pvm_qb_entry_key(s->cache_dir, e->d_name, key, sizeof key) &&
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
        free(stamp);
        free(dir);
        n++;
    }
    closedir(d);
    *out = v;
    *count = n;
    return 0;
}

/* Removes every other key's build, log, lock and work folder, except a key another
 * process builds now (its lock is held); what went is named in s->removed. */
static void pvm_qb_prune(pvm_qemu_stealth *s)
{
    DIR *d = opendir(s->cache_dir);
    if (!d)
        return;
    struct dirent *e;
    char busy[8][128];
    int nbusy = 0;
    while ((e = readdir(d))) {
        char key[128];
        if (!pvm_qb_entry_key(s->cache_dir, e->d_name, key, sizeof key) || !strcmp(key, s->key))
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

int pvm_qemu_stealth_build(const pvm_progress *progress, bool force, pvm_qemu_stealth *s,
                           bool *cached, pvm_error *err)
{
    *cached = false;
    if (pvm_qemu_stealth_status(s, err) < 0)
        return -1;
    if (s->built && !force) {
        *cached = true;
        return 0;
    }
    if (pvm_qb_check_needs(err) < 0 || pvm_qb_mkdirs(s->cache_dir, err) < 0)
        return -1;
    /* one build of a key at a time (make test and a user, two test runs) */
    char *lock = pvm_xasprintf("%s/%s.lock", s->cache_dir, s->key);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(lock);
    if (fd < 0)
        return pvm_error_set(err, PVM_E_IO, "qemu build: cannot lock in %s: %s",
                             s->cache_dir, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (progress && progress->report)
            progress->report(progress->ctx, "waiting for another build of this key", -1);
        flock(fd, LOCK_EX);
    }
    int rc = 0;
    pvm_qemu_stealth again;
    if (!force && pvm_qemu_stealth_status(&again, NULL) == 0 && again.built) {
        *s = again; /* the other build finished it */
        *cached = true;
    } else {
        pvm_qb b = { .progress = progress, .s = s };
        /* pvm_qemu_stealth_status checked binary's length, longer than these */
        if (snprintf(b.work, sizeof b.work, "%s/%s.work", s->cache_dir, s->key) < 0 ||
            snprintf(b.src, sizeof b.src, "%s/qemu", b.work) < 0 ||
            snprintf(b.log, sizeof b.log, "%s/%s.log", s->cache_dir, s->key) < 0)
            rc = -1;
        pvm_strlcpy(b.series, s->series_dir, sizeof b.series);
        if (rc == 0)
            rc = pvm_qb_run_all(&b, err);
        if (rc == 0) {
            pvm_qb_step(&b, "removing older builds from the cache", 1);
            pvm_qb_prune(s);
        }
    }
    close(fd);
    return rc;
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
