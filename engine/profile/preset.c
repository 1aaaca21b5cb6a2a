/* preset.c - the built-in catalog of real machine models: the SMBIOS strings
 * each machine reports, its vendor's serial format and MAC OUIs.
 * Called by the CLI and TUI (profile create --preset, profile presets). */
#include "pvm.h"

#include <string.h>

/* MAC OUIs, every one registered in the IEEE registry to the named company.
 * Laptops without an on-board Ethernet chip of their own maker get the OUI of
 * their usual NIC maker (Intel for the Wi-Fi/I219 parts in Dell, Lenovo and
 * Microsoft machines), or of the ODM that builds the machine (LCFC and
 * Wistron build ThinkPads and register their OUIs for them). */
#define OUI_APPLE_1 "f0:18:98"     /* Apple, Inc. */
#define OUI_APPLE_2 "a4:83:e7"     /* Apple, Inc. */
#define OUI_APPLE_3 "3c:22:fb"     /* Apple, Inc. */
#define OUI_APPLE_4 "8c:85:90"     /* Apple, Inc. */
#define OUI_DELL_1 "54:bf:64"      /* Dell Inc. */
#define OUI_DELL_2 "8c:ec:4b"      /* Dell Inc. */
#define OUI_DELL_3 "a4:bb:6d"      /* Dell Inc. */
#define OUI_DELL_4 "18:db:f2"      /* Dell Inc. */
#define OUI_INTEL_1 "00:1b:21"     /* Intel Corporate */
#define OUI_INTEL_2 "a0:36:9f"     /* Intel Corporate */
#define OUI_LCFC_1 "8c:16:45"      /* LCFC(HeFei) Electronics Technology (Lenovo ODM) */
#define OUI_LCFC_2 "50:7b:9d"      /* LCFC(HeFei) Electronics Technology */
#define OUI_LCFC_3 "e8:6a:64"      /* LCFC(HeFei) Electronics Technology */
#define OUI_WISTRON "54:ee:75"     /* Wistron InfoComm(Kunshan) (ThinkPad ODM) */
#define OUI_HP_1 "3c:52:82"        /* Hewlett Packard */
#define OUI_HP_2 "64:51:06"        /* Hewlett Packard */
#define OUI_HP_3 "70:5a:0f"        /* Hewlett Packard */
#define OUI_HP_4 "9c:8e:99"        /* Hewlett Packard */
#define OUI_MS_1 "28:18:78"        /* Microsoft Corporation */
#define OUI_MS_2 "c0:33:5e"        /* Microsoft Corporation */
#define OUI_MS_3 "98:5f:d3"        /* Microsoft Corporation */
#define OUI_ASUS_1 "04:d4:c4"      /* ASUSTek COMPUTER INC. */
#define OUI_ASUS_2 "2c:fd:a1"      /* ASUSTek COMPUTER INC. */
#define OUI_ASUS_3 "ac:22:0b"      /* ASUSTek COMPUTER INC. */
#define OUI_ASUS_4 "30:5a:3a"      /* ASUSTek COMPUTER INC. */

#define INTEL "Intel(R) Corporation"
#define AMD "Advanced Micro Devices, Inc."
#define AMI "American Megatrends International, LLC."

/* Apple Intel Macs: type 2 product is the board-id, SKU the literal
 * "System SKU#" Apple's firmware reports, BIOS version Apple's
 * "<EFI version> (iBridge: <T2 version>)" string. */
#define APPLE_HW(prod, fam, board, bver, bdate, cpu, mem, ...)                       \
    {                                                                           \
        .manufacturer = "Apple Inc.", .product = prod, .version = "1.0",        \
        .family = fam, .sku = "System SKU#", .board_manufacturer = "Apple Inc.", \
        .board_product = board, .board_version = prod,                          \
        .chassis_manufacturer = "Apple Inc.", .bios_vendor = "Apple Inc.",      \
        .bios_version = bver, .bios_date = bdate, .cpu_model = cpu,             \
        .cpu_manufacturer = INTEL, .memory_manufacturer = mem, __VA_ARGS__,                  \
    }

/* Dell: no type 1 version, the 4-hex system ID as SKU, a 6-character board
 * part number with an A0x revision, the service tag as chassis serial. */
#define DELL_HW(prod, fam, sku_, board, bver, bdate, cpu, mem, ...)                  \
    {                                                                           \
        .manufacturer = "Dell Inc.", .product = prod, .version = "",            \
        .family = fam, .sku = sku_, .board_manufacturer = "Dell Inc.",          \
        .board_product = board, .board_version = "A00",                         \
        .chassis_manufacturer = "Dell Inc.", .bios_vendor = "Dell Inc.",        \
        .bios_version = bver, .bios_date = bdate, .cpu_model = cpu,             \
        .cpu_manufacturer = INTEL, .memory_manufacturer = mem, __VA_ARGS__,                  \
    }

/* Lenovo: product is the machine-type-model code, version and family the
 * marketing name, SKU "LENOVO_MT_<type>_BU_Think_FM_<name>". */
#define LENOVO_HW(mtm, name, sku_, bdver, bver, bdate, cpu, cpuman, mem, ...)        \
    {                                                                           \
        .manufacturer = "LENOVO", .product = mtm, .version = name,              \
        .family = name, .sku = sku_, .board_manufacturer = "LENOVO",            \
        .board_product = mtm, .board_version = bdver,                           \
        .chassis_manufacturer = "LENOVO", .bios_vendor = "LENOVO",              \
        .bios_version = bver, .bios_date = bdate, .cpu_model = cpu,             \
        .cpu_manufacturer = cpuman, .memory_manufacturer = mem, __VA_ARGS__,                 \
    }

/* HP: product is the full marketing name, family "103C_<code> HP <line>",
 * SKU the product number, board product the 4-hex board ID, board version
 * the keyboard controller firmware, BIOS "<family> Ver. xx.yy.zz". */
#define HP_HW(prod, fam, sku_, board, bdver, bver, bdate, cpu, mem, ...)             \
    {                                                                           \
        .manufacturer = "HP", .product = prod, .version = "", .family = fam,    \
        .sku = sku_, .board_manufacturer = "HP", .board_product = board,        \
        .board_version = bdver, .chassis_manufacturer = "HP",                   \
        .bios_vendor = "HP", .bios_version = bver, .bios_date = bdate,          \
        .cpu_model = cpu, .cpu_manufacturer = INTEL,                            \
        .memory_manufacturer = mem, __VA_ARGS__,                                             \
    }

/* Microsoft Surface: version is the hardware configuration string, SKU
 * "Surface_<model>_<model number>". */
#define SURFACE_HW(prod, ver, sku_, bver, bdate, cpu, mem, ...)                      \
    {                                                                           \
        .manufacturer = "Microsoft Corporation", .product = prod,               \
        .version = ver, .family = "Surface", .sku = sku_,                       \
        .board_manufacturer = "Microsoft Corporation", .board_product = prod,   \
        .board_version = "", .chassis_manufacturer = "Microsoft Corporation",   \
        .bios_vendor = "Microsoft Corporation", .bios_version = bver,           \
        .bios_date = bdate, .cpu_model = cpu, .cpu_manufacturer = INTEL,        \
        .memory_manufacturer = mem, __VA_ARGS__,                                             \
    }

/* ASUS: product "<name> <model>_<model>", board product the model, AMI
 * Aptio firmware with "<model>.<3 digits>" versions. */
#define ASUS_HW(prod, fam, board, bver, bdate, cpu, cpuman, mem, ...)                \
    {                                                                           \
        .manufacturer = "ASUSTeK COMPUTER INC.", .product = prod,               \
        .version = "1.0", .family = fam, .sku = "",                             \
        .board_manufacturer = "ASUSTeK COMPUTER INC.", .board_product = board,  \
        .board_version = "1.0",                                                 \
        .chassis_manufacturer = "ASUSTeK COMPUTER INC.", .bios_vendor = AMI,    \
        .bios_version = bver, .bios_date = bdate, .cpu_model = cpu,             \
        .cpu_manufacturer = cpuman, .memory_manufacturer = mem, __VA_ARGS__,                 \
    }

/* The CPU and case: chassis type, cores, threads per core, CPUID family, model and
 * stepping, and a microcode revision the model shipped with (Intel's and AMD's
 * published microcode releases). Hybrid Alder Lake parts (2 P-cores with 2 threads,
 * 8 E-cores with 1) are shown with the same thread count as a symmetric 6x2: a guest
 * topology must be uniform. */
#define CPU(chassis, cores, threads, fam, model, step, ucode)                       \
    .chassis_type = chassis, .cpu_cores = #cores, .cpu_threads = #threads,          \
    .cpu_family = #fam, .cpu_model_number = #model, .cpu_stepping = #step,          \
    .cpu_microcode = #ucode

static const pvm_preset presets[] = {
    /* ------------------------------------------------------------ Apple */
    {
        .key = "apple-macbookpro16-1",
        .description = "Apple MacBook Pro 16-inch 2019 (Intel Core i9)",
        .hw = APPLE_HW("MacBookPro16,1", "MacBook Pro", "Mac-E1008331FDC96864",
                       "1968.100.17.0.0 (iBridge: 20.16.4252.0.0,0)", "02/28/2023",
                       "Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz", "Micron",
                CPU("notebook", 8, 2, 6, 158, 13, 0xf4)),
        .serial_format = PVM_SERIAL_APPLE,
        .disk_model = "APPLE SSD AP0512M",
        .ouis = {OUI_APPLE_1, OUI_APPLE_2, OUI_APPLE_3, NULL},
    },
    {
        .key = "apple-macbookair9-1",
        .description = "Apple MacBook Air 13-inch 2020 (Intel Core i5)",
        .hw = APPLE_HW("MacBookAir9,1", "MacBook Air", "Mac-0CFF9C7C2B63DF8D",
                       "1968.100.17.0.0 (iBridge: 20.16.4252.0.0,0)", "02/28/2023",
                       "Intel(R) Core(TM) i5-1030NG7 CPU @ 1.10GHz", "Micron",
                CPU("notebook", 4, 2, 6, 126, 5, 0xb8)),
        .serial_format = PVM_SERIAL_APPLE,
        .disk_model = "APPLE SSD AP0256N",
        .ouis = {OUI_APPLE_2, OUI_APPLE_4, OUI_APPLE_1, NULL},
    },
    {
        .key = "apple-macmini8-1",
        .description = "Apple Mac mini 2018 (Intel Core i7)",
        .hw = APPLE_HW("Macmini8,1", "Mac mini", "Mac-7BA5B2DFE22DDD8C",
                       "1968.100.17.0.0 (iBridge: 20.16.4252.0.0,0)", "02/28/2023",
                       "Intel(R) Core(TM) i7-8700B CPU @ 3.20GHz", "Samsung",
                CPU("mini-pc", 6, 2, 6, 158, 10, 0xf4)),
        .serial_format = PVM_SERIAL_APPLE,
        .disk_model = "APPLE SSD AP0512M",
        .ouis = {OUI_APPLE_3, OUI_APPLE_1, OUI_APPLE_4, NULL},
    },
    {
        .key = "apple-imac20-1",
        .description = "Apple iMac 27-inch 2020 (Intel Core i7)",
        .hw = APPLE_HW("iMac20,1", "iMac", "Mac-CFF7D910A743CAAF",
                       "1968.100.17.0.0 (iBridge: 20.16.4252.0.0,0)", "02/28/2023",
                       "Intel(R) Core(TM) i7-10700K CPU @ 3.80GHz", "Samsung",
                CPU("all-in-one", 8, 2, 6, 165, 5, 0xf8)),
        .serial_format = PVM_SERIAL_APPLE,
        .disk_model = "APPLE SSD AP0512N",
        .ouis = {OUI_APPLE_4, OUI_APPLE_2, OUI_APPLE_3, NULL},
    },
    {
        /* An Intel MacBook Pro rather than an Apple-silicon one: an x86 guest
         * cannot wear an "Apple M1" CPU brand consistently. */
        .key = "apple-macbookpro15-1",
        .description = "Apple MacBook Pro 15-inch 2018 (Intel Core i7)",
        .hw = APPLE_HW("MacBookPro15,1", "MacBook Pro", "Mac-937A206F2EE63C01",
                       "1968.100.17.0.0 (iBridge: 20.16.4252.0.0,0)", "02/28/2023",
                       "Intel(R) Core(TM) i7-8750H CPU @ 2.20GHz", "Micron",
                CPU("notebook", 6, 2, 6, 158, 10, 0xf4)),
        .serial_format = PVM_SERIAL_APPLE,
        .disk_model = "APPLE SSD AP0512M",
        .ouis = {OUI_APPLE_1, OUI_APPLE_2, OUI_APPLE_4, NULL},
    },

    /* ------------------------------------------------------------- Dell */
    {
        .key = "dell-latitude-7520",
        .description = "Dell Latitude 7520 15-inch (11th Gen Core i7)",
        .hw = DELL_HW("Latitude 7520", "Latitude", "0A38", "0NR18C", "1.26.0",
                      "03/20/2023",
                      "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", "SK Hynix",
                CPU("notebook", 4, 2, 6, 140, 1, 0xa4)),
        .serial_format = PVM_SERIAL_DELL,
        .disk_model = "PM9A1 NVMe Samsung 512GB",
        /* Dell OUIs for the on-board Intel I219-LM, Intel for the Wi-Fi */
        .ouis = {OUI_DELL_1, OUI_DELL_2, OUI_INTEL_1, NULL},
    },
    {
        .key = "dell-latitude-5430",
        .description = "Dell Latitude 5430 14-inch (12th Gen Core i5)",
        .hw = DELL_HW("Latitude 5430", "Latitude", "0A9D", "0M4DFX", "1.17.0",
                      "08/14/2023", "12th Gen Intel(R) Core(TM) i5-1245U", "Samsung",
                CPU("notebook", 6, 2, 6, 154, 4, 0x429)),
        .serial_format = PVM_SERIAL_DELL,
        .disk_model = "KIOXIA KBG50ZNS256G",
        .ouis = {OUI_DELL_3, OUI_DELL_1, OUI_DELL_4, OUI_INTEL_2},
    },
    {
        .key = "dell-xps-15-9510",
        .description = "Dell XPS 15 9510 (11th Gen Core i7 H)",
        .hw = DELL_HW("XPS 15 9510", "XPS", "0A61", "01V4T3", "1.20.0",
                      "05/10/2023",
                      "11th Gen Intel(R) Core(TM) i7-11800H @ 2.30GHz", "SK Hynix",
                CPU("notebook", 8, 2, 6, 141, 1, 0x40)),
        .serial_format = PVM_SERIAL_DELL,
        .disk_model = "PC711 NVMe SK hynix 1TB",
        /* no Ethernet port: Intel (Killer AX1650 is an Intel part) and Dell */
        .ouis = {OUI_INTEL_1, OUI_DELL_2, OUI_DELL_4, NULL},
    },
    {
        .key = "dell-precision-5560",
        .description = "Dell Precision 5560 mobile workstation (11th Gen Core i7 H)",
        .hw = DELL_HW("Precision 5560", "Precision", "0A62", "0M08D8", "1.20.0",
                      "05/10/2023",
                      "11th Gen Intel(R) Core(TM) i7-11850H @ 2.50GHz", "Micron",
                CPU("notebook", 8, 2, 6, 141, 1, 0x40)),
        .serial_format = PVM_SERIAL_DELL,
        .disk_model = "PM9A1 NVMe Samsung 1024GB",
        .ouis = {OUI_DELL_4, OUI_DELL_3, OUI_INTEL_2, NULL},
    },

    /* ----------------------------------------------------------- Lenovo */
    {
        .key = "lenovo-thinkpad-x1c9",
        .description = "Lenovo ThinkPad X1 Carbon Gen 9 (11th Gen Core i7)",
        .hw = LENOVO_HW("20XW0026US", "ThinkPad X1 Carbon Gen 9",
                        "LENOVO_MT_20XW_BU_Think_FM_ThinkPad X1 Carbon Gen 9",
                        "SDK0J40697 WIN", "N32ET86W (1.62 )", "08/01/2023",
                        "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", INTEL,
                        "Samsung",
                CPU("notebook", 4, 2, 6, 140, 1, 0xa4)),
        .serial_format = PVM_SERIAL_LENOVO,
        .disk_model = "SAMSUNG MZVLB512HBJQ-000L7",
        /* LCFC builds the X1 Carbon; Intel for the I219-V/AX201 */
        .ouis = {OUI_LCFC_1, OUI_LCFC_2, OUI_INTEL_1, NULL},
    },
    {
        .key = "lenovo-thinkpad-t14s-g1-amd",
        .description = "Lenovo ThinkPad T14s Gen 1 AMD (Ryzen 7 PRO 4750U)",
        .hw = LENOVO_HW("20UH001QUS", "ThinkPad T14s Gen 1",
                        "LENOVO_MT_20UH_BU_Think_FM_ThinkPad T14s Gen 1",
                        "SDK0J40697 WIN", "R1CET70W(1.39 )", "02/08/2023",
                        "AMD Ryzen 7 PRO 4750U with Radeon Graphics", AMD, "Samsung",
                CPU("notebook", 8, 2, 23, 96, 1, 0x8600106)),
        .serial_format = PVM_SERIAL_LENOVO,
        .disk_model = "SAMSUNG MZVLB512HBJQ-000L7",
        .ouis = {OUI_LCFC_3, OUI_LCFC_1, OUI_WISTRON, NULL},
    },
    {
        .key = "lenovo-thinkpad-t480",
        .description = "Lenovo ThinkPad T480 (8th Gen Core i5)",
        .hw = LENOVO_HW("20L5000AUS", "ThinkPad T480",
                        "LENOVO_MT_20L5_BU_Think_FM_ThinkPad T480",
                        "SDK0J40697 WIN", "N24ET76W (1.51 )", "10/17/2023",
                        "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", INTEL, "Samsung",
                CPU("notebook", 4, 2, 6, 142, 10, 0xf0)),
        .serial_format = PVM_SERIAL_LENOVO,
        .disk_model = "SAMSUNG MZVLB256HAHQ-000L7",
        /* Wistron builds the T480; Intel for the I219-V */
        .ouis = {OUI_WISTRON, OUI_LCFC_2, OUI_INTEL_2, NULL},
    },

    /* --------------------------------------------------------------- HP */
    {
        .key = "hp-elitebook-840-g8",
        .description = "HP EliteBook 840 G8 Notebook PC (11th Gen Core i5)",
        .hw = HP_HW("HP EliteBook 840 G8 Notebook PC", "103C_5336AN HP EliteBook",
                    "358S9EA#ABD", "880D", "KBC Version 30.40.00",
                    "T37 Ver. 01.14.00", "05/15/2023",
                    "11th Gen Intel(R) Core(TM) i5-1145G7 @ 2.60GHz", "Samsung",
                CPU("notebook", 4, 2, 6, 140, 1, 0xa4)),
        .serial_format = PVM_SERIAL_HP,
        .disk_model = "SAMSUNG MZVLQ512HBLU-00BH1",
        .ouis = {OUI_HP_1, OUI_HP_2, OUI_HP_3, NULL},
    },
    {
        .key = "hp-elitebook-840-g5",
        .description = "HP EliteBook 840 G5 (8th Gen Core i5)",
        .hw = HP_HW("HP EliteBook 840 G5", "103C_5336AN HP EliteBook",
                    "3JX65EA#ABU", "83B2", "KBC Version 04.75.00",
                    "Q78 Ver. 01.24.00", "04/12/2023",
                    "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz", "SK Hynix",
                CPU("notebook", 4, 2, 6, 142, 10, 0xf0)),
        .serial_format = PVM_SERIAL_HP,
        .disk_model = "SAMSUNG MZVLB256HAHQ-000H1",
        .ouis = {OUI_HP_2, OUI_HP_4, OUI_HP_1, NULL},
    },
    {
        .key = "hp-elitedesk-800-g6-mini",
        .description = "HP EliteDesk 800 G6 Desktop Mini PC (10th Gen Core i5)",
        .hw = HP_HW("HP EliteDesk 800 G6 Desktop Mini PC", "103C_53307F HP EliteDesk",
                    "1D2F4EA#ABU", "8715", "KBC Version 08.D4.00",
                    "S21 Ver. 02.13.00", "06/07/2023",
                    "Intel(R) Core(TM) i5-10500T CPU @ 2.30GHz", "SK Hynix",
                CPU("mini-pc", 6, 2, 6, 165, 3, 0xf0)),
        .serial_format = PVM_SERIAL_HP,
        .disk_model = "SAMSUNG MZVLB256HBHQ-000H1",
        .ouis = {OUI_HP_4, OUI_HP_3, OUI_HP_2, NULL},
    },

    /* -------------------------------------------------------- Microsoft */
    {
        .key = "microsoft-surface-laptop-3",
        .description = "Microsoft Surface Laptop 3 13.5-inch (10th Gen Core i7)",
        .hw = SURFACE_HW("Surface Laptop 3", "124I:00036T:000M:0300000D:11:S:X",
                         "Surface_Laptop_3_1867:1868", "13.500.140", "09/15/2022",
                         "Intel(R) Core(TM) i7-1065G7 CPU @ 1.30GHz", "Micron",
                CPU("laptop", 4, 2, 6, 126, 5, 0xb8)),
        .serial_format = PVM_SERIAL_MICROSOFT,
        .disk_model = "SK hynix BC501 HFM256GDGTNG",
        /* Surface Ethernet adapters carry Microsoft OUIs; Wi-Fi is Intel */
        .ouis = {OUI_MS_1, OUI_MS_2, OUI_INTEL_1, NULL},
    },
    {
        .key = "microsoft-surface-pro-7",
        .description = "Microsoft Surface Pro 7 (10th Gen Core i5)",
        .hw = SURFACE_HW("Surface Pro 7", "124I:00036T:000M:0300000D:11:S:X",
                         "Surface_Pro_7_1866", "14.300.143", "10/06/2022",
                         "Intel(R) Core(TM) i5-1035G4 CPU @ 1.10GHz", "Samsung",
                CPU("tablet", 4, 2, 6, 126, 5, 0xb8)),
        .serial_format = PVM_SERIAL_MICROSOFT,
        .disk_model = "KBG40ZPZ256G TOSHIBA MEMORY",
        .ouis = {OUI_MS_3, OUI_MS_1, OUI_INTEL_2, NULL},
    },

    /* ------------------------------------------------------------- ASUS */
    {
        .key = "asus-zenbook-14-ux425ea",
        .description = "ASUS ZenBook 14 UX425EA (11th Gen Core i7)",
        .hw = ASUS_HW("ZenBook UX425EA_UX425EA", "ZenBook", "UX425EA", "UX425EA.308",
                      "06/21/2022",
                      "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", INTEL,
                      "Samsung",
                CPU("notebook", 4, 2, 6, 140, 1, 0xa4)),
        .serial_format = PVM_SERIAL_ASUS,
        .disk_model = "INTEL SSDPEKNW512G8",
        .ouis = {OUI_ASUS_1, OUI_ASUS_2, OUI_INTEL_1, NULL},
    },
    {
        .key = "asus-rog-zephyrus-g14-ga401qm",
        .description = "ASUS ROG Zephyrus G14 GA401QM (Ryzen 9 5900HS)",
        .hw = ASUS_HW("ROG Zephyrus G14 GA401QM_GA401QM", "ROG Zephyrus G14",
                      "GA401QM", "GA401QM.410", "03/08/2022",
                      "AMD Ryzen 9 5900HS with Radeon Graphics", AMD, "Samsung",
                CPU("notebook", 8, 2, 25, 80, 0, 0xa50000c)),
        .serial_format = PVM_SERIAL_ASUS,
        .disk_model = "SAMSUNG MZVLQ1T0HBLB-00B00",
        .ouis = {OUI_ASUS_3, OUI_ASUS_4, OUI_ASUS_1, NULL},
    },
};

const pvm_preset *pvm_presets(size_t *count)
{
    if (count)
        *count = sizeof presets / sizeof presets[0];
    return presets;
}

const pvm_preset *pvm_preset_find(const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].key, key) == 0)
            return &presets[i];
    return NULL;
}

/* Copies the model strings; the serial fields of the preset are empty, so
 * board and chassis serials already set on p are kept. */
void pvm_preset_apply(const pvm_preset *preset, pvm_profile *p)
{
    char board_serial[sizeof p->hw.board_serial];
    char chassis_serial[sizeof p->hw.chassis_serial];
    char chassis_asset[sizeof p->hw.chassis_asset];

    memcpy(board_serial, p->hw.board_serial, sizeof board_serial);
    memcpy(chassis_serial, p->hw.chassis_serial, sizeof chassis_serial);
    memcpy(chassis_asset, p->hw.chassis_asset, sizeof chassis_asset);
    p->hw = preset->hw;
    memcpy(p->hw.board_serial, board_serial, sizeof board_serial);
    memcpy(p->hw.chassis_serial, chassis_serial, sizeof chassis_serial);
    memcpy(p->hw.chassis_asset, chassis_asset, sizeof chassis_asset);
    pvm_strlcpy(p->preset, preset->key, sizeof p->preset);
}
