/* test_qemu_argv.c - unit tests of engine/qemu_argv.c: golden command lines
 * for each disk bus, NIC, network, ISO and kernel variant, and proof by
 * parsing the argv back that no profile, VM or path value can add an option. */
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

/* ------------------------------------------------------------ fixtures */

static void fill_profile(pvm_profile *p)
{
    pvm_profile_init(p);
    strcpy(p->name, "dell");
    strcpy(p->hw.manufacturer, "Dell Inc.");
    strcpy(p->hw.product, "Latitude 7420");
    strcpy(p->hw.version, "1.0");
    strcpy(p->hw.family, "Latitude");
    strcpy(p->hw.sku, "0A4D");
    strcpy(p->hw.board_manufacturer, "Dell Inc.");
    strcpy(p->hw.board_product, "07MHG4");
    strcpy(p->hw.board_version, "A00");
    strcpy(p->hw.board_serial, "/7ABC123/CNFCW0012345/");
    strcpy(p->hw.chassis_manufacturer, "Dell Inc.");
    strcpy(p->hw.chassis_serial, "7ABC123");
    strcpy(p->hw.chassis_asset, "ASSET-1");
    strcpy(p->hw.bios_vendor, "Dell Inc.");
    strcpy(p->hw.bios_version, "1.15.0");
    strcpy(p->hw.bios_date, "03/14/2023");
    strcpy(p->hw.cpu_model, "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz");
    strcpy(p->hw.cpu_manufacturer, "Intel(R) Corporation");
    strcpy(p->hw.memory_manufacturer, "Samsung");
    strcpy(p->hw.chassis_type, "notebook");
    strcpy(p->hw.cpu_cores, "4");
    strcpy(p->hw.cpu_threads, "2");
    strcpy(p->hw.cpu_family, "6");
    strcpy(p->hw.cpu_model_number, "140");
    strcpy(p->hw.cpu_stepping, "1");
    strcpy(p->hw.cpu_microcode, "0xa4");
    strcpy(p->machine_id, "4c4c4544-0042-3510-8052-b7c04f4a3233");
    strcpy(p->mac, "a4:bb:6d:12:34:56");
    strcpy(p->serial, "7ABC123");
    strcpy(p->disk_serial, "S4EVNX0N123456");
    p->hide_hypervisor = true;
}

static void fill_vm(pvm_vm *vm)
{
    memset(vm, 0, sizeof *vm);
    strcpy(vm->name, "work");
    vm->cpus = 2;
    vm->memory_bytes = 2048ull << 20;
    vm->disk_bus = PVM_DISK_VIRTIO;
    vm->nic = PVM_NIC_VIRTIO;
    vm->net = PVM_NET_USER;
}

static pvm_qemu_paths std_paths(void)
{
    pvm_qemu_paths p = {
        .qemu = "qemu-system-x86_64",
        .disk = "/home/u/.local/share/privarion-vm/vms/work/disk.qcow2",
        .qmp_sock = "/run/pvm/ab/qmp.sock",
        .qmp_owner_sock = "/run/pvm/ab/qmp-owner.sock",
        .qga_sock = "/run/pvm/ab/qga.sock",
        .serial_sock = "/run/pvm/ab/serial.sock",
        .serial_log = "/home/u/.local/share/privarion-vm/vms/work/serial.log",
        .pidfile = "/run/pvm/ab/qemu.pid",
        .smbios_type0 = "/run/pvm/ab/type0.bin",
        .smbios_dir = "/run/pvm/ab",
        .qemu_log = NULL,
    };
    return p;
}

static void build_ok(const pvm_profile *p, const pvm_vm *vm, const pvm_qemu_paths *paths,
                     pvm_accel accel, pvm_argv *a)
{
    pvm_error err = { 0 };
    pvm_argv_init(a);
    int rc = pvm_qemu_build_argv(p, vm, paths, accel, a, &err);
    if (rc)
        fail_msg("build failed: %s", err.msg);
    assert_null(a->v[a->n]);
}

static void build_fails(const pvm_profile *p, const pvm_vm *vm, const pvm_qemu_paths *paths,
                        const char *needle)
{
    pvm_error err = { 0 };
    pvm_argv a;
    pvm_argv_init(&a);
    assert_int_equal(pvm_qemu_build_argv(p, vm, paths, PVM_ACCEL_TCG, &a, &err), -1);
    assert_int_equal(a.n, 0);
    assert_null(a.v[0]);
    if (!strstr(err.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
    pvm_argv_free(&a);
}

/* Index of the nth (0-based) occurrence of option opt whose value starts with
 * prefix, or -1. The value is at index + 1. */
static long find_opt(const pvm_argv *a, const char *opt, const char *prefix, int nth)
{
    for (size_t i = 1; i + 1 < a->n; i++)
        if (!strcmp(a->v[i], opt) && !strncmp(a->v[i + 1], prefix, strlen(prefix)) && nth-- == 0)
            return (long)i;
    return -1;
}

static const char *opt_val(const pvm_argv *a, const char *opt, const char *prefix)
{
    long i = find_opt(a, opt, prefix, 0);
    if (i < 0)
        fail_msg("no %s %s... in argv", opt, prefix);
    return a->v[i + 1];
}

/* ------------------------------------------------- parsing the argv back */

/* Options QEMU would see, with whether they take a value. */
static const struct { const char *opt; int arg; } known_opts[] = {
    { "-name", 1 },    { "-no-user-config", 0 }, { "-nodefaults", 0 }, { "-display", 1 },
    { "-pidfile", 1 }, { "-daemonize", 0 },      { "-D", 1 },          { "-machine", 1 },
    { "-trace", 1 },
    { "-cpu", 1 },     { "-global", 1 },         { "-smp", 1 },        { "-m", 1 },
    { "-uuid", 1 },    { "-smbios", 1 },         { "-drive", 1 },      { "-device", 1 },
    { "-kernel", 1 },  { "-initrd", 1 },         { "-append", 1 },     { "-netdev", 1 },
    { "-nic", 1 },     { "-chardev", 1 },        { "-mon", 1 },        { "-serial", 1 },
    { "-vnc", 1 },     { "-tpmdev", 1 },
};

/* Keys each QemuOpts-style option may carry; "*" = the implied first word. */
static const char *allowed_keys(const char *opt, const char *first)
{
    if (!strcmp(opt, "-name"))
        return " guest ";
    if (!strcmp(opt, "-machine"))
        return " * accel x-oem-id x-oem-table-id smm ";
    if (!strcmp(opt, "-smbios"))
        return " file type manufacturer product version serial sku family asset ";
    if (!strcmp(opt, "-drive"))
        return " file if id node-name format cache discard media readonly unit ";
    if (!strcmp(opt, "-tpmdev"))
        return " * id chardev ";
    if (!strcmp(opt, "-netdev"))
        return " * id br helper hostfwd ";
    if (!strcmp(opt, "-nic"))
        return " * ";
    if (!strcmp(opt, "-chardev"))
        return " * id path server wait logfile logappend ";
    if (!strcmp(opt, "-mon"))
        return " chardev mode ";
    if (!strcmp(opt, "-device")) {
        if (!strncmp(first, "virtserialport", 14))
            return " * bus chardev name ";
        if (!strncmp(first, "virtio-serial-pci", 17))
            return " * id ";
        if (!strncmp(first, "isa-serial", 10))
            return " * chardev index ";
        return " * drive bootindex serial use-intel-id bus model ver netdev mac subsys tpmdev "
               "romfile ";
    }
    if (!strcmp(opt, "-vnc")) { /* one implied value, "unix:PATH": no single comma in it */
        for (const char *c = first; *c; c++) {
            if (c[0] == ',' && c[1] == ',')
                c++;
            else if (c[0] == ',')
                fail_msg("-vnc %s: a single comma would start an option", first);
        }
        return NULL;
    }
    return NULL;
}

/* Splits a QemuOpts value on single commas (",," is a literal comma) into
 * key/value pairs, unescaping values. Returns the number of parts. */
typedef struct kv { char key[64]; char val[1200]; int implied; } kv;

static size_t split_opts(const char *s, kv *out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        kv *p = &out[n++];
        memset(p, 0, sizeof *p);
        size_t k = 0;
        while (*s && *s != '=' && *s != ',' && k < sizeof p->key - 1)
            p->key[k++] = *s++;
        if (*s != '=') {
            p->implied = 1;
            strcpy(p->val, p->key);
        } else {
            s++;
            size_t v = 0;
            for (;;) {
                if (*s == ',' && s[1] == ',') {
                    p->val[v++] = ',';
                    s += 2;
                } else if (*s == ',' || !*s) {
                    break;
                } else {
                    p->val[v++] = *s++;
                }
            }
        }
        if (!*s)
            break;
        s++; /* the separating single comma */
    }
    return n;
}

static int word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
        if (s > list && s[-1] == ' ' && s[n] == ' ')
            return 1;
    return 0;
}

/* The feature switches -cpu turns off under TCG (argv.c). */
#define TCG_OFF                                                                          \
    " -pcid -x2apic -tsc-deadline -invpcid -rdseed -spec-ctrl -3dnowprefetch -xsavec "   \
    "-xsaves -sha-ni -rdpid -fxsr-opt -misalignsse -osvw -topoext -perfctr-core -clzero " \
    "-xsaveerptr -wbnoinvd -ibpb -ibrs -amd-stibp -amd-ssbd -nrip-save "

/* "family=6", "model=140", "stepping=1" (decimal) or "ucode-rev=0x..." (hex). */
static int cpu_number(const char *t)
{
    static const char *const keys[] = {"family=", "model=", "stepping=", "ucode-rev=0x"};
    for (size_t k = 0; k < 4; k++) {
        size_t n = strlen(keys[k]);
        if (strncmp(t, keys[k], n) || !t[n])
            continue;
        return strspn(t + n, k == 3 ? "0123456789abcdef" : "0123456789") == strlen(t + n);
    }
    return 0;
}

/* Walks the argv as QEMU does and checks every option, every key and that
 * no key appears twice in one option. */
static void assert_argv_safe(const pvm_argv *a)
{
    for (size_t i = 1; i < a->n; i++) {
        const char *opt = a->v[i];
        int arg = -1;
        for (size_t k = 0; k < sizeof known_opts / sizeof known_opts[0]; k++)
            if (!strcmp(known_opts[k].opt, opt))
                arg = known_opts[k].arg;
        if (arg < 0)
            fail_msg("argv[%zu] \"%s\" is not an expected option", i, opt);
        if (!arg)
            continue;
        assert_true(i + 1 < a->n);
        const char *val = a->v[++i];
        if (!strcmp(opt, "-cpu")) {
            /* -cpu splits on every comma: each part must be a fixed word. */
            char buf[1024];
            assert_true(strlen(val) < sizeof buf);
            snprintf(buf, sizeof buf, "%s", val);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
                if (!word_in(" qemu64 Skylake-Client-v4 EPYC-Rome-v2 -hypervisor tcg-cpuid=off "
                             "kvm=off vendor=GenuineIntel vendor=AuthenticAMD -svm " TCG_OFF, t) &&
                    !cpu_number(t))
                    fail_msg("-cpu part \"%s\" not allowed", t);
            continue;
        }
        if (!strcmp(opt, "-global")) {
            if (strcmp(val, "driver=cfi.pflash01,property=secure,value=on") != 0)
                assert_true(!strncmp(val, "qemu64-x86_64-cpu.model-id=", 27) ||
                            !strncmp(val, "Skylake-Client-v4-x86_64-cpu.model-id=", 38) ||
                            !strncmp(val, "EPYC-Rome-v2-x86_64-cpu.model-id=", 33));
            continue;
        }
        const char *allowed = allowed_keys(opt, val);
        if (!allowed)
            continue; /* whole-value options: -kernel, -append, -pidfile ... */
        kv parts[32];
        size_t n = split_opts(val, parts, 32);
        for (size_t k = 0; k < n; k++) {
            if (parts[k].implied) {
                if (k != 0 || !strstr(allowed, " * "))
                    fail_msg("%s %s: \"%s\" would be read as a flag", opt, val, parts[k].key);
                continue;
            }
            if (!word_in(allowed, parts[k].key))
                fail_msg("%s %s: key \"%s\" not allowed", opt, val, parts[k].key);
            for (size_t j = 0; j < k; j++)
                if (!parts[j].implied && !strcmp(parts[j].key, parts[k].key) &&
                    strcmp(parts[k].key, "hostfwd") != 0)
                    fail_msg("%s %s: key \"%s\" twice", opt, val, parts[k].key);
        }
    }
}

/* The unescaped value of key inside the option opt whose value starts with prefix. */
static void kv_of(const pvm_argv *a, const char *opt, const char *prefix, const char *key,
                  char *out, size_t size)
{
    kv parts[32];
    size_t n = split_opts(opt_val(a, opt, prefix), parts, 32);
    for (size_t k = 0; k < n; k++)
        if (!parts[k].implied && !strcmp(parts[k].key, key)) {
            snprintf(out, size, "%s", parts[k].val);
            return;
        }
    fail_msg("%s %s...: no key %s", opt, prefix, key);
}

static int has_key(const pvm_argv *a, const char *opt, const char *prefix, const char *key)
{
    kv parts[32];
    size_t n = split_opts(opt_val(a, opt, prefix), parts, 32);
    for (size_t k = 0; k < n; k++)
        if (!parts[k].implied && !strcmp(parts[k].key, key))
            return 1;
    return 0;
}

/* -------------------------------------------------------------- golden */

static void assert_argv_equal(const pvm_argv *a, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < n && i < a->n; i++)
        if (strcmp(a->v[i], want[i]))
            fail_msg("argv[%zu]: got \"%s\", want \"%s\"", i, a->v[i], want[i]);
    assert_int_equal(a->n, n);
}

static void test_golden_default_virtio(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    paths.qemu_log = "/run/pvm/ab/qemu.log";
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    const char *const want[] = {
        "qemu-system-x86_64",
        "-name", "guest=work",
        "-no-user-config", "-nodefaults", "-display", "none",
        "-pidfile", "/run/pvm/ab/qemu.pid", "-daemonize", "-D", "/run/pvm/ab/qemu.log",
        "-trace", "enable=qemu_system_shutdown_request",
        "-machine", "q35,accel=tcg,x-oem-id=DELL  ,x-oem-table-id=CBX3    ",
        "-cpu", "Skylake-Client-v4,-pcid,-x2apic,-tsc-deadline,-invpcid,-rdseed,-spec-ctrl,"
                "-3dnowprefetch,-xsavec,-xsaves,-hypervisor,tcg-cpuid=off,vendor=GenuineIntel,"
                "-svm,family=6,model=140,stepping=1,ucode-rev=0xa400000000",
        "-global", "Skylake-Client-v4-x86_64-cpu.model-id=11th Gen Intel(R) Core(TM) i7-1185G7 "
                   "@ 3.00GHz",
        "-smp", "2,sockets=1,cores=1,threads=2", "-m", "2048",
        "-uuid", "4c4c4544-0042-3510-8052-b7c04f4a3233",
        "-smbios", "file=/run/pvm/ab/type0.bin",
        "-smbios", "type=1,manufacturer=Dell Inc.,product=Latitude 7420,version=1.0,"
                   "serial=7ABC123,sku=0A4D,family=Latitude",
        "-smbios", "type=2,manufacturer=Dell Inc.,product=07MHG4,version=A00,"
                   "serial=/7ABC123/CNFCW0012345/",
        "-smbios", "file=/run/pvm/ab/smbios-type3.bin",
        "-smbios", "file=/run/pvm/ab/smbios-type4-0.bin",
        "-smbios", "file=/run/pvm/ab/smbios-type17-0.bin",
        "-drive", "file=/home/u/.local/share/privarion-vm/vms/work/disk.qcow2,if=none,"
                  "id=drive0,node-name=disk0,format=qcow2,cache=writeback,discard=unmap",
        "-device", "virtio-blk-pci,drive=drive0,bootindex=1,serial=S4EVNX0N123456",
        "-netdev", "user,id=net0",
        "-device", "virtio-net-pci,netdev=net0,mac=a4:bb:6d:12:34:56",
        "-chardev", "socket,id=qmp0,path=/run/pvm/ab/qmp.sock,server=on,wait=off",
        "-mon", "chardev=qmp0,mode=control",
        "-chardev", "socket,id=qmp-owner,path=/run/pvm/ab/qmp-owner.sock,server=on,wait=off",
        "-mon", "chardev=qmp-owner,mode=control",
        "-chardev", "socket,id=qga0,path=/run/pvm/ab/qga.sock,server=on,wait=off",
        "-device", "isa-serial,chardev=qga0,index=1",
        "-chardev", "socket,id=ser0,path=/run/pvm/ab/serial.sock,server=on,wait=off,"
                    "logfile=/home/u/.local/share/privarion-vm/vms/work/serial.log,logappend=on",
        "-serial", "chardev:ser0",
        NULL,
    };
    assert_argv_equal(&a, want);
    assert_argv_safe(&a);
    pvm_argv_free(&a);
}

static void test_disk_buses(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;

    vm.disk_bus = PVM_DISK_NVME;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-device", "nvme"),
                        "nvme,use-intel-id=on,drive=drive0,bootindex=1,serial=S4EVNX0N123456");
    assert_int_equal(find_opt(&a, "-device", "virtio-blk", 0), -1);
    assert_argv_safe(&a);
    pvm_argv_free(&a);

    vm.disk_bus = PVM_DISK_SATA;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-device", "ide-hd"),
                        "ide-hd,bus=ide.0,model=SATA SSD,ver=SBFM61.3,drive=drive0,bootindex=1,"
                        "serial=S4EVNX0N123456");
    assert_argv_safe(&a);
    pvm_argv_free(&a);

    /* No disk serial: virtio gets none; nvme (QEMU requires one) and sata (QEMU
     * would invent "QM00001") are refused, by the build and by the create check. */
    p.disk_serial[0] = '\0';
    build_fails(&p, &vm, &paths, "diskSerial");
    vm.disk_bus = PVM_DISK_NVME;
    build_fails(&p, &vm, &paths, "diskSerial");
    pvm_error err = {0};
    assert_int_equal(pvm_qemu_argv_check(&p, &vm, &err), -1);
    assert_non_null(strstr(err.msg, "diskSerial"));
    vm.disk_bus = PVM_DISK_VIRTIO;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_false(has_key(&a, "-device", "virtio-blk-pci", "serial"));
    pvm_argv_free(&a);
}

static void test_nics_and_net(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;

    vm.nic = PVM_NIC_E1000E;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-netdev", ""), "user,id=net0");
    assert_string_equal(opt_val(&a, "-device", "e1000e"),
                        "e1000e,subsys=0xa01f,romfile=,netdev=net0,mac=a4:bb:6d:12:34:56");
    assert_int_equal(find_opt(&a, "-device", "virtio-net", 0), -1);
    pvm_argv_free(&a);

    vm.net = PVM_NET_NONE;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-nic", ""), "none");
    assert_int_equal(find_opt(&a, "-netdev", "", 0), -1);
    assert_int_equal(find_opt(&a, "-device", "e1000e", 0), -1);
    assert_argv_safe(&a);
    pvm_argv_free(&a);

    /* No MAC in the profile: QEMU would pick 52:54:00:xx, so it is refused unless
     * there is no NIC at all; the message names the field and the fix. */
    vm.net = PVM_NET_USER;
    p.mac[0] = '\0';
    build_fails(&p, &vm, &paths, "macAddress");
    pvm_error err = {0};
    assert_int_equal(pvm_qemu_argv_check(&p, &vm, &err), -1);
    assert_non_null(strstr(err.msg, "52:54:00"));
    assert_non_null(strstr(err.msg, "--mac"));
    assert_non_null(strstr(err.msg, "--net none"));
    vm.net = PVM_NET_NONE;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_int_equal(pvm_qemu_argv_check(&p, &vm, &err), 0);
    pvm_argv_free(&a);
}

static void test_iso_boots_first(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    strcpy(vm.iso, "/isos/debian,12.iso");
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-drive", "file=/isos"),
                        "file=/isos/debian,,12.iso,if=none,id=cd0,media=cdrom,readonly=on,format=raw");
    /* The drive gets a serial from the VM id, not QEMU's "QM00003". */
    assert_string_equal(opt_val(&a, "-device", "ide-cd"),
                        "ide-cd,bus=ide.1,drive=cd0,bootindex=1,model=DVD-RW Drive,ver=1.00,"
                        "serial=0");
    pvm_argv_free(&a);
    strcpy(vm.id, "1a3068f3-4c28-444b-9239-1e759fa5d276");
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-device", "ide-cd"),
                        "ide-cd,bus=ide.1,drive=cd0,bootindex=1,model=DVD-RW Drive,ver=1.00,"
                        "serial=1A3068F34C28");
    assert_non_null(strstr(opt_val(&a, "-device", "virtio-blk"), ",bootindex=2,"));
    assert_argv_safe(&a);
    pvm_argv_free(&a);
}

static void test_kernel_initrd_append(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    strcpy(vm.kernel, "/k,x/vmlinuz");
    strcpy(vm.initrd, "/k,x/initrd.gz");
    strcpy(vm.append, "-S console=ttyS0,115200 x=y,z -daemonize");
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    /* Whole-value options: one argv element each, taken verbatim by QEMU. */
    assert_string_equal(opt_val(&a, "-kernel", ""), "/k,x/vmlinuz");
    assert_string_equal(opt_val(&a, "-initrd", ""), "/k,x/initrd.gz");
    assert_string_equal(opt_val(&a, "-append", ""), "-S console=ttyS0,115200 x=y,z -daemonize");
    assert_argv_safe(&a);
    pvm_argv_free(&a);

    vm.append[0] = '\0';
    vm.initrd[0] = '\0';
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_int_equal(find_opt(&a, "-initrd", "", 0), -1);
    assert_int_equal(find_opt(&a, "-append", "", 0), -1);
    pvm_argv_free(&a);

    vm.kernel[0] = '\0';
    strcpy(vm.initrd, "/i");
    build_fails(&p, &vm, &paths, "kernel");
}

static void test_hide_hypervisor(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;

    /* KVM: the named model keeps its flags (the host CPU decides), no TCG switches. */
    build_ok(&p, &vm, &paths, PVM_ACCEL_KVM, &a);
    assert_string_equal(opt_val(&a, "-cpu", ""),
                        "Skylake-Client-v4,-hypervisor,kvm=off,vendor=GenuineIntel,-svm,"
                        "family=6,model=140,stepping=1,ucode-rev=0xa400000000");
    assert_non_null(strstr(opt_val(&a, "-machine", ""), ",accel=kvm,"));
    assert_string_equal(opt_val(&a, "-device", "isa-serial"), "isa-serial,chardev=qga0,index=1");
    assert_int_equal(find_opt(&a, "-device", "virtio-serial", 0), -1);
    pvm_argv_free(&a);

    /* Shown hypervisor: no hiding switches, the agent back on virtio-serial. */
    p.hide_hypervisor = false;
    build_ok(&p, &vm, &paths, PVM_ACCEL_KVM, &a);
    assert_string_equal(opt_val(&a, "-cpu", ""),
                        "Skylake-Client-v4,vendor=GenuineIntel,-svm,family=6,model=140,"
                        "stepping=1,ucode-rev=0xa400000000");
    assert_string_equal(opt_val(&a, "-device", "virtserialport"),
                        "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0");
    assert_int_equal(find_opt(&a, "-device", "isa-serial", 0), -1);
    pvm_argv_free(&a);

    /* config agent_channel overrides the profile both ways. */
    paths.agent_channel = pvm_qemu_agent_channel("isa-serial");
    build_ok(&p, &vm, &paths, PVM_ACCEL_KVM, &a);
    assert_string_equal(opt_val(&a, "-device", "isa-serial"), "isa-serial,chardev=qga0,index=1");
    assert_int_equal(find_opt(&a, "-device", "virtio-serial", 0), -1);
    pvm_argv_free(&a);
    p.hide_hypervisor = true;
    paths.agent_channel = pvm_qemu_agent_channel("virtio");
    build_ok(&p, &vm, &paths, PVM_ACCEL_KVM, &a);
    assert_int_equal(find_opt(&a, "-device", "isa-serial", 0), -1);
    assert_string_equal(opt_val(&a, "-device", "virtserialport"),
                        "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0");
    pvm_argv_free(&a);
    assert_int_equal(pvm_qemu_agent_channel("auto"), PVM_AGENT_CHANNEL_AUTO);
    paths.agent_channel = PVM_AGENT_CHANNEL_AUTO;
    p.hide_hypervisor = false;

    /* Vendor and model follow the brand: AMD gets EPYC-Rome and its microcode in the
     * low half of the MSR; none of either names qemu64. */
    strcpy(p.hw.cpu_manufacturer, "Advanced Micro Devices, Inc.");
    strcpy(p.hw.cpu_model, "AMD Ryzen 7 PRO 4750U with Radeon Graphics");
    strcpy(p.hw.cpu_family, "23");
    strcpy(p.hw.cpu_model_number, "96");
    strcpy(p.hw.cpu_microcode, "0x8600106");
    build_ok(&p, &vm, &paths, PVM_ACCEL_KVM, &a);
    assert_string_equal(opt_val(&a, "-cpu", ""), "EPYC-Rome-v2,vendor=AuthenticAMD,family=23,"
                                                 "model=96,stepping=1,ucode-rev=0x8600106");
    assert_string_equal(opt_val(&a, "-global", ""), "EPYC-Rome-v2-x86_64-cpu.model-id=AMD Ryzen "
                                                    "7 PRO 4750U with Radeon Graphics");
    pvm_argv_free(&a);
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_non_null(strstr(opt_val(&a, "-cpu", ""), "EPYC-Rome-v2,-rdseed,-sha-ni,"));
    assert_argv_safe(&a);
    pvm_argv_free(&a);
    strcpy(p.hw.cpu_manufacturer, "");
    strcpy(p.hw.cpu_model, "Virtual Processor");
    memset(p.hw.cpu_family, 0, sizeof p.hw.cpu_family);
    memset(p.hw.cpu_model_number, 0, sizeof p.hw.cpu_model_number);
    memset(p.hw.cpu_stepping, 0, sizeof p.hw.cpu_stepping);
    memset(p.hw.cpu_microcode, 0, sizeof p.hw.cpu_microcode);
    p.hide_hypervisor = true;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_string_equal(opt_val(&a, "-cpu", ""), "qemu64,-hypervisor,tcg-cpuid=off");
    assert_string_equal(opt_val(&a, "-global", ""), "qemu64-x86_64-cpu.model-id=Virtual Processor");
    pvm_argv_free(&a);

    /* No brand: the guest would read "QEMU Virtual CPU version 2.5+"; refused. */
    strcpy(p.hw.cpu_model, "");
    build_fails(&p, &vm, &paths, "cpuModel");
    pvm_error err = {0};
    assert_int_equal(pvm_qemu_argv_check(&p, &vm, &err), -1);
    assert_non_null(strstr(err.msg, "QEMU Virtual CPU"));
    assert_non_null(strstr(err.msg, "--cpu-model"));
}

static void test_empty_fields(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    pvm_profile_init(&p);
    strcpy(p.name, "bare");
    strcpy(p.disk_serial, "D1");
    strcpy(p.mac, "a4:bb:6d:00:00:01"); /* required with a NIC: see test_nics_and_net */
    strcpy(p.hw.cpu_model, "CPU");      /* required: see test_hide_hypervisor */
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    /* QEMU's own defaults ("QEMU", machine type) are blanked; the rest is left out. */
    assert_string_equal(opt_val(&a, "-smbios", "type=1"), "type=1,manufacturer=,product=,version=");
    assert_string_equal(opt_val(&a, "-smbios", "type=2"), "type=2,manufacturer=,product=,version=");
    /* Chassis, processor and memory come as raw tables (test_smbios.c), never QEMU's. */
    assert_int_equal(find_opt(&a, "-smbios", "type=3", 0), -1);
    assert_int_equal(find_opt(&a, "-smbios", "type=4", 0), -1);
    assert_int_equal(find_opt(&a, "-smbios", "type=17", 0), -1);
    assert_string_equal(opt_val(&a, "-smbios", "file=/run/pvm/ab/smbios-type3"),
                        "file=/run/pvm/ab/smbios-type3.bin");
    /* No topology in the profile: one core per vCPU, one thread each. */
    assert_string_equal(opt_val(&a, "-smp", ""), "2,sockets=1,cores=2,threads=1");
    assert_int_equal(find_opt(&a, "-uuid", "", 0), -1);
    assert_string_equal(opt_val(&a, "-machine", ""),
                        "q35,accel=tcg,x-oem-id=ALASKA,x-oem-table-id=A M I   ");
    assert_argv_safe(&a);
    pvm_argv_free(&a);
}

/* ------------------------------------------------------------- hostile */

static const char *const hostile[] = {
    "x,id=evil",      "a,,b",         ",",         ",,",        "=",
    "a=b,c=d",        "end,",         ",start",    "-daemonize", " spaced out ",
    "\"quoted\" 'x'", "help",         "?",         "x,help",     "a,b=c,,d=e,",
    "-S -cpu host",   ",,,,,,,,,,,,", "path=/etc", "x\\,y",      "",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* Where each profile field must arrive: option, its value prefix, key. */
static const struct { const char *key; const char *opt, *prefix, *qkey; } field_dest[] = {
    { "manufacturer", "-smbios", "type=1,", "manufacturer" },
    { "product", "-smbios", "type=1,", "product" },
    { "version", "-smbios", "type=1,", "version" },
    { "family", "-smbios", "type=1,", "family" },
    { "sku", "-smbios", "type=1,", "sku" },
    { "serialNumber", "-smbios", "type=1,", "serial" },
    { "boardManufacturer", "-smbios", "type=2,", "manufacturer" },
    { "boardProduct", "-smbios", "type=2,", "product" },
    { "boardVersion", "-smbios", "type=2,", "version" },
    { "boardSerial", "-smbios", "type=2,", "serial" },
    /* chassis*, cpuManufacturer, cpuModel (type 4 version) and memoryManufacturer go
     * into raw tables (test_smbios.c); cpuModel also to -global, checked below. */
    { "cpuModel", "-global", "Skylake-Client-v4-x86_64-cpu.model-id=", "" },
    { "diskSerial", "-device", "virtio-blk-pci", "serial" },
    { "macAddress", "-device", "virtio-net-pci", "mac" },
};

static void test_hostile_profile_values(void **state)
{
    (void)state;
    pvm_vm vm;
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    for (size_t f = 0; f < sizeof field_dest / sizeof field_dest[0]; f++) {
        const pvm_field *fld = pvm_profile_field_by_key(field_dest[f].key);
        assert_non_null(fld);
        for (size_t h = 0; h < NHOSTILE; h++) {
            if (!hostile[h][0] || strlen(hostile[h]) >= fld->size)
                continue;
            pvm_profile p;
            fill_profile(&p);
            strcpy(pvm_profile_field_ptr(&p, fld), hostile[h]);
            pvm_argv a;
            build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
            assert_argv_safe(&a);
            char got[1200];
            if (!strcmp(field_dest[f].key, "cpuModel")) { /* -global takes it verbatim */
                char want[200];
                snprintf(want, sizeof want, "Skylake-Client-v4-x86_64-cpu.model-id=%s",
                         hostile[h]);
                assert_string_equal(opt_val(&a, "-global", "Skylake"), want);
                pvm_argv_free(&a);
                continue;
            }
            kv_of(&a, field_dest[f].opt, field_dest[f].prefix, field_dest[f].qkey, got,
                  sizeof got);
            if (strcmp(got, hostile[h]))
                fail_msg("%s = \"%s\" arrived as \"%s\"", field_dest[f].key, hostile[h], got);
            pvm_argv_free(&a);
        }
    }
}

static void test_bios_fields_stay_out_of_argv(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    strcpy(p.hw.bios_vendor, "x,id=evil-vendor");
    strcpy(p.hw.bios_version, "type=0,vendor=QEMU");
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    for (size_t i = 0; i < a.n; i++) {
        assert_null(strstr(a.v[i], "evil-vendor"));
        assert_null(strstr(a.v[i], "type=0"));
    }
    pvm_argv_free(&a);
}

static void test_hostile_vm_name_and_paths(void **state)
{
    (void)state;
    for (size_t h = 0; h < NHOSTILE; h++) {
        if (!hostile[h][0])
            continue;
        pvm_profile p;
        pvm_vm vm;
        fill_profile(&p);
        fill_vm(&vm);
        snprintf(vm.name, sizeof vm.name, "%s", hostile[h]);
        char dir[200], disk[300], qmp[300], own[300], qga[300], ser[300], log[300], t0[300], iso[300];
        snprintf(dir, sizeof dir, "/tmp/%s", hostile[h]);
        snprintf(disk, sizeof disk, "%s/disk.qcow2", dir);
        snprintf(qmp, sizeof qmp, "%s/q", dir);
        snprintf(own, sizeof own, "%s/o", dir);
        snprintf(qga, sizeof qga, "%s/g", dir);
        snprintf(ser, sizeof ser, "%s/s", dir);
        snprintf(log, sizeof log, "%s/serial,log", dir);
        snprintf(t0, sizeof t0, "%s/t0", dir);
        snprintf(iso, sizeof iso, "%s/x.iso", dir);
        snprintf(vm.iso, sizeof vm.iso, "%s", iso);
        pvm_qemu_paths paths = {
            .qemu = "qemu-system-x86_64", .disk = disk, .qmp_sock = qmp, .qmp_owner_sock = own,
            .qga_sock = qga, .serial_sock = ser, .serial_log = log, .pidfile = "/p",
            .smbios_type0 = t0, .smbios_dir = dir,
        };
        pvm_argv a;
        build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
        assert_argv_safe(&a);
        char got[1200];
        kv_of(&a, "-name", "", "guest", got, sizeof got);
        assert_string_equal(got, hostile[h]);
        kv_of(&a, "-drive", "file=", "file", got, sizeof got);
        assert_string_equal(got, disk);
        kv_of(&a, "-smbios", "file=", "file", got, sizeof got);
        assert_string_equal(got, t0);
        kv_of(&a, "-chardev", "socket,id=qmp0", "path", got, sizeof got);
        assert_string_equal(got, qmp);
        kv_of(&a, "-chardev", "socket,id=qga0", "path", got, sizeof got);
        assert_string_equal(got, qga);
        kv_of(&a, "-chardev", "socket,id=ser0", "path", got, sizeof got);
        assert_string_equal(got, ser);
        kv_of(&a, "-chardev", "socket,id=ser0", "logfile", got, sizeof got);
        assert_string_equal(got, log);
        long i = find_opt(&a, "-drive", "file=", 1); /* the ISO */
        assert_true(i > 0);
        kv parts[32];
        split_opts(a.v[i + 1], parts, 32);
        assert_string_equal(parts[0].key, "file");
        assert_string_equal(parts[0].val, iso);
        pvm_argv_free(&a);
    }
}

static void test_unprintable_values_refused(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    strcpy(p.hw.product, "a\nb");
    build_fails(&p, &vm, &paths, "product");
    fill_profile(&p);
    strcpy(vm.name, "v\tm");
    build_fails(&p, &vm, &paths, "name");
}

static void test_relative_paths_refused(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    pvm_qemu_paths paths = std_paths();
    strcpy(vm.iso, "nbd:localhost:10809");
    build_fails(&p, &vm, &paths, "iso: must be an absolute path");
    fill_vm(&vm);
    strcpy(vm.kernel, "vmlinuz");
    build_fails(&p, &vm, &paths, "kernel");
    fill_vm(&vm);
    paths.disk = "json:{\"driver\":\"nbd\"}";
    build_fails(&p, &vm, &paths, "disk");
    paths = std_paths();
    paths.qga_sock = "qga.sock";
    build_fails(&p, &vm, &paths, "guest agent socket");
}

static void test_socket_path_limit(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    char at_limit[PVM_SOCK_PATH_MAX + 1], over[PVM_SOCK_PATH_MAX + 2];
    memset(at_limit, 'a', PVM_SOCK_PATH_MAX);
    at_limit[0] = '/';
    at_limit[PVM_SOCK_PATH_MAX] = '\0';
    memset(over, 'b', PVM_SOCK_PATH_MAX + 1);
    over[0] = '/';
    over[PVM_SOCK_PATH_MAX + 1] = '\0';
    assert_int_equal(PVM_SOCK_PATH_MAX, 107);

    pvm_qemu_paths paths = std_paths();
    paths.qmp_sock = paths.qmp_owner_sock = paths.qga_sock = paths.serial_sock = at_limit;
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    pvm_argv_free(&a);

    paths = std_paths();
    paths.qmp_sock = over;
    build_fails(&p, &vm, &paths, "qmp socket");
    paths = std_paths();
    paths.qmp_owner_sock = over;
    build_fails(&p, &vm, &paths, "qmp owner socket");
    paths = std_paths();
    paths.qmp_owner_sock = NULL; /* every VM has both monitors */
    build_fails(&p, &vm, &paths, "qmp owner socket: path is missing");
    paths = std_paths();
    paths.qga_sock = over;
    build_fails(&p, &vm, &paths, "guest agent socket");
    paths = std_paths();
    paths.serial_sock = over;
    build_fails(&p, &vm, &paths, "108 bytes");
}

static void test_bad_vm_and_profile_values(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    pvm_qemu_paths paths = std_paths();
    fill_profile(&p);
    fill_vm(&vm);
    vm.cpus = 0;
    build_fails(&p, &vm, &paths, "cpus");
    fill_vm(&vm);
    vm.memory_bytes = (512ull << 20) + 1;
    build_fails(&p, &vm, &paths, "memory");
    fill_vm(&vm);
    memset(p.hw.cpu_model, 'C', 49);
    p.hw.cpu_model[49] = '\0';
    build_fails(&p, &vm, &paths, "cpuModel");
    p.hw.cpu_model[48] = '\0'; /* 48 bytes fit the brand string */
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    pvm_argv_free(&a);
    paths.smbios_type0 = NULL;
    build_fails(&p, &vm, &paths, "smbios");
}

/* ---------------------------------------------------------- OEM fields */

static void oem_of(const char *manufacturer, char *id, char *table)
{
    pvm_profile p;
    pvm_vm vm;
    fill_profile(&p);
    fill_vm(&vm);
    snprintf(p.hw.manufacturer, sizeof p.hw.manufacturer, "%s", manufacturer);
    pvm_qemu_paths paths = std_paths();
    pvm_argv a;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    kv_of(&a, "-machine", "q35", "x-oem-id", id, 16);
    kv_of(&a, "-machine", "q35", "x-oem-table-id", table, 16);
    assert_int_equal(strlen(id), 6);
    assert_int_equal(strlen(table), 8);
    assert_null(strchr(id, ','));
    assert_null(strchr(table, ','));
    assert_argv_safe(&a);
    pvm_argv_free(&a);
}

static void test_acpi_oem_ids(void **state)
{
    (void)state;
    static const struct { const char *m, *id, *table; } cases[] = {
        { "Dell Inc.", "DELL  ", "CBX3    " },
        { "LENOVO", "LENOVO", "TP-R0D  " },
        { "HP", "HPQOEM", "SLIC-MPC" },
        { "Hewlett-Packard", "HPQOEM", "SLIC-MPC" },
        { "Apple Inc.", "APPLE ", "Apple00 " },
        { "Microsoft Corporation", "MSFT  ", "MSFT    " },
        { "ASUSTeK COMPUTER INC.", "_ASUS_", "Notebook" },
        { "Acme, Inc.", "ACMEIN", "ACMEINC " },
        { "Framework", "FRAMEW", "FRAMEWOR" },
        { "Xi", "XI    ", "XI      " },
        { "", "ALASKA", "A M I   " },
        { ",,,", "ALASKA", "A M I   " },
        { "Chuwi", "CHUWI ", "CHUWI   " },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[16], table[16];
        oem_of(cases[i].m, id, table);
        if (strcmp(id, cases[i].id) || strcmp(table, cases[i].table))
            fail_msg("\"%s\": got \"%s\"/\"%s\", want \"%s\"/\"%s\"", cases[i].m, id, table,
                     cases[i].id, cases[i].table);
    }
}

/* ------------------------------------------------------ argv, escape */

static void test_escape(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        { "", "" }, { "abc", "abc" }, { "a,b", "a,,b" }, { ",,", ",,,," },
        { ",x,", ",,x,," }, { "a=b c", "a=b c" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *e = pvm_qemu_escape(cases[i][0]);
        assert_string_equal(e, cases[i][1]);
        free(e);
    }
}

static void test_argv_vector(void **state)
{
    (void)state;
    pvm_argv a;
    pvm_argv_init(&a);
    assert_int_equal(a.n, 0);
    assert_null(a.v[0]);
    char buf[16];
    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "arg%d", i);
        pvm_argv_add(&a, buf);
        assert_null(a.v[a.n]);
    }
    buf[0] = 'X'; /* the vector holds copies */
    assert_int_equal(a.n, 100);
    assert_string_equal(a.v[0], "arg0");
    assert_string_equal(a.v[99], "arg99");
    pvm_argv_free(&a);
    assert_null(a.v);
    assert_int_equal(a.n, 0);
    assert_string_equal(pvm_accel_name(PVM_ACCEL_TCG), "tcg");
    assert_string_equal(pvm_accel_name(PVM_ACCEL_KVM), "kvm");
}

/* ------------------------------------------------------------ display (issue 12) */

/* Undoes pvm_qemu_escape: ",," -> ",". */
static void unescape(const char *s, char *out, size_t size)
{
    size_t k = 0;
    for (; *s && k + 1 < size; s++) {
        out[k++] = *s;
        if (s[0] == ',' && s[1] == ',')
            s++;
    }
    out[k] = '\0';
}

static void test_display_choices(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    pvm_argv a;
    pvm_qemu_paths paths = std_paths();
    paths.vnc_sock = "/run/pvm/a,b/vnc.sock";
    fill_profile(&p);
    fill_vm(&vm);
    /* none: no adapter, no VNC, as before */
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_argv_safe(&a);
    assert_int_equal(find_opt(&a, "-vnc", "", 0), -1);
    assert_int_equal(find_opt(&a, "-device", "ramfb", 0), -1);
    assert_int_equal(find_opt(&a, "-device", "VGA", 0), -1);
    assert_string_equal(opt_val(&a, "-display", ""), "none");
    pvm_argv_free(&a);
    /* vnc: each adapter, and the socket path with its comma escaped */
    static const struct { pvm_video video; const char *dev; } adapters[] = {
        { PVM_VIDEO_RAMFB, "ramfb" }, { PVM_VIDEO_VGA, "VGA" }, { PVM_VIDEO_VIRTIO, "virtio-vga" },
        { PVM_VIDEO_CIRRUS, "cirrus-vga" },
    };
    for (size_t i = 0; i < sizeof adapters / sizeof adapters[0]; i++) {
        vm.display = PVM_DISPLAY_VNC;
        vm.video = adapters[i].video;
        build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
        assert_argv_safe(&a);
        assert_string_equal(opt_val(&a, "-device", adapters[i].dev), adapters[i].dev);
        const char *v = opt_val(&a, "-vnc", "");
        assert_string_equal(v, "unix:/run/pvm/a,,b/vnc.sock");
        char back[256];
        unescape(v, back, sizeof back);
        assert_string_equal(back, "unix:/run/pvm/a,b/vnc.sock");
        /* never a TCP listener */
        assert_null(strstr(v, "0.0.0.0"));
        assert_int_equal(find_opt(&a, "-vnc", ":", 0), -1);
        /* ramfb: no PCI display device at all */
        if (vm.video == PVM_VIDEO_RAMFB)
            assert_int_equal(find_opt(&a, "-device", "VGA", 0), -1);
        /* one adapter only; never the Bochs VGA unless asked for */
        if (vm.video != PVM_VIDEO_VGA)
            assert_int_equal(find_opt(&a, "-device", "VGA", 0), -1);
        if (vm.video != PVM_VIDEO_RAMFB)
            assert_int_equal(find_opt(&a, "-device", "ramfb", 0), -1);
        pvm_argv_free(&a);
    }
    /* a display without a socket path, a relative one, an overlong one, a bad enum */
    paths.vnc_sock = NULL;
    build_fails(&p, &vm, &paths, "vnc socket");
    paths.vnc_sock = "run/vnc.sock";
    build_fails(&p, &vm, &paths, "absolute");
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    paths.vnc_sock = longp;
    build_fails(&p, &vm, &paths, "unix sockets take at most");
    paths.vnc_sock = "/run/vnc.sock";
    vm.video = (pvm_video)7;
    build_fails(&p, &vm, &paths, "display");
}

static void test_ppm_and_png(void **state)
{
    (void)state;
    pvm_error err = { 0 };
    pvm_image img;
    static const unsigned char ppm[] = "P6\n# QEMU\n2 1\n255\n\xff\x00\x00\x00\x00\xff";
    assert_int_equal(pvm_ppm_parse(ppm, sizeof ppm - 1, &img, &err), 0);
    assert_int_equal(img.width, 2);
    assert_int_equal(img.height, 1);
    assert_int_equal(img.rgb[0], 0xff);
    assert_int_equal(img.rgb[5], 0xff);
    assert_false(pvm_image_blank(&img));
    char path[] = "/tmp/pvm-png-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(pvm_image_write_png(&img, path, &err), 0);
    FILE *fp = fopen(path, "rb");
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    fclose(fp);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    unlink(path);
    pvm_image_free(&img);
    static const unsigned char black[] = "P6 1 2 255\n\0\0\0\0\0\0";
    assert_int_equal(pvm_ppm_parse(black, sizeof black - 1, &img, &err), 0);
    assert_true(pvm_image_blank(&img));
    pvm_image_free(&img);
    /* short data, a text PPM, a huge or zero size, another maximum */
    const char *bad[] = { "P6\n2 1\n255\n\xff", "P3\n1 1\n255\n0 0 0", "P6\n99999 1\n255\n",
                          "P6\n0 1\n255\n", "P6\n1 1\n65535\n\0\0\0\0\0\0", "", "P6" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(pvm_ppm_parse(bad[i], strlen(bad[i]), &img, &err), -1);
        assert_null(img.rgb);
    }
}

/* --------------------------------------------- firmware, TPM, network (issue 12) */

static void test_firmware_choices(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    pvm_argv a;
    pvm_qemu_paths paths = std_paths();
    paths.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    paths.ovmf_vars = "/home/u,v/vms/x/efivars.fd";
    fill_profile(&p);
    fill_vm(&vm);
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a); /* bios: no pflash */
    assert_int_equal(find_opt(&a, "-drive", "if=pflash", 0), -1);
    assert_null(strstr(opt_val(&a, "-machine", "q35"), "smm"));
    pvm_argv_free(&a);
    vm.firmware = PVM_FIRMWARE_UEFI;
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_argv_safe(&a);
    assert_string_equal(opt_val(&a, "-drive", "if=pflash,format=raw,unit=0"),
                        "if=pflash,format=raw,unit=0,readonly=on,"
                        "file=/usr/share/OVMF/OVMF_CODE_4M.fd");
    char got[256];
    kv_of(&a, "-drive", "if=pflash,format=raw,unit=1", "file", got, sizeof got);
    assert_string_equal(got, "/home/u,v/vms/x/efivars.fd");
    assert_non_null(strstr(opt_val(&a, "-drive", "if=pflash,format=raw,unit=1"), "u,,v"));
    assert_int_equal(find_opt(&a, "-global", "driver=cfi.pflash01", 0), -1);
    /* the identity reaches a UEFI guest as a BIOS one: same SMBIOS options */
    assert_true(find_opt(&a, "-smbios", "type=1", 0) >= 0);
    assert_true(find_opt(&a, "-smbios", "file=", 0) >= 0);
    pvm_argv_free(&a);
    vm.firmware = PVM_FIRMWARE_UEFI_SECURE;
    paths.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_argv_safe(&a);
    assert_non_null(strstr(opt_val(&a, "-machine", "q35"), ",smm=on"));
    assert_true(find_opt(&a, "-global", "driver=cfi.pflash01,property=secure,value=on", 0) >= 0);
    pvm_argv_free(&a);
    paths.ovmf_vars = "relative/efivars.fd";
    build_fails(&p, &vm, &paths, "absolute");
    paths.ovmf_vars = NULL;
    build_fails(&p, &vm, &paths, "firmware variables");
}

static void test_tpm_and_network(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_vm vm;
    pvm_argv a;
    pvm_error err = { 0 };
    pvm_qemu_paths paths = std_paths();
    paths.tpm_sock = "/run/pvm/a,b/swtpm.sock";
    fill_profile(&p);
    fill_vm(&vm);
    vm.tpm = true;
    assert_int_equal(pvm_forwards_parse("2222:22,udp:0.0.0.0:5353:53", vm.forwards,
                                        sizeof vm.forwards, &err), 0);
    assert_string_equal(vm.forwards, "tcp:127.0.0.1:2222:22 udp:0.0.0.0:5353:53");
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_argv_safe(&a);
    char got[256];
    kv_of(&a, "-chardev", "socket,id=chrtpm", "path", got, sizeof got);
    assert_string_equal(got, "/run/pvm/a,b/swtpm.sock");
    assert_string_equal(opt_val(&a, "-tpmdev", "emulator"), "emulator,id=tpm0,chardev=chrtpm");
    assert_string_equal(opt_val(&a, "-device", "tpm-crb"), "tpm-crb,tpmdev=tpm0");
    assert_string_equal(opt_val(&a, "-netdev", "user"),
                        "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22,"
                        "hostfwd=udp:0.0.0.0:5353-:53");
    kv_of(&a, "-device", "virtio-net-pci", "mac", got, sizeof got);
    assert_string_equal(got, p.mac);
    pvm_argv_free(&a);
    /* bridge: the profile's MAC too, and the bridge helper */
    vm.tpm = false;
    vm.forwards[0] = '\0';
    vm.net = PVM_NET_BRIDGE;
    strcpy(vm.bridge, "br0");
    build_ok(&p, &vm, &paths, PVM_ACCEL_TCG, &a);
    assert_argv_safe(&a);
    assert_string_equal(opt_val(&a, "-netdev", "bridge"),
                        "bridge,id=net0,br=br0,helper=/usr/lib/qemu/qemu-bridge-helper");
    kv_of(&a, "-device", "virtio-net-pci", "mac", got, sizeof got);
    assert_string_equal(got, p.mac);
    pvm_argv_free(&a);
    strcpy(vm.bridge, "br0,x=1");
    build_fails(&p, &vm, &paths, "bridge");
    /* a forward with a bridge, a hand-made forward string, a TPM without a socket */
    strcpy(vm.bridge, "br0");
    strcpy(vm.forwards, "tcp:127.0.0.1:2222:22");
    build_fails(&p, &vm, &paths, "forward");
    vm.net = PVM_NET_USER;
    strcpy(vm.forwards, "tcp:127.0.0.1:2222-:22,hostfwd=tcp::1-:2");
    build_fails(&p, &vm, &paths, "forward");
    vm.forwards[0] = '\0';
    vm.tpm = true;
    paths.tpm_sock = NULL;
    build_fails(&p, &vm, &paths, "tpm socket");
}

static void test_forwards_parse(void **state)
{
    (void)state;
    pvm_error err = { 0 };
    char out[PVM_FORWARDS_MAX];
    assert_int_equal(pvm_forwards_parse("none", out, sizeof out, &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(pvm_forwards_parse("tcp:10.0.0.1:80:8080", out, sizeof out, &err), 0);
    assert_string_equal(out, "tcp:10.0.0.1:80:8080");
    /* the note on forwards other machines reach: all but loopback */
    char open[PVM_FORWARDS_MAX];
    assert_int_equal(pvm_forwards_parse("2222:22,0.0.0.0:80:80,127.0.0.2:81:81,udp:10.0.0.1:53:53",
                                        out, sizeof out, &err), 0);
    assert_int_equal(pvm_forwards_exposed(out, open, sizeof open), 2);
    assert_string_equal(open, "tcp:0.0.0.0:80:80, udp:10.0.0.1:53:53");
    assert_int_equal(pvm_forwards_exposed("tcp:127.0.0.1:2222:22", open, sizeof open), 0);
    assert_string_equal(open, "");
    const char *bad[] = { "22", "0:22", "2222:65536", "x:2222:22", "icmp:1:2:3",
                          "::1:22:22", "1.2.3:22:22", "2222:22,2222:23", "2222:22,",
                          "2222: 22", "tcp:1.2.3.4:5:6:7", "-1:22", ",", "2222:22,,80:80",
                          ",2222:22" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.field[0] = '\0';
        if (pvm_forwards_parse(bad[i], out, sizeof out, &err) == 0)
            fail_msg("forward '%s' accepted as '%s'", bad[i], out);
    }
    assert_int_equal(pvm_forwards_parse("2222:22,udp:2222:22", out, sizeof out, &err), 0);
    assert_int_equal(pvm_forwards_parse("2222:22,tcp:0.0.0.0:2222:23", out, sizeof out, &err), -1);
    assert_string_equal(err.field, "forward");
    assert_non_null(strstr(err.msg, "twice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_default_virtio),
        cmocka_unit_test(test_disk_buses),
        cmocka_unit_test(test_nics_and_net),
        cmocka_unit_test(test_iso_boots_first),
        cmocka_unit_test(test_kernel_initrd_append),
        cmocka_unit_test(test_hide_hypervisor),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_hostile_profile_values),
        cmocka_unit_test(test_bios_fields_stay_out_of_argv),
        cmocka_unit_test(test_hostile_vm_name_and_paths),
        cmocka_unit_test(test_unprintable_values_refused),
        cmocka_unit_test(test_relative_paths_refused),
        cmocka_unit_test(test_socket_path_limit),
        cmocka_unit_test(test_bad_vm_and_profile_values),
        cmocka_unit_test(test_acpi_oem_ids),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_argv_vector),
        cmocka_unit_test(test_display_choices),
        cmocka_unit_test(test_ppm_and_png),
        cmocka_unit_test(test_firmware_choices),
        cmocka_unit_test(test_tpm_and_network),
        cmocka_unit_test(test_forwards_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
