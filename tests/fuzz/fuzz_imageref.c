/*
 * An image reference as a notifier reports it (image_name in a register
 * body): split into registry, owner, name, tag and digest.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/xalloc.h"
#include "../../store/imageref.h"
#include "fuzz.h"
#include "../../common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_imageref r = {0};
	char *ref = xstrndup((const char *)data, size);
	if (!store_imageref_parse(&r, ref)) {
		/* A parsed reference has a registry, a name, and a tag or a digest. */
		if (!r.registry || !r.name || !*r.name || (!r.tag && !r.digest))
			abort();
	}
	store_imageref_release(&r);
	free(ref);
	return 0;
}
