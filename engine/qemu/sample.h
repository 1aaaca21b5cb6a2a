/* sample.h - the QEMU side of live monitoring (engine/qemu/sample.c): what only the
 * hypervisor knows (vCPU thread ids, block statistics, balloon, the guest agent's interface
 * counters) over connections kept open between readings. Called by engine/sampler.c only;
 * this is the backend's "sample" operation once engine/hv.h exists. */
#ifndef PVM_QEMU_SAMPLE_H
#define PVM_QEMU_SAMPLE_H

#include "pvm.h"

#include <stdbool.h>
#include <stdint.h>

#define PVM_HV_VCPUS_MAX 64

/* One reading of the hypervisor-side figures; a false *_known means unknown. */
typedef struct pvm_hv_reading {
    int nvcpu_tids;                     /* 0: thread ids unknown */
    int vcpu_tids[PVM_HV_VCPUS_MAX];    /* host thread id of each vCPU, in CPU index order */
    bool block_known;                   /* query-blockstats, summed over devices */
    uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;
    bool balloon_known;                 /* query-balloon "actual": the guest's RAM, bytes */
    uint64_t balloon_bytes;
    bool net_known, net_packets_known;  /* guest-network-get-interfaces "statistics" */
    bool net_fresh;                     /* asked this reading (else: the last answer, kept) */
    int64_t net_ms;                     /* when that answer came (pvm_proc_now_ms) */
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
} pvm_hv_reading;

typedef struct pvm_hv_sample pvm_hv_sample;

/* Opens a sampling session: connects QMP (within timeout_ms; required; when qmp_sock is an
 * OWNER monitor another session holds, the COMMAND monitor beside it is used instead, one
 * connection per reading) and remembers the agent's socket (connected on the first reading, retried every few seconds while it does
 * not answer). qga_sock may be NULL or "" (no agent: network unknown). */
int pvm_hv_sample_open(const char *qmp_sock, const char *qga_sock, int timeout_ms,
                       pvm_hv_sample **out, pvm_error *err);
/* The agent is asked at most once every PVM_HV_AGENT_PERIOD_MS (its answer costs a trip
 * through the guest and the most JSON); between, a reading carries its last answer with
 * net_fresh false. */
#define PVM_HV_AGENT_PERIOD_MS 1000

/* Takes one reading; every call to QMP or the agent waits at most call_ms. A figure whose
 * call failed or timed out is unknown in *out. Returns 0, or -1 when the monitor is gone
 * (QMP connection closed and not reopened): the VM has ended. */
int pvm_hv_sample_read(pvm_hv_sample *h, int call_ms, pvm_hv_reading *out);
void pvm_hv_sample_close(pvm_hv_sample *h);

#endif
