/*
 * Login throttling by client address, in memory (a restart forgets it).
 * An address that fails max_failures logins within window_s seconds is
 * locked out for lockout_s seconds; failures older than the window do not
 * count. A successful login does not reset an address (one good login
 * with any account must not wipe the failures guessing another): the
 * failures age out. The table holds at most
 * max_entries addresses: when full, the one whose last activity is oldest
 * makes room, so a flood of addresses never grows memory. Addresses are
 * text (IPv4/IPv6); only their first THROTTLE_IP_MAX characters are the
 * key. All functions are thread-safe (one mutex); "now" is any clock in
 * seconds, the same one for every call.
 */
#ifndef DAEMON_THROTTLE_H
#define DAEMON_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_IP_MAX 63

/* The defaults the login handler uses. */
#define THROTTLE_MAX_FAILURES 10
#define THROTTLE_WINDOW_S     900
#define THROTTLE_LOCKOUT_S    900
#define THROTTLE_MAX_ENTRIES  4096

struct throttle;

/* A new, empty table. Arguments below 1 count as 1. Never NULL. */
struct throttle *throttle_new(int max_failures, int64_t window_s, int64_t lockout_s,
                              size_t max_entries);
/* Free the table. NULL is fine. */
void throttle_free(struct throttle *t);
/*
 * 1 when ip is locked out at now, with *retry_after (optional) set to the
 * seconds left (at least 1); 0 otherwise. Checking records nothing.
 */
int throttle_check(struct throttle *t, const char *ip, int64_t now, int64_t *retry_after);
/*
 * Record a failed login from ip at now. Returns 1 when ip is locked out
 * afterwards (this failure reached the limit, or it already was), else 0.
 * Failures while locked out do not extend the lockout.
 */
int throttle_fail(struct throttle *t, const char *ip, int64_t now);
/* Number of addresses in the table (at most max_entries). */
size_t throttle_size(struct throttle *t);

#endif
