/* One report of a compute host to placid: provider(s), inventory, traits.
 * It behaves like nova's SchedulerReportClient: the provider uuid is kept
 * across restarts (state file), every write carries the provider generation
 * it read and is retried after a re-read on a 409 generation conflict, and
 * only what the agent owns is changed (other inventory classes and other
 * traits, e.g. an operator's CUSTOM_ ones, are left alone). */
#ifndef PLACID_AGENT_REPORT_H
#define PLACID_AGENT_REPORT_H

#include <stdbool.h>

#include "agent/client.h"
#include "agent/version.h"

/* The traits this agent owns on the root provider. */
#define AGENT_TRAIT_PACKED       "COMPUTE_NET_VIRTIO_PACKED"
#define AGENT_TRAIT_COMPUTE_NODE "COMPUTE_NODE"

struct agent_config {
    const char *url, *token, *name, *state_file, *disk_path;
    double cpu_ratio, ram_ratio, disk_ratio; /* nova: 4.0 (initial), 1.0, 1.0 */
    long long reserved_cpus;                 /* nova: reserved_host_cpus = 0 */
    long long reserved_memory_mb;            /* nova: reserved_host_memory_mb = 512 */
    long long reserved_disk_mb;              /* nova: reserved_host_disk_mb = 0 */
    long long vcpus, memory_mb, disk_gb;     /* stated host sizes; -1 = detect */
    bool numa_child;                         /* VCPU on a child "<name>-numa0" */
    bool libvirt_stated, qemu_stated;        /* versions given on the command line */
    struct agent_version libvirt, qemu;
};

/* Uuids the agent keeps in its state file ("" when unknown). */
struct agent_state {
    char root_uuid[37];
    char numa_uuid[37];
};

/* Reads path into st. A missing file is an empty state (returns 0); an
 * unreadable or malformed one returns -1 with the reason in err. */
int agent_state_load(const char *path, struct agent_state *st, char *err, size_t errsz);

/* Writes st to path atomically (temporary file + rename). 0 or -1 + err. */
int agent_state_save(const char *path, const struct agent_state *st, char *err, size_t errsz);

/* Ordered by severity: a report returns the worst result of its steps. */
enum report_rc {
    REPORT_OK = 0,
    REPORT_FAILED, /* placid refused something (logged); the next report may succeed */
    REPORT_RETRY,  /* placid unreachable or answering 5xx: try again soon */
    REPORT_AUTH,   /* the token was rejected (401/403): retrying will not help */
};

/* Everything one report needs to carry between runs of the loop. */
struct agent_reporter {
    const struct agent_config *cfg;
    struct pl_client *client;
    struct agent_state state;
    char last_packed_note[512]; /* the packed-ring decision last logged */
};

/* Makes one full report. Logs what it changed and any failure. */
enum report_rc agent_report(struct agent_reporter *r);

#endif
