/*
 * The Exposure tab of /settings (ui_settings.c routes here): which layers
 * count as internal or external (the settings' own layers first, then
 * every other layer observations name) and the per-host overrides. It is
 * one form, a POST to /settings/exposure, that replaces the whole exposure
 * setting; the success message says how many services got new URLs.
 */
#ifndef DAEMON_UI_EXPOSURE_H
#define DAEMON_UI_EXPOSURE_H

#include <jansson.h>

#include "auth.h"
#include "http.h"

struct daemon;
struct store_txn;
struct ui_settings_failed;

/* The tab's section of ui-settings.html (new reference), showing f's form again if not NULL. */
json_t *ui_exposure_tab(struct store_txn *t, const struct ui_settings_failed *f);

/* Handle the exposure form POST; always fills res (303 on success, the tab again on a problem). */
void ui_exposure_post(struct daemon *d, const struct http_request *req, struct http_response *res,
                      const struct auth_user *u);

#endif
