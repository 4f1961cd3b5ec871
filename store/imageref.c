#include "imageref.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../common/banned.h"

void store_imageref_release(struct store_imageref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->owner);
	free(r->name);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

/* Docker's rule: the first component is a registry if it looks like a host. */
static int looks_like_registry(const char *s, size_t n)
{
	if (n == 9 && !strncmp(s, "localhost", 9))
		return 1;
	return memchr(s, '.', n) || memchr(s, ':', n);
}

int store_imageref_parse(struct store_imageref *out, const char *ref)
{
	struct store_imageref r = {0};
	if (!ref || !*ref || strchr(ref, ' '))
		return -1;
	char *work = xstrdup(ref);
	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!at[1])
			goto bad;
		r.digest = xstrdup(at + 1);
	}
	char *path = work;
	char *slash = strchr(path, '/');
	if (slash && looks_like_registry(path, (size_t)(slash - path))) {
		r.registry = xstrndup(path, (size_t)(slash - path));
		path = slash + 1;
	} else {
		r.registry = xstrdup("docker.io");
	}
	char *last = strrchr(path, '/');
	char *name = last ? last + 1 : path;
	char *colon = strrchr(name, ':');
	if (colon) {
		*colon = '\0';
		if (!colon[1])
			goto bad;
		r.tag = xstrdup(colon + 1);
	} else if (!r.digest) {
		r.tag = xstrdup("latest");
	}
	if (!*name || !*path || path[0] == '/')
		goto bad;
	r.name = xstrdup(name);
	if (last) {
		*last = '\0';
		r.owner = xstrdup(path);
	} else if (!strcmp(r.registry, "docker.io")) {
		r.owner = xstrdup("library");
	}
	free(work);
	*out = r;
	return 0;
bad:
	free(work);
	store_imageref_release(&r);
	return -1;
}
