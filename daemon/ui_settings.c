#include "ui_settings.h"

#include <jansson.h>

#include "ui.h"
#include "../common/banned.h"

void ui_settings_handle(struct daemon *d, const struct http_request *req, struct http_response *res,
                        const struct auth_user *u)
{
	(void)req;
	ui_page(d, res, 404, "Not yet", "ui-message",
	        json_pack("{s:s}", "message", "Settings are not built yet."), u);
}
