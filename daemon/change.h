/*
 * An operator's change to one service — add, edit, delete — the same for
 * the JSON API and the web UI's forms: validated (store_edit_from_json),
 * applied through the writer as one durable change made by `author` (the
 * git commit's author), and followed by a wake-up of the health checker
 * and the icon fetcher.
 */
#ifndef DAEMON_CHANGE_H
#define DAEMON_CHANGE_H

#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"
#include "../store/record.h"
#include "../store/validate.h"

struct daemon;

enum change_kind { CHANGE_ADD, CHANGE_EDIT, CHANGE_DELETE };

/*
 * Apply body (an edit object; ignored for a delete) to service id (0 for
 * an add). ERR_INVAL with the problems in v (nothing changed); ERR_NOTFOUND,
 * ERR_EXISTS (identity taken) or a store error in e. On success out
 * (optional, released by the caller) gets the stored record.
 */
int change_apply(struct daemon *d, enum change_kind kind, uint64_t id, const json_t *body,
                 const char *author, struct store_record *out, struct store_verr *v, struct err *e);

#endif
