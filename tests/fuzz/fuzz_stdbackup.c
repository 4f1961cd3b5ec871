/*
 * A backup file in STD's format (an upload from anyone with an admin
 * session, or a file dropped into BACKUP_PATH) through the parser. What
 * parses must hold only valid records: identities within a register's
 * limits, list fields in canonical form, a source name for the journal;
 * and its report text must be writable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../../common/err.h"
#include "../../store/stdbackup.h"
#include "../../store/validate.h"
#include "fuzz.h"
#include "../../common/banned.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_std_backup b;
	struct err e = {0};
	if (store_std_parse(&b, (const char *)data, size, "fuzz.yml", &e)) {
		CHECK(e.code == ERR_INVAL && !strncmp(e.msg, "fuzz.yml:", 9));
		return 0;
	}
	CHECK(b.source && !strcmp(b.source, "fuzz.yml"));
	struct store_std_report rep;
	memset(&rep, 0, sizeof(rep));
	rep.v = calloc(b.n ? b.n : 1, sizeof(*rep.v));
	for (size_t i = 0; i < b.n; i++) {
		const struct store_record *r = &b.v[i].rec;
		CHECK(b.v[i].line >= 1);
		CHECK(!r->host || (r->host[0] && strlen(r->host) <= STORE_MAX_NAME));
		CHECK(!r->container_name ||
		      (r->container_name[0] && strlen(r->container_name) <= STORE_MAX_NAME));
		CHECK(!r->internalurl || store_url_is_http(r->internalurl));
		CHECK(!r->externalurl || store_url_is_http(r->externalurl));
		CHECK(!r->networks || r->networks[0] == '[');
		rep.v[rep.n].line = b.v[i].line;
		rep.v[rep.n].outcome = STORE_STD_SKIPPED;
		rep.v[rep.n].reason = "fuzz";
		rep.count[STORE_STD_SKIPPED]++;
		rep.n++;
	}
	struct buf text;
	buf_init(&text, 0);
	store_std_report_text(&rep, &b, &text);
	CHECK(!strncmp(text.data, "restore from fuzz.yml: ", 23));
	buf_release(&text);
	store_std_report_release(&rep);
	store_std_backup_release(&b);
	return 0;
}
