/* The whole-request deadline reaper (server/deadline.c), on socket pairs,
 * with the reaping time given explicitly (no sleeping, no timing). */
#include <check.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/deadline.h"
#include "support.h"

#define HOUR_MS ((uint64_t)3600 * 1000)

/* True when the far end of the pair sees end-of-stream: the near end was
 * shut down. */
static bool peer_sees_eof(int peer)
{
    char c;
    ssize_t n = recv(peer, &c, 1, MSG_DONTWAIT);
    return n == 0;
}

static bool peer_still_open(int peer)
{
    char c;
    ssize_t n = recv(peer, &c, 1, MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

START_TEST(armed_connection_is_shut_down_at_its_deadline_only)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct deadline_reaper *r = deadline_reaper_start(HOUR_MS);
    ck_assert_ptr_nonnull(r);
    uint64_t t0 = deadline_now_ms();
    struct deadline_conn *c = deadline_track(r, sv[0]);

    ck_assert_uint_eq(deadline_reap(r, t0), 0);
    ck_assert(peer_still_open(sv[1]));
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms() + HOUR_MS), 1);
    ck_assert(peer_sees_eof(sv[1]));
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms() + 2 * HOUR_MS), 0); /* once */

    deadline_untrack(r, c);
    deadline_reaper_stop(r);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(disarmed_connection_survives_until_rearmed)
{
    int a[2], b[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    struct deadline_reaper *r = deadline_reaper_start(HOUR_MS);
    struct deadline_conn *ca = deadline_track(r, a[0]);
    struct deadline_conn *cb = deadline_track(r, b[0]);

    deadline_disarm(r, ca); /* its request arrived whole */
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms() + HOUR_MS), 1);
    ck_assert(peer_still_open(a[1]));
    ck_assert(peer_sees_eof(b[1]));

    deadline_rearm(r, ca); /* answered; the next request is due */
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms()), 0);
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms() + HOUR_MS), 1);
    ck_assert(peer_sees_eof(a[1]));

    deadline_untrack(r, ca);
    deadline_untrack(r, cb);
    deadline_reaper_stop(r);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
}
END_TEST

START_TEST(untracked_connection_is_never_touched)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct deadline_reaper *r = deadline_reaper_start(HOUR_MS);
    deadline_untrack(r, deadline_track(r, sv[0]));
    deadline_untrack(r, NULL);
    ck_assert_uint_eq(deadline_reap(r, deadline_now_ms() + 2 * HOUR_MS), 0);
    ck_assert(peer_still_open(sv[1]));
    deadline_reaper_stop(r);
    deadline_reaper_stop(NULL);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("deadline");
    tcase_add_test(tc, armed_connection_is_shut_down_at_its_deadline_only);
    tcase_add_test(tc, disarmed_connection_survives_until_rearmed);
    tcase_add_test(tc, untracked_connection_is_never_touched);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
