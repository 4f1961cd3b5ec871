/*
 * A LISTEN value (environment, settings.yml or --listen) split into the
 * address to bind and the port.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/xalloc.h"
#include "../../daemon/settings.h"
#include "fuzz.h"
#include "../../common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *host = NULL;
	int port = 0;
	char *s = xstrndup((const char *)data, size);
	if (!settings_parse_listen(s, &host, &port)) {
		if (!host || !*host || port < 1 || port > 65535)
			abort();
		free(host);
	}
	free(s);
	return 0;
}
