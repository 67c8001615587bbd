/* GET /: the version document, served without a token. */
#include "api/common.h"
#include "api/handlers.h"
#include "server/microversion.h"

int root_get(struct req *rq)
{
    char min[16], max[16];
    json_t *version = json_pack("{s:s,s:s,s:s,s:s}", "id", "v1.0", "max_version",
                                mv_format(MV_LATEST, max), "min_version", mv_format(MV_MIN, min),
                                "status", "CURRENT");
    json_object_set_new(version, "links", json_pack("[{s:s,s:s}]", "rel", "self", "href", ""));
    req_set_last_modified(rq, 0);
    return api_reply(rq, 200, json_pack("{s:[o]}", "versions", version));
}
