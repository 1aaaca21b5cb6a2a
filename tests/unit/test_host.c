/* test_host.c - unit tests of engine/host.c and engine/config.c: host facts,
 * the config file (defaults, comments, parse errors, env override), the caps
 * check and the acceleration decision, with fake QEMU scripts for the probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <glob.h>
#include <sched.h>
#include <sys/wait.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../engine/qemu/qemu.h"
#include "fixture.h"

/* ------------------------------------------------------------ helpers */

/* A fresh folder (fixture.h) with a guest cache holding a stand-in kernel. */
static int setup(void **state)
{
    if (fixture_setup(state) < 0)
        return -1;
    fixture *f = *state;
    char cache[PATH_MAX], k[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "%s/guest", f->dir);
    mkdir(cache, 0700);
    snprintf(k, sizeof k, "%s/vmlinuz", cache);
    FILE *fp = fopen(k, "w");
    if (!fp)
        return -1;
    fputs("not a kernel\n", fp);
    fclose(fp);
    setenv("PRIVARION_VM_GUEST_CACHE", cache, 1);
    unsetenv("PRIVARION_VM_ACCEL");
    return 0;
}

static int teardown(void **state)
{
    unsetenv("PRIVARION_VM_ACCEL");
    unsetenv("PRIVARION_VM_GUEST_CACHE");
    return fixture_teardown(state);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static char *read_file(const char *path)
{
    static char buf[8192];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_config(fixture *f, const char *text)
{
    mkdir(f->home, 0700);
    char path[200];
    snprintf(path, sizeof path, "%s/config", f->home);
    write_file(path, text, 0600);
}

/* A fake QEMU: answers --version, otherwise runs body (with $D = scratch folder). */
static void fake_qemu(fixture *f, const char *name, const char *body, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", f->dir, name);
    char text[2048];
    snprintf(text, sizeof text,
             "#!/bin/sh\nD='%s'\n"
             "if [ \"$1\" = --version ]; then echo 'QEMU emulator version 9.9.9 (fake)'; exit 0; fi\n"
             "%s\n",
             f->dir, body);
    write_file(out, text, 0755);
}

static void expect_error(int rc, const pvm_error *err, pvm_errcode code, const char *a,
                         const char *b)
{
    assert_int_equal(rc, -1);
    assert_int_equal(err->code, code);
    if (a && !strstr(err->msg, a))
        fail_msg("\"%s\" lacks \"%s\"", err->msg, a);
    if (b && !strstr(err->msg, b))
        fail_msg("\"%s\" lacks \"%s\"", err->msg, b);
}

/* ---------------------------------------------------------- host facts */

static void test_host_facts(void **state)
{
    (void)state;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(pvm_host_cores(), n < 1 ? 1 : n);
    char *mi = read_file("/proc/meminfo");
    assert_non_null(mi);
    unsigned long long kb = 0;
    assert_int_equal(sscanf(strstr(mi, "MemTotal:"), "MemTotal: %llu kB", &kb), 1);
    assert_true(kb > 0);
    assert_int_equal(pvm_host_memory(), kb * 1024);
}

static void test_config_defaults(void **state)
{
    (void)state;
    pvm_config c;
    pvm_config_defaults(&c);
    int half = pvm_host_cores() / 2;
    assert_int_equal(c.max_cpus, half < 1 ? 1 : half);
    uint64_t mem = pvm_host_memory() / 2;
    assert_true(c.max_memory <= mem && c.max_memory + (1u << 20) > mem);
    assert_int_equal(c.max_memory % (1u << 20), 0);
    assert_string_equal(c.accel, "auto");
    assert_string_equal(c.qemu, "qemu-system-x86_64");
}

static void test_config_written_with_comments(void **state)
{
    fixture *f = *state;
    pvm_config c, d;
    pvm_error err = { 0 };
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    pvm_config_defaults(&d);
    assert_int_equal(c.max_cpus, d.max_cpus);
    assert_int_equal(c.max_memory, d.max_memory);
    assert_string_equal(c.accel, "auto");
    char path[200];
    snprintf(path, sizeof path, "%s/config", f->home);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = read_file(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "\n# "));
    assert_non_null(strstr(text, "PRIVARION_VM_ACCEL"));
    assert_non_null(strstr(text, "\naccel = auto\n"));
    char line[64];
    snprintf(line, sizeof line, "\nmax_cpus = %d\n", d.max_cpus);
    assert_non_null(strstr(text, line));
    assert_non_null(strstr(text, "\nmax_memory = "));
    assert_non_null(strstr(text, "\nqemu = qemu-system-x86_64\n"));
    /* Reading it back gives the same; it is not rewritten. */
    write_config(f, "# mine\nmax_cpus = 1\n");
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_int_equal(c.max_cpus, 1);
    assert_string_equal(read_file(path), "# mine\nmax_cpus = 1\n");
}

static void test_config_values_parsed(void **state)
{
    fixture *f = *state;
    char text[256];
    snprintf(text, sizeof text, "# comment\n\n  accel = tcg  \nmax_cpus=%d\n\tmax_memory = 1G\n"
             "qemu = /opt/qemu/bin/qemu-system-x86_64\r\n# end\n", pvm_host_cores());
    write_config(f, text);
    pvm_config c;
    pvm_error err = { 0 };
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_string_equal(c.accel, "tcg");
    assert_int_equal(c.max_cpus, pvm_host_cores()); /* all the host's cores: allowed */
    assert_int_equal(c.max_memory, 1ull << 30);
    assert_string_equal(c.qemu, "/opt/qemu/bin/qemu-system-x86_64");
    write_config(f, "max_memory = 1536M\n");
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_int_equal(c.max_memory, 1536ull << 20);
}

static void test_config_errors_name_key_and_line(void **state)
{
    fixture *f = *state;
    static const struct { const char *text, *a, *b; } cases[] = {
        { "# x\naccel = tcg\nmax_cpus = zero\n", "config:3:", "max_cpus" },
        { "max_cpus = 0\n", "config:1:", "max_cpus" },
        { "\n\naccel = fast\n", "config:3:", "accel" },
        { "max_memory = 12X\n", "config:1:", "max_memory" },
        { "max_memory = 0\n", "config:1:", "max_memory" },
        { "colour = blue\n", "config:1:", "colour" },
        { "accel tcg\n", "config:1:", "key = value" },
        { "qemu =\n", "config:1:", "qemu" },
        /* the command line's rules (issue 7): a unit is needed, minimums hold */
        { "max_memory = 4096\n", "config:1: max_memory: 4096 has no unit", "4096M?" },
        { "max_memory = 16M\n", "config:1: max_memory", "at least 32M" },
        { "max_memory = 1536K\n", "config:1: max_memory", "at least 32M" },
        { "max_cpus = +1\n", "config:1: max_cpus", "digits only" },
        { "max_cpus = 0x1\n", "config:1: max_cpus", "digits only" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_config(f, cases[i].text);
        pvm_config c;
        pvm_error err = { 0 };
        expect_error(pvm_config_load(f->home, &c, &err), &err, PVM_E_INVALID, cases[i].a,
                     cases[i].b);
    }
}

/* A cap above the host's own cores or memory is refused, naming the key, the line
 * and the host's figure. */
static void test_config_caps_above_host(void **state)
{
    fixture *f = *state;
    char text[256], want[128], have[32];
    pvm_config c;
    pvm_error err = { 0 };
    int cores = pvm_host_cores();
    snprintf(text, sizeof text, "accel = tcg\nmax_cpus = %d\n", cores + 1);
    write_config(f, text);
    assert_int_equal(pvm_config_load(f->home, &c, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    snprintf(want, sizeof want, "config:2: max_cpus: %d is more than this host's %d online cores "
             "(at most %d)", cores + 1, cores, cores);
    if (!strstr(err.msg, want))
        fail_msg("\"%s\" lacks \"%s\"", err.msg, want);

    uint64_t host = pvm_host_memory();
    uint64_t over_m = host / (1024 * 1024) + 1024; /* a whole number of MiB above the host's */
    snprintf(text, sizeof text, "# big\n\nmax_memory = %lluM\n", (unsigned long long)over_m);
    write_config(f, text);
    expect_error(pvm_config_load(f->home, &c, &err), &err, PVM_E_INVALID, "config:3: max_memory: ",
                 "is more than this host's");
    snprintf(want, sizeof want, "this host's %s of memory",
             pvm_size_format(host, have, sizeof have));
    if (!strstr(err.msg, want))
        fail_msg("\"%s\" lacks \"%s\"", err.msg, want);

    /* the defaults written on first use always fit */
    char path[200];
    snprintf(path, sizeof path, "%s/config", f->home);
    unlink(path);
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_true(c.max_cpus <= cores && c.max_memory <= host);
}

static void test_env_overrides_accel(void **state)
{
    fixture *f = *state;
    write_config(f, "accel = kvm\n");
    pvm_config c;
    pvm_error err = { 0 };
    setenv("PRIVARION_VM_ACCEL", "tcg", 1);
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_string_equal(c.accel, "tcg");
    setenv("PRIVARION_VM_ACCEL", "auto", 1);
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_string_equal(c.accel, "auto");
    setenv("PRIVARION_VM_ACCEL", "hvf", 1);
    expect_error(pvm_config_load(f->home, &c, &err), &err, PVM_E_INVALID, "PRIVARION_VM_ACCEL",
                 "hvf");
    unsetenv("PRIVARION_VM_ACCEL");
    assert_int_equal(pvm_config_load(f->home, &c, &err), 0);
    assert_string_equal(c.accel, "kvm");
}

static void test_caps_check(void **state)
{
    (void)state;
    pvm_config c;
    pvm_config_defaults(&c);
    c.max_cpus = 2;
    c.max_memory = 8ull << 30;
    pvm_error err = { 0 };
    assert_int_equal(pvm_caps_check(&c, "memory", 8ull << 30, &err), 0);
    expect_error(pvm_caps_check(&c, "memory", 16ull << 30, &err), &err, PVM_E_LIMIT,
                 "memory: 16G is over", "cap of 8G");
    assert_string_equal(err.field, "memory"); /* opens with the field, as every error */
    assert_int_equal(strncmp(err.msg, "memory: ", 8), 0);
}

/* The share of host cores: the last N allowed CPUs, and a process pinned to them. */
static void test_host_pin(void **state)
{
    (void)state;
    char list[256];
    int cores = pvm_host_cores();
    assert_int_equal(pvm_host_share(1, list, sizeof list), 1);
    assert_null(strchr(list, ','));
    assert_int_equal(pvm_host_share(cores + 5, list, sizeof list), cores); /* never more */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    pvm_error err = {0};
    assert_int_equal(pvm_host_pin(child, 1, list, sizeof list, &err), 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    assert_int_equal(sched_getaffinity(child, sizeof set, &set), 0);
    assert_int_equal(CPU_COUNT(&set), 1);
    assert_true(CPU_ISSET(atoi(list), &set));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_int_equal(pvm_host_pin(child, 1, NULL, 0, &err), -1); /* gone: said so */
    assert_non_null(strstr(err.msg, "/proc/"));
}

/* -------------------------------------------------------- acceleration */

static void resolve_ok(fixture *f, const pvm_config *c, pvm_accel want, char *reason)
{
    pvm_accel got = (pvm_accel)-1;
    pvm_error err = { 0 };
    int rc = pvm_accel_resolve(f->home, c, &got, reason, 512, &err);
    if (rc)
        fail_msg("resolve failed: %s", err.msg);
    assert_int_equal(got, want);
    assert_true(reason[0] != '\0');
}

static void test_forced_accel_does_not_probe(void **state)
{
    fixture *f = *state;
    mkdir(f->home, 0700);
    pvm_config c;
    pvm_config_defaults(&c);
    strcpy(c.qemu, "/nonexistent/qemu-system-x86_64");
    char reason[512], probe[200];
    strcpy(c.accel, "tcg");
    resolve_ok(f, &c, PVM_ACCEL_TCG, reason);
    strcpy(c.accel, "kvm");
    resolve_ok(f, &c, PVM_ACCEL_KVM, reason);
    snprintf(probe, sizeof probe, "%s/accel-probe", f->home);
    assert_false(exists(probe));
    /* auto needs QEMU: a missing binary is an error, not a guess. */
    strcpy(c.accel, "auto");
    pvm_accel got;
    pvm_error err = { 0 };
    expect_error(pvm_accel_resolve(f->home, &c, &got, reason, sizeof reason, &err), &err,
                 PVM_E_QEMU, "/nonexistent/qemu-system-x86_64", NULL);
    assert_false(exists(probe));
}

static void test_cached_verdict_reused(void **state)
{
    fixture *f = *state;
    mkdir(f->home, 0700);
    pvm_config c;
    pvm_config_defaults(&c);
    fake_qemu(f, "qemu", "touch \"$D/probed\"; echo 'Linux version 6.1 (fake)'", c.qemu,
              sizeof c.qemu);
    char key[600], text[1024], probe[200], marker[200], reason[512];
    pvm_error err = { 0 };
    assert_int_equal(pvm_accel_probe_key(c.qemu, key, sizeof key, &err), 0);
    assert_non_null(strstr(key, "qemu 9.9.9"));
    snprintf(probe, sizeof probe, "%s/accel-probe", f->home);
    snprintf(marker, sizeof marker, "%s/probed", f->dir);
    snprintf(text, sizeof text, "# by hand\nkey = %s\nverdict = tcg\nreason = written by hand\n",
             key);
    write_file(probe, text, 0600);
    resolve_ok(f, &c, PVM_ACCEL_TCG, reason);
    assert_non_null(strstr(reason, "written by hand"));
    assert_false(exists(marker));

    /* Another key (QEMU or kernel changed): probe again and remember it, 0600 even
     * under a permissive umask. */
    write_file(probe, "key = qemu 1.0; kernel old\nverdict = tcg\nreason = old\n", 0600);
    mode_t old_mask = umask(022);
    resolve_ok(f, &c, PVM_ACCEL_KVM, reason);
    umask(old_mask);
    struct stat st;
    assert_int_equal(stat(probe, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(exists(marker));
    assert_non_null(strstr(reason, "kvm"));
    char *saved = read_file(probe);
    assert_non_null(saved);
    snprintf(text, sizeof text, "key = %s\n", key);
    assert_non_null(strstr(saved, text));
    assert_non_null(strstr(saved, "verdict = kvm\n"));
    unlink(marker);
    resolve_ok(f, &c, PVM_ACCEL_KVM, reason);
    assert_false(exists(marker));
}

typedef struct resolver {
    fixture *f;
    const pvm_config *c;
    int rc;
    pvm_accel got;
} resolver;

static void *resolve_thread(void *arg)
{
    resolver *r = arg;
    char reason[512];
    pvm_error err = { 0 };
    r->rc = pvm_accel_resolve(r->f->home, r->c, &r->got, reason, sizeof reason, &err);
    return NULL;
}

/* Threads of one process probing at once each write the verdict through a temporary
 * file of their own: every one succeeds, one whole 0600 verdict stays, no temporary
 * file is left behind. */
static void test_verdict_written_by_threads_at_once(void **state)
{
    fixture *f = *state;
    mkdir(f->home, 0700);
    pvm_config c;
    pvm_config_defaults(&c);
    strcpy(c.accel, "auto");
    fake_qemu(f, "qemu", "echo 'Linux version 6.1 (fake)'", c.qemu, sizeof c.qemu);
    enum { N = 4 };
    pthread_t t[N];
    resolver r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (resolver){.f = f, .c = &c, .rc = -2};
        assert_int_equal(pthread_create(&t[i], NULL, resolve_thread, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].rc, 0);
        assert_int_equal(r[i].got, PVM_ACCEL_KVM);
    }
    char probe[200];
    snprintf(probe, sizeof probe, "%s/accel-probe", f->home);
    struct stat st;
    assert_int_equal(stat(probe, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *saved = read_file(probe);
    assert_non_null(saved);
    assert_non_null(strstr(saved, "verdict = kvm\n"));
    char pattern[240];
    snprintf(pattern, sizeof pattern, "%s/accel-probe?*", f->home);
    glob_t g;
    assert_int_equal(glob(pattern, 0, NULL, &g), GLOB_NOMATCH);
}

static void test_probe_qemu_failure_means_tcg(void **state)
{
    fixture *f = *state;
    char qemu[256], reason[512];
    fake_qemu(f, "qemu-fail", "echo 'qemu: Could not access KVM kernel module: Permission denied' >&2; exit 1",
              qemu, sizeof qemu);
    pvm_accel got = PVM_ACCEL_KVM;
    pvm_error err = { 0 };
    assert_int_equal(pvm_accel_probe(qemu, "/k", 5000, &got, reason, sizeof reason, &err), 0);
    assert_int_equal(got, PVM_ACCEL_TCG);
    assert_non_null(strstr(reason, "Could not access KVM kernel module"));
}

static void test_probe_banner_split_across_reads(void **state)
{
    fixture *f = *state;
    char qemu[256], reason[512];
    fake_qemu(f, "qemu-slow", "printf 'SeaBIOS\\nLin'; sleep 0.3; printf 'ux version 6.1\\n'; exec sleep 1000",
              qemu, sizeof qemu);
    pvm_accel got = PVM_ACCEL_TCG;
    pvm_error err = { 0 };
    assert_int_equal(pvm_accel_probe(qemu, "/k", 20000, &got, reason, sizeof reason, &err), 0);
    assert_int_equal(got, PVM_ACCEL_KVM);
}

/* Dead means gone or a zombie waiting for init. */
static int is_dead(pid_t pid)
{
    for (int i = 0; i < 500; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 1;
        char path[64], st[256];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *fp = fopen(path, "r");
        if (fp) {
            size_t n = fread(st, 1, sizeof st - 1, fp);
            st[n] = '\0';
            fclose(fp);
            char *rp = strrchr(st, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z')
                return 1;
        }
        usleep(10000);
    }
    return 0;
}

static void test_probe_hang_is_bounded_and_killed(void **state)
{
    fixture *f = *state;
    char qemu[256], reason[512], pids[200];
    /* A hanging "guest" that also left a child behind: both must end. */
    fake_qemu(f, "qemu-hang",
              "sleep 1000 & echo $! > \"$D/child.pid\"; echo $$ > \"$D/main.pid\"; exec sleep 1000",
              qemu, sizeof qemu);
    pvm_accel got = PVM_ACCEL_KVM;
    pvm_error err = { 0 };
    assert_int_equal(pvm_accel_probe(qemu, "/k", 2000, &got, reason, sizeof reason, &err), 0);
    assert_int_equal(got, PVM_ACCEL_TCG);
    assert_non_null(strstr(reason, "printed nothing"));
    const char *names[] = { "main.pid", "child.pid" };
    for (int i = 0; i < 2; i++) {
        snprintf(pids, sizeof pids, "%s/%s", f->dir, names[i]);
        char *t = read_file(pids);
        if (!t)
            fail_msg("the fake QEMU did not write %s", names[i]);
        pid_t pid = (pid_t)atoi(t);
        assert_true(pid > 1);
        if (!is_dead(pid))
            fail_msg("probe left %s %d running", names[i], (int)pid);
    }
}

static void test_qemu_version(void **state)
{
    fixture *f = *state;
    char qemu[256], ver[64];
    pvm_error err = { 0 };
    fake_qemu(f, "qemu-v", "exit 0", qemu, sizeof qemu);
    assert_int_equal(pvm_qemu_version(qemu, ver, sizeof ver, &err), 0);
    assert_string_equal(ver, "9.9.9");
    expect_error(pvm_qemu_version("/nonexistent/qemu", ver, sizeof ver, &err), &err, PVM_E_QEMU,
                 "/nonexistent/qemu", NULL);
    fake_qemu(f, "qemu-noversion", "exit 0", qemu, sizeof qemu);
    write_file(qemu, "#!/bin/sh\necho hello\n", 0755);
    expect_error(pvm_qemu_version(qemu, ver, sizeof ver, &err), &err, PVM_E_QEMU, "hello", NULL);
    /* The real one (a dependency of the project). */
    assert_int_equal(pvm_qemu_version("qemu-system-x86_64", ver, sizeof ver, &err), 0);
    assert_true(ver[0] >= '1' && ver[0] <= '9');
    assert_non_null(strchr(ver, '.'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_facts),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test_setup_teardown(test_config_written_with_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_values_parsed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_caps_above_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors_name_key_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_overrides_accel, setup, teardown),
        cmocka_unit_test(test_caps_check),
        cmocka_unit_test(test_host_pin),
        cmocka_unit_test_setup_teardown(test_forced_accel_does_not_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cached_verdict_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdict_written_by_threads_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_qemu_failure_means_tcg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_banner_split_across_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probe_hang_is_bounded_and_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qemu_version, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
