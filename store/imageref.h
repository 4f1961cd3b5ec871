/*
 * Docker image references, split the way the inventory stores them:
 * registry, owner (namespace path), name, tag and digest. A missing
 * registry means Docker Hub ("docker.io"); a one-part Docker Hub name has
 * the owner "library"; a missing tag is "latest" unless a digest pins it.
 */
#ifndef STORE_IMAGEREF_H
#define STORE_IMAGEREF_H

struct store_imageref {
	char *registry;
	char *owner;
	char *name;
	char *tag;    /* NULL when only a digest is given */
	char *digest; /* "sha256:<hex>" or NULL */
};

/* Parse ref into out (all malloc'd); -1 when ref is empty or malformed. */
int store_imageref_parse(struct store_imageref *out, const char *ref);
/* Free the parts. NULL is fine. */
void store_imageref_release(struct store_imageref *r);

#endif
