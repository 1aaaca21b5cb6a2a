/* sample.c - the QEMU side of live monitoring (see sample.h): query-cpus-fast thread ids,
 * query-blockstats, query-balloon over one QMP connection, and the agent's interface
 * counters over an agent connection made per reading under the VM's agent lock (qga.c). Called by sampler.c. */
#include "sample.h"

#include "qemu.h"
#include "qmp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SAMPLE_QGA_RETRY_MS 5000  /* wait before reconnecting an agent that did not answer */
#define SAMPLE_QGA_FAILS_MAX 3    /* failed calls in a row before the agent is reconnected */
#define SAMPLE_QMP_RETRY_MS 1000
#define SAMPLE_QMP_FAILS_MAX 3    /* failed reconnects before the monitor counts as gone */
#define SAMPLE_AGENT_SLACK_MS 50  /* a reading a little early still asks the agent */

struct pvm_hv_sample {
    char *qmp_path, *qga_path;
    pvm_qmp *qmp;
    int qmp_fails;          /* QMP calls failed in a row */
    int qmp_reconnects;     /* reconnects failed in a row */
    int64_t qmp_retry_at;
    pvm_qga *qga;
    int qga_fails;
    int64_t qga_retry_at;   /* monotonic ms before which no reconnect is tried */
    pvm_hv_reading net;     /* the agent's last answer (net_* fields), net_known false: none */
    int64_t net_next_ms;    /* when the agent is asked next */
    int tids[PVM_HV_VCPUS_MAX];
    int ntids;              /* 0 until query-cpus-fast answered */
    bool no_balloon;        /* query-balloon said there is no balloon: never asked again */
    bool share;             /* qmp_path is the COMMAND monitor, connected per reading */
};

/* The COMMAND monitor beside an OWNER one (".../qmp-owner.sock" -> ".../qmp.sock"), malloc'd;
 * NULL when qmp_sock is not an OWNER monitor or has no COMMAND one beside it. */
static char *sample_share_path(const char *qmp_sock)
{
    static const char owner[] = "/qmp-owner.sock";
    size_t n = strlen(qmp_sock), o = sizeof owner - 1;
    if (n < o || strcmp(qmp_sock + n - o, owner) != 0)
        return NULL;
    char *share = pvm_xasprintf("%.*s/qmp.sock", (int)(n - o), qmp_sock);
    if (access(share, F_OK) == 0)
        return share;
    free(share);
    return NULL;
}

int pvm_hv_sample_open(const char *qmp_sock, const char *qga_sock, int timeout_ms,
                       pvm_hv_sample **out, pvm_error *err)
{
    *out = NULL;
    pvm_hv_sample *h = pvm_xcalloc(1, sizeof *h);
    h->qmp_path = pvm_xstrdup(qmp_sock ? qmp_sock : "");
    h->qga_path = pvm_xstrdup(qga_sock ? qga_sock : "");
    if (h->qmp_path[0] && pvm_qmp_connect(h->qmp_path, timeout_ms, &h->qmp, err) < 0) {
        /* another session's sampler holds the OWNER monitor (it serves one client): read
         * through the COMMAND monitor instead, a connection per reading, as short commands
         * do, so disk and vCPU figures are not lost */
        char *share = sample_share_path(h->qmp_path);
        if (!share) {
            pvm_hv_sample_close(h);
            return -1;
        }
        free(h->qmp_path);
        h->qmp_path = share;
        h->share = true;
    }
    *out = h;
    return 0;
}

/* A non-negative integral JSON number under key. */
static bool sample_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 9007199254740992.0)
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

/* Runs one QMP query; a failure counts towards reconnecting. */
static int sample_qmp(pvm_hv_sample *h, const char *cmd, int call_ms, cJSON **ret, pvm_error *err)
{
    if (!h->qmp)
        return pvm_error_set(err, PVM_E_STATE, "QMP: not connected");
    if (pvm_qmp_execute(h->qmp, cmd, NULL, ret, call_ms, err) < 0) {
        h->qmp_fails++;
        return -1;
    }
    h->qmp_fails = 0;
    return 0;
}

static void sample_vcpus(pvm_hv_sample *h, int call_ms)
{
    cJSON *ret = NULL;
    pvm_error err = {0};
    if (h->ntids || sample_qmp(h, "query-cpus-fast", call_ms, &ret, &err) < 0)
        return;
    int n = 0;
    const cJSON *cpu;
    cJSON_ArrayForEach(cpu, ret) {
        uint64_t tid = 0;
        if (n == PVM_HV_VCPUS_MAX || !sample_u64(cpu, "thread-id", &tid) || tid == 0 ||
            tid > 0x7fffffff) {
            n = 0; /* all or nothing */
            break;
        }
        h->tids[n++] = (int)tid;
    }
    h->ntids = n;
    cJSON_Delete(ret);
}

static void sample_block(pvm_hv_sample *h, int call_ms, pvm_hv_reading *r)
{
    cJSON *ret = NULL;
    pvm_error err = {0};
    if (sample_qmp(h, "query-blockstats", call_ms, &ret, &err) < 0)
        return;
    const cJSON *dev;
    bool ok = cJSON_IsArray(ret);
    cJSON *list = ok ? ret : NULL;
    cJSON_ArrayForEach(dev, list) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(dev, "stats");
        uint64_t rb = 0, wb = 0, ro = 0, wo = 0;
        if (!sample_u64(st, "rd_bytes", &rb) || !sample_u64(st, "wr_bytes", &wb) ||
            !sample_u64(st, "rd_operations", &ro) || !sample_u64(st, "wr_operations", &wo)) {
            ok = false;
            break;
        }
        r->rd_bytes += rb;
        r->wr_bytes += wb;
        r->rd_ops += ro;
        r->wr_ops += wo;
    }
    r->block_known = ok;
    cJSON_Delete(ret);
}

static void sample_balloon(pvm_hv_sample *h, int call_ms, pvm_hv_reading *r)
{
    cJSON *ret = NULL;
    pvm_error err = {0};
    if (h->no_balloon || !h->qmp)
        return;
    if (pvm_qmp_execute(h->qmp, "query-balloon", NULL, &ret, call_ms, &err) < 0) {
        /* QEMU answers with an error when the VM has no balloon device: stop asking. */
        if (strstr(err.msg, "balloon"))
            h->no_balloon = true;
        return;
    }
    r->balloon_known = sample_u64(ret, "actual", &r->balloon_bytes);
    cJSON_Delete(ret);
}

/* Reconnects QMP after failures; -1 when the monitor stays gone. */
static int sample_qmp_health(pvm_hv_sample *h, int call_ms)
{
    if (!h->qmp_path[0])
        return 0;
    if (h->qmp && h->qmp_fails < SAMPLE_QMP_FAILS_MAX)
        return 0;
    int64_t now = pvm_proc_now_ms();
    if (h->qmp) {
        pvm_qmp_close(h->qmp);
        h->qmp = NULL;
        h->qmp_retry_at = now;
    }
    if (now < h->qmp_retry_at)
        return 0;
    pvm_error err = {0};
    if (pvm_qmp_connect(h->qmp_path, call_ms, &h->qmp, &err) == 0) {
        h->qmp_fails = h->qmp_reconnects = 0;
        return 0;
    }
    h->qmp_retry_at = now + SAMPLE_QMP_RETRY_MS;
    return ++h->qmp_reconnects >= SAMPLE_QMP_FAILS_MAX ? -1 : 0;
}

/* Copies the agent's last answer (net_* fields) into r. */
static void sample_net_copy(const pvm_hv_reading *from, pvm_hv_reading *r)
{
    r->net_known = from->net_known;
    r->net_packets_known = from->net_packets_known;
    r->net_ms = from->net_ms;
    r->rx_bytes = from->rx_bytes;
    r->tx_bytes = from->tx_bytes;
    r->rx_packets = from->rx_packets;
    r->tx_packets = from->tx_packets;
}

/* The agent serves one client and long operations (install, copy, exec, audit) need it:
 * each question takes the VM's agent lock without waiting, connects, reads and gives both
 * up again. While another holder has the lock the guest figures are unknown this time. */
static void sample_agent_ask(pvm_hv_sample *h, int call_ms, int64_t now, pvm_hv_reading *r)
{
    pvm_error err = {0};
    int lock = -1;
    if (now < h->qga_retry_at || pvm_qga_lock(h->qga_path, 0, &lock, &err) < 0)
        return;
    if (pvm_qga_connect(h->qga_path, call_ms, &h->qga, &err) < 0) {
        h->qga_retry_at = now + SAMPLE_QGA_RETRY_MS;
        pvm_qga_unlock(lock);
        return;
    }
    pvm_qga_net n;
    if (pvm_qga_net_stats(h->qga, call_ms, &n, &err) == 0) {
        h->qga_fails = 0;
        r->net_known = r->net_fresh = true;
        r->net_ms = pvm_proc_now_ms();
        r->net_packets_known = n.packets_known;
        r->rx_bytes = n.rx_bytes;
        r->tx_bytes = n.tx_bytes;
        r->rx_packets = n.rx_packets;
        r->tx_packets = n.tx_packets;
    } else if (++h->qga_fails >= SAMPLE_QGA_FAILS_MAX) {
        h->qga_retry_at = now + SAMPLE_QGA_RETRY_MS;
    }
    pvm_qga_close(h->qga);
    h->qga = NULL;
    pvm_qga_unlock(lock);
}

/* The agent's interface counters: asked at most once a period, else the last answer. */
static void sample_agent(pvm_hv_sample *h, int call_ms, pvm_hv_reading *r)
{
    if (!h->qga_path[0])
        return;
    int64_t now = pvm_proc_now_ms();
    if (now < h->net_next_ms) {
        sample_net_copy(&h->net, r);
        return;
    }
    h->net_next_ms = now + PVM_HV_AGENT_PERIOD_MS - SAMPLE_AGENT_SLACK_MS;
    memset(&h->net, 0, sizeof h->net);
    sample_agent_ask(h, call_ms, now, r);
    if (r->net_known)
        sample_net_copy(r, &h->net);
}

/* A shared COMMAND monitor's connection for this reading: -1 when it stays gone. */
static int sample_share_connect(pvm_hv_sample *h, int call_ms)
{
    pvm_error err = {0};
    if (pvm_qmp_connect(h->qmp_path, call_ms, &h->qmp, &err) == 0) {
        h->qmp_reconnects = 0;
        return 0;
    }
    h->qmp = NULL;
    return ++h->qmp_reconnects >= SAMPLE_QMP_FAILS_MAX ? -1 : 0;
}

int pvm_hv_sample_read(pvm_hv_sample *h, int call_ms, pvm_hv_reading *out)
{
    memset(out, 0, sizeof *out);
    if (h->share ? sample_share_connect(h, call_ms) < 0 : sample_qmp_health(h, call_ms) < 0)
        return -1;
    sample_vcpus(h, call_ms);
    out->nvcpu_tids = h->ntids;
    memcpy(out->vcpu_tids, h->tids, sizeof h->tids);
    sample_block(h, call_ms, out);
    sample_balloon(h, call_ms, out);
    if (h->share && h->qmp) {
        pvm_qmp_close(h->qmp);
        h->qmp = NULL;
    }
    sample_agent(h, call_ms, out);
    return 0;
}

void pvm_hv_sample_close(pvm_hv_sample *h)
{
    if (!h)
        return;
    pvm_qmp_close(h->qmp);
    pvm_qga_close(h->qga);
    free(h->qmp_path);
    free(h->qga_path);
    free(h);
}
