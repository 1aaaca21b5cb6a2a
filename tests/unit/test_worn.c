/* test_worn.c - unit tests of the words front ends share about a VM's identity: the mark
 * warning of a stored profile (marks.c pvm_profile_mark_text, the CLI's and the TUI form's),
 * the identity fields edited since a start (vm_identity.c pvm_profile_identity_diff) and an
 * audit item's verdict after such an edit (audit.c pvm_audit_verdict). Run by tests/run
 * (plain and ASan+UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../engine/pvm.h"

static void profile(pvm_profile *p)
{
    pvm_error err = {0};
    pvm_profile_init(p);
    assert_int_equal(pvm_profile_set_name(p, "rnd", &err), 0);
    assert_int_equal(pvm_profile_set(p, pvm_profile_field_by_key("macAddress"),
                                     "a4:bb:6d:12:34:56", &err), 0);
    assert_int_equal(pvm_profile_set(p, pvm_profile_field_by_key("serialNumber"), "S1", &err), 0);
}

static void test_mark_text(void **state)
{
    (void)state;
    pvm_profile p;
    pvm_error err = {0};
    char out[512];
    profile(&p);
    assert_int_equal(pvm_profile_field_mark_text(&p, "macAddress", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(pvm_profile_set(&p, pvm_profile_field_by_key("macAddress"),
                                     "52:54:00:12:34:56", &err), 0);
    assert_int_equal(pvm_profile_field_mark_text(&p, "macAddress", out, sizeof out), 1);
    assert_string_equal(out, "macAddress (--mac): \"52:54:00:12:34:56\" is QEMU/KVM's MAC prefix "
                             "52:54:00, a virtualization mark the guest can read (profile 'rnd'; "
                             "vm start refuses it unless --allow-vm-marks)");
    /* another field asked for: none there, though the profile carries one */
    assert_int_equal(pvm_profile_field_mark_text(&p, "serialNumber", out, sizeof out), 1);
    assert_string_equal(out, "");
    /* any field (NULL) gives the first; a visible hypervisor: no refusal promised */
    p.hide_hypervisor = false;
    assert_int_equal(pvm_profile_field_mark_text(&p, NULL, out, sizeof out), 1);
    assert_null(strstr(out, "refuses"));
    assert_non_null(strstr(out, "(profile 'rnd')"));
    /* the whole-list form gives the same words */
    pvm_profile_mark m[4];
    assert_int_equal(pvm_profile_marks(&p, m, 4), 1);
    char again[512];
    pvm_profile_mark_text(&p, &m[0], again, sizeof again);
    assert_string_equal(again, out);
}

static void test_identity_diff(void **state)
{
    (void)state;
    pvm_profile worn, now;
    pvm_error err = {0};
    char out[256];
    profile(&worn);
    now = worn;
    pvm_profile_identity_diff(&worn, &now, out, sizeof out);
    assert_string_equal(out, "");
    assert_int_equal(pvm_profile_set(&now, pvm_profile_field_by_key("serialNumber"), "S2", &err), 0);
    assert_int_equal(pvm_profile_set(&now, pvm_profile_field_by_key("cpuThreads"), "2", &err), 0);
    now.hide_hypervisor = !worn.hide_hypervisor;
    pvm_strlcpy(now.name, "renamed", sizeof now.name); /* no identity field */
    pvm_profile_identity_diff(&worn, &now, out, sizeof out);
    assert_string_equal(out, "cpuThreads, serialNumber, hideHypervisor");
    char tiny[8]; /* cut, never overrun */
    pvm_profile_identity_diff(&worn, &now, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

static void test_verdict(void **state)
{
    (void)state;
    pvm_audit_item it;
    char out[300];
    memset(&it, 0, sizeof it);
    strcpy(it.expected, "EDITED");
    strcpy(it.guest, "OLD");
    strcpy(it.started, "OLD");
    it.edited = it.mismatch = true;
    pvm_audit_verdict(&it, out, sizeof out);
    assert_non_null(strstr(out, "MISMATCH: profile edited since the VM started"));
    /* a serial (compared exactly) that differs from the started one in case only: another
     * value, a plain mismatch; a vendor word (compared case-blind): the edit */
    strcpy(it.guest, "old");
    pvm_audit_verdict(&it, out, sizeof out);
    assert_string_equal(out, "MISMATCH");
    it.nocase = true;
    pvm_audit_verdict(&it, out, sizeof out);
    assert_non_null(strstr(out, "MISMATCH: profile edited since the VM started"));
    it.nocase = false;
    /* the guest shows neither: a plain mismatch, not the edit */
    strcpy(it.guest, "THIRD");
    pvm_audit_verdict(&it, out, sizeof out);
    assert_string_equal(out, "MISMATCH");
    it.mark = "QEMU's word";
    pvm_audit_verdict(&it, out, sizeof out);
    assert_string_equal(out, "MISMATCH; QEMU's word");
    it.mismatch = false;
    it.mark = NULL;
    pvm_audit_verdict(&it, out, sizeof out);
    assert_string_equal(out, "ok");
    it.expected[0] = '\0';
    pvm_audit_verdict(&it, out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mark_text),
        cmocka_unit_test(test_identity_diff),
        cmocka_unit_test(test_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
