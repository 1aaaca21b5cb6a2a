/* cmd_doctor.c - `privarion-vm doctor`: what this host offers (QEMU version,
 * acceleration verdict and why, cores, memory, caps, data folder, config file)
 * and each problem with its fix. Exit 1 when there is a problem. Called by main.c. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pvm_opt pvm_doctor_opts[] = {
    {"json", 0, false, NULL, "print JSON instead of text"},
};

static void pvm_doctor_help(void)
{
    printf("usage: " PVM_PROG " doctor [--json]\n\n"
           "Check this host: QEMU and qemu-img, acceleration (KVM or TCG, and why), host cores\n"
           "and memory, the caps on vCPUs and memory, the data folder, the config file, and\n"
           "whether the stealth QEMU (" PVM_PROG " qemu build) is built for the installed QEMU.\n"
           "Each problem is printed with its fix; the exit status is 1 when there is one.\n"
           "\nOptions:\n");
    pvm_args_print_help(stdout, pvm_doctor_opts, 1);
}

static void pvm_doctor_text(const pvm_doctor *d)
{
    char buf[320], m[32];
    const int w = 14;
    snprintf(buf, sizeof buf, "%s %s", d->qemu, d->qemu_version[0] ? d->qemu_version : "(missing)");
    pvm_out_field(stdout, 0, w, "QEMU", buf);
    pvm_out_field(stdout, 0, w, "qemu-img", d->qemu_img ? "found" : "(missing)");
    /* The reason starts with the verdict ("tcg: a test boot ..."): say it once. */
    const char *why = d->accel_reason, *verdict = d->accel[0] ? d->accel : "unknown";
    size_t vlen = strlen(verdict);
    if (!strncmp(why, verdict, vlen) && !strncmp(why + vlen, ": ", 2))
        why += vlen + 2;
    snprintf(buf, sizeof buf, "%s (setting: %s): %s", verdict, d->accel_setting, why);
    pvm_out_field(stdout, 0, w, "Acceleration", buf);
    snprintf(buf, sizeof buf, "%d cores, %s memory", d->host_cores,
             pvm_size_format(d->host_memory, m, sizeof m));
    pvm_out_field(stdout, 0, w, "Host", buf);
    snprintf(buf, sizeof buf, "%d host core%s (CPU %s: every VM's QEMU is pinned there, "
             "whatever vCPUs it shows), %s memory (one VM, and all running VMs together)",
             d->max_cpus, d->max_cpus == 1 ? "" : "s", d->cpu_share,
             pvm_size_format(d->max_memory, m, sizeof m));
    pvm_out_field(stdout, 0, w, "Caps", buf);
    snprintf(buf, sizeof buf, "%.280s%s", d->home, d->home_writable ? "" : " (not writable)");
    pvm_out_field(stdout, 0, w, "Data folder", buf);
    pvm_out_field(stdout, 0, w, "Config", d->config);
    snprintf(buf, sizeof buf, "%s (setting: %s): %.260s", d->stealth_built ? "yes" : "no",
             d->qemu_stealth, d->stealth_note);
    pvm_out_field(stdout, 0, w, "Stealth QEMU", buf);
    for (size_t i = 0; i < d->npieces; i++) /* label once, then aligned under it */
        printf("%-*s %-7s %s (%s)\n", w + 1, i ? "" : "Real guests:",
               d->pieces[i].present ? "found" : "MISSING", d->pieces[i].path, d->pieces[i].what);
    if (!d->nproblems) {
        printf("\nNo problems found.\n");
        return;
    }
    printf("\nProblems:\n");
    for (size_t i = 0; i < d->nproblems; i++)
        printf("  - %s\n    fix: %s\n", d->problems[i].what, d->problems[i].fix);
}

static int pvm_doctor_json(const pvm_doctor *d, pvm_error *err)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "qemu", d->qemu);
    cJSON_AddStringToObject(j, "qemuVersion", d->qemu_version);
    cJSON_AddBoolToObject(j, "qemuImg", d->qemu_img);
    cJSON_AddStringToObject(j, "accelSetting", d->accel_setting);
    cJSON_AddStringToObject(j, "accel", d->accel);
    cJSON_AddStringToObject(j, "accelReason", d->accel_reason);
    cJSON_AddNumberToObject(j, "hostCores", d->host_cores);
    cJSON_AddNumberToObject(j, "hostMemoryBytes", (double)d->host_memory);
    cJSON_AddNumberToObject(j, "maxCpus", d->max_cpus);
    cJSON_AddStringToObject(j, "cpuShare", d->cpu_share);
    cJSON_AddNumberToObject(j, "maxMemoryBytes", (double)d->max_memory);
    cJSON_AddStringToObject(j, "home", d->home);
    cJSON_AddBoolToObject(j, "homeWritable", d->home_writable);
    cJSON_AddStringToObject(j, "config", d->config);
    cJSON_AddStringToObject(j, "qemuStealth", d->qemu_stealth);
    cJSON_AddBoolToObject(j, "stealthBuilt", d->stealth_built);
    cJSON_AddStringToObject(j, "stealthNote", d->stealth_note);
    cJSON *pieces = cJSON_AddArrayToObject(j, "realGuestPieces");
    for (size_t i = 0; i < d->npieces; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "for", d->pieces[i].what);
        cJSON_AddStringToObject(p, "path", d->pieces[i].path);
        cJSON_AddBoolToObject(p, "present", d->pieces[i].present);
        cJSON_AddItemToArray(pieces, p);
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "problems");
    for (size_t i = 0; i < d->nproblems; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "problem", d->problems[i].what);
        cJSON_AddStringToObject(p, "fix", d->problems[i].fix);
        cJSON_AddItemToArray(arr, p);
    }
    int rc = pvm_out_json(stdout, j, err);
    cJSON_Delete(j);
    return rc;
}

int pvm_cli_doctor(pvm_cli *cli, int argc, char **argv)
{
    pvm_error err = {0};
    pvm_args a;
    if (pvm_args_parse(&a, pvm_doctor_opts, 1, argc - 1, argv + 1, "doctor", &err) < 0) {
        pvm_args_free(&a);
        return pvm_out_error(&err);
    }
    int status = 0;
    pvm_doctor d;
    if (a.help) {
        pvm_doctor_help();
    } else if (a.npos) {
        status = pvm_out_usage(&err, "doctor: unexpected argument '%s'", a.pos[0]);
    } else if (pvm_doctor_run(cli->home_flag, &d, &err) < 0) {
        status = pvm_out_error(&err);
    } else {
        if (pvm_args_given(&a, "json") ? pvm_doctor_json(&d, &err) < 0 : (pvm_doctor_text(&d), 0))
            status = pvm_out_error(&err);
        else if (d.nproblems)
            status = 1;
    }
    pvm_args_free(&a);
    return status;
}
