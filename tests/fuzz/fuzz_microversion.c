/* The OpenStack-API-Version header parser: the whole input is the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/microversion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = malloc(size + 1), err[160], buf[16];
    unsigned mv;
    memcpy(header, data, size);
    header[size] = '\0';
    if (mv_parse(header, &mv, err, sizeof(err)) == MV_OK) {
        mv_format(mv, buf);
        if (mv < MV_MIN || mv > MV_LATEST)
            abort(); /* MV_OK promises a served version */
    } else if (!memchr(err, '\0', sizeof(err))) {
        abort();
    }
    free(header);
    return 0;
}
