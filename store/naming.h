/*
 * File names for services in the inventory repository:
 *   services/<enc(host)>/<enc(container_name)>.yml
 *
 * enc() keeps [A-Za-z0-9_.-] (case preserved) and writes every other byte
 * as %XX (uppercase hex); a leading '.' is written %2E so that no name is
 * hidden, "." or "..". The empty string is written "%00" (a NUL byte can
 * never occur in a name, so this is unambiguous). enc() is injective and
 * store_naming_decode() accepts exactly its outputs, so a file name maps
 * back to one identity and two identities never share a file.
 *
 * Note: on a case-insensitive file system (a clone on macOS or Windows)
 * "Web" and "web" would collide; Linux, where portolan runs, keeps them
 * apart.
 */
#ifndef STORE_NAMING_H
#define STORE_NAMING_H

/* Longest encoded component we write, ".yml" included (NAME_MAX). */
#define STORE_NAMING_MAX_COMPONENT 255

/* enc(s), malloc'd; never NULL. */
char *store_naming_encode(const char *s);

/*
 * Decode one encoded component into a malloc'd *out. Returns 0, or -1
 * (*out untouched) when enc is not exactly what store_naming_encode()
 * writes for some name (bad characters, lowercase or needless escapes, a
 * bare leading '.').
 */
int store_naming_decode(const char *enc, char **out);

/*
 * "services/<enc(host)>/<enc(container_name)>.yml", malloc'd, relative to
 * the repository root; never NULL. A component longer than
 * STORE_NAMING_MAX_COMPONENT is shortened to a prefix + "~" + a 128-bit
 * hash of the name (such paths are not decodable; the identity is in the
 * file).
 */
char *store_naming_service_path(const char *host, const char *container_name);

/*
 * Check that path (relative to the repository root) is a service file we
 * would write, and recover its identity into malloc'd *host and
 * *container_name (either may be NULL if not wanted). Returns 0, or -1
 * (outputs untouched) for any other path.
 */
int store_naming_parse_path(const char *path, char **host, char **container_name);

#endif
