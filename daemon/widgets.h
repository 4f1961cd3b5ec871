/*
 * The widget sampler: one thread that samples every configured widget
 * (store record field `widget`) at start-up, every WIDGET_BACKGROUND_RELOAD
 * seconds and soon after a widget is configured, all concurrently through
 * one curl multi handle (WIDGET_TIMEOUT per request), driving each
 * service's sample state machine (widgetdef.h). Values and errors go to
 * LMDB through the writer (store/widgetvals.h); a changed value wakes the
 * site renderer. A daily prune (00:15 local) drops values older than
 * WIDGET_VALUE_RETENTION_DAYS. API keys are decrypted only for the
 * request that needs them (store/widgetkey.h) and never logged.
 */
#ifndef DAEMON_WIDGETS_H
#define DAEMON_WIDGETS_H

#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "../store/db.h"

struct daemon;
struct widgets;
struct widget_defs;

/* Load the definitions and the key file (before anything reads them). */
int widgets_new(struct widgets **out, struct daemon *d, struct err *e);
/* Start sampling (once the writer and the renderer run). */
int widgets_run(struct widgets *w, struct err *e);
/* Stop sampling (a round in flight is abandoned); NULL is fine. */
void widgets_stop(struct widgets *w);
/* Free (after the renderer, which reads the definitions, has stopped); NULL is fine. */
void widgets_free(struct widgets *w);
/* A widget was configured or changed: sample soon. Any thread; NULL is fine. */
void widgets_wake(struct widgets *w);
/* The definitions (read-only, for the edit page and the renderer). */
const struct widget_defs *widgets_defs(const struct widgets *w);
/* The 32-byte secretbox key for API keys at rest. */
const unsigned char *widgets_secret(const struct widgets *w);
/*
 * What the definition engine takes as the configuration of the generic
 * `json` widget, from a service's widget configuration (store/widgetcfg.h);
 * NULL for the other types. New reference.
 */
json_t *widget_engine_config(const json_t *cfg);
/* Rounds done, samples taken, and the last round's wall and CPU seconds (for /metrics). */
void widgets_stats(struct widgets *w, unsigned long long *rounds, unsigned long long *samples,
                   double *last_seconds, double *last_cpu);

#endif
