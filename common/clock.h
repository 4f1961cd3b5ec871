/*
 * Time helpers every thread uses: a monotonic clock for durations and
 * schedules, and absolute deadlines for pthread_cond_timedwait (whose
 * default clock is CLOCK_REALTIME).
 */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <time.h>

/* Monotonic seconds (arbitrary origin): for durations, never for dates. */
double clock_mono_s(void);
/* *ts = CLOCK_REALTIME now + ms, normalised: a deadline for pthread_cond_timedwait. */
void clock_deadline_ms(struct timespec *ts, long ms);

#endif
