/* test_installer.c - unit tests of engine/installer.c: the installer chosen per file type
 * and guest OS (Linux and Windows), --to and --run, and hostile names that must stay one
 * argument and never become options. Run by tests/run (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/internal.h"

/* The plan's argv joined with '|', into buf. */
static const char *joined(const pvm_install_plan *p, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < p->argc; i++) {
        if (i)
            strncat(buf, "|", size - strlen(buf) - 1);
        strncat(buf, p->argv[i], size - strlen(buf) - 1);
    }
    assert_null(p->argv[p->argc]);
    return buf;
}

static void expect_plan(const char *name, bool windows, const char *to, const char *run,
                        const char *kind, const char *path, const char *argv)
{
    pvm_install_plan p;
    pvm_error err = {0};
    char buf[2048];
    if (pvm_install_plan_make(name, windows, to, run, &p, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    assert_string_equal(p.kind, kind);
    assert_string_equal(p.guest_path, path);
    assert_string_equal(joined(&p, buf, sizeof buf), argv);
    pvm_install_plan_free(&p);
}

static void test_linux_types(void **state)
{
    (void)state;
    expect_plan("a.deb", false, NULL, NULL, "deb", "/tmp/a.deb", "dpkg|-i|/tmp/a.deb");
    expect_plan("a.rpm", false, NULL, NULL, "rpm", "/tmp/a.rpm", "rpm|-i|/tmp/a.rpm");
    expect_plan("a.apk", false, NULL, NULL, "apk", "/tmp/a.apk",
                "apk|add|--allow-untrusted|/tmp/a.apk");
    expect_plan("a.pkg", false, NULL, NULL, "pkg", "/tmp/a.pkg",
                "installer|-pkg|/tmp/a.pkg|-target|/");
    expect_plan("setup.sh", false, NULL, NULL, "sh", "/tmp/setup.sh", "sh|/tmp/setup.sh");
    expect_plan("APP.DEB", false, NULL, NULL, "deb", "/tmp/APP.DEB", "dpkg|-i|/tmp/APP.DEB");
    expect_plan("tool", false, NULL, NULL, "file", "/tmp/tool", "chmod|755|/tmp/tool");
    expect_plan("tool", false, "/usr/local/bin/tool", NULL, "file", "/usr/local/bin/tool",
                "chmod|755|/usr/local/bin/tool");
    /* --to a folder (ends with /): the file keeps its name inside it, and the installer
     * gets the file, never the folder (chmod of the folder, sh of the folder) */
    expect_plan("tool", false, "/usr/local/bin/", NULL, "file", "/usr/local/bin/tool",
                "chmod|755|/usr/local/bin/tool");
    expect_plan("setup.sh", false, "/root/", NULL, "sh", "/root/setup.sh", "sh|/root/setup.sh");
    /* a Windows installer on Linux is just a file */
    expect_plan("x.msi", false, NULL, NULL, "file", "/tmp/x.msi", "chmod|755|/tmp/x.msi");
}

static void test_archives(void **state)
{
    (void)state;
    const char *script = "mkdir -p -- \"$1\" && tar -xzf \"$2\" -C \"$1\"";
    char want[512];
    snprintf(want, sizeof want, "sh|-c|%s|sh|/opt|/tmp/b.tar.gz", script);
    expect_plan("b.tar.gz", false, NULL, NULL, "tar", "/tmp/b.tar.gz", want);
    snprintf(want, sizeof want, "sh|-c|%s|sh|/srv/app dir|/tmp/b.tgz", script);
    expect_plan("b.tgz", false, "/srv/app dir", NULL, "tar", "/tmp/b.tgz", want);
}

static void test_windows_types(void **state)
{
    (void)state;
    expect_plan("setup.msi", true, NULL, NULL, "msi", "C:\\Windows\\Temp\\setup.msi",
                "msiexec|/i|C:\\Windows\\Temp\\setup.msi|/qn");
    expect_plan("setup.exe", true, NULL, NULL, "exe", "C:\\Windows\\Temp\\setup.exe",
                "C:\\Windows\\Temp\\setup.exe");
    expect_plan("setup.exe", true, "D:\\Tools\\", NULL, "exe", "D:\\Tools\\setup.exe",
                "D:\\Tools\\setup.exe");
    expect_plan("s.ps1", true, "D:\\s.ps1", NULL, "ps1", "D:\\s.ps1",
                "powershell.exe|-NoProfile|-ExecutionPolicy|Bypass|-File|D:\\s.ps1");
    expect_plan("notes.txt", true, NULL, NULL, "file", "C:\\Windows\\Temp\\notes.txt", "");
    /* a .deb on Windows is just a file */
    expect_plan("a.deb", true, NULL, NULL, "file", "C:\\Windows\\Temp\\a.deb", "");
}

static void test_run(void **state)
{
    (void)state;
    expect_plan("a.bin", false, NULL, "chmod +x {} && {} --install", "run", "/tmp/a.bin",
                "sh|-c|chmod +x \"$1\" && \"$1\" --install|sh|/tmp/a.bin");
    expect_plan("a.exe", true, NULL, "{} /S", "run", "C:\\Windows\\Temp\\a.exe",
                "cmd.exe|/c|\"C:\\Windows\\Temp\\a.exe\" /S");
    /* --run replaces the archive's extraction: the archive goes where --to says */
    expect_plan("b.tar.gz", false, "/root/b.tar.gz", "tar -tzf {}", "run", "/root/b.tar.gz",
                "sh|-c|tar -tzf \"$1\"|sh|/root/b.tar.gz");
}

/* Hostile names stay one argument, absolute (never an option), untouched. */
static void test_hostile_names(void **state)
{
    (void)state;
    expect_plan("-rf.sh", false, NULL, NULL, "sh", "/tmp/-rf.sh", "sh|/tmp/-rf.sh");
    expect_plan("--force-all.deb", false, NULL, NULL, "deb", "/tmp/--force-all.deb",
                "dpkg|-i|/tmp/--force-all.deb");
    expect_plan("a b\n'c\"$(x).sh", false, NULL, NULL, "sh", "/tmp/a b\n'c\"$(x).sh",
                "sh|/tmp/a b\n'c\"$(x).sh");
    /* --run's text is the user's; the name reaches it only as "$1" */
    expect_plan("$(reboot).bin", false, NULL, "cat {}", "run", "/tmp/$(reboot).bin",
                "sh|-c|cat \"$1\"|sh|/tmp/$(reboot).bin");
}

static void expect_refused(const char *name, bool windows, const char *to, const char *run,
                           const char *field)
{
    pvm_install_plan p;
    pvm_error err = {0};
    assert_int_equal(pvm_install_plan_make(name, windows, to, run, &p, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_string_equal(err.field, field);
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused("", false, NULL, NULL, "FILE");
    expect_refused("..", false, NULL, NULL, "FILE");
    expect_refused("a/b.sh", false, NULL, NULL, "FILE");
    expect_refused("a.sh", false, "relative/path", NULL, "to");
    expect_refused("a.sh", false, "-rf", NULL, "to");
    expect_refused("a.tar.gz", false, "opt", NULL, "to");
    expect_refused("a.msi", true, "/unix/path", NULL, "to");
    expect_refused("a.msi", true, "C:\\a\"b", NULL, "to");
    expect_refused("a.sh", false, NULL, "", "run");
}

/* Windows: names and paths reach cmd.exe (del, move, .bat, --run), so its syntax
 * characters, ':' past the drive and '..' components are refused wherever they come in. */
static void test_windows_cmd_syntax_refused(void **state)
{
    (void)state;
    static const char *names[] = {
        "a\" & calc & \".bat", "x&whoami.cmd", "%PATH%.msi", "..\\..\\Windows\\System32\\evil.exe",
        "a^b.exe", "a|b.exe", "a<b.exe", "a>b.exe", "a\\b.exe", "c:evil.exe", "a\tb.exe",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        expect_refused(names[i], true, NULL, NULL, "FILE");
    static const char *paths[] = {
        "C:\\a&b\\x.exe", "C:\\Temp\\..\\Windows\\x.exe", "C:/Temp/../x.exe", "C:\\x%y%.msi",
        "C:\\a:b.exe", "C:\\a\"b.exe", "C:\\a|b.exe", "C:\\a^b.exe", "C:\\a<b>.exe", "C:\\..",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        expect_refused("a.exe", true, paths[i], NULL, "to");
        pvm_error err = {0};
        assert_int_equal(pvm_agent_guest_path_check(paths[i], true, "GUEST_PATH", &err), -1);
        assert_string_equal(err.field, "GUEST_PATH");
    }
    /* what stays allowed: dots inside names, spaces, parentheses, POSIX guests' names */
    expect_plan("my..app (x64).exe", true, NULL, NULL, "exe",
                "C:\\Windows\\Temp\\my..app (x64).exe", "C:\\Windows\\Temp\\my..app (x64).exe");
    expect_plan("a.exe", true, "C:\\Program Files\\A..B\\a.exe", NULL, "exe",
                "C:\\Program Files\\A..B\\a.exe", "C:\\Program Files\\A..B\\a.exe");
    expect_plan("x&y%z.sh", false, NULL, NULL, "sh", "/tmp/x&y%z.sh", "sh|/tmp/x&y%z.sh");
    pvm_error err = {0};
    assert_int_equal(pvm_agent_guest_path_check("/tmp/../a&b", false, "GUEST_PATH", &err), 0);
}

/* --run: {} must stand unquoted (quoted it would be spliced into a quoted string); every
 * {} is replaced however many there are. */
static void test_run_braces(void **state)
{
    (void)state;
    static const char *quoted[] = { "sh '{}'", "cat \"{}\"", "echo \"x {} y\"", "a '{} b' c" };
    for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++) {
        for (int w = 0; w < (quoted[i][strcspn(quoted[i], "'")] ? 1 : 2); w++) {
            pvm_install_plan p; /* cmd.exe: only "..." quotes */
            pvm_error err = {0};
            assert_int_equal(pvm_install_plan_make("a.bin", w, NULL, quoted[i], &p, &err), -1);
            assert_string_equal(err.field, "run");
            assert_non_null(strstr(err.msg, "run:"));
            assert_non_null(strstr(err.msg, "unquoted"));
        }
    }
    /* quotes elsewhere, an escaped quote, {} after a closed quote: fine */
    expect_plan("a.bin", false, NULL, "echo 'done:' {} \"ok\"", "run", "/tmp/a.bin",
                "sh|-c|echo 'done:' \"$1\" \"ok\"|sh|/tmp/a.bin");
    expect_plan("a.bin", false, NULL, "echo \\' {}", "run", "/tmp/a.bin",
                "sh|-c|echo \\' \"$1\"|sh|/tmp/a.bin");
    /* 20 {} on Windows: every one replaced, nothing dropped */
    char run[256] = "", want[2048] = "cmd.exe|/c|";
    for (int i = 0; i < 20; i++) {
        strcat(run, i ? " {}" : "{}");
        strcat(want, i ? " \"C:\\Windows\\Temp\\a.exe\"" : "\"C:\\Windows\\Temp\\a.exe\"");
    }
    strcat(run, " end");
    strcat(want, " end");
    expect_plan("a.exe", true, NULL, run, "run", "C:\\Windows\\Temp\\a.exe", want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_types),   cmocka_unit_test(test_archives),
        cmocka_unit_test(test_windows_types), cmocka_unit_test(test_run),
        cmocka_unit_test(test_hostile_names), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_windows_cmd_syntax_refused),
        cmocka_unit_test(test_run_braces),
    };
    return cmocka_run_group_tests_name("installer", tests, NULL, NULL) ? 1 : 0;
}
