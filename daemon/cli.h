/*
 * The inventory subcommands that need no daemon: import, export, check,
 * rebuild. Each returns the process exit code (0 ok, 1 failed, 2 usage).
 */
#ifndef DAEMON_CLI_H
#define DAEMON_CLI_H

/* portolan import FILE|DIR... */
int cli_import(const char *config, int argc, char **argv);
/* portolan export */
int cli_export(const char *config, int argc, char **argv);
/* portolan check [DIR] */
int cli_check(const char *config, int argc, char **argv);
/* portolan rebuild */
int cli_rebuild(const char *config, int argc, char **argv);

#endif
