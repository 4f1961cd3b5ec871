/*
 * The daemon's side of the static site: a render thread that rebuilds
 * site/ from the store after journal changes (debounced, so a burst of
 * registrations causes a few renders), once a minute (ages and staleness
 * move on by themselves) and at start-up; and `portolan render`, the
 * one-shot build from an inventory repo alone. The thread owns its
 * struct render_site (templates, fragment cache); nothing else touches it.
 */
#ifndef DAEMON_SITEGEN_H
#define DAEMON_SITEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

struct daemon;
struct sitegen;

/*
 * Called on the render thread after each build that finished and its .gz
 * files (seq = journal seq rendered), with the pages whose bytes changed,
 * relative to the site dir (valid during the call).
 */
typedef void (*sitegen_done_fn)(void *arg, uint64_t seq, const char *const *pages, size_t npages);

/* Load the templates and start the thread, which renders once right away. ERR_* on failure. */
int sitegen_start(struct sitegen **out, struct daemon *d, sitegen_done_fn done, void *arg,
                  struct err *e);
/* Something changed: render soon (debounced). Any thread. */
void sitegen_wake(struct sitegen *g);
/* Re-read the templates before the next render (SIGHUP). Any thread. */
void sitegen_reload(struct sitegen *g);
/* Render what is pending, stop the thread, free. NULL is fine. */
void sitegen_stop(struct sitegen *g);
/* The site dir it renders into (fixed at start: a SIGHUP does not move it). */
const char *sitegen_dir(const struct sitegen *g);
/* Renders done and total seconds spent in them (for /metrics). */
void sitegen_stats(struct sitegen *g, unsigned long long *renders, double *seconds);

/* portolan render [--repo DIR] [--out DIR] [--templates DIR] [--images DIR] */
int sitegen_cmd_render(const char *config, int argc, char **argv);

#endif
