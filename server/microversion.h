/* OpenStack-API-Version negotiation for the "placement" service. */
#ifndef PLACID_SERVER_MICROVERSION_H
#define PLACID_SERVER_MICROVERSION_H

#include <stddef.h>

#define MV(major, minor) ((unsigned)(major) << 16 | (unsigned)(minor))
#define MV_MIN           MV(1, 0)
#define MV_LATEST        MV(1, 39)
#define MV_MAJOR(v)      ((v) >> 16)
#define MV_MINOR(v)      ((v)&0xffffu)

enum mv_result {
    MV_OK = 0,
    MV_MALFORMED = -1,    /* 400: the header value cannot be parsed */
    MV_UNACCEPTABLE = -2, /* 406: well formed, outside [MV_MIN, MV_LATEST] */
};

/* Parses an OpenStack-API-Version header value (NULL = absent). The last
 * "placement" entry of a comma-separated list wins; no entry means 1.0.
 * On MV_OK *out holds the version. On error, err (of size errsz) gets the
 * message Placement puts after "Invalid microversion: ". */
enum mv_result mv_parse(const char *header, unsigned *out, char *err, size_t errsz);

/* Writes "1.N" into buf. Returns buf. */
char *mv_format(unsigned mv, char buf[16]);

#endif
