#include "agent/version.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Reads up to three dot-separated numbers at s; returns the number of
 * characters consumed, or 0 when s does not start with "N.N". */
static size_t read_triplet(const char *s, struct agent_version *out)
{
    int part[3] = {0, 0, 0};
    size_t i = 0;
    int n = 0;

    while (n < 3) {
        if (!isdigit((unsigned char)s[i]))
            break;
        long v = 0;
        while (isdigit((unsigned char)s[i])) {
            if (v > 99999)
                return 0; /* not a version number anyone ships */
            v = v * 10 + (s[i++] - '0');
        }
        part[n++] = (int)v;
        if (n == 3 || s[i] != '.' || !isdigit((unsigned char)s[i + 1]))
            break;
        i++;
    }
    if (n < 2)
        return 0;
    out->major = part[0];
    out->minor = part[1];
    out->micro = part[2];
    return i;
}

bool agent_version_from_output(const char *text, struct agent_version *out)
{
    size_t line = strcspn(text, "\n");
    for (size_t i = 0; i < line; i++) {
        if (!isdigit((unsigned char)text[i]))
            continue;
        if (i > 0 && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '.'))
            continue;
        size_t used = read_triplet(text + i, out);
        if (used && i + used <= line)
            return true;
        while (i + 1 < line && (isdigit((unsigned char)text[i + 1]) || text[i + 1] == '.'))
            i++; /* skip the rest of this non-version number */
    }
    return false;
}

bool agent_version_parse(const char *s, struct agent_version *out)
{
    struct agent_version v;
    while (isspace((unsigned char)*s))
        s++;
    size_t used = read_triplet(s, &v);
    if (!used)
        return false;
    s += used;
    while (isspace((unsigned char)*s))
        s++;
    if (*s)
        return false;
    *out = v;
    return true;
}

int agent_version_cmp(const struct agent_version *a, const struct agent_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->micro != b->micro)
        return a->micro < b->micro ? -1 : 1;
    return 0;
}

char *agent_version_format(const struct agent_version *v, char buf[32])
{
    snprintf(buf, 32, "%d.%d.%d", v->major, v->minor, v->micro);
    return buf;
}

bool agent_packed_ring_supported(const struct agent_version *libvirt,
                                 const struct agent_version *qemu, char *why, size_t whysz)
{
    static const struct agent_version min_libvirt = AGENT_MIN_LIBVIRT_VIRTIO_PACKED;
    static const struct agent_version min_qemu = AGENT_MIN_QEMU_VIRTIO_PACKED;
    char a[32], b[32], c[32], d[32];

    if (!libvirt) {
        snprintf(why, whysz, "libvirt version unknown");
        return false;
    }
    if (!qemu) {
        snprintf(why, whysz, "QEMU version unknown");
        return false;
    }
    if (agent_version_cmp(libvirt, &min_libvirt) < 0) {
        snprintf(why, whysz, "libvirt %s < %s", agent_version_format(libvirt, a),
                 agent_version_format(&min_libvirt, b));
        return false;
    }
    if (agent_version_cmp(qemu, &min_qemu) < 0) {
        snprintf(why, whysz, "QEMU %s < %s", agent_version_format(qemu, a),
                 agent_version_format(&min_qemu, b));
        return false;
    }
    snprintf(why, whysz, "libvirt %s >= %s and QEMU %s >= %s", agent_version_format(libvirt, a),
             agent_version_format(&min_libvirt, b), agent_version_format(qemu, c),
             agent_version_format(&min_qemu, d));
    return true;
}
