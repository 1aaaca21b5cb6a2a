/* test_qemu_stealth.c - unit tests of engine/qemu/stealth.c through pvm_qemu_build_argv:
 * the stealth build's properties come only with paths.stealth, follow the profile's vendor,
 * never touch virtio devices, and NVMe/CD-ROM strings appear only when those devices do;
 * and of the config key qemu_stealth (engine/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../engine/qemu/qemu.h"
#include "../../engine/hv.h"
#include "../../engine/vm_internal.h"
#include "rm_rf.h"

static void fill(pvm_profile *p, pvm_vm *vm, const char *maker)
{
    pvm_profile_init(p);
    strcpy(p->name, "p");
    strcpy(p->hw.manufacturer, maker);
    strcpy(p->hw.product, "Latitude 7420");
    strcpy(p->hw.cpu_model, "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz");
    strcpy(p->mac, "a4:bb:6d:12:34:56");
    strcpy(p->disk_serial, "S4EVNX0N123456");
    p->hide_hypervisor = true;
    memset(vm, 0, sizeof *vm);
    strcpy(vm->name, "work");
    vm->cpus = 1;
    vm->memory_bytes = 256ull << 20;
    vm->disk_bus = PVM_DISK_SATA;
    vm->nic = PVM_NIC_E1000E;
    vm->net = PVM_NET_USER;
}

static void build(const pvm_profile *p, const pvm_vm *vm, bool stealth, pvm_argv *a)
{
    pvm_qemu_paths paths = {
        .qemu = "q", .disk = "/d.qcow2", .qmp_sock = "/r/qmp", .qmp_owner_sock = "/r/o",
        .qga_sock = "/r/g", .serial_sock = "/r/s", .serial_log = "/l", .pidfile = "/r/p",
        .smbios_type0 = "/r/t", .smbios_dir = "/r", .stealth = stealth,
    };
    pvm_error err = {0};
    pvm_argv_init(a);
    if (pvm_qemu_build_argv(p, vm, &paths, PVM_ACCEL_TCG, a, &err) < 0)
        fail_msg("build_argv: %s", err.msg);
}

/* The value after the first opt whose value starts with prefix, or NULL. */
static const char *find(const pvm_argv *a, const char *opt, const char *prefix)
{
    for (size_t i = 0; i + 1 < a->n; i++)
        if (!strcmp(a->v[i], opt) && !strncmp(a->v[i + 1], prefix, strlen(prefix)))
            return a->v[i + 1];
    return NULL;
}

static size_t count_pvm(const pvm_argv *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += strstr(a->v[i], "x-pvm-") != NULL;
    return n;
}

static void test_stock_has_no_stealth_options(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill(&p, &vm, "Dell Inc.");
    strcpy(vm.iso, "/x.iso");
    pvm_argv a;
    build(&p, &vm, false, &a);
    assert_int_equal(count_pvm(&a), 0);
    assert_null(find(&a, "-L", "/"));
    pvm_argv_free(&a);
}

static void test_dell_sata_e1000e(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill(&p, &vm, "Dell Inc.");
    pvm_argv a;
    build(&p, &vm, true, &a);
    assert_non_null(find(&a, "-L", "/usr/share/seabios"));
    assert_non_null(find(&a, "-L", "/usr/lib/ipxe/qemu"));
    assert_non_null(find(&a, "-L", "/usr/share/qemu"));
    const char *m = find(&a, "-machine", "x-pvm-acpi-creator-id=");
    assert_non_null(m);
    assert_non_null(strstr(m, "x-pvm-acpi-creator-id=INTL,"));
    assert_non_null(strstr(m, "x-pvm-waet=off"));
    assert_non_null(strstr(m, "x-pvm-fwcfg-hid=PNP0C02"));
    const char *fns[] = {"mch.", "ICH9-LPC.", "ich9-ahci.", "ICH9-SMB.", "e1000e."};
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "%sx-pvm-subsys-vendor-id=0x1028", fns[i]);
        if (!find(&a, "-global", want))
            fail_msg("no -global %s", want);
    }
    assert_null(find(&a, "-global", "nvme."));   /* no NVMe disk */
    assert_null(find(&a, "-global", "ide-cd.")); /* no CD-ROM */
    assert_null(find(&a, "-global", "pci-device."));
    assert_null(find(&a, "-global", "virtio"));
    pvm_argv_free(&a);
}

/* A Cirrus display wears the board's subsystem on the stealth build, and only a VM that has
 * one gets those globals. */
static void test_cirrus_subsystem(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill(&p, &vm, "LENOVO");
    pvm_argv a;
    build(&p, &vm, true, &a);
    assert_null(find(&a, "-global", "cirrus-vga."));
    pvm_argv_free(&a);
    vm.display = PVM_DISPLAY_VNC;
    vm.video = PVM_VIDEO_CIRRUS;
    pvm_qemu_paths paths = {
        .qemu = "q", .disk = "/d.qcow2", .qmp_sock = "/r/qmp", .qmp_owner_sock = "/r/o",
        .qga_sock = "/r/g", .serial_sock = "/r/s", .serial_log = "/l", .pidfile = "/r/p",
        .smbios_type0 = "/r/t", .smbios_dir = "/r", .vnc_sock = "/r/v", .stealth = true,
    };
    pvm_error err = {0};
    pvm_argv_init(&a);
    if (pvm_qemu_build_argv(&p, &vm, &paths, PVM_ACCEL_TCG, &a, &err) < 0)
        fail_msg("build_argv: %s", err.msg);
    assert_non_null(find(&a, "-device", "cirrus-vga"));
    assert_non_null(find(&a, "-global", "cirrus-vga.x-pvm-subsys-vendor-id=0x17aa"));
    const char *board = find(&a, "-global", "mch.x-pvm-subsys-id=");
    const char *cirrus = find(&a, "-global", "cirrus-vga.x-pvm-subsys-id=");
    assert_non_null(board);
    assert_non_null(cirrus);
    assert_string_equal(strchr(cirrus, '='), strchr(board, '='));
    /* the device's own ids stay: the guest's VGA driver and SeaBIOS's ROM match them */
    assert_null(find(&a, "-global", "cirrus-vga.x-pvm-vendor-id"));
    pvm_argv_free(&a);
}

static void test_vendors(void **state)
{
    (void)state;
    static const struct { const char *maker, *creator, *pci; } cases[] = {
        {"LENOVO", "PTEC", "0x17aa"},       {"HP", "INTL", "0x103c"},
        {"ASUSTeK COMPUTER INC.", "AMI ", "0x1043"}, {"Apple Inc.", "Loki", "0x106b"},
        {"Micro-Star International Co., Ltd.", "AMI ", "0x1462"},
        {"Gigabyte Technology Co., Ltd.", "AMI ", "0x1458"}, {"Acer", "ACER", "0x1025"},
        {"Microsoft Corporation", "MSFT", "0x8086"}, {"Intel(R) Client Systems", "INTL", "0x8086"},
        {"Hpx Widgets", "AMI ", "0x1849"}, /* "hp" only as a whole word */
        {"", "AMI ", "0x1849"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pvm_profile p;
        pvm_vm vm;
        fill(&p, &vm, cases[i].maker[0] ? cases[i].maker : "Acme");
        if (!cases[i].maker[0])
            strcpy(p.hw.manufacturer, "Acme");
        pvm_argv a;
        build(&p, &vm, true, &a);
        char want[64];
        snprintf(want, sizeof want, "x-pvm-acpi-creator-id=%s,", cases[i].creator);
        const char *m = find(&a, "-machine", "x-pvm-acpi-creator-id=");
        if (!m || !strstr(m, want))
            fail_msg("%s: machine %s, want %s", cases[i].maker, m ? m : "(none)", want);
        snprintf(want, sizeof want, "ICH9-LPC.x-pvm-subsys-vendor-id=%s", cases[i].pci);
        if (!find(&a, "-global", want))
            fail_msg("%s: no -global %s", cases[i].maker, want);
        pvm_argv_free(&a);
    }
}

static void test_nvme_and_cdrom_strings(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill(&p, &vm, "Dell Inc.");
    vm.disk_bus = PVM_DISK_NVME;
    strcpy(vm.iso, "/x.iso");
    pvm_argv a;
    build(&p, &vm, true, &a);
    const char *model = find(&a, "-global", "nvme.x-pvm-model=");
    assert_non_null(model);
    assert_null(strstr(model, "QEMU"));
    const char *nqn = find(&a, "-global", "nvme.x-pvm-subnqn=nqn.2014.08.org.nvmexpress:");
    assert_non_null(nqn);
    assert_non_null(strstr(nqn, p.disk_serial));
    assert_non_null(find(&a, "-global", "nvme.x-pvm-ieee-oui=0x"));
    assert_non_null(find(&a, "-global", "nvme.x-pvm-firmware="));
    const char *vid = find(&a, "-global", "nvme.x-pvm-vendor-id=0x");
    assert_non_null(vid);
    assert_null(strstr(vid, "1b36"));
    assert_non_null(find(&a, "-global", "ide-cd.x-pvm-inquiry-vendor="));
    const char *prod = find(&a, "-global", "ide-cd.x-pvm-inquiry-product=");
    assert_non_null(prod);
    assert_null(strstr(prod, "QEMU"));
    /* the same profile always gets the same parts */
    pvm_argv b;
    build(&p, &vm, true, &b);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        assert_string_equal(a.v[i], b.v[i]);
    pvm_argv_free(&a);
    pvm_argv_free(&b);
}

static void test_config_key(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-stealth-cfg.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pvm_config cfg;
    pvm_error err = {0};
    assert_int_equal(pvm_config_load_file(dir, &cfg, &err), 0);
    assert_string_equal(cfg.qemu_stealth, "auto");
    char path[128];
    snprintf(path, sizeof path, "%s/config", dir);
    static const char *const good[] = {"auto", "on", "off"};
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(path, "w");
        fprintf(f, "qemu_stealth = %s\n", good[i]);
        fclose(f);
        assert_int_equal(pvm_config_load_file(dir, &cfg, &err), 0);
        assert_string_equal(cfg.qemu_stealth, good[i]);
    }
    FILE *f = fopen(path, "w");
    fprintf(f, "qemu_stealth = yes\n");
    fclose(f);
    assert_int_equal(pvm_config_load_file(dir, &cfg, &err), -1);
    assert_int_equal(err.code, PVM_E_INVALID);
    assert_non_null(strstr(err.msg, "qemu_stealth: must be auto, on or off"));
    assert_string_equal(err.field, "qemu_stealth");
    rm_rf(dir);
}

static void test_pick(void **state)
{
    (void)state;
    pvm_config cfg;
    pvm_config_defaults(&cfg);
    const char *bin = NULL;
    char path[PVM_PATH_MAX];
    pvm_error err = {0};
    char note[PVM_START_NOTE_MAX] = "x";
    strcpy(cfg.qemu_stealth, "off");
    assert_int_equal(pvm_qemu_stealth_pick(&cfg, true, &bin, path, sizeof path, note,
                                           sizeof note, &err), 0);
    assert_string_equal(bin, cfg.qemu);
    assert_string_equal(note, ""); /* off: stock asked for, nothing to warn about */
    strcpy(cfg.qemu_stealth, "on"); /* a profile that shows the hypervisor: stock */
    strcpy(note, "x");
    assert_int_equal(pvm_qemu_stealth_pick(&cfg, false, &bin, path, sizeof path, note,
                                           sizeof note, &err), 0);
    assert_string_equal(bin, cfg.qemu);
    assert_string_equal(note, "");
    /* auto with a binary the config names: that binary, no note (the user's choice) */
    strcpy(cfg.qemu_stealth, "auto");
    strcpy(cfg.qemu, "/opt/my-qemu");
    assert_int_equal(pvm_qemu_stealth_pick(&cfg, true, &bin, path, sizeof path, note,
                                           sizeof note, &err), 0);
    assert_string_equal(bin, "/opt/my-qemu");
    assert_string_equal(note, "");
}

/* The QEMU backend's device set (hv op devices, what a snapshot records). Not live, it
 * never fails: qemu_stealth = on with nothing built (an empty cache) is what a start would
 * run, the stealth build, so a disk-only snapshot of a stopped VM is not refused; off is
 * stock. Live without a record (a VM started by an older privarion-vm) whose process
 * cannot be read: the agent channel and the binary are left out, never taken from
 * today's config. */
static void test_devices_op(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvm-stealth-dev.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *cache = pvm_xasprintf("%s/qcache", dir);
    assert_int_equal(setenv("PRIVARION_VM_QEMU_CACHE", cache, 1), 0);
    pvm_profile p;
    pvm_vm vm;
    fill(&p, &vm, "Dell Inc.");
    pvm_vm_files f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "%s", dir);
    pvm_config cfg;
    pvm_config_defaults(&cfg);
    strcpy(cfg.qemu_stealth, "on");
    strcpy(cfg.agent_channel, "isa-serial");
    char out[PVM_SNAP_DEVICES_MAX];
    pvm_error err = {0};
    assert_int_equal(pvm_hv_qemu.devices(NULL, &p, &vm, &f, &cfg, false, out, sizeof out,
                                         &err), 0);
    assert_non_null(strstr(out, " qemu=stealth"));
    assert_non_null(strstr(out, " agent=isa-serial"));
    assert_non_null(strstr(out, " pciSubsys="));
    strcpy(cfg.qemu_stealth, "off");
    assert_int_equal(pvm_hv_qemu.devices(NULL, &p, &vm, &f, &cfg, false, out, sizeof out,
                                         &err), 0);
    assert_non_null(strstr(out, " qemu=stock"));
    assert_null(strstr(out, "pciSubsys="));
    /* live, no record, no process to read (pid 0) */
    vm.pid = 0;
    assert_int_equal(pvm_hv_qemu.devices(NULL, &p, &vm, &f, &cfg, true, out, sizeof out,
                                         &err), 0);
    assert_non_null(strstr(out, "cpus=1 "));
    assert_null(strstr(out, "agent="));
    assert_null(strstr(out, "qemu="));
    /* live with a record: the record */
    char *rec = pvm_xasprintf("%s/devices", dir);
    FILE *fp = fopen(rec, "w");
    assert_non_null(fp);
    fputs("cpus=1 agent=virtio-serial qemu=stock\n", fp);
    fclose(fp);
    assert_int_equal(pvm_hv_qemu.devices(NULL, &p, &vm, &f, &cfg, true, out, sizeof out,
                                         &err), 0);
    assert_string_equal(out, "cpus=1 agent=virtio-serial qemu=stock");
    unsetenv("PRIVARION_VM_QEMU_CACHE");
    free(rec);
    free(cache);
    rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stock_has_no_stealth_options),
        cmocka_unit_test(test_dell_sata_e1000e),
        cmocka_unit_test(test_vendors),
        cmocka_unit_test(test_cirrus_subsystem),
        cmocka_unit_test(test_nvme_and_cdrom_strings),
        cmocka_unit_test(test_config_key),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_devices_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
