/*
 * The built-in widget definitions (widgets/<name>/widget.yml and
 * README.md), embedded into the binary at build time by
 * daemon/embed-widgets.sh so `portolan` needs no source tree. Only
 * widgetdef.c reads them.
 */
#ifndef DAEMON_WIDGET_BUILTINS_H
#define DAEMON_WIDGET_BUILTINS_H

#include <stddef.h>

struct widget_builtin {
	const char *path; /* "<name>/widget.yml" or "<name>/README.md" */
	const unsigned char *data;
	size_t len; /* data[len] is a NUL, not counted */
};

/* Sorted by path. */
extern const struct widget_builtin widget_builtins[];
extern const size_t widget_nbuiltins;

#endif
