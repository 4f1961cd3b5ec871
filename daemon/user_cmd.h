/*
 * portolan user: manage web UI accounts (store/users.h) from the command
 * line, without a daemon. Passwords come from standard input, never from
 * arguments (they would show in ps and shell history).
 */
#ifndef DAEMON_USER_CMD_H
#define DAEMON_USER_CMD_H

/*
 * portolan user add NAME [--role admin|viewer] | passwd NAME | del NAME | list.
 * Returns the process exit code: 0 ok, 1 failed, 2 usage.
 */
int user_cmd_main(const char *config, int argc, char **argv);

#endif
