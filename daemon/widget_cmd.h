/*
 * portolan widget: check widget definitions and sample one widget once,
 * from the command line, with a small blocking driver of the sample
 * engine (widgetdef.h) over libcurl's easy interface (curlget.h).
 */
#ifndef DAEMON_WIDGET_CMD_H
#define DAEMON_WIDGET_CMD_H

/*
 * portolan widget check DIR... | test NAME URL [KEY] [--timeout S]
 * [--config-json JSON] | list. Returns the exit code: 0 ok, 1 failed (a
 * problem, a field without a value), 2 usage.
 */
int widget_cmd_main(const char *config, int argc, char **argv);

#endif
