/*
 * portolan: one binary, subcommands. Only main() parses the global
 * options and picks the config dir; each command gets it explicitly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "cli.h"
#include "serve.h"
#include "sitegen.h"
#include "user_cmd.h"
#include "widget_cmd.h"
#include "../common/banned.h"

#define PORTOLAN_VERSION "0.1.0"

struct command {
	const char *name;
	int (*run)(const char *config, int argc, char **argv);
	const char *summary;
	const char *help;
};

static const struct command commands[] = {
    {"serve", serve_main, "run the daemon (HTTP API, git mirror)",
     "usage: portolan serve [--listen ADDR] [-n]\n\n"
     "Run the daemon on ADDR (host:port, [v6]:port or :port; default from\n"
     "LISTEN / settings.yml, else 127.0.0.1:8815). -n checks the configuration\n"
     "and exits. SIGTERM/SIGINT stop it cleanly (in-flight requests finish,\n"
     "pending changes are committed to git); SIGHUP reloads settings.yml.\n"},
    {"import", cli_import, "apply registration payloads or an STD backup to the inventory",
     "usage: portolan import [--format register] FILE|DIR...\n"
     "       portolan import --format std [--scope all|static] [--author NAME] FILE\n\n"
     "--format register (the default): apply register payloads through the same\n"
     "validation and merge rules as POST /api/v1/register. A file holds one JSON\n"
     "object or an array of them; a directory contributes its *.json files in\n"
     "name order. If any payload is invalid, every problem is reported\n"
     "(file[index]: field: message) and nothing is imported.\n\n"
     "--format std: restore a backup in STD's format (STD's nightly\n"
     "<date>-std_backup.yml, its manual download, or portolan's own export).\n"
     "Records without host or container_name are skipped; --scope static takes\n"
     "only records with is_static true; a static entry is never overwritten by a\n"
     "non-static record. A per-record report goes to stdout. An invalid file\n"
     "is reported as file:line:col and changes nothing (exit 1). The restore is\n"
     "one commit 'restore from FILE' by NAME (default $USER).\n\n"
     "Either way the inventory repo is committed before it returns.\n"},
    {"export", cli_export, "print the inventory as JSON or as an STD backup",
     "usage: portolan export [--format json|std]\n\n"
     "json (the default): every service's inventory fields (not live state) as a\n"
     "JSON array ordered by id. std: a backup in STD's YAML format, the same\n"
     "bytes the daily backup writes (no secrets, no widget settings).\n"},
    {"check", cli_check, "validate the inventory repo's YAML files",
     "usage: portolan check [DIR]\n\n"
     "Validate every YAML file of an inventory repo (default: <config>/inventory).\n"
     "Problems are printed as file:line:col: message; the exit status is 1 if\n"
     "there are any.\n"},
    {"rebuild", cli_rebuild, "rebuild the LMDB store from the inventory repo",
     "usage: portolan rebuild\n\n"
     "Mirror pending changes, then replace the store's inventory with what the\n"
     "repo holds (hand edits included, once they validate). Live state of\n"
     "services that keep their id is kept. An invalid repo changes nothing.\n"},
    {"render", sitegen_cmd_render, "build the static site from an inventory repo",
     "usage: portolan render [--repo DIR] [--out DIR] [--templates DIR] [--images DIR]\n\n"
     "Render every dashboard page (table, tiled, compact x group/stack/host x\n"
     "URL-less shown/hidden) from an inventory repo alone (default\n"
     "<config>/inventory) into DIR (default SITE_DIR, as the daemon), without\n"
     "LMDB or a daemon: live fields (docker status, health) show as unknown.\n"
     "Files in --templates DIR (default <config>/templates) replace the\n"
     "built-in templates of the same name; icons\n"
     "come from --images DIR (default <config>/images). Only changed files are\n"
     "rewritten; pages get .gz siblings. SOURCE_DATE_EPOCH pins the time.\n"},
    {"user", user_cmd_main, "manage web UI accounts (add, passwd, del, list)",
     "usage: portolan user add NAME [--role admin|viewer]\n"
     "       portolan user passwd NAME\n"
     "       portolan user del NAME\n"
     "       portolan user list\n\n"
     "Manage the accounts of the web UI. A NAME is 1 to 64 characters of a-z,\n"
     "0-9, '.', '_' and '-'. add and passwd read the password (8 characters or\n"
     "more) from standard input, one line; on a terminal they prompt for it\n"
     "twice without echo. add's --role defaults to admin while there is no\n"
     "admin, else to viewer. passwd ends the user's sessions. The last admin\n"
     "cannot be deleted. list prints the accounts as JSON (never a password\n"
     "hash).\n"},
    {"widget", widget_cmd_main, "check widget definitions, sample a widget once",
     "usage: portolan widget check DIR...\n"
     "       portolan widget test NAME URL [KEY|-] [--timeout S] [--config-json JSON]\n"
     "       portolan widget list\n\n"
     "check: validate a widget directory (widget.yml and README.md), or every\n"
     "widget directory inside DIR; problems go to stderr as file:line:col: what,\n"
     "the exit status is 1 if there are any.\n\n"
     "test: sample widget NAME (built-in, or from <config>/widgets/) once against\n"
     "the service at URL (http or https) and print one line per field,\n"
     "'key: value unit' or 'key: error (class): message'. KEY is the service's\n"
     "API key ('-' reads it from the first line of stdin; without it\n"
     "$WIDGET_API_KEY, else none). --timeout is per request (default 10 s).\n"
     "The json widget takes its fields from --config-json, e.g.\n"
     "'{\"fields\": [{\"key\": \"n\", \"label\": \"N\", \"url\": \"/api/x\", \"path\": "
     "\"$.n\"}]}'.\n"
     "Exit status 1 when a field has no value.\n\n"
     "list: the widgets this install knows, with their descriptions.\n"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: portolan [--config DIR] COMMAND [ARGS]\n\n"
	             "The config dir comes from --config, else $PORTOLAN_CONFIG, else ./var.\n\n"
	             "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'portolan COMMAND --help' describes a command.\n");
}

/* Remove --config DIR / --config=DIR anywhere in argv; returns the new argc. */
static int take_config(int argc, char **argv, const char **config)
{
	int out = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			*config = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			*config = argv[i] + 9;
		} else {
			argv[out++] = argv[i];
		}
	}
	return out;
}

int main(int argc, char **argv)
{
	const char *config = getenv("PORTOLAN_CONFIG");
	if (!config || !*config)
		config = "./var";
	argv++;
	argc = take_config(argc - 1, argv, &config);
	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "help")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	if (!strcmp(argv[0], "--version")) {
		printf("portolan %s\n", PORTOLAN_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(commands[i].help, stdout);
			return 0;
		}
		return commands[i].run(config, argc - 1, argv + 1);
	}
	fprintf(stderr, "portolan: unknown command '%s'\n\n", argv[0]);
	usage(stderr);
	return 2;
}
