/* fields.c - the profile field table: the one description of every identity
 * field (JSON key, CLI flag, SQL column, kind, storage). Part of the base layer:
 * used by the store (db/), validation, JSON and the command line alike. */
#include "pvm.h"

#include <stddef.h>
#include <string.h>

#define HW(member) offsetof(pvm_profile, hw.member), sizeof(((pvm_profile *)0)->hw.member)
#define TOP(member) offsetof(pvm_profile, member), sizeof(((pvm_profile *)0)->member)

static const pvm_field pvm_fields[] = {
    {"manufacturer", "manufacturer", "manufacturer", true, PVM_FK_TEXT, HW(manufacturer)},
    {"product", "product", "product", true, PVM_FK_TEXT, HW(product)},
    {"version", "version", "version", true, PVM_FK_TEXT, HW(version)},
    {"family", "family", "family", true, PVM_FK_TEXT, HW(family)},
    {"sku", "sku", "sku", true, PVM_FK_TEXT, HW(sku)},
    {"boardManufacturer", "board-manufacturer", "board_manufacturer", true, PVM_FK_TEXT,
     HW(board_manufacturer)},
    {"boardProduct", "board-product", "board_product", true, PVM_FK_TEXT, HW(board_product)},
    {"boardVersion", "board-version", "board_version", true, PVM_FK_TEXT, HW(board_version)},
    {"boardSerial", "board-serial", "board_serial", true, PVM_FK_TEXT, HW(board_serial)},
    {"chassisManufacturer", "chassis-manufacturer", "chassis_manufacturer", true, PVM_FK_TEXT,
     HW(chassis_manufacturer)},
    {"chassisSerial", "chassis-serial", "chassis_serial", true, PVM_FK_TEXT, HW(chassis_serial)},
    {"chassisAsset", "chassis-asset", "chassis_asset", true, PVM_FK_TEXT, HW(chassis_asset)},
    {"biosVendor", "bios-vendor", "bios_vendor", true, PVM_FK_TEXT, HW(bios_vendor)},
    {"biosVersion", "bios-version", "bios_version", true, PVM_FK_TEXT, HW(bios_version)},
    {"biosDate", "bios-date", "bios_date", true, PVM_FK_DATE, HW(bios_date)},
    {"cpuModel", "cpu-model", "cpu_model", true, PVM_FK_TEXT, HW(cpu_model)},
    {"cpuManufacturer", "cpu-manufacturer", "cpu_manufacturer", true, PVM_FK_TEXT,
     HW(cpu_manufacturer)},
    {"memoryManufacturer", "memory-manufacturer", "memory_manufacturer", true, PVM_FK_TEXT,
     HW(memory_manufacturer)},
    {"machineIdentifier", "uuid", "machine_id", false, PVM_FK_UUID, TOP(machine_id)},
    {"macAddress", "mac", "mac", false, PVM_FK_MAC, TOP(mac)},
    {"serialNumber", "serial", "serial", false, PVM_FK_TEXT, TOP(serial)},
    {"diskSerial", "disk-serial", "disk_serial", false, PVM_FK_DISK_SERIAL, TOP(disk_serial)},
};

#define PVM_NFIELDS (sizeof pvm_fields / sizeof pvm_fields[0])

const pvm_field *pvm_profile_fields(size_t *count)
{
    if (count)
        *count = PVM_NFIELDS;
    return pvm_fields;
}

/* Accepts the plain key ("biosDate") and the dotted form ("hardwareModel.biosDate"). */
const pvm_field *pvm_profile_field_by_key(const char *key)
{
    static const char prefix[] = "hardwareModel.";
    if (!key)
        return NULL;
    bool dotted = strncmp(key, prefix, sizeof prefix - 1) == 0;
    if (dotted)
        key += sizeof prefix - 1;
    for (size_t i = 0; i < PVM_NFIELDS; i++)
        if (strcmp(pvm_fields[i].key, key) == 0 && (!dotted || pvm_fields[i].in_hw_model))
            return &pvm_fields[i];
    return NULL;
}

char *pvm_profile_field_ptr(pvm_profile *p, const pvm_field *f)
{
    return (char *)p + f->offset;
}

const char *pvm_profile_field_cptr(const pvm_profile *p, const pvm_field *f)
{
    return (const char *)p + f->offset;
}
