/* cmd_snapshot.c - `privarion-vm snapshot create|list|show|restore|delete`: snapshots with
 * memory state through engine/snapshot.c; the reconciliation's notes on stderr, progress
 * lines on a terminal, Ctrl-C asks the running QEMU job to cancel. Called by main.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PVM_N(a) (sizeof(a) / sizeof((a)[0]))

static const pvm_opt pvm_snap_create_opts[] = {
    {"disk-only", 0, false, NULL, "no memory state, even of a running VM"},
    {"json", 0, false, NULL, "print the new snapshot as JSON"},
};
static const pvm_opt pvm_snap_json_opts[] = {
    {"json", 0, false, NULL, "print JSON instead of text"},
};
static const pvm_opt pvm_snap_restore_opts[] = {
    {"force", 'f', false, NULL, "restore even though the identity the VM wears (or, without "
                               "a memory state, the VM's devices) changed since"},
};

/* ------------------------------------------------------------- progress */


typedef struct pvm_snap_ui {
    pvm_cli *cli;
    bool tty;
    char last[96];
} pvm_snap_ui;

/* A step line on a terminal when the step changes (with its percentage when known);
 * the tracer's line with PRIVARION_VM_TRACE. */
static void pvm_snap_report(void *ctx, const char *step, double fraction)
{
    pvm_snap_ui *ui = ctx;
    pvm_cli_trace(ui->cli, step);
    if (!ui->tty)
        return;
    char line[sizeof ui->last];
    if (fraction >= 0)
        snprintf(line, sizeof line, "%s (%d%%)", step, (int)(fraction * 100 + 0.5));
    else
        snprintf(line, sizeof line, "%s", step);
    if (strcmp(line, ui->last) != 0)
        fprintf(stderr, "%s\n", line);
    pvm_strlcpy(ui->last, line, sizeof ui->last);
}

/* SIGINT/SIGTERM/SIGHUP write to the cancel pipe the engine polls. */
static pvm_progress pvm_snap_progress(pvm_snap_ui *ui)
{
    return (pvm_progress){pvm_cli_cancel_fd(), pvm_snap_report, ui};
}

static void pvm_snap_notes_print(const pvm_snapshot_notes *n)
{
    for (size_t i = 0; i < n->n; i++)
        pvm_out_note("%s", n->line[i]);
    if (n->dropped)
        pvm_out_note("and %zu more changes of the snapshot list", n->dropped);
}

/* ---------------------------------------------------------------- output */

static const char *pvm_snap_size(const pvm_snapshot *s, char *buf, size_t size)
{
    return s->memory ? pvm_size_format(s->vmstate_bytes, buf, size) : "-";
}

/* The guest clock as H:MM:SS.mmm. */
static const char *pvm_snap_clock(uint64_t ns, char *buf, size_t size)
{
    uint64_t ms = ns / 1000000;
    snprintf(buf, size, "%llu:%02llu:%02llu.%03llu", (unsigned long long)(ms / 3600000),
             (unsigned long long)(ms / 60000 % 60), (unsigned long long)(ms / 1000 % 60),
             (unsigned long long)(ms % 1000));
    return buf;
}

static cJSON *pvm_snap_json(pvm_engine *e, const pvm_vm *vm, const pvm_snapshot *s)
{
    char disk[PVM_PATH_MAX] = "";
    pvm_error ignored = {0};
    pvm_vm_path(e, vm, PVM_VM_PATH_DISK, disk, sizeof disk, &ignored);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", s->id);
    cJSON_AddStringToObject(j, "vmID", s->vm_id);
    cJSON_AddStringToObject(j, "vm", vm->name);
    cJSON_AddStringToObject(j, "tag", s->tag);
    cJSON_AddNumberToObject(j, "createdAt", (double)s->created_at);
    cJSON_AddBoolToObject(j, "memory", s->memory);
    cJSON_AddNumberToObject(j, "memoryStateBytes", (double)s->vmstate_bytes);
    cJSON_AddNumberToObject(j, "vmClockNs", (double)s->vm_clock_ns);
    cJSON_AddStringToObject(j, "diskImagePath", disk);
    /* internal snapshots: the memory state lives in the qcow2's vmstate area */
    if (s->memory)
        cJSON_AddStringToObject(j, "memoryStatePath", disk);
    else
        cJSON_AddNullToObject(j, "memoryStatePath");
    cJSON_AddStringToObject(j, "memoryStateLocation",
                            s->memory ? "internal: inside diskImagePath (qcow2 vmstate)" : "none");
    cJSON_AddStringToObject(j, "profileID", s->profile_id);
    cJSON_AddStringToObject(j, "fingerprint", s->fingerprint);
    cJSON *id = s->identity[0] ? cJSON_Parse(s->identity) : NULL;
    if (id)
        cJSON_AddItemToObject(j, "identity", id);
    else
        cJSON_AddNullToObject(j, "identity");
    cJSON_AddStringToObject(j, "devices", s->devices);
    cJSON_AddBoolToObject(j, "adopted", s->adopted);
    return j;
}

/* One recorded value of the identity ctx (a snapshot's record, pvm_snapshot_identity_json,
 * a cJSON object); "not recorded" for a key an older record lacks. */
static const char *pvm_snap_id_value(void *ctx, const pvm_field *f)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx, f ? f->key : "hideHypervisor");
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "yes" : "no";
    return "not recorded (an older snapshot)";
}

/* The fields of the snapshot's identity record, labelled and grouped as `profile show`
 * prints a profile: what the VM wore when it was taken (the fingerprint hashes them). */
static void pvm_snap_identity_text(const pvm_snapshot *s)
{
    cJSON *o = s->identity[0] ? cJSON_Parse(s->identity) : NULL;
    if (!cJSON_IsObject(o)) {
        if (!s->adopted)
            printf("\nRecorded identity: unreadable (the store's record is no JSON object)\n");
        cJSON_Delete(o);
        return;
    }
    /* labelled and laid out as `profile show` prints a profile */
    pvm_out_identity(stdout, "Recorded identity (what the VM wore when the snapshot was taken)",
                     "Recorded hardware model", true, pvm_snap_id_value, o);
    cJSON_Delete(o);
}

static void pvm_snap_text(pvm_engine *e, const pvm_vm *vm, const pvm_snapshot *s)
{
    char when[64], size[32], clock[32], disk[PVM_PATH_MAX] = "";
    pvm_error ignored = {0};
    pvm_vm_path(e, vm, PVM_VM_PATH_DISK, disk, sizeof disk, &ignored);
    const int w = 12;
    pvm_out_field(stdout, 0, w, "Tag", s->tag);
    pvm_out_field(stdout, 0, w, "VM", vm->name);
    pvm_out_field(stdout, 0, w, "Id", s->id);
    pvm_out_field(stdout, 0, w, "Taken", pvm_out_time(s->created_at, when, sizeof when));
    pvm_out_field(stdout, 0, w, "Memory", s->memory ? "yes" : "no (disk only)");
    pvm_out_field(stdout, 0, w, "State size", pvm_snap_size(s, size, sizeof size));
    pvm_out_field(stdout, 0, w, "VM clock", pvm_snap_clock(s->vm_clock_ns, clock, sizeof clock));
    pvm_out_field(stdout, 0, w, "Disk image", disk);
    pvm_out_field(stdout, 0, w, "State in", s->memory ? "the disk image (qcow2 internal)" : "-");
    char hash[64];
    snprintf(hash, sizeof hash, "%s (hash of the fields below)", s->fingerprint);
    pvm_out_field(stdout, 0, w, "Identity", s->adopted ? "unknown (made outside privarion-vm)"
                                                        : hash);
    pvm_out_field(stdout, 0, w, "Devices", s->devices);
    pvm_snap_identity_text(s);
}

/* ---------------------------------------------------------------- commands */

/* The engine and the VM (for its name and disk path in output): the store's row, no
 * state read; the engine's snapshot calls read it under the VM's lock. */
static pvm_engine *pvm_snap_engine(pvm_cli *cli, const char *name, pvm_vm *vm, pvm_error *err)
{
    pvm_engine *e = pvm_cli_engine(cli, err);
    if (!e || pvm_vm_find(e, name, vm, err) < 0)
        return NULL;
    return e;
}

static int pvm_snap_create_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    const char *tag = a->npos > 1 ? a->pos[1] : NULL;
    if (tag && pvm_snapshot_tag_check(tag, err) < 0)
        return -1;
    pvm_vm vm;
    pvm_engine *e = pvm_snap_engine(cli, a->pos[0], &vm, err);
    if (!e)
        return -1;
    pvm_snap_ui ui = {.cli = cli, .tty = isatty(2) == 1};
    pvm_progress p = pvm_snap_progress(&ui);
    pvm_snapshot_opts o = {.disk_only = pvm_args_given(a, "disk-only")};
    pvm_snapshot_notes notes = {0};
    pvm_snapshot *s = pvm_xcalloc(1, sizeof *s);
    int rc = pvm_snapshot_create(e, vm.name, tag, &o, &p, s, &notes, err);
    pvm_snap_notes_print(&notes);
    if (rc == 0 && pvm_args_given(a, "json")) {
        cJSON *j = pvm_snap_json(e, &vm, s);
        rc = pvm_out_json(stdout, j, err);
        cJSON_Delete(j);
    } else if (rc == 0) {
        char size[32];
        printf("snapshot '%s' of VM '%s' taken (%s%s%s)\n", s->tag, vm.name,
               s->memory ? "memory state " : "disk only",
               s->memory ? pvm_size_format(s->vmstate_bytes, size, sizeof size) : "",
               s->memory ? " and disk" : "");
    }
    free(s);
    return rc;
}

static int pvm_snap_list_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    pvm_vm vm;
    pvm_engine *e = pvm_snap_engine(cli, a->pos[0], &vm, err);
    pvm_snapshot *list = NULL;
    size_t n = 0;
    pvm_snapshot_notes notes = {0};
    if (!e || pvm_snapshot_list(e, vm.name, &list, &n, &notes, err) < 0) {
        pvm_snap_notes_print(&notes);
        return -1;
    }
    pvm_snap_notes_print(&notes);
    int rc = 0;
    if (pvm_args_given(a, "json")) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, pvm_snap_json(e, &vm, &list[i]));
        rc = pvm_out_json(stdout, arr, err);
        cJSON_Delete(arr);
    } else {
        const char *h[] = {"TAG", "TAKEN", "MEMORY", "STATE SIZE", "VM CLOCK", "IDENTITY"};
        pvm_table *t = pvm_table_new(6, h);
        for (size_t i = 0; i < n; i++) {
            char when[64], size[32], clock[32];
            const char *row[] = {list[i].tag, pvm_out_time(list[i].created_at, when, sizeof when),
                                 list[i].memory ? "yes" : "no",
                                 pvm_snap_size(&list[i], size, sizeof size),
                                 pvm_snap_clock(list[i].vm_clock_ns, clock, sizeof clock),
                                 list[i].adopted ? "unknown" : list[i].fingerprint};
            pvm_table_add(t, row);
        }
        if (n)
            pvm_table_print(t, stdout);
        else
            printf("VM '%s' has no snapshots\n", vm.name);
        pvm_table_free(t);
    }
    free(list);
    return rc;
}

static int pvm_snap_show_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    if (pvm_snapshot_tag_check(a->pos[1], err) < 0)
        return -1;
    pvm_vm vm;
    pvm_engine *e = pvm_snap_engine(cli, a->pos[0], &vm, err);
    pvm_snapshot *s = pvm_xcalloc(1, sizeof *s);
    pvm_snapshot_notes notes = {0};
    int rc = e ? pvm_snapshot_get(e, vm.name, a->pos[1], s, &notes, err) : -1;
    pvm_snap_notes_print(&notes);
    if (rc == 0 && pvm_args_given(a, "json")) {
        cJSON *j = pvm_snap_json(e, &vm, s);
        rc = pvm_out_json(stdout, j, err);
        cJSON_Delete(j);
    } else if (rc == 0) {
        pvm_snap_text(e, &vm, s);
    }
    free(s);
    return rc;
}

static int pvm_snap_restore_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    if (pvm_snapshot_tag_check(a->pos[1], err) < 0)
        return -1;
    pvm_vm vm;
    pvm_engine *e = pvm_snap_engine(cli, a->pos[0], &vm, err);
    if (!e)
        return -1;
    pvm_snap_ui ui = {.cli = cli, .tty = isatty(2) == 1};
    pvm_progress p = pvm_snap_progress(&ui);
    pvm_snapshot_opts o = {.force = pvm_args_given(a, "force")};
    pvm_snapshot_notes notes = {0};
    int rc = pvm_snapshot_restore(e, vm.name, a->pos[1], &o, &p, &notes, err);
    pvm_snap_notes_print(&notes);
    if (rc == 0)
        printf("VM '%s' restored to snapshot '%s'%s\n", vm.name, a->pos[1],
               notes.started ? "; it was stopped and runs now (a memory snapshot brings the "
                               "guest back running)" : "");
    return rc;
}

static int pvm_snap_delete_cmd(pvm_cli *cli, const pvm_args *a, pvm_error *err)
{
    if (pvm_snapshot_tag_check(a->pos[1], err) < 0)
        return -1;
    pvm_vm vm;
    pvm_engine *e = pvm_snap_engine(cli, a->pos[0], &vm, err);
    if (!e)
        return -1;
    pvm_snap_ui ui = {.cli = cli, .tty = isatty(2) == 1};
    pvm_progress p = pvm_snap_progress(&ui);
    pvm_snapshot_notes notes = {0};
    int rc = pvm_snapshot_delete(e, vm.name, a->pos[1], &p, &notes, err);
    pvm_snap_notes_print(&notes);
    if (rc == 0)
        printf("snapshot '%s' of VM '%s' deleted\n", a->pos[1], vm.name);
    return rc;
}

static const char pvm_snap_tag_rule[] =
    "TAG: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, not\n"
    "digits only, unique per VM. Without TAG a time-based one is made (snap-YYYYMMDD-HHMMSS,\n"
    "UTC).";

static const pvm_sub pvm_snap_subs[] = {
    {"create", "VM [TAG] [--disk-only] [--json]", "take a snapshot: memory state and disk of "
     "a running VM (QMP snapshot-save), the disk of a stopped one (qemu-img snapshot)",
     pvm_snap_tag_rule, pvm_snap_create_opts, PVM_N(pvm_snap_create_opts), NULL, 1, 2, "VM",
     pvm_snap_create_cmd, NULL},
    {"list", "VM [--json]", "list a VM's snapshots: tag, time, memory, state size, VM clock, "
     "identity", NULL, pvm_snap_json_opts, 1, NULL, 1, 1, "VM", pvm_snap_list_cmd, NULL},
    {"show", "VM TAG [--json]", "show one snapshot (id, vmID, diskImagePath, memoryStatePath) "
     "and the identity it recorded",
     "The identity the VM wore when the snapshot was taken (SMBIOS system, board, chassis\n"
     "and BIOS strings, UUID, MAC, serials, disk serial, CPU brand and topology), field by\n"
     "field as 'profile show' labels them, with its hash (the Identity line, --json\n"
     "fingerprint; the fields are --json identity). A snapshot made outside privarion-vm\n"
     "has none.", pvm_snap_json_opts, 1, NULL, 2, 2, "VM and TAG", pvm_snap_show_cmd, NULL},
    {"restore", "VM TAG [--force]", "bring the VM back to the snapshot: in place when it runs; "
     "a stopped VM starts paused, loads the memory state and resumes",
     "A snapshot without memory state needs a stopped VM. A snapshot taken with another\n"
     "identity than the VM wears (a running VM: the one it started with, whatever profile\n"
     "edit did since; a stopped VM: its profile now) or, disk only, other devices is\n"
     "refused unless --force; a memory restore brings the snapshot's identity back into\n"
     "the guest until its next start. One with memory\n"
     "state cannot load into other devices, not even with --force: the refusal says\n"
     "what brings them back (agent_channel, qemu build, a vm edit option). The devices are\n"
     "what QEMU's memory state depends on: vCPUs and topology, CPU model, memory, disk\n"
     "bus, NIC and its ROM, network, CD-ROM, display, firmware, TPM, the agent's channel\n"
     "and the stealth QEMU with its ids; the refusal names each change.",
     pvm_snap_restore_opts, PVM_N(pvm_snap_restore_opts), NULL, 2, 2, "VM and TAG",
     pvm_snap_restore_cmd, NULL},
    {"delete", "VM TAG", "delete a snapshot from the disk image and the list", NULL, NULL, 0,
     NULL, 2, 2, "VM and TAG", pvm_snap_delete_cmd, NULL},
};

static void pvm_snap_help(const pvm_sub_group *g)
{
    (void)g;
    printf("usage: " PVM_PROG " snapshot SUBCOMMAND VM [ARGS...]\n\n"
           "Snapshots inside the VM's qcow2 disk image. Of a running VM they hold its memory\n"
           "state too: a restore brings the guest back to that exact moment, its processes\n"
           "and counters. Each remembers the profile identity and device set it was taken\n"
           "with. Before every snapshot command the list is checked against the disk image:\n"
           "snapshots deleted or made with qemu-img behind privarion-vm's back are noted and\n"
           "the list follows the image.\n\nSubcommands:\n");
    for (size_t i = 0; i < PVM_N(pvm_snap_subs); i++)
        printf("  %-8s %s\n", pvm_snap_subs[i].name, pvm_snap_subs[i].summary);
    printf("\n%s\n\nRun '" PVM_PROG " snapshot SUBCOMMAND --help' for its options.\n",
           pvm_snap_tag_rule);
}

static const pvm_sub_group pvm_snap_group = {"snapshot", pvm_snap_subs, PVM_N(pvm_snap_subs),
                                             pvm_snap_help};

int pvm_cli_snapshot(pvm_cli *cli, int argc, char **argv)
{
    return pvm_sub_dispatch(cli, &pvm_snap_group, argc, argv);
}
