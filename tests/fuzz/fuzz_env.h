/* Shared by the libFuzzer harnesses that go through api_dispatch: a small
 * seeded database (providers, a child, inventories, a trait, an aggregate,
 * an allocation) on tmpfs, and one call that runs a request and checks the
 * answer. The uuids and names below are what tests/fuzz/seeds.py puts in
 * place of the gabbi files' $ENVIRON[...] values. */
#ifndef PLACID_TESTS_FUZZ_ENV_H
#define PLACID_TESTS_FUZZ_ENV_H

#include <stddef.h>

#define FUZZ_ROOT     "f0000000-0000-4000-8000-000000000001"
#define FUZZ_CHILD    "f0000000-0000-4000-8000-000000000002"
#define FUZZ_AGG      "f0000000-0000-4000-8000-0000000000a1"
#define FUZZ_CONSUMER "f0000000-0000-4000-8000-0000000000c1"

/* Runs one request through api_dispatch as the admin: method, path (with
 * an optional "?query", URL-decoded here like libmicrohttpd does), the
 * OpenStack-API-Version header value (NULL = none) and a JSON body (NULL =
 * none). Aborts (a finding) when the answer is a 500, or when an answer or
 * error body is not valid JSON. Opens the database on first use and
 * starts again from the seeded copy every 256 calls, so write fuzzing
 * cannot grow it without bound. */
void fuzz_dispatch(const char *method, const char *path, const char *version, const char *body,
                   size_t body_len);

/* Takes the first line of data[0, size): *line becomes a NUL-terminated
 * malloc'd copy of what precedes the first '\n' (all of it when there is
 * none), and data and size move past that line. The caller frees *line. */
void fuzz_take_line(const unsigned char **data, size_t *size, char **line);

#endif
