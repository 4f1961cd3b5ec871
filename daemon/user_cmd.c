#include "user_cmd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../store/users.h"
#include "app.h"
#include "../common/banned.h"

/* A password line: the longest valid password, a '\r', the NUL. */
#define LINE_SIZE (STORE_USER_PASSWORD_MAX + 3)

#define USAGE                                                                                      \
	"usage: portolan user add NAME [--role admin|viewer]\n"                                    \
	"       portolan user passwd NAME\n"                                                       \
	"       portolan user del NAME\n"                                                          \
	"       portolan user list\n"

/* The terminal settings a hidden prompt changed, restored if a signal ends it. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_hidden;

static void restore_tty(int sig)
{
	if (tty_hidden)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

enum line_status { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL };

/* One line of stdin without its line ending; an enum line_status. */
static int read_line(char out[LINE_SIZE])
{
	size_t n = 0;
	int c, over = 0, nul = 0;
	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0')
			nul = 1;
		else if (n + 1 < LINE_SIZE)
			out[n++] = (char)c;
		else
			over = 1;
	}
	out[n] = '\0';
	if (c == EOF && !n && !over && !nul)
		return LINE_EOF;
	if (n && out[n - 1] == '\r')
		out[--n] = '\0';
	return over ? LINE_TOO_LONG : nul ? LINE_NUL : LINE_OK;
}

/*
 * Read a line with echo off. The prompt follows the switch: TCSAFLUSH
 * drops typeahead, which must not include an answer to the prompt.
 */
static int read_hidden(const char *prompt, char out[LINE_SIZE])
{
	struct termios raw;
	int hidden = !tcgetattr(STDIN_FILENO, &saved_tty);
	if (hidden) {
		raw = saved_tty;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		signal(SIGINT, restore_tty);
		signal(SIGTERM, restore_tty);
		signal(SIGHUP, restore_tty);
		tty_hidden = !tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	fputs(prompt, stderr);
	fflush(stderr);
	int rc = read_line(out);
	if (tty_hidden) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
		fputc('\n', stderr); /* the one the terminal did not echo */
	}
	tty_hidden = 0;
	if (hidden) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	return rc;
}

/* The new password of name: asked twice on a terminal, else one line of stdin. */
static int read_password(const char *name, char out[LINE_SIZE], struct err *e)
{
	int st, differ = 0;
	if (isatty(STDIN_FILENO)) {
		char prompt[128], again[LINE_SIZE];
		snprintf(prompt, sizeof(prompt), "new password for '%s': ", name);
		st = read_hidden(prompt, out);
		if (st == LINE_OK && (st = read_hidden("retype it: ", again)) == LINE_OK)
			differ = strcmp(out, again) != 0;
		sodium_memzero(again, sizeof(again));
	} else {
		st = read_line(out);
	}
	if (st == LINE_EOF)
		return err_set(e, ERR_INVAL, "no password on standard input");
	if (st == LINE_TOO_LONG)
		return err_set(e, ERR_INVAL, "password: must be at most %d bytes",
		               STORE_USER_PASSWORD_MAX);
	if (st == LINE_NUL)
		return err_set(e, ERR_INVAL, "password: must not contain NUL bytes");
	if (differ)
		return err_set(e, ERR_INVAL, "the passwords do not match");
	return store_user_check_password(out, e);
}

/* Whether any user is an admin: the first account defaults to admin. */
static int have_admin(struct store_txn *t)
{
	json_t *list = store_user_list(t), *u;
	size_t i;
	int found = 0;
	json_array_foreach (list, i, u)
		if (!strcmp(json_string_value(json_object_get(u, "role")), "admin"))
			found = 1;
	json_decref(list);
	return found;
}

/* Run one write txn around fn; commits when fn succeeds. */
static int write_txn(struct app *a, int (*fn)(struct store_txn *t, void *arg, struct err *e),
                     void *arg, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(a->db, 1, &t, e);
	if (rc)
		return rc;
	rc = fn(t, arg, e);
	if (rc)
		store_txn_abort(t);
	else
		rc = store_txn_commit(t, e);
	return rc;
}

struct change {
	const char *name, *role;
	char password[LINE_SIZE];
};

static int do_add(struct store_txn *t, void *arg, struct err *e)
{
	struct change *c = arg;
	return store_user_add(t, c->name, c->role, c->password, 0, (int64_t)time(NULL), e);
}

static int do_passwd(struct store_txn *t, void *arg, struct err *e)
{
	struct change *c = arg;
	/* the operator at the console chose it: no forced change */
	return store_user_set_password(t, c->name, c->password, 0, (int64_t)time(NULL), e);
}

static int do_del(struct store_txn *t, void *arg, struct err *e)
{
	return store_user_del(t, ((struct change *)arg)->name, e);
}

/* Check what can be checked before asking for a password: existence, the default role. */
static int precheck(struct app *a, struct change *c, int want_exists, int *admin_exists,
                    struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(a->db, 0, &t, e);
	if (rc)
		return rc;
	struct store_user u = {0};
	rc = store_user_get(t, c->name, &u, want_exists ? e : NULL);
	store_user_release(&u);
	if (!rc && !want_exists)
		rc = err_set(e, ERR_EXISTS, "user '%s' already exists", c->name);
	else if (rc == ERR_NOTFOUND && !want_exists)
		rc = 0;
	*admin_exists = have_admin(t);
	store_txn_abort(t);
	return rc;
}

static int cmd_add(struct app *a, struct change *c, struct err *e)
{
	int admin_exists = 0;
	int rc = precheck(a, c, 0, &admin_exists, e);
	if (rc)
		return rc;
	if (!c->role)
		c->role = admin_exists ? "viewer" : "admin";
	if ((rc = read_password(c->name, c->password, e)) || (rc = write_txn(a, do_add, c, e)))
		return rc;
	printf("added user '%s' (%s)\n", c->name, c->role);
	if (!admin_exists && strcmp(c->role, "admin"))
		fprintf(stderr, "user add: warning: there is no admin yet; add one with "
		                "'portolan user add NAME --role admin'\n");
	return 0;
}

static int cmd_passwd(struct app *a, struct change *c, struct err *e)
{
	int admin_exists;
	int rc = precheck(a, c, 1, &admin_exists, e);
	if (!rc)
		rc = read_password(c->name, c->password, e);
	if (!rc)
		rc = write_txn(a, do_passwd, c, e);
	if (!rc)
		printf("changed the password of '%s'; their sessions are ended\n", c->name);
	return rc;
}

static int cmd_del(struct app *a, struct change *c, struct err *e)
{
	int rc = write_txn(a, do_del, c, e);
	if (!rc)
		printf("deleted user '%s'\n", c->name);
	return rc;
}

static int cmd_list(struct app *a, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(a->db, 0, &t, e);
	if (rc)
		return rc;
	json_t *list = store_user_list(t);
	store_txn_abort(t);
	json_dumpf(list, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(list);
	return 0;
}

/* Parse "SUB NAME [--role R]" into c; 0 or -1 for a usage error. */
static int parse_args(int argc, char **argv, struct change *c)
{
	int is_add = !strcmp(argv[0], "add");
	if (!strcmp(argv[0], "list"))
		return argc == 1 ? 0 : -1;
	if (!is_add && strcmp(argv[0], "passwd") && strcmp(argv[0], "del"))
		return -1;
	for (int i = 1; i < argc; i++) {
		if (is_add && !strcmp(argv[i], "--role") && i + 1 < argc)
			c->role = argv[++i];
		else if (is_add && !strncmp(argv[i], "--role=", 7))
			c->role = argv[i] + 7;
		else if (argv[i][0] != '-' && !c->name)
			c->name = argv[i];
		else
			return -1;
	}
	return c->name ? 0 : -1;
}

int user_cmd_main(const char *config, int argc, char **argv)
{
	struct change c = {0};
	if (argc < 1 || parse_args(argc, argv, &c)) {
		fputs(USAGE, stderr);
		return 2;
	}
	const char *sub = argv[0];
	struct err e = {0};
	struct app a = {0};
	int rc = 0;
	if (c.name)
		rc = store_user_check_name(c.name, &e);
	if (!rc && c.role)
		rc = store_user_check_role(c.role, &e);
	if (!rc && sodium_init() < 0)
		rc = err_set(&e, ERR_IO, "cannot initialise libsodium");
	if (!rc)
		rc = app_open(&a, config, &e);
	if (rc)
		goto out;
	if (!strcmp(sub, "add"))
		rc = cmd_add(&a, &c, &e);
	else if (!strcmp(sub, "passwd"))
		rc = cmd_passwd(&a, &c, &e);
	else if (!strcmp(sub, "del"))
		rc = cmd_del(&a, &c, &e);
	else
		rc = cmd_list(&a, &e);
	app_close(&a);
out:
	sodium_memzero(c.password, sizeof(c.password));
	if (rc)
		fprintf(stderr, "user %s: %s\n", sub, e.msg);
	return rc ? 1 : 0;
}
