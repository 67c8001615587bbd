/* The query parsers of every GET route (allocation candidates, the provider
 * list, usages, allocations, traits, ...) through api_dispatch on the
 * seeded database: "PATH?QUERY\nVERSION", e.g.
 * "/allocation_candidates?resources=VCPU:1&required=!X\n1.39". */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path, *version;
    fuzz_take_line(&data, &size, &path);
    fuzz_take_line(&data, &size, &version);
    fuzz_dispatch("GET", path, version[0] ? version : NULL, NULL, 0);
    free(path);
    free(version);
    return 0;
}
