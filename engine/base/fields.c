/* fields.c - the profile field table: the one description of every identity
 * field (JSON key, CLI flag, SQL column, kind, storage). Part of the base layer:
 * used by the store (db/), validation, JSON and the command line alike. */
#include "pvm.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define HW(member) offsetof(pvm_profile, hw.member), sizeof(((pvm_profile *)0)->hw.member)
#define TOP(member) offsetof(pvm_profile, member), sizeof(((pvm_profile *)0)->member)

static const pvm_field pvm_fields[] = {
    {"manufacturer", "manufacturer", "manufacturer", true, PVM_FK_TEXT, HW(manufacturer), 0, 0,
     "hardwareModel.manufacturer", "Manufacturer"},
    {"product", "product", "product", true, PVM_FK_TEXT, HW(product), 0, 0,
     "hardwareModel.product", "Product"},
    {"version", "version", "version", true, PVM_FK_TEXT, HW(version), 0, 0,
     "hardwareModel.version", "Version"},
    {"family", "family", "family", true, PVM_FK_TEXT, HW(family), 0, 0, "hardwareModel.family",
     "Family"},
    {"sku", "sku", "sku", true, PVM_FK_TEXT, HW(sku), 0, 0, "hardwareModel.sku",
     "SKU"},
    {"boardManufacturer", "board-manufacturer", "board_manufacturer", true, PVM_FK_TEXT,
     HW(board_manufacturer), 0, 0, "hardwareModel.boardManufacturer",
     "Board manufacturer"},
    {"boardProduct", "board-product", "board_product", true, PVM_FK_TEXT, HW(board_product), 0, 0,
     "hardwareModel.boardProduct", "Board product"},
    {"boardVersion", "board-version", "board_version", true, PVM_FK_TEXT, HW(board_version), 0, 0,
     "hardwareModel.boardVersion", "Board version"},
    {"boardSerial", "board-serial", "board_serial", true, PVM_FK_TEXT, HW(board_serial), 0, 0,
     "hardwareModel.boardSerial", "Board serial"},
    {"chassisManufacturer", "chassis-manufacturer", "chassis_manufacturer", true, PVM_FK_TEXT,
     HW(chassis_manufacturer), 0, 0, "hardwareModel.chassisManufacturer",
     "Chassis manufacturer"},
    {"chassisSerial", "chassis-serial", "chassis_serial", true, PVM_FK_TEXT, HW(chassis_serial),
     0, 0, "hardwareModel.chassisSerial",
     "Chassis serial"},
    {"chassisAsset", "chassis-asset", "chassis_asset", true, PVM_FK_TEXT, HW(chassis_asset), 0, 0,
     "hardwareModel.chassisAsset", "Chassis asset tag"},
    {"biosVendor", "bios-vendor", "bios_vendor", true, PVM_FK_TEXT, HW(bios_vendor), 0, 0,
     "hardwareModel.biosVendor", "BIOS vendor"},
    {"biosVersion", "bios-version", "bios_version", true, PVM_FK_TEXT, HW(bios_version), 0, 0,
     "hardwareModel.biosVersion", "BIOS version"},
    {"biosDate", "bios-date", "bios_date", true, PVM_FK_DATE, HW(bios_date), 0, 0,
     "hardwareModel.biosDate", "BIOS date"},
    {"cpuModel", "cpu-model", "cpu_model", true, PVM_FK_TEXT, HW(cpu_model), 0, 0,
     "hardwareModel.cpuModel", "CPU model"},
    {"cpuManufacturer", "cpu-manufacturer", "cpu_manufacturer", true, PVM_FK_TEXT,
     HW(cpu_manufacturer), 0, 0, "hardwareModel.cpuManufacturer",
     "CPU manufacturer"},
    {"memoryManufacturer", "memory-manufacturer", "memory_manufacturer", true, PVM_FK_TEXT,
     HW(memory_manufacturer), 0, 0, "hardwareModel.memoryManufacturer",
     "Memory manufacturer"},
    {"chassisType", "chassis-type", "chassis_type", true, PVM_FK_CHASSIS, HW(chassis_type), 0, 0,
     "hardwareModel.chassisType", "Chassis type"},
    {"cpuCores", "cpu-cores", "cpu_cores", true, PVM_FK_UINT, HW(cpu_cores), 1, 128,
     "hardwareModel.cpuCores", "CPU cores"},
    {"cpuThreads", "cpu-threads", "cpu_threads", true, PVM_FK_UINT, HW(cpu_threads), 1, 4,
     "hardwareModel.cpuThreads", "CPU threads per core"},
    {"cpuFamily", "cpu-family", "cpu_family", true, PVM_FK_UINT, HW(cpu_family), 1, 270,
     "hardwareModel.cpuFamily", "CPU family"},
    {"cpuModelNumber", "cpu-model-number", "cpu_model_number", true, PVM_FK_UINT,
     HW(cpu_model_number), 0, 255, "hardwareModel.cpuModelNumber",
     "CPU model number"},
    {"cpuStepping", "cpu-stepping", "cpu_stepping", true, PVM_FK_UINT, HW(cpu_stepping), 0, 15,
     "hardwareModel.cpuStepping", "CPU stepping"},
    {"cpuMicrocode", "cpu-microcode", "cpu_microcode", true, PVM_FK_HEX, HW(cpu_microcode), 0,
     0xFFFFFFFFul, "hardwareModel.cpuMicrocode",
     "CPU microcode"},
    {"machineIdentifier", "uuid", "machine_id", false, PVM_FK_UUID, TOP(machine_id), 0, 0,
     "machineIdentifier", "Machine UUID"},
    {"macAddress", "mac", "mac", false, PVM_FK_MAC, TOP(mac), 0, 0, "macAddress",
     "MAC address"},
    {"serialNumber", "serial", "serial", false, PVM_FK_TEXT, TOP(serial), 0, 0, "serialNumber",
     "Serial number"},
    {"diskSerial", "disk-serial", "disk_serial", false, PVM_FK_DISK_SERIAL, TOP(disk_serial), 0,
     0, "diskSerial",
     "Disk serial"},
};

#define PVM_NFIELDS (sizeof pvm_fields / sizeof pvm_fields[0])

/* SMBIOS 3.x (DSP0134) 7.4.1, the types real machines report. */
static const pvm_chassis_type pvm_chassis[] = {
    {"desktop", 0x03},     {"low-profile-desktop", 0x04}, {"mini-tower", 0x06},
    {"tower", 0x07},       {"portable", 0x08},            {"laptop", 0x09},
    {"notebook", 0x0A},    {"hand-held", 0x0B},           {"all-in-one", 0x0D},
    {"sub-notebook", 0x0E}, {"tablet", 0x1E},             {"convertible", 0x1F},
    {"detachable", 0x20},  {"mini-pc", 0x23},             {"stick-pc", 0x24},
};

const pvm_chassis_type *pvm_chassis_types(size_t *count)
{
    *count = sizeof pvm_chassis / sizeof pvm_chassis[0];
    return pvm_chassis;
}

unsigned pvm_chassis_code(const char *name)
{
    for (size_t i = 0; name && i < sizeof pvm_chassis / sizeof pvm_chassis[0]; i++)
        if (strcmp(pvm_chassis[i].name, name) == 0)
            return pvm_chassis[i].code;
    return 0;
}

unsigned long pvm_profile_num(const char *text, unsigned long def)
{
    if (!text || !*text)
        return def;
    /* exactly as the validator reads them: decimal, or hex after "0x" ("010" is ten) */
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const char *digits = hex ? text + 2 : text;
    if (!*digits || !(hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits)))
        return def;
    char *end;
    errno = 0;
    unsigned long v = strtoul(digits, &end, hex ? 16 : 10);
    return errno || *end ? def : v;
}

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
