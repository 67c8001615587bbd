/* What the agent learns from the host it runs on: CPUs, memory, disk and the
 * libvirt/QEMU versions. */
#ifndef PLACID_AGENT_HOST_H
#define PLACID_AGENT_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/version.h"

/* Online CPUs (sysconf). Returns 0 on failure. */
long long host_online_cpus(void);

/* MemTotal of /proc/meminfo in MiB, or -1 with the reason in err. */
long long host_memory_mb(char *err, size_t errsz);

/* Size of the file system holding path in GiB (rounded down, as nova's
 * libvirt driver reports local_gb), or -1 with the reason in err. */
long long host_disk_gb(const char *path, char *err, size_t errsz);

/* The host name (gethostname), or false. */
bool host_name(char *buf, size_t n);

/* Runs the first of libvirtd, virtqemud, virsh found (in PATH, /usr/sbin,
 * /sbin, /usr/local/sbin) with --version and parses the first line. On
 * failure returns false and explains why in why. On success why names the
 * binary used. */
bool host_detect_libvirt(struct agent_version *out, char *why, size_t whysz);

/* The same for qemu-system-<machine>, qemu-kvm, /usr/libexec/qemu-kvm, kvm. */
bool host_detect_qemu(struct agent_version *out, char *why, size_t whysz);

#endif
