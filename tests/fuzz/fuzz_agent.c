/* placid-agent's parsers of outside text: `libvirtd/qemu --version` output,
 * stated versions, the --url host (loopback check) and the token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/token.h"
#include "agent/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), why[256], err[256], buf[32];
    memcpy(text, data, size);
    text[size] = '\0';
    struct agent_version v, w;
    bool found = agent_version_from_output(text, &v);
    if (found)
        agent_version_format(&v, buf);
    if (agent_version_parse(text, &w) && found)
        agent_packed_ring_supported(&v, &w, why, sizeof(why));
    agent_url_is_loopback(text);
    if (agent_token_check(text, err, sizeof(err)) == 0 && strlen(text) > AGENT_MAX_TOKEN)
        abort();
    free(text);
    return 0;
}
