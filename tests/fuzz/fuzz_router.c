/* Router path matching and the version window: "METHOD PATH\nVERSION"
 * (VERSION is an OpenStack-API-Version value, e.g. "placement 1.20"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "fuzz_env.h"
#include "server/microversion.h"
#include "server/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line, *header, err[160];
    fuzz_take_line(&data, &size, &line);
    fuzz_take_line(&data, &size, &header);
    char *sp = strchr(line, ' ');
    struct req rq;
    req_init(&rq);
    rq.method = line;
    rq.path = "/";
    if (sp) {
        *sp = '\0';
        char *path = arena_strdup(&rq.arena, sp + 1);
        char *q = strchr(path, '?');
        if (q)
            *q = '\0';
        url_unescape(path);
        rq.path = path;
    }
    if (mv_parse(header[0] ? header : NULL, &rq.mv, err, sizeof(err)) != MV_OK)
        rq.mv = MV_LATEST;
    router_find(api_routes, &rq);
    req_release(&rq);
    free(line);
    free(header);
    return 0;
}
