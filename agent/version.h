/* Version strings of libvirt and QEMU, and the packed-ring gate.
 * Pure functions (no I/O) so they can be unit-tested; host.c runs the
 * binaries and hands their output here. */
#ifndef PLACID_AGENT_VERSION_H
#define PLACID_AGENT_VERSION_H

#include <stdbool.h>
#include <stddef.h>

struct agent_version {
    int major, minor, micro;
};

/* Feature minimums named in nova's packed-ring release note ("supported on the
 * nodes with Qemu v4.2 and Libvirt v6.3"); nova itself has no constant. */
#define AGENT_MIN_LIBVIRT_VIRTIO_PACKED                                                            \
    {                                                                                              \
        6, 3, 0                                                                                    \
    }
#define AGENT_MIN_QEMU_VIRTIO_PACKED                                                               \
    {                                                                                              \
        4, 2, 0                                                                                    \
    }

/* Finds the version in the FIRST line of a `--version` output: the first
 * "N.N" or "N.N.N" that is not glued to a preceding digit, letter or dot, e.g.
 * "libvirtd (libvirt) 9.0.0", "9.0.0" (virsh) or
 * "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7)". A missing micro is 0.
 * Returns false when there is none. */
bool agent_version_from_output(const char *text, struct agent_version *out);

/* Parses a stated version: the whole string (surrounding whitespace
 * allowed) must be "N.N" or "N.N.N". Returns false otherwise. */
bool agent_version_parse(const char *s, struct agent_version *out);

/* <0, 0, >0 like strcmp. */
int agent_version_cmp(const struct agent_version *a, const struct agent_version *b);

/* Writes "N.N.N" into buf[32]. Returns buf. */
char *agent_version_format(const struct agent_version *v, char buf[32]);

/* Decides whether the host may report COMPUTE_NET_VIRTIO_PACKED: only when
 * both versions are known (non-NULL) and at least libvirt 6.3.0 and QEMU
 * 4.2.0. why (of size whysz) always receives a one-line reason, e.g.
 * "libvirt 6.2.0 < 6.3.0" or "QEMU version unknown". */
bool agent_packed_ring_supported(const struct agent_version *libvirt,
                                 const struct agent_version *qemu, char *why, size_t whysz);

#endif
