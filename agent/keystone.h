/* placid-agent's Keystone password authentication, as nova-compute's
 * [placement] section does it: a token for the agent's own user and the
 * placement endpoint from Keystone's service catalog. */
#ifndef PLACID_AGENT_KEYSTONE_H
#define PLACID_AGENT_KEYSTONE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "agent/report.h"
#include "api/keystone.h"

struct agent_keystone {
    char auth_url[512];                /* identity endpoint, no trailing '/' */
    struct keystone_credentials cred;  /* from the credentials file */
    char interface[32];                /* catalog interface (default public) */
    char region[128];                  /* catalog region ("" = any) */
    const char *url_override;          /* --url given: used instead of the catalog */
    char token[8192];
    time_t renew_at;                   /* log in again from then on */
    char endpoint[512];                /* the placement URL in use */
};

/* Reads the credentials file (keystone_read_credentials' format, plus
 * optional region_name and interface/valid_interfaces). Returns 0, or -1
 * with a one-line reason in err. */
int agent_keystone_init(struct agent_keystone *k, const char *auth_url, const char *cred_file,
                        const char *url_override, char *err, size_t errsz);

/* Makes sure r->client carries a fresh token (logging in when none, when it
 * is due for renewal, or when force says placid refused it) and points at
 * the catalog's placement endpoint. REPORT_OK, REPORT_RETRY (Keystone
 * unreachable or failing) or REPORT_AUTH (credentials refused). */
enum report_rc agent_keystone_ready(struct agent_keystone *k, struct agent_reporter *r,
                                    struct agent_config *cfg, bool force);

#endif
