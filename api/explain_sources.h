/* The provenance of a query derived from a flavor and an image (issue 12). */
#ifndef PLACID_API_EXPLAIN_SOURCES_H
#define PLACID_API_EXPLAIN_SOURCES_H

#include <stddef.h>

#include "api/explain.h"
#include "api/sched_translate.h"

/* Lists, for the parts of q that sched_translate derived from in, the
 * flavor field, extra spec or image property each came from. The array and
 * its strings live in rq's arena. Returns how many. */
size_t explain_sources(struct req *rq, const struct sched_request *in, const struct sched_query *q,
                       struct explain_source **out);

#endif
