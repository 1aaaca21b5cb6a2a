/* qemu.h - engine-internal header of the QEMU backend: the pure argv builder (qemu_argv.c),
 * the SMBIOS type 0 table (smbios.c), host facts and the accel probe (host.c), the config
 * file (config.c), disk images through qemu-img (img.c); the clock and child processes are
 * proc.h's. Engine only. */
#ifndef PVM_QEMU_H
#define PVM_QEMU_H

#include "pvm.h"
#include "proc.h"

#include <stddef.h>
#include <stdint.h>

/* A growable NULL-terminated argument vector: v[n] == NULL always. */
typedef struct pvm_argv { char **v; size_t n, cap; } pvm_argv; /* v[n] == NULL always */
void pvm_argv_init(pvm_argv *a);
void pvm_argv_add(pvm_argv *a, const char *s); /* copies s */
void pvm_argv_free(pvm_argv *a);

/* Doubles every ',' so the value cannot start a new QEMU option; malloc'd. */
char *pvm_qemu_escape(const char *value);

typedef enum { PVM_ACCEL_TCG = 0, PVM_ACCEL_KVM } pvm_accel;
const char *pvm_accel_name(pvm_accel a); /* "tcg" / "kvm" */

/* Host-side files of one VM run; all borrowed. */
typedef struct pvm_qemu_paths {
    const char *qemu;          /* binary, e.g. "qemu-system-x86_64" */
    const char *disk;          /* qcow2 path */
    const char *qmp_sock;       /* the COMMAND monitor: short request-reply exchanges */
    const char *qmp_owner_sock; /* the OWNER monitor: one long-lived client (hv.h) */
    const char *qga_sock, *serial_sock, *serial_log, *pidfile;
    const char *smbios_type0;  /* file with the raw type 0 structure */
    const char *smbios_dir;    /* folder of the raw type 3, 4, 17 files (pvm_smbios_table_path) */
    const char *qemu_log;      /* -D log file, may be NULL */
    /* Issue 12 (real guests); members after this line may be left NULL when unused: */
    const char *vnc_sock;      /* VNC server socket (vm->display vnc) */
    const char *ovmf_code;     /* UEFI firmware code, read-only (vm->firmware uefi*) */
    const char *ovmf_vars;     /* the VM's own copy of the UEFI variables store */
    const char *tpm_sock;      /* swtpm's control socket (vm->tpm) */
    bool stealth;              /* qemu is the stealth build: add stealth.c's part */
    int agent_channel;         /* PVM_AGENT_CHANNEL_*: 0 (auto) follows the profile */
} pvm_qemu_paths;

/* Where the guest agent's channel sits (config agent_channel). AUTO: an ISA serial port
 * (the guest's ttyS1) when the profile hides the hypervisor, else virtio-serial. */
enum { PVM_AGENT_CHANNEL_UNKNOWN = -1, /* pvm_qemu_devices: a running QEMU's, not read */
       PVM_AGENT_CHANNEL_AUTO = 0, PVM_AGENT_CHANNEL_VIRTIO, PVM_AGENT_CHANNEL_ISA };
/* The agent's QEMU device on the command line (argv.c writes them, the live channel
 * below finds them in /proc/PID/cmdline). */
#define PVM_QGA_ISA_DEVICE "isa-serial,chardev=qga0"
#define PVM_QGA_VIRTIO_PORT "chardev=qga0,name=org.qemu.guest_agent.0"
/* Files qga.c keeps beside the agent's socket, in the run folder (removed with it). */
#define PVM_QGA_LOCK_NAME "agent.lock" /* the one-user lock of the agent channel */
#define PVM_QGA_SEEN_NAME "agent.seen" /* its mtime: when the agent last answered */
/* The config's agent_channel word as PVM_AGENT_CHANNEL_*; AUTO for "auto" or anything else. */
int pvm_qemu_agent_channel(const char *word);
/* The agent's device on the command line of the running QEMU pid (/proc/PID/cmdline, as
 * argv.c writes it): PVM_AGENT_CHANNEL_ISA or _VIRTIO, _UNKNOWN when it cannot be read. */
int pvm_qemu_live_agent_channel(int pid);

/* The disk's -drive id and its block node name (QMP snapshot-save vmstate/devices). */
#define PVM_QEMU_DRIVE_ID "drive0"
#define PVM_QEMU_DISK_NODE "disk0"

/* Unix socket paths longer than this are refused (sun_path is 108 bytes). */
#define PVM_SOCK_PATH_MAX 107
#define PVM_RUN_PATH_MAX 108 /* sun_path; every runtime path fits a socket */

/* The runtime files of one QEMU (backend.c): a short private folder
 * /tmp/pvm-<uid>/<home token>-<12 hex of the VM id>/ (the token from HOME/home-id, so
 * two homes, or a copied one, never share a folder) with the two monitors' sockets, the guest
 * agent's and the console's, and QEMU's pid file. */
typedef struct pvm_qemu_run {
    char dir[PVM_RUN_PATH_MAX];
    char qmp_sock[PVM_RUN_PATH_MAX];   /* qmp.sock: COMMAND monitor */
    char owner_sock[PVM_RUN_PATH_MAX]; /* qmp-owner.sock: OWNER monitor */
    char qga_sock[PVM_RUN_PATH_MAX];
    char serial_sock[PVM_RUN_PATH_MAX];
    char pidfile[PVM_RUN_PATH_MAX];
    char vnc_sock[PVM_RUN_PATH_MAX];   /* vnc.sock: the screen (display vnc) */
    char tpm_sock[PVM_RUN_PATH_MAX];   /* swtpm.sock: the TPM's control socket (--tpm) */
    char tpm_pid[PVM_RUN_PATH_MAX];    /* swtpm.pid */
    char agent_lock[PVM_RUN_PATH_MAX]; /* PVM_QGA_LOCK_NAME and _SEEN_NAME (qga.c's) */
    char agent_seen[PVM_RUN_PATH_MAX];
} pvm_qemu_run;
/* Fills r for the VM with this id (a lower-case UUID) under home (absolute data folder,
 * whose token it reads or makes: pvm_home_token); -1 when the id is not one or the token
 * cannot be had. Used by the backend and by pvm_vm_path for the sockets' paths. */
int pvm_qemu_run_init(const char *home, const char *id, pvm_qemu_run *r, pvm_error *err);

/* Pure: profile + VM + host facts -> argv. No I/O. out must be initialised;
 * on error it is left empty. */
int pvm_qemu_build_argv(const pvm_profile *p, const pvm_vm *vm, const pvm_qemu_paths *paths,
                        pvm_accel accel, pvm_argv *out, pvm_error *err);

/* stealth.c: appends the stealth build's -L folders and run-time properties (ACPI creator
 * and revisions, no WAET, fw_cfg as PNP0C02, PCI subsystem ids, NVMe and CD-ROM strings),
 * derived from p's manufacturer and product through a table of real vendors. Pure. */
void pvm_qemu_stealth_argv(pvm_argv *a, const pvm_profile *p, const pvm_vm *vm);
/* The PCI ids those properties give, as device-set keys: "pciSubsys=VVVV:DDDD" (the board
 * functions' subsystem) and, on an NVMe disk, " nvmeIds=VVVV:DDDD:SSSS". */
void pvm_qemu_stealth_ids(const pvm_profile *p, const pvm_vm *vm, char *out, size_t size);
/* argv.c: the device set a memory state depends on, for snapshot.c to compare on restore:
 * pvm_snapshot_devices' keys, then "topology=SxCxT cpuModel=NAME nicRom=none|default
 * agent=virtio-serial|isa-serial qemu=stock|stealth" and, with the stealth build, its
 * pvm_qemu_stealth_ids. stealth: 1, 0, or -1 unknown (no qemu= and no ids); agent_channel:
 * PVM_AGENT_CHANNEL_*, _UNKNOWN leaving agent= out (a restore compares only the keys a
 * snapshot has). Pure. */
void pvm_qemu_devices(const pvm_profile *p, const pvm_vm *vm, int stealth, int agent_channel,
                      char *out, size_t size);

/* The builder's and the type 0 table's checks alone (no paths, no I/O): whether this profile and VM would start.
 * vm create calls it so the user learns at create what start would refuse. */
int pvm_qemu_argv_check(const pvm_profile *p, const pvm_vm *vm, pvm_error *err);

/* SMBIOS type 0 structure (formatted area + strings + double NUL) without the VM bit. */
int pvm_smbios_type0(const pvm_hw_model *hw, unsigned char *buf, size_t cap, size_t *len,
                     pvm_error *err);
int pvm_smbios_type0_write(const pvm_hw_model *hw, const char *path, pvm_error *err); /* file 0600 */

/* The guest CPU topology (smbios_hw.c): one socket; the profile's threads per core when
 * vcpus divides by it, else 1; cores = vcpus / threads. -smp and type 4 both use it. */
typedef struct pvm_cpu_topo {
    int sockets, cores, threads; /* per socket, per core */
} pvm_cpu_topo;
void pvm_cpu_topology(const pvm_hw_model *hw, int vcpus, pvm_cpu_topo *t);
/* CPUID leaf 1 EAX from the profile's family/model/stepping; 0 when no family is set. */
uint32_t pvm_cpu_signature(const pvm_hw_model *hw);
/* Memory devices QEMU's type 16 announces for -m: one per started 16 GiB. */
int pvm_smbios_dimm_count(uint64_t memory_bytes);
/* Raw structures (formatted area + strings + double NUL) into buf (cap bytes), *len
 * set; -1 with err naming the field when a string is not printable or too long.
 * Type 3: the profile's chassis manufacturer, type (empty: desktop), serial and asset.
 * Type 4 (one per socket): manufacturer, brand as version, CPUID signature, speed from
 * the brand's "@ N.NNGHz", core and thread counts of t. Type 17 (index < dimm count):
 * its share of memory_bytes (extended size past 32 GiB - 1 MB), maker, part, serial. */
int pvm_smbios_type3(const pvm_profile *p, unsigned char *buf, size_t cap, size_t *len,
                     pvm_error *err);
int pvm_smbios_type4(const pvm_profile *p, const pvm_cpu_topo *t, int socket, unsigned char *buf,
                     size_t cap, size_t *len, pvm_error *err);
int pvm_smbios_type17(const pvm_profile *p, uint64_t memory_bytes, int index, unsigned char *buf,
                      size_t cap, size_t *len, pvm_error *err);
/* DIR/smbios-type3.bin, DIR/smbios-type4-<socket>.bin, DIR/smbios-type17-<dimm>.bin:
 * the names argv.c passes and pvm_smbios_tables_write writes (0600). -1 when too long. */
int pvm_smbios_table_path(const char *dir, int type, int index, char *out, size_t size);
int pvm_smbios_tables_write(const pvm_profile *p, const pvm_vm *vm, const char *dir,
                            pvm_error *err);

int pvm_host_cores(void);       /* online CPUs */
uint64_t pvm_host_memory(void); /* bytes of RAM */
/* The host cores the VMs share (the caps on host use, issue 13): the last ncores (at
 * least 1) of the CPUs this process may run on, as a list "2,3" into list (size bytes);
 * returns how many (fewer when the host has fewer). */
int pvm_host_share(int ncores, char *list, size_t size);
/* Pins every thread of the process pid to that share (sched_setaffinity; threads it makes
 * later inherit it), so all VMs together use at most ncores host cores however many vCPUs
 * they show. list (may be NULL) gets the cores. -1 with err when a thread refuses. */
int pvm_host_pin(int pid, int ncores, char *list, size_t size, pvm_error *err);

typedef struct pvm_config {
    char accel[8];        /* "auto", "kvm" or "tcg" */
    int max_cpus;
    uint64_t max_memory;  /* bytes */
    char qemu[256];       /* QEMU binary */
    char backend[8];      /* "qemu" (default) or "fake" (tests only, when named) */
    char theme[65];       /* the TUI's theme name (pvm_theme_name_check), "default" */
    char qemu_stealth[8]; /* "auto" (default), "on" or "off" (build.c) */
    char agent_channel[12]; /* "auto" (default: isa-serial when the profile hides the
                             * hypervisor, else virtio), "virtio" or "isa-serial" */
} pvm_config;

/* Loads HOME/config (key = value lines, '#' comments; keys: accel, max_cpus, max_memory, qemu,
 * backend, theme, qemu_stealth, agent_channel);
 * writes it with the defaults and explanatory comments when missing. Defaults: accel auto,
 * max_cpus = max(1, cores/2), max_memory = host memory / 2, qemu qemu-system-x86_64, backend qemu (the fake
 * backend is never a default: only a config that names it gets it).
 * PRIVARION_VM_ACCEL overrides accel. Bad values -> PVM_E_INVALID naming the key and line;
 * max_cpus and max_memory above the host's online cores and memory are bad values. */
int pvm_config_load(const char *home, pvm_config *cfg, pvm_error *err);
/* The same without the PRIVARION_VM_ACCEL override (doctor tells the two sources apart). */
int pvm_config_load_file(const char *home, pvm_config *cfg, pvm_error *err);
/* The defaults alone, without reading or writing anything (nor the environment). */
void pvm_config_defaults(pvm_config *cfg);
/* The config file's path, HOME/config, malloc'd (free()). */
char *pvm_config_path(const char *home);
/* Whether s is one of the accel settings: auto, kvm or tcg. */
bool pvm_accel_word_ok(const char *s);

/* Decides the accelerator: tcg/kvm as configured; auto -> bounded KVM probe, result remembered
 * in HOME/accel-probe (keyed by QEMU version + kernel so it reruns when they change).
 * reason gets a one-line explanation for `doctor`. Never hangs. */
int pvm_accel_resolve(const char *home, const pvm_config *cfg, pvm_accel *out, char *reason,
                      size_t reason_size, pvm_error *err);

/* Refuses memory above the cap: PVM_E_LIMIT, the error opening with and naming the field
 * what ("memory"), then the value and the cap. vCPUs
 * are not refused: max_cpus caps the host cores the VMs run on (pvm_host_pin). */
int pvm_caps_check(const pvm_config *cfg, const char *what, uint64_t memory, pvm_error *err);

/* The cache key of the probe: QEMU version, kernel release and build, /dev/kvm access. */
int pvm_accel_probe_key(const char *qemu, char *out, size_t size, pvm_error *err);
/* One bounded test boot of kernel under -accel kvm: KVM when "Linux version" appears on
 * the serial console within timeout_ms; the probe QEMU is always killed and reaped. */
int pvm_accel_probe(const char *qemu, const char *kernel, int timeout_ms, pvm_accel *out,
                    char *reason, size_t reason_size, pvm_error *err);

/* build.c: the cache folder of stealth builds (see pvm_qemu_stealth in pvm.h):
 * $PRIVARION_VM_QEMU_CACHE when set (tests), else as pvm_qemu_stealth.cache_dir says. */
int pvm_qemu_stealth_cache_dir(char *out, size_t size, pvm_error *err);
/* Which QEMU a VM of a profile runs: cfg->qemu (returns 0, *binary = cfg->qemu) unless the
 * profile hides the hypervisor and qemu_stealth is on, or auto with cfg->qemu left at its
 * default (auto never overrides a binary the config names), and the stealth build for
 * the installed QEMU and this patch set exists: then *binary = path (filled, size bytes)
 * and 1. qemu_stealth = on without the build: -1 PVM_E_NOTFOUND naming the fix
 * (`privarion-vm qemu build`). auto without a usable build (missing, stale: another QEMU
 * version or patch set, or its state unreadable) returns 0 with one line in note (may be
 * NULL; note_size bytes) saying so and what to run; note is "" otherwise. */
int pvm_qemu_stealth_pick(const pvm_config *cfg, bool hide_hypervisor, const char **binary,
                          char *path, size_t size, char *note, size_t note_size,
                          pvm_error *err);
/* The search folders a stealth binary needs for the firmware of Debian's packages. */
#define PVM_STEALTH_DATA_DIRS { "/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu" }

int pvm_qemu_version(const char *qemu, char *out, size_t size, pvm_error *err); /* "7.2.22" */

/* img.c: disk images through qemu-img (argv, no shell; output read whole, up to 4 MiB).
 * `what` starts each error message ("disk", "image (overlay)"); a missing qemu-img says
 * how to install it. Errors: PVM_E_QEMU with qemu-img's own words, PVM_E_IO when it
 * cannot run or outlives PVM_IMG_TIMEOUT_MS. */
#define PVM_IMG_TIMEOUT_MS 60000 /* create, info, resize; convert has no limit */
/* The program: "qemu-img", found in PATH. */
const char *pvm_img_program(void);
/* A sparse qcow2 of size bytes at path; with backing (and its format, e.g. "raw"), an
 * overlay on top of that image. */
int pvm_img_create(const char *path, uint64_t size, const char *backing, const char *backing_fmt,
                   const char *what, pvm_error *err);
/* Format ("qcow2", "raw" ...) and virtual size in bytes of an image, from `qemu-img info
 * --output=json -U` (whatever its length: 60 internal snapshots are fine). PVM_E_INVALID
 * naming "image" and the path when qemu-img cannot read it or its JSON lacks them. */
int pvm_img_info(const char *path, char fmt[32], uint64_t *vsize, pvm_error *err);
/* A full qcow2 copy of src (in src_fmt) at dst. */
int pvm_img_convert(const char *src, const char *src_fmt, const char *dst, const char *what,
                    pvm_error *err);
/* qemu-img snapshot -c (op 'c', create), -a ('a', apply) or -d ('d', delete) TAG on the
 * qcow2 at path (a VM that does not run). */
int pvm_img_snapshot(const char *path, char op, const char *tag, const char *what,
                     pvm_error *err);
/* qemu-img info --output=json -U of path, whole (malloc'd into *json); errors as
 * pvm_img_info. */
int pvm_img_info_json(const char *path, char **json, pvm_error *err);
/* Sets a qcow2's virtual size to size bytes (qemu-img resize --shrink: callers check it
 * grows, except vm edit putting back the size it grew from when its commit failed). */
int pvm_img_resize(const char *path, uint64_t size, const char *what, pvm_error *err);


/* firmware.c: OVMF for --firmware uefi / uefi-secure (Debian's ovmf package). */
/* The firmware's code and variables template; -1 (both NULL) for bios (SeaBIOS). */
int pvm_qemu_firmware_files(pvm_firmware fw, const char **code, const char **vars);
/* A fresh copy (0600) of the firmware's variables template at vars_path; for bios the file
 * is removed. PVM_E_NOTFOUND naming the file and `apt-get install ovmf` when missing. */
int pvm_qemu_firmware_prepare(const char *vars_path, pvm_firmware fw, pvm_error *err);
/* Before a start: the firmware files and the VM's variables store are there. */
int pvm_qemu_firmware_check(const char *vars_path, pvm_firmware fw, pvm_error *err);

/* tpm.c: swtpm for --tpm. Starts `swtpm socket --tpm2` daemonized with its state in
 * state_dir (made 0700), its control socket at sock, its pid in pidfile and its log at log,
 * ending by itself when QEMU closes the socket (--terminate). PVM_E_NOTFOUND naming the
 * package when swtpm is missing; a path with a comma is refused (swtpm has no escape). */
int pvm_qemu_tpm_start(const char *state_dir, const char *sock, const char *pidfile,
                       const char *log, pvm_error *err);
/* Ends the swtpm in pidfile when it is alive and names run_dir; removes the pid file. */
void pvm_qemu_tpm_stop(const char *pidfile, const char *run_dir);

/* bridge.c: --net bridge=BR. The helper's path, and whether it can make a tap on br here
 * (helper present, setuid root unless we are root, br allowed in /etc/qemu/bridge.conf);
 * the error says the fix. */
const char *pvm_qemu_bridge_helper(void);
int pvm_qemu_bridge_check(const char *br, pvm_error *err);

#endif
