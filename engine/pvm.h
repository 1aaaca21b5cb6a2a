/* pvm.h - the public API of the privarion-vm engine.
 * Owns the types every front end (cli/, tui/) and the store (db/) share.
 * Every fallible function returns 0 or -1 and fills the pvm_error given last. */
#ifndef PVM_H
#define PVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- errors */

typedef enum {
    PVM_E_NONE = 0,
    PVM_E_INVALID,  /* bad input: a field broke a rule (exit 2) */
    PVM_E_USAGE,    /* bad command line (exit 2) */
    PVM_E_NOTFOUND, /* unknown profile, VM, preset ... (exit 2) */
    PVM_E_EXISTS,   /* name or identity clash (exit 2) */
    PVM_E_LIMIT,    /* over a resource cap (exit 2) */
    PVM_E_STATE,    /* wrong state for the operation, e.g. deleting a running VM (exit 1) */
    PVM_E_SCHEMA,   /* database from a newer version, or broken schema (exit 1) */
    PVM_E_STORE,    /* SQLite failure (exit 1) */
    PVM_E_IO,       /* file system failure (exit 1) */
    PVM_E_BUSY,     /* another session holds the lock (exit 1) */
    PVM_E_QEMU,     /* QEMU failed or answered with an error (exit 1) */
    PVM_E_CANCELLED,/* the caller cancelled a long operation (exit 1; the CLI exits 128+signal) */
} pvm_errcode;

typedef struct pvm_error {
    pvm_errcode code;
    char msg[512];
    /* The profile field key ("biosDate", "macAddress") or option ("memory",
     * "cpus") the error concerns, "" when it concerns none: front ends put
     * the message next to that field without parsing the prose. */
    char field[32];
} pvm_error;

/* Formats the message, sets the code and returns -1 so callers can write
 * `return pvm_error_set(err, PVM_E_INVALID, "...");`. err may be NULL. */
int pvm_error_set(pvm_error *err, pvm_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, also naming the field (err->field) the error concerns. */
int pvm_error_set_field(pvm_error *err, pvm_errcode code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 2 for usage/validation-class codes, 1 for every other failure. */
int pvm_error_exit_status(const pvm_error *err);

/* ------------------------------------------------------ allocation (util.c)
 * These abort on exhaustion and never return NULL. */
void *pvm_xmalloc(size_t n);
void *pvm_xcalloc(size_t count, size_t n);
void *pvm_xrealloc(void *p, size_t n);
char *pvm_xstrdup(const char *s);
char *pvm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies at most size-1 bytes and always NUL-terminates; returns strlen(src). */
size_t pvm_strlcpy(char *dst, const char *src, size_t size);
/* A string a guest sent (audit values, PCI slot names ...) made safe to print on a
 * terminal: C0 controls and DEL become "\xNN", C1 controls (U+0080..U+009F, UTF-8 C2 80..
 * C2 9F) "\u00NN", a byte of no UTF-8 sequence "\xNN", a backslash "\\"; other UTF-8 is
 * kept. Writes at most size-1 bytes (never half an escape or character) and a NUL into
 * out; returns out. The CLI's text output and the TUI print guest strings through it. */
char *pvm_escape_ctl(const char *in, char *out, size_t size);
/* in as one POSIX shell word, for the commands the program suggests ("vm stop NAME") and
 * shows: as is when it holds only characters no shell treats specially, else in single
 * quotes with each ' as '\'' ("my box" -> 'my box'). Writes at most size-1 bytes and a NUL
 * into out (cut when too small); returns out. */
char *pvm_shell_word(const char *in, char *out, size_t size);
/* Fills buf with n cryptographically random bytes (getrandom). */
void pvm_random_bytes(void *buf, size_t n);
/* Uniform random integer in [0, bound). */
uint32_t pvm_random_below(uint32_t bound);
/* Installs pvm_xmalloc/free as cJSON's allocators, once per process (safe to
 * call from any thread, any number of times; engine/base/json.c). The engine
 * calls it from pvm_engine_open and before each parse; a front end that builds
 * cJSON values before opening an engine calls it at start-up. */
void pvm_json_init(void);
/* Generates an RFC 4122 version 4 UUID in lower-case text form (36 chars + NUL). */
void pvm_uuid_v4(char out[37]);
/* Writes all n bytes of buf to fd, retrying on EINTR and short writes.
 * 0, or -1 with errno set. */
int pvm_write_all(int fd, const void *buf, size_t n);
/* Replaces path with text (mode 0644 less the umask) through a temporary file of its own
 * beside it (mkostemp: two writers never share one) and a rename, so a reader sees the old
 * or the new whole file. 0, or -1 with errno set; nothing is left behind on failure. */
int pvm_write_file_atomic(const char *path, const char *text);
/* The process's file mode creation mask, read without changing it (the "Umask:" line of
 * /proc/self/status, Linux 4.7+), so no other thread ever creates a file unmasked; 022 when
 * it cannot be read. Thread-safe. */
mode_t pvm_umask(void);
/* Reads fd to its end into a malloc'd, NUL-terminated buffer (*out, the caller
 * frees; *len its length). 0; 1 when the data is longer than max bytes (nothing
 * returned); -1 with errno set on a read error. */
int pvm_read_all(int fd, size_t max, char **out, size_t *len);
/* Seconds since the epoch. */
int64_t pvm_now(void);

/* -------------------------------------------------------- hardware profile */

#define PVM_TEXT_MAX 64         /* longest identity string, in bytes */
#define PVM_NAME_MAX 64         /* longest profile / VM name */
#define PVM_DISK_SERIAL_MAX 20  /* virtio-blk / nvme serial limit */
#define PVM_UUID_LEN 36
#define PVM_MAC_LEN 17
#define PVM_NUM_MAX 11          /* longest number field as text ("0xffffffff") */

typedef struct pvm_hw_model {
    char manufacturer[PVM_TEXT_MAX + 1];        /* SMBIOS type 1 */
    char product[PVM_TEXT_MAX + 1];
    char version[PVM_TEXT_MAX + 1];
    char family[PVM_TEXT_MAX + 1];
    char sku[PVM_TEXT_MAX + 1];
    char board_manufacturer[PVM_TEXT_MAX + 1];  /* SMBIOS type 2 */
    char board_product[PVM_TEXT_MAX + 1];
    char board_version[PVM_TEXT_MAX + 1];
    char board_serial[PVM_TEXT_MAX + 1];
    char chassis_manufacturer[PVM_TEXT_MAX + 1]; /* SMBIOS type 3 */
    char chassis_serial[PVM_TEXT_MAX + 1];
    char chassis_asset[PVM_TEXT_MAX + 1];
    char bios_vendor[PVM_TEXT_MAX + 1];          /* SMBIOS type 0 */
    char bios_version[PVM_TEXT_MAX + 1];
    char bios_date[PVM_TEXT_MAX + 1];            /* MM/DD/YYYY */
    char cpu_model[PVM_TEXT_MAX + 1];            /* CPUID brand string, type 4 version */
    char cpu_manufacturer[PVM_TEXT_MAX + 1];     /* SMBIOS type 4 */
    char memory_manufacturer[PVM_TEXT_MAX + 1];  /* SMBIOS type 17 */
    /* The real machine's CPU and case (issue 13), "" when not set (then: cores = the VM's
     * vCPUs, 1 thread each, QEMU's own family/model, desktop chassis). Numbers are kept
     * as canonical text: decimal, the microcode as 0x-hex. */
    char chassis_type[PVM_NUM_MAX + 1];          /* SMBIOS type 3 name: "notebook" ... */
    char cpu_cores[PVM_NUM_MAX + 1];             /* cores per socket, 1..128 */
    char cpu_threads[PVM_NUM_MAX + 1];           /* threads per core, 1..4 */
    char cpu_family[PVM_NUM_MAX + 1];            /* CPUID family (6 Intel Core, 23/25 Zen) */
    char cpu_model_number[PVM_NUM_MAX + 1];      /* CPUID model, 0..255 */
    char cpu_stepping[PVM_NUM_MAX + 1];          /* CPUID stepping, 0..15 */
    char cpu_microcode[PVM_NUM_MAX + 1];         /* microcode revision, "0xa4" */
} pvm_hw_model;

typedef struct pvm_profile {
    char id[PVM_UUID_LEN + 1];             /* generated UUID v4 */
    char name[PVM_NAME_MAX + 1];
    pvm_hw_model hw;
    char machine_id[PVM_UUID_LEN + 1];     /* system UUID, RFC 4122 text */
    char mac[PVM_MAC_LEN + 1];             /* aa:bb:cc:dd:ee:ff */
    char serial[PVM_TEXT_MAX + 1];         /* system serial number */
    char disk_serial[PVM_DISK_SERIAL_MAX + 1];
    bool hide_hypervisor;                  /* default true */
    char preset[PVM_NAME_MAX + 1];         /* preset it was made from, or "" */
    int64_t created_at;
    int64_t updated_at;
} pvm_profile;

/* A profile as a list shows it (pvm_profile_list_brief): a few hundred bytes instead of
 * a whole identity, so a front end's list of thousands stays small and quick to read. */
typedef struct pvm_profile_brief {
    char id[PVM_UUID_LEN + 1];
    char name[PVM_NAME_MAX + 1];
    char manufacturer[PVM_TEXT_MAX + 1]; /* hw.manufacturer */
    char product[PVM_TEXT_MAX + 1];      /* hw.product */
} pvm_profile_brief;

/* How a field is checked beyond "printable ASCII, at most N bytes". */
typedef enum {
    PVM_FK_TEXT,        /* printable ASCII, 0..64 bytes */
    PVM_FK_DATE,        /* MM/DD/YYYY, a real calendar date, or empty */
    PVM_FK_UUID,        /* RFC 4122 text form */
    PVM_FK_MAC,         /* colon form, unicast, not all zero */
    PVM_FK_DISK_SERIAL, /* printable ASCII, at most 20 bytes */
    PVM_FK_UINT,        /* decimal or 0x-hex in [min, max], stored decimal, or empty */
    PVM_FK_HEX,         /* decimal or 0x-hex in [min, max], stored 0x-hex, or empty */
    PVM_FK_CHASSIS,     /* an SMBIOS chassis type name (pvm_chassis_types), or empty */
} pvm_field_kind;

/* One row of the field table: the single description of every identity
 * field, used by validation, JSON, the store and the command-line flags. */
typedef struct pvm_field {
    const char *key;     /* JSON key (camelCase); err->field of errors about it */
    const char *flag;    /* command-line flag without the leading "--" */
    const char *column;  /* SQL column in the profiles table */
    bool in_hw_model;    /* JSON: lives inside "hardwareModel" */
    pvm_field_kind kind;
    size_t offset;       /* offset of the char array inside pvm_profile */
    size_t size;         /* size of that char array (max length + 1) */
    unsigned long min, max; /* PVM_FK_UINT / PVM_FK_HEX: the allowed range */
    const char *path;    /* its path in a profile's JSON ("hardwareModel.product",
                          * "serialNumber"): the name every error about it opens with */
    const char *label;   /* words for people ("Chassis type"): profile show's labels */
} pvm_field;

/* The table of all string identity fields (not id, name, hide_hypervisor). */
const pvm_field *pvm_profile_fields(size_t *count);
const pvm_field *pvm_profile_field_by_key(const char *key);
/* Pointer to the field's storage inside p. */
char *pvm_profile_field_ptr(pvm_profile *p, const pvm_field *f);
const char *pvm_profile_field_cptr(const pvm_profile *p, const pvm_field *f);

/* SMBIOS 3.x chassis types (DSP0134 7.4.1) a real machine reports; "other" and
 * "unknown" are left out (QEMU's own 1 is a VM mark). */
typedef struct pvm_chassis_type {
    const char *name; /* "notebook" */
    unsigned code;    /* 0x0A */
} pvm_chassis_type;
const pvm_chassis_type *pvm_chassis_types(size_t *count);
/* The code of a chassis type name; 0 when unknown or empty. */
unsigned pvm_chassis_code(const char *name);
/* A number field's value (PVM_FK_UINT/HEX text); def when empty or malformed. */
unsigned long pvm_profile_num(const char *text, unsigned long def);

/* The vCPUs the profile's CPU has (cpuCores x cpuThreads, at most 255); 0 when it does
 * not say. A new VM's default vCPU count is this, 1 when 0, at most PVM_VCPUS_DEFAULT_MAX
 * (a profile of a 128-core server does not give every VM 255 vCPU threads; --cpus may). */
int pvm_profile_vcpus(const pvm_profile *p);
#define PVM_VCPUS_DEFAULT_MAX 64
/* When cpus contradicts the profile's CPU (not cores x threads), one sentence saying so
 * and what the guest will see into out (size bytes); returns 1 then, else 0 (out ""). */
int pvm_profile_vcpus_note(const pvm_profile *p, int cpus, char *out, size_t size);

/* Zeroes p and sets the defaults (hide_hypervisor on). */
void pvm_profile_init(pvm_profile *p);
/* Checks value against the field's rules and stores it; on error p is unchanged.
 * value may be any length: overlong input is rejected, never truncated. */
int pvm_profile_set(pvm_profile *p, const pvm_field *f, const char *value, pvm_error *err);
int pvm_profile_set_name(pvm_profile *p, const char *name, pvm_error *err);
/* Individual validators: each error names `what` and the rule it broke. */
int pvm_validate_name(const char *what, const char *name, pvm_error *err);
int pvm_validate_text(const char *what, const char *s, size_t max, pvm_error *err);
int pvm_validate_uuid(const char *what, const char *s, pvm_error *err);
int pvm_validate_mac(const char *what, const char *s, pvm_error *err);
int pvm_validate_date(const char *what, const char *s, pvm_error *err);
/* Validates every field of p (the seed's validate()). A name starts with a letter or
 * digit, then letters, digits, space, '.', '_', '-' (at most PVM_NAME_MAX). */
int pvm_profile_validate(const pvm_profile *p, pvm_error *err);
/* The same for a profile whose name is already stored and kept as is: such a name passes
 * without the first-character rule (names stored before it keep working). */
int pvm_profile_validate_stored(const pvm_profile *p, pvm_error *err);

/* The largest profile JSON text (a file to import, one object or an array), bytes. */
#define PVM_JSON_MAX_BYTES (1 << 20)
/* JSON in the seed's shape: {id, name, hardwareModel{...}, machineIdentifier,
 * macAddress, serialNumber, diskSerial, hideHypervisor, preset, createdAt, updatedAt}.
 * pvm_profile_to_json returns a malloc'd string the caller frees. */
char *pvm_profile_to_json(const pvm_profile *p);
/* Parses and validates one profile; on error out is unchanged and the message
 * names the first bad field. */
int pvm_profile_from_json(const char *text, pvm_profile *out, pvm_error *err);
/* A JSON array of profiles in the same shape; the caller frees the string. */
char *pvm_profile_list_to_json(const pvm_profile *p, size_t count);
/* Accepts one profile object or an array of them; *out is a malloc'd array
 * (free()). Errors inside an array are prefixed "[i]."; on error *out and
 * *count are untouched. */
int pvm_profile_list_from_json(const char *text, pvm_profile **out, size_t *count, pvm_error *err);

/* ------------------------------------------------- virtualization marks
 * (profile/marks.c): one table of values that tell a guest it runs in a VM -
 * MAC prefixes of QEMU/KVM, VMware, VirtualBox, Xen, Hyper-V and Parallels,
 * hypervisors' CPU brands, firmware/board/product words (QEMU, Bochs, SeaBIOS,
 * innotek, VMware, Xen, "Virtual Machine" ...), QEMU's disk serials and models. */

/* The description of the mark that value, in the field with this key (a
 * profile field key such as "macAddress", "cpuModel", "manufacturer", or for the
 * audit "diskModel", "pciVendor" ("0x1af4"), "pciId" ("1234:1111": vendor:device,
 * QEMU's and other hypervisors' display adapters), "acpiId"), carries; NULL when
 * none. A static string. */
const char *pvm_mark_find(const char *field_key, const char *value);

typedef struct pvm_profile_mark {
    const char *field;       /* field key, e.g. "macAddress" (static) */
    const char *path;        /* its JSON path, e.g. "hardwareModel.cpuModel" (static) */
    const char *flag;        /* its command-line flag without "--" (static) */
    const char *description; /* e.g. "QEMU/KVM's MAC prefix 52:54:00" (static) */
    char value[PVM_TEXT_MAX + 1];
} pvm_profile_mark;

/* Fills out[0..max) with the marks p's identity fields carry, in field-table
 * order; returns how many were written. The CLI prints them as warnings when a
 * profile is stored. */
size_t pvm_profile_marks(const pvm_profile *p, pvm_profile_mark *out, size_t max);
/* The warning every front end gives when a stored profile carries mark m, in one set of
 * words: 'macAddress (--mac): "52:54:00:.." is QEMU/KVM's MAC prefix 52:54:00, a
 * virtualization mark the guest can read (profile 'p'; vm start refuses it unless
 * --allow-vm-marks)'. */
void pvm_profile_mark_text(const pvm_profile *p, const pvm_profile_mark *m, char *out,
                           size_t size);
/* After an edit from before to after: when the system serial changed but the chassis serial
 * still equals the old one, or the board serial still contains it (as a real machine's
 * do, which presets copy), the warning that the guest would see a machine that does not
 * exist and how to set them, into out (size bytes); false ("" in out) when not. The CLI's
 * profile edit and the TUI's profile form print it. */
bool pvm_profile_serial_note(const pvm_profile *before, const pvm_profile *after, char *out,
                             size_t size);
/* The same for the first mark in the field with key field_key (any field when NULL) into
 * out ("" when none); returns how many marks p carries in all (0: out is ""). */
size_t pvm_profile_field_mark_text(const pvm_profile *p, const char *field_key, char *out,
                                   size_t size);
/* Refuses (PVM_E_INVALID, field set, naming the value, the mark, the fix and
 * --allow-vm-marks) a profile that hides the hypervisor but carries a mark;
 * allow skips the check. Used by vm create and vm start. */
int pvm_profile_marks_check(const pvm_profile *p, bool allow, pvm_error *err);

/* ----------------------------------------------------------------- presets */

typedef enum {
    PVM_SERIAL_APPLE,    /* 12 chars: C02 + 9 of [A-Z0-9] without I/O */
    PVM_SERIAL_DELL,     /* service tag: 7 of [0-9A-Z] */
    PVM_SERIAL_LENOVO,   /* PF + 6 of [0-9A-Z] */
    PVM_SERIAL_HP,       /* 10: 3 alnum + 3 digits + 4 alnum, e.g. 5CD1234XYZ */
    PVM_SERIAL_MICROSOFT,/* 12 digits */
    PVM_SERIAL_ASUS,     /* 15 of [0-9A-Z], e.g. M7NRCX01D123456 */
    PVM_SERIAL_GENERIC,  /* 10 of [0-9A-Z] */
} pvm_serial_format;

typedef struct pvm_preset {
    const char *key;         /* e.g. "dell-latitude-7420" */
    const char *description;
    pvm_hw_model hw;         /* the model strings; serial fields left empty */
    pvm_serial_format serial_format;
    const char *disk_model;  /* descriptive only */
    const char *ouis[4];     /* real vendor OUIs "aa:bb:cc", NULL-terminated */
} pvm_preset;

const pvm_preset *pvm_presets(size_t *count);
/* "apple", "dell", ..., "generic" (names.c). */
const char *pvm_serial_format_name(pvm_serial_format f);
const pvm_preset *pvm_preset_find(const char *key);
/* Copies the preset's model into p->hw (and records p->preset). */
void pvm_preset_apply(const pvm_preset *preset, pvm_profile *p);
/* Fills serial, board/chassis serials, machine_id (v4), mac (from the preset's
 * OUIs, or a locally administered one when preset is NULL) and disk serial. */
void pvm_identity_randomize(pvm_profile *p, const pvm_preset *preset);
/* A random serial in the given vendor format, NUL-terminated in out. */
void pvm_identity_serial(pvm_serial_format fmt, char *out, size_t size);
void pvm_identity_disk_serial(char *out, size_t size);
void pvm_identity_mac(const char *oui, char out[PVM_MAC_LEN + 1]);


/* --------------------------------------------------------------------- VMs */

#define PVM_PATH_MAX 1024
#define PVM_APPEND_MAX 1024
#define PVM_FORWARDS_MAX 512
#define PVM_BRIDGE_MAX 15 /* IFNAMSIZ - 1 */

typedef enum { PVM_DISK_VIRTIO = 0, PVM_DISK_NVME, PVM_DISK_SATA } pvm_disk_bus;
typedef enum { PVM_NIC_VIRTIO = 0, PVM_NIC_E1000E } pvm_nic_model;
/* user: QEMU's user-mode NAT (port forwards); none: no NIC; bridge: a tap on a host
 * bridge through qemu-bridge-helper. */
typedef enum { PVM_NET_USER = 0, PVM_NET_NONE, PVM_NET_BRIDGE } pvm_net_mode;
/* How the screen is reached: none (serial console only), or VNC on a unix socket in the
 * VM's private runtime folder. */
typedef enum { PVM_DISPLAY_NONE = 0, PVM_DISPLAY_VNC } pvm_display;
/* The display adapter and what the guest sees of it: ramfb (no PCI device at all; a
 * firmware framebuffer SeaBIOS and OVMF drive), vga (QEMU's standard VGA: PCI 1234:1111,
 * "Bochs"), virtio (virtio-vga: PCI 1af4:1050, Red Hat), cirrus (cirrus-vga: PCI 1013:00b8,
 * a Cirrus Logic GD5446, a VGA with text mode and 8/16/24-bit VESA modes; its subsystem is
 * Red Hat's 1af4:1100 on stock QEMU, the profile maker's on the stealth build). The values
 * are stored (vms.video): new ones go at the end. */
typedef enum { PVM_VIDEO_RAMFB = 0, PVM_VIDEO_VGA, PVM_VIDEO_VIRTIO, PVM_VIDEO_CIRRUS } pvm_video;
#define PVM_VIDEO_LAST PVM_VIDEO_CIRRUS
/* bios: SeaBIOS; uefi: OVMF; uefi-secure: OVMF with Microsoft's keys enrolled and SMM. */
typedef enum { PVM_FIRMWARE_BIOS = 0, PVM_FIRMWARE_UEFI, PVM_FIRMWARE_UEFI_SECURE } pvm_firmware;
typedef enum {
    PVM_VM_STOPPED = 0,
    PVM_VM_RUNNING,
    PVM_VM_PAUSED,
    PVM_VM_CRASHED,
} pvm_vm_state;

const char *pvm_disk_bus_name(pvm_disk_bus b);
const char *pvm_nic_model_name(pvm_nic_model m);
const char *pvm_net_mode_name(pvm_net_mode m);
const char *pvm_vm_state_name(pvm_vm_state s);
int pvm_disk_bus_parse(const char *s, pvm_disk_bus *out, pvm_error *err);
int pvm_nic_model_parse(const char *s, pvm_nic_model *out, pvm_error *err);
/* user, none or bridge=BR: *bridge points into s after "bridge=" (NULL for the others);
 * bridge NULL refuses bridge=BR; the word "bridge" alone is refused (field "net"). Every
 * front end parses --net / the net field through this. */
int pvm_net_mode_parse(const char *s, pvm_net_mode *out, const char **bridge, pvm_error *err);
const char *pvm_display_name(pvm_display d);   /* "none", "vnc" */
const char *pvm_video_name(pvm_video v);       /* "ramfb", "vga", "virtio", "cirrus" */
const char *pvm_firmware_name(pvm_firmware f); /* "bios", "uefi", "uefi-secure" */
int pvm_display_parse(const char *s, pvm_display *out, pvm_error *err);
int pvm_video_parse(const char *s, pvm_video *out, pvm_error *err);
int pvm_firmware_parse(const char *s, pvm_firmware *out, pvm_error *err);
/* The adapter a VM with a display gets when none is chosen: cirrus under bios (SeaBIOS's
 * ramfb VGA BIOS is no VGA: no text mode, only 32-bit VESA modes, so a kernel left in text
 * mode or asking for a 16-bit mode, as Debian's BIOS boot menu does, draws nothing on it),
 * ramfb under uefi and uefi-secure (a UEFI OS draws on OVMF's GOP, which OVMF offers on
 * ramfb and on the Cirrus alike; ramfb adds no PCI device). A firmware change made without
 * --video moves an adapter equal to the old firmware's default to the new one's, chosen
 * or not (the store does not tell); vga and virtio stay. */
pvm_video pvm_video_default(pvm_firmware fw);
/* When profile p hides the hypervisor and a VM shows display d on adapter v = vga (the Bochs
 * VGA, PCI 1234:1111) or virtio (virtio-gpu, PCI 1af4:1050), one sentence saying the guest
 * can read that adapter as QEMU's and what to use instead into out (size bytes); returns 1
 * then, else 0 (out ""). vm create and vm edit print it as a warning, like a MAC mark. */
int pvm_video_mark_note(const pvm_profile *p, pvm_display d, pvm_video v, char *out, size_t size);
/* Port forwards: "[tcp|udp:][ADDR:]HOSTPORT:GUESTPORT" items joined by ',' (ADDR an
 * IPv4 address, 127.0.0.1 when left out; ports 1-65535; at most 16; one forward per
 * protocol and host port), or "" / "none". out (PVM_FORWARDS_MAX) gets the canonical
 * form "tcp:127.0.0.1:2222:22 udp:..." ("" for none). Errors name "forward". */
int pvm_forwards_parse(const char *spec, char *out, size_t size, pvm_error *err);
/* The note a front end shows for forwards others can reach: the items of canon (the
 * canonical form above) whose host address is not loopback (127.0.0.0/8), joined by
 * ", " into out ("" for none). Returns how many. */
int pvm_forwards_exposed(const char *canon, char *out, size_t size);

struct sockaddr;
/* The uid owning the socket at `peer` whose connection's other end is `ours` (an accepted
 * connection's getpeername and getsockname; both AF_INET or both AF_INET6), read from
 * the uid column of /proc/net/tcp or /proc/net/tcp6 (proc(5)): a local peer only.
 * PVM_E_NOTFOUND when no row matches (not a socket of this host's namespace), PVM_E_IO
 * when the table cannot be read, PVM_E_INVALID for another family. (base/tcp_peer.c) */
int pvm_tcp_peer_uid(const struct sockaddr *peer, const struct sockaddr *ours, uid_t *uid,
                     pvm_error *err);
/* "512M", "50G", "1T", plain bytes; K/M/G/T are powers of 1024. */
int pvm_size_parse(const char *what, const char *s, uint64_t *out, pvm_error *err);
/* Human form, e.g. "50G", "1.5G", "512M"; writes into buf. */
const char *pvm_size_format(uint64_t bytes, char *buf, size_t size);

/* The rules every way a number enters shares (numbers.c): the command line,
 * the config file, the TUI forms and the engine's own checks. Errors name
 * `what` (also set as err->field) and the rule, with the fix. */
#define PVM_MEMORY_MIN (32ULL << 20) /* smallest VM memory / memory cap, bytes */
#define PVM_DISK_MIN (1ULL << 20)    /* smallest disk, bytes */
/* Digits only (no sign, blanks or hex), value in [min, max]. */
int pvm_int_parse(const char *what, const char *s, int min, int max, int *out, pvm_error *err);
/* A size in pvm_size_parse's grammar with its unit written ("4096" is refused
 * with "4096M?"; "B" means bytes), checked by pvm_memory_check / pvm_disk_check. */
int pvm_memory_parse(const char *what, const char *s, uint64_t *out, pvm_error *err);
int pvm_disk_parse(const char *what, const char *s, uint64_t *out, pvm_error *err);
/* Memory: at least PVM_MEMORY_MIN and a whole number of MiB. Disk: at least PVM_DISK_MIN. */
int pvm_memory_check(const char *what, uint64_t bytes, pvm_error *err);
int pvm_disk_check(const char *what, uint64_t bytes, pvm_error *err);

typedef struct pvm_vm {
    char id[PVM_UUID_LEN + 1];
    char name[PVM_NAME_MAX + 1];
    char profile_id[PVM_UUID_LEN + 1];
    int cpus;
    uint64_t memory_bytes;
    uint64_t disk_bytes;
    pvm_disk_bus disk_bus;
    pvm_nic_model nic;
    pvm_net_mode net;
    char iso[PVM_PATH_MAX];      /* absolute path or "" */
    char kernel[PVM_PATH_MAX];   /* absolute path or "" (direct kernel boot) */
    char initrd[PVM_PATH_MAX];
    char append[PVM_APPEND_MAX];
    int64_t created_at;
    pvm_display display;
    pvm_video video;
    pvm_firmware firmware;
    bool tpm;                         /* a TPM 2.0 through swtpm */
    char forwards[PVM_FORWARDS_MAX];  /* port forwards, canonical, space-separated
                                       * "tcp:127.0.0.1:2222:22" (user networking) */
    char bridge[PVM_BRIDGE_MAX + 1];  /* the host bridge with --net bridge=BR */
    /* Filled by the engine on reads, not stored: */
    pvm_vm_state state;
    int pid;                     /* QEMU pid when running, else 0 */
    char state_reason[512];      /* e.g. why it crashed; why it is paused, with the fix */
} pvm_vm;

/* A VM as a list shows it (pvm_vm_list_brief): what the TUI's VMs pane, header and change
 * watch read, under a kilobyte instead of a whole pvm_vm (5 KiB of paths and settings),
 * so a list of hundreds stays small and quick to read. The state is probed as
 * pvm_vm_list probes it. */
typedef struct pvm_vm_brief {
    char id[PVM_UUID_LEN + 1];
    char name[PVM_NAME_MAX + 1];
    char profile_id[PVM_UUID_LEN + 1];
    int cpus;
    uint64_t memory_bytes;
    pvm_vm_state state;
    int pid;                     /* QEMU pid when running, else 0 */
    char state_reason[512];      /* as pvm_vm's */
} pvm_vm_brief;

/* The NIC a VM has: its model, or "none" with --net none (names.c). */
const char *pvm_vm_nic_name(const pvm_vm *vm);

/* ------------------------------------------------------------------ engine
 *
 * Threads. A pvm_engine handle belongs to the thread that opened it: it owns one
 * SQLite connection and its backend's state (hv.h; later the OWNER monitor
 * connections of the sampler), and nothing in it is locked. A thread that calls the
 * engine (the TUI's engine thread) opens its own handle on the same home; any number
 * of handles, in one process or many, work on one home at once: the store serialises
 * writers (WAL, busy timeout), per-VM locks and the host-wide start lock are flocks
 * each handle takes on its own descriptor. Values (pvm_profile, pvm_vm, pvm_error,
 * pvm_progress, arrays the engine returns) are plain data the caller owns: hand them
 * to another thread freely, use one from two threads only with the caller's own lock.
 * A pvm_progress's report() runs on the thread of the operation; its cancel_fd may be
 * written from any thread. Functions without an engine handle (validation, names,
 * sizes, random identities) keep no state and may be called from any thread. */

typedef struct pvm_engine pvm_engine;

/* Resolves the home folder: home_flag, else $PRIVARION_VM_HOME, else
 * $XDG_DATA_HOME/privarion-vm, else ~/.local/share/privarion-vm; creates it
 * 0700 when missing and refuses one another user can write (see below). */
int pvm_home_resolve(const char *home_flag, char *out, size_t size, pvm_error *err);
/* StrictModes, as sshd's: refuses (PVM_E_IO, naming `what`, the path and the
 * chmod/chown fix) a file or folder owned by another user than us or root, or
 * writable by its group or others. pvm_home_resolve applies it to the home,
 * config.c to HOME/config (whose qemu line is run). */
int pvm_path_check_private(const char *what, const char *path, pvm_error *err);
/* Opens (creating on first use: folder 0700, state.db 0600) the store. The handle
 * is the calling thread's (see Threads above). */
int pvm_engine_open(pvm_engine **out, const char *home_flag, pvm_error *err);
void pvm_engine_close(pvm_engine *e);
const char *pvm_engine_home(const pvm_engine *e);
/* The handle's policy for virtualization marks (off at open): when on, vm
 * create and vm start accept a profile that hides the hypervisor but carries a
 * known mark (the CLI's --allow-vm-marks). */
void pvm_engine_set_allow_vm_marks(pvm_engine *e, bool allow);
/* The handle's tracer (NULL: none): operations without a progress argument (vm
 * create) report their steps to trace->report, fraction -1, on the calling thread, so
 * a front end can time them (the CLI's PRIVARION_VM_TRACE=1). The caller keeps
 * trace alive while the handle uses it. */
struct pvm_progress;
void pvm_engine_set_trace(pvm_engine *e, const struct pvm_progress *trace);

typedef struct pvm_profile_opts {
    bool allow_duplicate; /* accept a serial/UUID/MAC another profile uses */
} pvm_profile_opts;

/* Validates, checks uniqueness, assigns id and timestamps, stores. */
int pvm_profile_create(pvm_engine *e, pvm_profile *p, const pvm_profile_opts *opts, pvm_error *err);
/* Stores p[0..n) all or nothing in one transaction: a profile without an id
 * gets a new one, zero timestamps become now; each is validated and checked
 * for name, id and identity clashes with the store and with the profiles
 * before it. Errors of a batch (n > 1) are prefixed "[i].". On success p[]
 * holds what was stored; on error p[] and the store are unchanged. */
int pvm_profile_import_many(pvm_engine *e, pvm_profile *p, size_t n,
                            const pvm_profile_opts *opts, pvm_error *err);
/* Looks up by name, else by id. */
int pvm_profile_get(pvm_engine *e, const char *name_or_id, pvm_profile *out, pvm_error *err);
/* *out is a malloc'd array (free()), sorted by name. */
int pvm_profile_list(pvm_engine *e, pvm_profile **out, size_t *count, pvm_error *err);
/* The same rows, in the same order, with only id, name, manufacturer and product (one
 * store query of four columns): *out is a malloc'd array (free()). */
int pvm_profile_list_brief(pvm_engine *e, pvm_profile_brief **out, size_t *count,
                           pvm_error *err);
/* Looks up by id only (one primary-key read, no name lookup); PVM_E_NOTFOUND when no
 * profile has it. */
int pvm_profile_get_id(pvm_engine *e, const char *id, pvm_profile *out, pvm_error *err);
int pvm_profile_update(pvm_engine *e, pvm_profile *p, const pvm_profile_opts *opts, pvm_error *err);
int pvm_profile_delete(pvm_engine *e, const char *name_or_id, pvm_error *err);
/* Randomizes p's identity until no stored profile uses its serial, UUID or MAC. preset
 * (may be NULL) gives the vendor's serial and MAC formats; a p without a model (no preset,
 * no CPU brand) and no preset gets a random preset's model first (p->preset names it). */
int pvm_profile_randomize_unique(pvm_engine *e, pvm_profile *p, const pvm_preset *preset, pvm_error *err);

/* --------------------------------------------------------- VM operations
 * (engine/vm.c, engine/vm_ops.c). Each VM has a folder HOME/vms/<id>/ and a
 * runtime folder /tmp/pvm-<uid>/<home token>-<12 hex of the id>/ (sockets, pid
 * file); the home token (HOME/home-id, bound to the folder's inode) keeps a
 * copied data folder from seeing or touching the original's QEMUs.
 * State is always read from the live process and QMP, never from the store. */

typedef enum { PVM_IMAGE_COPY = 0, PVM_IMAGE_OVERLAY } pvm_image_mode;

typedef struct pvm_vm_opts {
    int cpus;               /* 0: 1 vCPU */
    uint64_t memory;        /* bytes; 0: 1G, or the memory cap when lower */
    uint64_t disk;          /* bytes; 0: 50G (with an image: the image's size or more) */
    pvm_disk_bus disk_bus;
    pvm_nic_model nic;
    pvm_net_mode net;
    const char *iso;        /* each path NULL or "" when not given */
    const char *image;      /* start the disk from this image ... */
    pvm_image_mode image_mode; /* ... as a full copy, or a qcow2 overlay on top of it */
    const char *kernel;     /* direct kernel boot */
    const char *initrd;
    const char *append;     /* NULL with a kernel: "console=ttyS0"; "" is taken as is */
    bool display_set;       /* display below given; else vnc with an ISO, none without */
    pvm_display display;
    bool video_set;         /* video below given (needs a display); else ramfb */
    pvm_video video;
    pvm_firmware firmware;  /* bios (0) by default */
    bool tpm;               /* a TPM 2.0 through swtpm */
    const char *bridge;     /* with net bridge: the host bridge */
    const char *forwards;   /* port forwards (pvm_forwards_parse), NULL for none */
} pvm_vm_opts;

/* Checks one host file a VM setting names, with the very check vm create and vm edit
 * apply to it (vm_fields.c): field "iso" (a CD/DVD image; "none" detaches), "kernel" (a
 * bzImage or ELF), "initrd" or "image" (a readable regular file); path "" passes. The
 * error names the field (err->field). What needs the other settings too (an initrd
 * without a kernel, an overlay on a running VM's disk, the image's format) is judged by
 * the save. For a front end that checks a field as it is left (the TUI's forms). */
int pvm_vm_file_check(const char *field, const char *path, pvm_error *err);
/* Validates everything, makes the folder and the sparse qcow2 disk, then
 * records the VM; on any failure nothing is left behind. out may be NULL. */
int pvm_vm_create(pvm_engine *e, const char *name, const char *profile_name_or_id,
                  const pvm_vm_opts *opts, pvm_vm *out, pvm_error *err);
/* By name, else id; state, pid and state_reason read from the live process. */
int pvm_vm_get(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err);
/* By name, else id, as the store records it: settings, no state read (state STOPPED, pid
 * 0; no QEMU asked), for a caller that needs the name, id or paths only (the snapshot
 * commands, whose engine calls read the state under the VM's lock). PVM_E_NOTFOUND. */
int pvm_vm_find(pvm_engine *e, const char *name_or_id, pvm_vm *out, pvm_error *err);
/* *out is a malloc'd array (free()), sorted by name, states filled. */
int pvm_vm_list(pvm_engine *e, pvm_vm **out, size_t *count, pvm_error *err);
/* The same VMs as brief rows (one store query of five columns), in pvm_vm_list's order,
 * states filled by the same probe: *out is a malloc'd array (free()). */
int pvm_vm_list_brief(pvm_engine *e, pvm_vm_brief **out, size_t *count, pvm_error *err);
/* The whole VM of brief row b into out: its stored settings read by id (one primary-key
 * read, no name lookup) and b's state, pid and reason (not probed again, so it agrees
 * with the list it came from). PVM_E_NOTFOUND when the VM was deleted since; out is
 * untouched on error. */
int pvm_vm_get_brief(pvm_engine *e, const pvm_vm_brief *b, pvm_vm *out, pvm_error *err);
/* Progress and cancellation of a long operation (start, stop, guest build, later
 * snapshots and installs). Every member may be left 0/NULL; a NULL pvm_progress
 * means "not cancellable, nobody listening". */
typedef struct pvm_progress {
    int cancel_fd;  /* > 0: readable (or hung up) means cancel; <= 0: not cancellable.
                     * The operation only polls it, never reads or closes it. */
    /* Called from the thread running the operation: a short step text
     * ("waiting for QMP") and the fraction done, 0..1, or < 0 when unknown. */
    void (*report)(void *ctx, const char *step, double fraction);
    void *ctx;
} pvm_progress;

/* Starts QEMU daemonized; returns once QMP answers, and with wait_agent_seconds > 0
 * once the guest agent answers too (a timeout there is an error; QEMU keeps running).
 * progress may be NULL; a cancel before QMP answers ends the new QEMU and returns
 * PVM_E_CANCELLED. */
int pvm_vm_start(pvm_engine *e, const char *name_or_id, int wait_agent_seconds,
                 const pvm_progress *progress, pvm_error *err);
/* The longest note a start returns, with its NUL. A start's own note is under 400 bytes;
 * this leaves room for the twin warning (PVM_TWIN_TEXT_MAX) the TUI's start puts first. */
#define PVM_START_NOTE_MAX 1024
/* As pvm_vm_start; note (note_size bytes, may be NULL) gets one line a front end shows as a
 * warning after a successful start, "" when there is none. Today: a profile that hides the
 * hypervisor started on stock QEMU because qemu_stealth = auto found no usable stealth
 * build (missing, or stale: built for another QEMU version or patch set), naming what to
 * run (`privarion-vm qemu build`). */
int pvm_vm_start_noted(pvm_engine *e, const char *name_or_id, int wait_agent_seconds,
                       const pvm_progress *progress, char *note, size_t note_size,
                       pvm_error *err);
/* ACPI power-down (the button pressed again every 3 s) and wait up to timeout_s
 * (<= 0: 60 s) for QEMU to exit; force ends QEMU (QMP quit, then SIGKILL). A guest
 * that does not power off is an error (PVM_E_STATE); an already stopped VM is not
 * (0, nothing done), and a crashed one is marked stopped. */
/* progress may be NULL; a cancelled wait returns PVM_E_CANCELLED and leaves the VM as it is. */
int pvm_vm_stop(pvm_engine *e, const char *name_or_id, bool force, int timeout_s,
                const pvm_progress *progress, pvm_error *err);
/* Continues a VM its hypervisor paused (state PAUSED, e.g. "paused: I/O error on disk
 * (no space left on device)" once space is freed); QEMU retries the failed writes.
 * Not paused (running, stopped, crashed) -> PVM_E_STATE; still no space (QEMU pauses it
 * again at once) -> PVM_E_STATE naming the folder to free. Event "vm.resume". */
int pvm_vm_resume(pvm_engine *e, const char *name_or_id, pvm_error *err);
/* The identity a VM wears (vm_identity.c). A running VM keeps the identity it started with
 * (SMBIOS, UUID, MAC, disk serial, CPU) until its next start, whatever `profile edit` does
 * meanwhile: the start records it in the VM's folder, with the QEMU process it started (pid
 * and start time). pvm_vm_identity_worn fills worn with what vm (probed: state and pid live)
 * wears: a running or paused VM's identity as recorded at its start, over now (its profile
 * as stored: id, name and preset stay now's); a stopped VM, one whose record names another
 * QEMU run (started by an older privarion-vm) or a damaged record, wears now. Returns 1 when
 * worn comes from the record, 0 when it is now. */
int pvm_vm_identity_worn(pvm_engine *e, const pvm_vm *vm, const pvm_profile *now,
                         pvm_profile *worn);
/* The same, reading vm's profile from the store (also into now, when not NULL): 1 or 0 as
 * above, -1 on a store error. */
int pvm_vm_identity(pvm_engine *e, const pvm_vm *vm, pvm_profile *worn, pvm_profile *now,
                    pvm_error *err);
/* The identity fields (JSON keys, then "hideHypervisor", joined by ", ") whose value differs
 * between worn and now: the edits a running VM does not wear yet; "" when none. */
void pvm_profile_identity_diff(const pvm_profile *worn, const pvm_profile *now, char *out,
                               size_t size);

/* Another running (or paused) VM that shows what this one would show at its start: the
 * same UUID, MAC, system, board, chassis or disk serial (what the VMs wear: a running VM
 * its identity of its start, this one its profile now). A start beside it would show one
 * identity twice: on one LAN when both are on one bridge, to the sites and services both
 * reach under user-mode NAT (each VM on a private network of its own); front ends warn,
 * or refuse when asked to be strict (vm_twins.c). */
typedef struct pvm_vm_twin {
    char name[PVM_NAME_MAX + 1];  /* the running VM; "" when none */
    bool same_profile;            /* it wears the same profile */
    char shared[160];             /* what both show, in words: "UUID, MAC, serial number" */
    pvm_net_mode net, twin_net;   /* the network of the VM to start, of the running one */
    char bridge[PVM_BRIDGE_MAX + 1], twin_bridge[PVM_BRIDGE_MAX + 1]; /* with bridge */
} pvm_vm_twin;
int pvm_vm_running_twin(pvm_engine *e, const char *name_or_id, pvm_vm_twin *twin,
                        pvm_error *err);
/* The warning about twin t of VM name, in the words every front end shows (without
 * what to do: the CLI adds --strict), into out; where the identity shows twice follows the
 * two VMs' networks (t->net, t->twin_net): one LAN only for one bridge. */
void pvm_vm_twin_text(const char *name, const pvm_vm_twin *t, char *out, size_t size);
/* The size that holds any twin warning whole, with its NUL: two VM names, shared (< 160
 * bytes) and where they meet (a third name); every front end's buffer for it. */
#define PVM_TWIN_TEXT_MAX (PVM_NAME_MAX * 3 + 400)
/* The running (or paused) VMs wearing profile profile_id: their count, and their names
 * quoted and joined by ", " into names (truncated to size); -1 on a store error. A profile
 * edit applies to them at their next start only (front ends warn). */
int pvm_profile_running_vms(pvm_engine *e, const char *profile_id, char *names, size_t size,
                            pvm_error *err);
/* What vm edit changes; a member left 0 / NULL / false keeps the VM's value. */
typedef struct pvm_vm_changes {
    int cpus;               /* vCPUs */
    uint64_t memory;        /* bytes */
    uint64_t disk;          /* bytes; grow only (the guest's partitions are the user's) */
    const char *iso;        /* a file to attach, or "" / "none" to detach */
    bool nic_set;           /* nic below is given */
    pvm_nic_model nic;
    const char *profile;    /* name or id: the VM wears another identity */
    bool display_set;
    pvm_display display;
    bool video_set;
    pvm_video video;
    bool firmware_set;      /* a new firmware; leaving uefi* drops the VM's UEFI
                             * variables (boot entries, keys): refused unless force */
    pvm_firmware firmware;
    bool force;
    bool tpm_set;
    bool tpm;
    bool net_set;           /* net and bridge below given */
    pvm_net_mode net;
    const char *bridge;
    const char *forwards;   /* NULL keep; "none" or "" drop them; else replace them */
} pvm_vm_changes;

/* Changes a stopped VM (PVM_E_STATE when it runs or is paused) with create's checks
 * per field, the caps and the backend's check (what start would refuse is refused);
 * a bigger disk is grown (qemu-img resize). On any error the store and the disk are
 * as they were. out (may be NULL) gets the VM as stored. */
int pvm_vm_edit(pvm_engine *e, const char *name_or_id, const pvm_vm_changes *changes,
                pvm_vm *out, pvm_error *err);
/* Refuses a running or paused VM; removes the folder, disk and the row. */
int pvm_vm_delete(pvm_engine *e, const char *name_or_id, pvm_error *err);

typedef enum {
    PVM_VM_PATH_DIR = 0,     /* HOME/vms/<id> */
    PVM_VM_PATH_DISK,        /* disk.qcow2 */
    PVM_VM_PATH_SERIAL_LOG,  /* console output of the current / last boot */
    PVM_VM_PATH_QEMU_LOG,    /* QEMU's own messages */
    /* The backend's runtime files of a running VM (hv.h runtime_path; PVM_E_STATE from
     * a backend that has none): */
    PVM_VM_PATH_SERIAL_SOCK, /* interactive console socket */
    PVM_VM_PATH_QMP_SOCK,    /* the COMMAND monitor (qmp-owner.sock, the OWNER one, beside it) */
    PVM_VM_PATH_QGA_SOCK,    /* the guest agent */
    PVM_VM_PATH_PIDFILE,
    PVM_VM_PATH_VNC_SOCK,    /* the VNC server (display vnc) */
} pvm_vm_path_kind;
/* Writes one of the VM's paths into out. */
int pvm_vm_path(pvm_engine *e, const pvm_vm *vm, pvm_vm_path_kind kind, char *out, size_t size,
                pvm_error *err);

/* Connects to the running VM's serial console socket; *fd is a connected
 * stream socket, given back with pvm_vm_console_close. PVM_E_STATE when the VM
 * is not running; PVM_E_BUSY naming the pid when another client (any process)
 * has the console: QEMU serves one, so the engine keeps a lock for this
 * handle until pvm_vm_console_close or pvm_engine_close (one console per handle). */
int pvm_vm_console_open(pvm_engine *e, const char *name_or_id, int *fd, pvm_error *err);
/* Closes fd and gives the console up for the next client. */
void pvm_vm_console_close(pvm_engine *e, int fd);

/* ------------------------------------------------ the screen (screen.c, image.c)
 * A VM with --display vnc has a display adapter and a VNC server on a unix socket in its
 * private runtime folder (0700; PVM_VM_PATH_VNC_SOCK). */

/* Pixels, 8-bit RGB, rows top to bottom, no padding: width * height * 3 bytes. */
typedef struct pvm_image {
    int width, height;
    unsigned char *rgb; /* malloc'd; pvm_image_free */
} pvm_image;
void pvm_image_free(pvm_image *img);
/* A binary PPM (P6, maximum 255, sides up to 16384; the format of QMP screendump, netpbm's
 * ppm(5)) into out. PVM_E_QEMU when it is not one. */
int pvm_ppm_parse(const void *data, size_t len, pvm_image *out, pvm_error *err);
/* Writes img as a PNG file (libpng), replacing path; a failed write removes it. */
int pvm_image_write_png(const pvm_image *img, const char *path, pvm_error *err);
/* True when every pixel has the first pixel's colour. */
bool pvm_image_blank(const pvm_image *img);

/* The running VM's screen now (QMP screendump); PVM_E_STATE when the VM does not run or
 * has no display (--display none). The TUI's thumbnail reads it. */
int pvm_vm_screen(pvm_engine *e, const char *name_or_id, pvm_image *out, pvm_error *err);
/* The screen written as a PNG file. */
int pvm_vm_screenshot(pvm_engine *e, const char *name_or_id, const char *png_path,
                      pvm_error *err);
/* Presses keys on the running VM's keyboard (QMP send-key): keys is one or more chords
 * separated by blanks, each chord key names (QEMU's QKeyCode names: a..z, 0..9, ret, esc,
 * tab, spc, f1..f12, ctrl, alt, shift, delete, up ...) joined by '-', e.g.
 * "ctrl-alt-delete ret". Names are [a-z0-9_] only, at most 16 keys per chord, 64 chords;
 * QEMU refuses unknown names (PVM_E_QEMU with its message). */
int pvm_vm_sendkeys(pvm_engine *e, const char *name_or_id, const char *keys, pvm_error *err);
/* The VNC socket of a running VM with --display vnc into out; PVM_E_STATE otherwise. */
int pvm_vm_display_socket(pvm_engine *e, const char *name_or_id, char *out, size_t size,
                          pvm_error *err);

/* How to reach the VNC socket sock of VM vm (vm display's text, the TUI's D key): the
 * ssh -L line and viewer command, lines ending in '\n', truncated to size; home_flag
 * (--home's DIR, NULL none) goes into the command it suggests. */
void pvm_display_howto_text(const char *vm, const char *sock, const char *home_flag, char *out,
                            size_t size);

/* ------------------------------------------------------- snapshots (snapshot.c)
 * Internal snapshots inside the VM's qcow2 (disk.qcow2): on a running VM with its memory
 * state (QMP snapshot-save; restored to the exact moment), on a stopped one disk only
 * (qemu-img snapshot). Each remembers the profile identity and device set it was taken
 * with; the store's rows and the image's snapshot table are reconciled before every
 * snapshot command (rows whose snapshot left the image are dropped, snapshots made
 * outside privarion-vm are adopted, identity unknown); each case is a note. A snapshot
 * command takes the VM's lock: a second session gets PVM_E_BUSY naming the VM. */

#define PVM_SNAP_TAG_MAX 64
#define PVM_SNAP_IDENTITY_MAX 4096 /* the identity JSON text, bytes */
#define PVM_SNAP_DEVICES_MAX 512
#define PVM_SNAP_NOTES 8

typedef struct pvm_snapshot {
    char id[PVM_UUID_LEN + 1];
    char vm_id[PVM_UUID_LEN + 1];
    char tag[PVM_SNAP_TAG_MAX + 1];
    int64_t created_at;        /* seconds since the epoch */
    bool memory;               /* with the memory state (taken on a running VM) */
    uint64_t vmstate_bytes;    /* size of the memory state in the image, 0 without */
    uint64_t vm_clock_ns;      /* the guest's clock at the snapshot */
    char profile_id[PVM_UUID_LEN + 1];  /* "" when adopted (made outside privarion-vm) */
    char identity[PVM_SNAP_IDENTITY_MAX]; /* pvm_snapshot_identity_json of the profile, "" adopted */
    char fingerprint[17];      /* 16 hex of a hash of identity, "" adopted */
    char devices[PVM_SNAP_DEVICES_MAX]; /* pvm_snapshot_devices text, "" adopted */
    bool adopted;              /* found in the image, not taken by privarion-vm */
} pvm_snapshot;

/* A snapshot as a list shows it (pvm_snapshot_briefs): without the identity and device
 * texts a restore compares, so a VM's hundred snapshots take kilobytes, not half a MB. */
typedef struct pvm_snapshot_brief {
    char tag[PVM_SNAP_TAG_MAX + 1];
    int64_t created_at;        /* seconds since the epoch */
    bool memory;               /* with the memory state */
    bool adopted;              /* found in the image, not taken by privarion-vm */
} pvm_snapshot_brief;

/* What the reconciliation did or saw: short lines for the front end to show; and what a
 * restore did besides loading (set by it, the caller zeroes the struct). */
typedef struct pvm_snapshot_notes {
    size_t n;                  /* lines held (at most PVM_SNAP_NOTES) */
    size_t dropped;            /* further lines that did not fit */
    char line[PVM_SNAP_NOTES][400];
    bool started;              /* restore: the VM was stopped and now runs (its memory
                                * snapshot was loaded into a fresh start) */
} pvm_snapshot_notes;

/* A tag: 1..64 bytes of [A-Za-z0-9._-], starting with a letter or digit, not digits
 * only (QEMU also finds snapshots by their numeric id). The one check for the CLI, the
 * TUI and tags found in an image. PVM_E_INVALID, field "tag". */
int pvm_snapshot_tag_check(const char *tag, pvm_error *err);
/* The tag a snapshot of vm (name or id) taken now gets when none is given, as
 * pvm_snapshot_create makes it: "snap-YYYYMMDD-HHMMSS" (UTC), "-2", "-3"... when the VM
 * has that one already; into out (size >= PVM_SNAP_TAG_MAX + 1). A store read (the TUI
 * prefills its tag prompt with it). PVM_E_NOTFOUND for an unknown VM. */
int pvm_snapshot_tag_default(pvm_engine *e, const char *vm, char *out, size_t size,
                             pvm_error *err);
/* The identity of p as compared on restore: a JSON object of every identity field
 * (pvm_profile_fields keys, hideHypervisor), malloc'd. */
char *pvm_snapshot_identity_json(const pvm_profile *p);
/* The device set a memory state depends on: "cpus=1 memory=268435456 diskBus=virtio
 * nic=virtio net=user cdrom=no display=vnc video=ramfb firmware=bios tpm=off" into out
 * (video "none" without a display; rows from before display..tpm lack those keys). */
void pvm_snapshot_devices(const pvm_vm *vm, char *out, size_t size);
/* Compares what a snapshot was taken with against now: writes the keys that changed,
 * comma separated ("serialNumber, macAddress"), into out ("" when none). The identity
 * texts are pvm_snapshot_identity_json's, the device texts pvm_snapshot_devices' (only
 * the keys both device texts hold are compared). */
void pvm_snapshot_diff(const char *then, const char *now, bool devices, char *out,
                       size_t size);

typedef struct pvm_snapshot_opts {
    bool disk_only;  /* create: no memory state even on a running VM */
    bool force;      /* restore: despite a changed identity (never a changed device set
                      * with a memory state: that cannot load) */
} pvm_snapshot_opts;

/* Takes a snapshot; tag NULL or "": "snap-YYYYMMDD-HHMMSS" (UTC; "-2", "-3"... when
 * taken). Running/paused VM: memory + disk (opts->disk_only: disk only); stopped: disk
 * only. A failure (QEMU's reason in err) leaves no row, and earlier snapshots as they
 * were. out (may be NULL) gets the new row; notes may be NULL. */
int pvm_snapshot_create(pvm_engine *e, const char *vm, const char *tag,
                        const pvm_snapshot_opts *opts, const pvm_progress *progress,
                        pvm_snapshot *out, pvm_snapshot_notes *notes, pvm_error *err);
/* The VM's snapshots, oldest first, after reconciling: *out malloc'd (free()). */
int pvm_snapshot_list(pvm_engine *e, const char *vm, pvm_snapshot **out, size_t *count,
                      pvm_snapshot_notes *notes, pvm_error *err);
/* The VM's snapshot rows as the store has them, oldest first, WITHOUT reconciling with
 * the image (no lock, no QEMU, no qemu-img: a store read, for a front end's first frame;
 * pvm_snapshot_list on another thread then brings them in line): *out malloc'd (free()).
 * PVM_E_NOTFOUND for an unknown VM. */
int pvm_snapshot_rows(pvm_engine *e, const char *vm, pvm_snapshot **out, size_t *count,
                      pvm_error *err);
/* The same rows, same order, as briefs (tag, time, memory, adopted; vm_info.c): *out
 * malloc'd (free()); PVM_E_NOTFOUND for an unknown VM. */
int pvm_snapshot_briefs(pvm_engine *e, const char *vm, pvm_snapshot_brief **out,
                        size_t *count, pvm_error *err);
/* One snapshot by tag; PVM_E_NOTFOUND naming it. */
int pvm_snapshot_get(pvm_engine *e, const char *vm, const char *tag, pvm_snapshot *out,
                     pvm_snapshot_notes *notes, pvm_error *err);
/* Restores: a running VM loads a memory snapshot in place; a stopped VM takes a disk-only
 * snapshot back, or starts paused, loads a memory snapshot and resumes. A disk-only
 * snapshot on a running VM is PVM_E_STATE (stop it first). A changed identity is
 * PVM_E_STATE naming the fields unless opts->force; a changed device set with a memory
 * state is PVM_E_STATE always (it cannot load), without one unless force. */
int pvm_snapshot_restore(pvm_engine *e, const char *vm, const char *tag,
                         const pvm_snapshot_opts *opts, const pvm_progress *progress,
                         pvm_snapshot_notes *notes, pvm_error *err);
int pvm_snapshot_delete(pvm_engine *e, const char *vm, const char *tag,
                        const pvm_progress *progress, pvm_snapshot_notes *notes,
                        pvm_error *err);

/* ------------------------------------------------- the starter guest (guest.c)
 * A small Linux guest (a Debian kernel and a busybox initramfs with the QEMU guest
 * agent) that prints the identity it sees on its serial console. The guest builder
 * (tests/guest/build beside the program, SHARE/guest/build installed) makes it from
 * the system's Debian archive into its own cache (/var/cache/privarion-vm/guest as
 * root, else ~/.cache/privarion-vm/guest; $PRIVARION_VM_GUEST_CACHE moves it); the
 * engine copies the result into HOME/guest/, which VMs boot from. */

typedef struct pvm_guest {
    bool built;                    /* kernel and initrd are there (non-empty files) */
    char dir[PVM_PATH_MAX];        /* HOME/guest */
    char kernel[PVM_PATH_MAX];     /* HOME/guest/vmlinuz */
    char initrd[PVM_PATH_MAX];     /* HOME/guest/initramfs.gz */
    char log[PVM_PATH_MAX];        /* HOME/guest/build.log: the builder's output, last build */
    char builder[PVM_PATH_MAX];    /* the builder script found, "" when none */
    char kernel_version[64];       /* e.g. "6.1.0-41-amd64", "" when unknown */
    char source[PVM_PATH_MAX];     /* the builder's cache folder the files came from */
} pvm_guest;

/* What is in HOME/guest now; never runs the builder. */
int pvm_guest_info(pvm_engine *e, pvm_guest *out, pvm_error *err);
/* Runs the builder (quick when its cache holds this version; force: build again) with
 * its output in HOME/guest/build.log, reporting each "guest: STEP" line it prints as a
 * step (fraction -1), then copies the result into HOME/guest. Blocks for up to 30 min
 * (about a minute for a first build); progress may be NULL; a cancel ends the builder's
 * whole process group and returns PVM_E_CANCELLED (HOME/guest keeps the last good
 * files). A failed builder is PVM_E_IO with the end of its log; no builder found is
 * PVM_E_NOTFOUND; a build of the same home already running (HOME/guest/lock) is
 * PVM_E_BUSY. Fills out on success. */
int pvm_guest_build(pvm_engine *e, bool force, const pvm_progress *progress, pvm_guest *out,
                    pvm_error *err);

/* ------------------------------------------------------ shipped files (share.c)
 * Themes and the guest builder ship with the program: in a checkout they sit beside
 * the binary (themes/, tests/guest/), installed they are under the share folder
 * (`make install`: PVM_SHARE_DIR, /usr/local/share/privarion-vm). */

/* The installed share folder (a constant string). */
const char *pvm_share_dir(void);
/* The folder holding the running binary (from /proc/self/exe) into out; -1 when unknown. */
int pvm_exe_dir(char *out, size_t size);
/* The first of EXE_DIR/checkout_rel and SHARE_DIR/share_rel that exists, into out;
 * -1 (out = "") when neither does. */
int pvm_share_find(const char *checkout_rel, const char *share_rel, char *out, size_t size);
/* A theme name (themes/NAME.theme): 1..64 bytes of [A-Za-z0-9_.-], not starting with
 * '.'. The one check for --theme, the config's theme key and the theme files found. */
int pvm_theme_name_check(const char *name, pvm_error *err);
/* The theme HOME/config names ("theme = NAME"), "default" when it names none; out
 * holds at least 65 bytes. Errors as loading the config. */
int pvm_engine_theme(pvm_engine *e, char *out, size_t size, pvm_error *err);

/* ------------------------------------------- what a front end polls (vm_info.c) */

typedef struct pvm_host_info {
    int cores;            /* online CPUs */
    uint64_t memory;      /* bytes of RAM */
    int max_cpus;         /* the caps from HOME/config: one VM, and all running together */
    uint64_t max_memory;  /* bytes */
} pvm_host_info;

/* The host's cores and memory and the configured caps (reads HOME/config). */
int pvm_host_info_get(pvm_engine *e, pvm_host_info *out, pvm_error *err);
/* A number that changes whenever another engine handle or process commits to
 * the store (SQLite's PRAGMA data_version); this handle's own commits leave it.
 * Cheap: a front end polls it about once a second to notice other sessions. */
int pvm_engine_data_version(pvm_engine *e, int64_t *out, pvm_error *err);
/* True when vm->pid (as read by pvm_vm_get/list) still runs: no QMP, no store. */
bool pvm_vm_pid_alive(const pvm_vm *vm);
/* The same for a brief row's pid. */
bool pvm_vm_brief_alive(const pvm_vm_brief *b);
/* The binary the VM's running QEMU runs (/proc/PID/exe; out holds size bytes) and whether
 * it is the stealth build (under pvm_qemu_stealth's cache folder); -1 and "" when it does
 * not run or cannot be read (another user's process). */
int pvm_vm_qemu_binary(const pvm_vm *vm, char *out, size_t size, bool *stealth);
/* Seconds since the VM's QEMU started, -1 when it does not run or is unknown. */
int64_t pvm_vm_uptime(const pvm_vm *vm);
/* The accelerator ("kvm", "tcg") the VM's running QEMU was started with, read
 * from its command line; -1 and "" when it does not run. */
int pvm_vm_accel(const pvm_vm *vm, char *out, size_t size);

/* ------------------------------- the stealth QEMU (qemu/build.c, qemu/build_state.c) */

/* The stealth QEMU of this host: Debian's source of the installed qemu-system-x86 plus the
 * project's patch series (patches/qemu-7.2), built into cache_dir/KEY/ where KEY is the
 * source version (no epoch) and 12 hex digits of the SHA-256 of the configure line and
 * the series. */
#define PVM_QB_REMOVED_MAX 16

typedef struct pvm_qemu_stealth {
    char cache_dir[PVM_PATH_MAX];  /* /var/cache/privarion-vm/qemu-stealth (root), else
                                    * $XDG_CACHE_HOME or ~/.cache/privarion-vm/qemu-stealth */
    char series_dir[PVM_PATH_MAX]; /* the patch folder used */
    char source_version[96];       /* e.g. "1:7.2+dfsg-7+deb12u18" */
    char patch_hash[65];           /* SHA-256 of the configure line and the series, hex */
    int npatches;
    char key[128];
    char binary[PVM_PATH_MAX];     /* cache_dir/KEY/qemu-system-x86_64 */
    bool built;                    /* binary and stamp present for KEY */
    int build_seconds;             /* from the stamp when built */
    char built_at[32];             /* UTC, ISO 8601, from the stamp */
    char other_key[128];           /* when not built: another key's build found, or "" */
    int nremoved;                  /* after a build: older builds it removed from the cache */
    struct {
        char key[128];
        uint64_t bytes;
    } removed[PVM_QB_REMOVED_MAX];
} pvm_qemu_stealth;

/* One build in the cache folder (pvm_qemu_stealth_cached). */
typedef struct pvm_qemu_cached {
    char key[128];
    uint64_t bytes;      /* its folder's files */
    bool stamped;        /* finished (its stamp names its key) */
    char built_at[32];   /* from the stamp, "" without */
    bool current;        /* the key of the installed QEMU and this patch set, built */
    bool stale;          /* this patch set under another QEMU version: the next build
                          * removes it (another patch set's build is another checkout's
                          * and stays) */
} pvm_qemu_cached;

/* Fills s for the installed QEMU and the patch folder found (the checkout's beside the
 * binary, else SHAREDIR's). -1: QEMU's package is not installed (PVM_E_NOTFOUND), no
 * patch folder, an unreadable or odd series file. The source version and the series' hash
 * are remembered in cache_dir/status-H.cache under a fingerprint of their inputs' stat()
 * (dpkg's status file, the stock QEMU in PATH, the series and each patch, the configure
 * line): only when one changed does it run dpkg-query and hash the series again (about
 * 0.5 ms remembered, 100-200 ms not, on a loaded 2-core host). */
int pvm_qemu_stealth_status(pvm_qemu_stealth *s, pvm_error *err);
/* Builds it unless already built for this key (*cached = true; force rebuilds): checks the
 * build's programs and -dev packages (PVM_E_NOTFOUND naming the first missing one and the
 * apt-get line), fetches the source with apt-get on a private deb-src list, state and
 * cache under cache_dir/KEY.work (the system's apt setup is neither read nor changed),
 * unpacks it with dpkg-source, applies the series with patch, configures and runs ninja
 * (-j host cores); the whole output goes to cache_dir/KEY.log. One build per key at a
 * time (a lock file; a second caller waits, then finds it cached). progress (may be NULL)
 * gets each step and ninja's fraction; its cancel_fd stops the build in any step (apt-get,
 * dpkg-source, patch, configure, ninja: each runs in its own process group, killed whole),
 * PVM_E_CANCELLED. A failure or cancel leaves no KEY.work and no KEY folder (a failure
 * keeps KEY.log); the build goes to KEY/ only whole (one rename; with force an atomic
 * exchange), so a failed or cancelled force keeps the build it was to replace. After a new
 * build the builds of this patch set under another QEMU version (made stale by an upgrade)
 * are removed with their log, lock and work folder (not a key another process is
 * building: its lock is held), named in s->removed; builds of other patch sets (other
 * checkouts sharing the cache) and names not of the key's shape stay. Minutes long. */
int pvm_qemu_stealth_build(const pvm_progress *progress, bool force, pvm_qemu_stealth *s,
                           bool *cached, pvm_error *err);
/* The builds in s->cache_dir (s from pvm_qemu_stealth_status or _build), in folder order:
 * *out malloc'd (free()), *count of them; a missing folder is none. */
int pvm_qemu_stealth_cached(const pvm_qemu_stealth *s, pvm_qemu_cached **out, size_t *count,
                            pvm_error *err);

/* ------------------------------------------------------------------ doctor */

#define PVM_DOCTOR_MAX_PROBLEMS 8

typedef struct pvm_doctor_problem {
    char what[256];
    char fix[256];
} pvm_doctor_problem;

typedef struct pvm_doctor {
    char home[PVM_PATH_MAX];
    bool home_writable;
    char config[PVM_PATH_MAX + 8]; /* the config file: home/config */
    char qemu[256];          /* binary named by the config */
    char qemu_version[32];   /* "" when QEMU is missing */
    bool qemu_img;           /* qemu-img found */
    char accel_setting[8];   /* auto | kvm | tcg */
    char accel[8];           /* verdict: kvm | tcg, "" when unknown */
    char accel_reason[256];
    int host_cores;
    uint64_t host_memory;
    char qemu_stealth[8];     /* the config's setting: auto | on | off */
    bool stealth_built;       /* built for the installed QEMU and this patch set */
    char stealth_note[400];   /* one line: where it is, or why not */
    int max_cpus;
    char cpu_share[64];   /* the host cores max_cpus pins every QEMU to: "1" or "0,1" */
    uint64_t max_memory;
    /* the pieces of real guests, present or not: what each serves ("--tpm"), its file or
     * program, and whether it is there (a missing one is also a problem below) */
    struct {
        char what[48];
        char path[64];
        bool present;
    } pieces[8];
    size_t npieces;
    size_t nproblems;
    pvm_doctor_problem problems[PVM_DOCTOR_MAX_PROBLEMS];
} pvm_doctor;

/* Checks the host without needing the store: QEMU, acceleration, caps, the data
 * folder. Problems (each with its fix) go into out->problems; returns 0. */
int pvm_doctor_run(const char *home_flag, pvm_doctor *out, pvm_error *err);

/* ------------------------------------- inside a running guest (agent.c, install.c)
 * Through the QEMU guest agent (qemu-ga in the guest). The agent has one channel per
 * VM, so a pvm_agent holds the VM's agent lock (qga.c) while open; the sampler of a
 * front end takes it per reading without waiting and skips the guest figures while a
 * pvm_agent holds it. Everything the guest answers is untrusted (sizes bounded, JSON
 * checked). Guest paths are absolute (POSIX "/..." or Windows "C:\..."). */
typedef struct pvm_agent pvm_agent;

#define PVM_AGENT_WAIT_MS 15000   /* default wait for the agent lock */
#define PVM_EXEC_OUT_MAX (64u * 1024u) /* output kept per stream in an install record */

/* Opens the running VM's agent: waits up to wait_ms for the agent lock (PVM_E_BUSY naming
 * the holder's pid past it), connects and resynchronises within 10 s. PVM_E_STATE when the
 * VM does not run; PVM_E_QEMU saying how to install qemu-guest-agent when nothing answers. */
int pvm_agent_open(pvm_engine *e, const char *name_or_id, int wait_ms, pvm_agent **out,
                   pvm_error *err);
void pvm_agent_close(pvm_agent *a);
/* Whether the guest said (guest-get-osinfo) it runs Windows; its os id ("" unknown). */
bool pvm_agent_windows(const pvm_agent *a);
const char *pvm_agent_os_id(const pvm_agent *a);

/* The result of a guest command: its exit status (128 + N when killed by signal N) and
 * its output (malloc'd, NUL-terminated, may hold NULs: use the lengths). */
typedef struct pvm_exec_result {
    int status;
    char *out, *err;
    size_t out_len, err_len;
} pvm_exec_result;
void pvm_exec_result_free(pvm_exec_result *r);

/* Runs argv[0] (a program name or guest path) with argv[1..] in the guest, with input
 * (input_len bytes, may be 0) on its standard input, waiting up to timeout_ms (< 0: no
 * limit). Timeout or cancel (progress) kill the guest process (best effort) and fail
 * with PVM_E_STATE / PVM_E_CANCELLED. */
int pvm_agent_exec(pvm_agent *a, const char *const *argv, const void *input, size_t input_len,
                   int timeout_ms, const pvm_progress *progress, pvm_exec_result *r,
                   pvm_error *err);

/* A finished copy: bytes moved and their SHA-256 (lower-case hex, Nettle's sha256),
 * checked inside the guest when it can be (see checked). */
typedef struct pvm_copy_result {
    uint64_t bytes;
    char sha256[65];
    double seconds;
    bool checked; /* the guest side confirmed sha256 (its sha256sum, or the file read back);
                   * false when it could not (a copy out of a guest without sha256sum, e.g.
                   * Windows: then only the transfer itself was hashed) */
} pvm_copy_result;

/* Whether path (absolute) is an existing folder in a POSIX guest (one open, a 1-byte read
 * that fails with EISDIR, a close); false when absent, unreadable, or on Windows. */
/* A guest file that an install would replace, moved aside first (a hidden name in its
 * folder, into keep, size bytes): 1 moved (keep names it), 0 nothing at path (keep ""),
 * -1 it could not be moved (err; nothing changed). put_back moves keep back over path
 * (best effort; keep "" does nothing); remove deletes a guest file (best effort). */
int pvm_agent_set_aside(pvm_agent *a, const char *path, char *keep, size_t size,
                        pvm_error *err);
void pvm_agent_put_back(pvm_agent *a, const char *keep, const char *path);
void pvm_agent_remove(pvm_agent *a, const char *path);
bool pvm_agent_guest_is_dir(pvm_agent *a, const char *path);
/* Copies the regular host file host_path to guest_path (absolute; ending in '/', or an
 * existing folder in a POSIX guest: the host file's name inside it), streamed in chunks of
 * at most 1 MiB: written to a temporary name beside it, checked, then renamed. On any
 * failure, timeout (timeout_ms < 0: none) or cancel the temporary file is removed. */
int pvm_agent_copy_in(pvm_agent *a, const char *host_path, const char *guest_path,
                      int timeout_ms, const pvm_progress *progress, pvm_copy_result *r,
                      pvm_error *err);
/* Copies guest_path out to host_path (a file name, or an existing folder: then the guest
 * file's base name inside it), through a temporary file beside it renamed when complete
 * and checked; nothing is left behind on failure. An existing host file keeps its
 * permission bits (a new one gets 0666 less the umask). */
int pvm_agent_copy_out(pvm_agent *a, const char *guest_path, const char *host_path,
                       int timeout_ms, const pvm_progress *progress, pvm_copy_result *r,
                       pvm_error *err);

/* ------------------------------------------------------ installs (install.c) */

/* What `install` does with a file, chosen by its type and the guest's OS (installer.c):
 * where the file goes and the installer's argv (argv[0] NULL: copy only). Pure. */
#define PVM_PLAN_ARGS 10
typedef struct pvm_install_plan {
    char guest_path[1024];  /* where the file is copied */
    char dest[1024];        /* tar: the folder it is extracted into; else "" */
    const char *kind;       /* "deb", "rpm", "apk", "pkg", "sh", "tar", "msi", "exe", "file", "run" */
    int argc;
    char *argv[PVM_PLAN_ARGS + 1]; /* malloc'd strings, NULL-terminated */
} pvm_install_plan;
/* file_name: the host file's base name; to: --to (NULL: the default, /tmp/NAME or
 * C:\Windows\Temp\NAME; a folder for archives, default /opt); run: --run (NULL: the
 * type's installer), where {} stands for the guest path (passed as an argument, never
 * spliced into a shell text). Bad names or paths -> PVM_E_INVALID naming "--to"/"FILE". */
int pvm_install_plan_make(const char *file_name, bool windows, const char *to, const char *run,
                          pvm_install_plan *plan, pvm_error *err);
void pvm_install_plan_free(pvm_install_plan *plan);

typedef struct pvm_install_opts {
    const char *to;   /* NULL: default */
    const char *run;  /* NULL: the type's installer */
    int timeout_ms;   /* the whole install; <= 0: 30 minutes */
} pvm_install_opts;

/* One install kept in the store (only complete, successful ones are recorded). */
typedef struct pvm_install {
    char id[PVM_UUID_LEN + 1];
    char vm_id[PVM_UUID_LEN + 1];
    char file[256];        /* the host file's base name */
    char guest_path[1024];
    uint64_t bytes;
    char sha256[65];
    char command[2048];    /* the installer's argv joined by spaces, "" for copy only */
    int status;            /* the installer's exit status */
    char output[4096];     /* the tail of its standard output and error */
    int64_t at;            /* Unix seconds */
} pvm_install;

/* Copies file into the running VM and runs its installer (pvm_install_plan_make); on
 * success records it (out, may be NULL, gets the record). The installer's exit status
 * other than 0 is PVM_E_STATE with its output; nothing is recorded and the copied file
 * is removed on any failure. r (may be NULL) receives the installer's output. --to and
 * --run are checked first, before the VM is reached (PVM_E_INVALID naming "to"/"run"/"FILE"
 * when no guest OS would accept them). */
int pvm_app_install(pvm_engine *e, const char *vm, const char *file, const pvm_install_opts *o,
                    const pvm_progress *progress, pvm_install *out, pvm_exec_result *r,
                    pvm_error *err);
/* What pvm_app_install checks before it reaches the VM, plus the host file itself (a
 * readable regular file, field "FILE"): the TUI's install form checks with it. */
int pvm_install_check(const char *file, const pvm_install_opts *o, pvm_error *err);
/* The VM's recorded installs, oldest first (*out malloc'd, free()). */
int pvm_install_list(pvm_engine *e, const char *vm, pvm_install **out, size_t *count,
                     pvm_error *err);

/* Reads a small guest file whole (at most max bytes; more is PVM_E_QEMU) into *buf
 * (malloc'd, NUL after *len). */
int pvm_agent_read_file(pvm_agent *a, const char *guest_path, size_t max, unsigned char **buf,
                        size_t *len, pvm_error *err);

/* ------------------------------------------------------------- audit (audit.c)
 * What the guest itself sees of its identity, read through the agent, next to the
 * profile, with every virtualization mark (the one table in profile/marks.c). */
typedef struct pvm_audit_item {
    char what[96];        /* "dmi sys_vendor", "nic eth0 mac", "pci 0000:00:02.0 vendor" ... */
    char guest[160];      /* what the guest read ("" when the file is absent) */
    char expected[160];   /* the profile's value, "" when not compared */
    char started[160];    /* edited: the value the running VM started with (and wears) */
    bool edited;          /* the profile's value was edited since the VM started */
    bool mismatch;        /* expected given and guest differs */
    bool nocase;          /* guest was compared case-blind (vendor words); serials, MACs and
                           * ids are compared exactly */
    const char *mark;     /* the mark's description (static), NULL when none */
} pvm_audit_item;

typedef struct pvm_audit {
    pvm_audit_item *items; /* malloc'd, n of them, in reading order */
    size_t n;
    int mismatches, marks;
    int edited;               /* of the mismatches, those where the guest shows the value the
                               * VM started with: profile edits waiting for its next start */
    char edited_fields[512];  /* the identity fields edited since the start (JSON keys, ", "
                               * joined; pvm_profile_identity_diff), "" when none */
} pvm_audit;

/* One item's verdict in words, as `vm audit` and the TUI show it: "ok", "MISMATCH", the
 * mark's description, and for an edit the VM does not wear yet what it wears instead. */
void pvm_audit_verdict(const pvm_audit_item *it, char *out, size_t size);

/* Reads /sys/class/dmi/id/, /sys/firmware/dmi/tables/DMI (strings and the type 0 VM bit),
 * the NICs' MACs, disks' serials and models, /proc/cpuinfo's brand and hypervisor flag,
 * the ACPI tables' ids and the PCI vendor ids in the running (Linux) guest, and each
 * display adapter's vendor:device ("pci SLOT display", marked when it is QEMU's: Bochs
 * VGA 1234:1111, QXL 1b36:0100, virtio-gpu 1af4:1050). Each identity reading is compared
 * with the profile as stored; after a `profile edit` while the VM runs the guest still wears
 * the identity of its start (pvm_vm_identity), so an edited value is a mismatch whose item
 * keeps the started value (edited, started), the thread mark follows the started CPU. Free
 * with pvm_audit_free. Windows guests: PVM_E_STATE. */
int pvm_vm_audit(pvm_engine *e, const char *name_or_id, pvm_audit *out, pvm_error *err);
void pvm_audit_free(pvm_audit *a);

#endif
