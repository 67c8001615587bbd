/* The JSON body validation of every write route (and whatever the handler
 * does with a body that passes) through api_dispatch on the seeded
 * database: "METHOD PATH\nVERSION\nBODY", e.g.
 * "PUT /resource_providers/<uuid>/inventories\n1.26\n{...}". The body is
 * handed over as the raw bytes, not NUL-terminated, as from the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line, *version;
    fuzz_take_line(&data, &size, &line);
    fuzz_take_line(&data, &size, &version);
    char *sp = strchr(line, ' ');
    if (sp) {
        *sp = '\0';
        /* An exact copy, so that ASan sees any read past the body's end. */
        char *body = malloc(size ? size : 1);
        memcpy(body, data, size);
        fuzz_dispatch(line, sp + 1, version[0] ? version : NULL, body, size);
        free(body);
    }
    free(line);
    free(version);
    return 0;
}
