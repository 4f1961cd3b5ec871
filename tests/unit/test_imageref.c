/*
 * Image reference parsing (spec/register.md, "Image reference parsing"):
 * every documented form, and the malformed inputs that must be refused.
 * Run one case: ./test_imageref.t <name-glob>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../store/imageref.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse ref and compare every part with the expected values (NULL = unset). */
static void check(const char *ref, const char *registry, const char *owner, const char *name,
                  const char *tag, const char *digest)
{
	struct store_imageref r;
	memset(&r, 0xab, sizeof(r));
	assert_int_equal(store_imageref_parse(&r, ref), 0);
	if (registry)
		assert_string_equal(r.registry, registry);
	else
		assert_null(r.registry);
	if (owner)
		assert_string_equal(r.owner, owner);
	else
		assert_null(r.owner);
	if (name)
		assert_string_equal(r.name, name);
	else
		assert_null(r.name);
	if (tag)
		assert_string_equal(r.tag, tag);
	else
		assert_null(r.tag);
	if (digest)
		assert_string_equal(r.digest, digest);
	else
		assert_null(r.digest);
	store_imageref_release(&r);
}

static void check_bad(const char *ref)
{
	struct store_imageref r = {0};
	assert_int_equal(store_imageref_parse(&r, ref), -1);
	/* Untouched on failure. */
	assert_null(r.registry);
	assert_null(r.name);
}

static void bare_name_is_docker_hub_library_latest(void **state)
{
	(void)state;
	check("nginx", "docker.io", "library", "nginx", "latest", NULL);
}

static void name_with_tag(void **state)
{
	(void)state;
	check("nginx:1.27", "docker.io", "library", "nginx", "1.27", NULL);
}

static void explicit_library_owner(void **state)
{
	(void)state;
	check("library/nginx", "docker.io", "library", "nginx", "latest", NULL);
}

static void docker_hub_user_owner(void **state)
{
	(void)state;
	check("linuxserver/sonarr", "docker.io", "linuxserver", "sonarr", "latest", NULL);
}

static void explicit_docker_io_one_part_is_library(void **state)
{
	(void)state;
	check("docker.io/nginx:1.27", "docker.io", "library", "nginx", "1.27", NULL);
}

static void ghcr_owner_name_tag(void **state)
{
	(void)state;
	check("ghcr.io/o/n:tag", "ghcr.io", "o", "n", "tag", NULL);
}

static void registry_with_port_and_tag(void **state)
{
	(void)state;
	check("registry:5000/o/n:tag", "registry:5000", "o", "n", "tag", NULL);
}

static void registry_with_port_without_tag(void **state)
{
	(void)state;
	check("registry:5000/o/n", "registry:5000", "o", "n", "latest", NULL);
}

static void nested_owner_path(void **state)
{
	(void)state;
	check("r.example/a/b/c/d:tag", "r.example", "a/b/c", "d", "tag", NULL);
}

static void digest_without_tag(void **state)
{
	(void)state;
	check("nginx@" DIGEST, "docker.io", "library", "nginx", NULL, DIGEST);
}

static void digest_with_tag_kept_apart(void **state)
{
	(void)state;
	check("nginx:1.27@" DIGEST, "docker.io", "library", "nginx", "1.27", DIGEST);
}

static void digest_with_registry_port_and_tag(void **state)
{
	(void)state;
	check("registry:5000/o/n:tag@" DIGEST, "registry:5000", "o", "n", "tag", DIGEST);
}

static void localhost_is_a_registry(void **state)
{
	(void)state;
	/* Not Docker Hub, so a one-part name has no "library" owner. */
	check("localhost/x", "localhost", NULL, "x", "latest", NULL);
}

static void lscr_linuxserver(void **state)
{
	(void)state;
	check("lscr.io/linuxserver/sonarr:latest", "lscr.io", "linuxserver", "sonarr", "latest",
	      NULL);
}

static void empty_is_malformed(void **state)
{
	(void)state;
	check_bad("");
}

static void null_is_malformed(void **state)
{
	(void)state;
	check_bad(NULL);
}

static void tag_without_name_is_malformed(void **state)
{
	(void)state;
	check_bad(":tag");
}

static void empty_tag_is_malformed(void **state)
{
	(void)state;
	check_bad("nginx:");
}

static void space_is_malformed(void **state)
{
	(void)state;
	check_bad("a b");
}

static void empty_digest_is_malformed(void **state)
{
	(void)state;
	check_bad("nginx@");
}

static void registry_without_path_is_malformed(void **state)
{
	(void)state;
	check_bad("ghcr.io/");
}

static void release_accepts_null(void **state)
{
	(void)state;
	store_imageref_release(NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bare_name_is_docker_hub_library_latest),
	    cmocka_unit_test(name_with_tag),
	    cmocka_unit_test(explicit_library_owner),
	    cmocka_unit_test(docker_hub_user_owner),
	    cmocka_unit_test(explicit_docker_io_one_part_is_library),
	    cmocka_unit_test(ghcr_owner_name_tag),
	    cmocka_unit_test(registry_with_port_and_tag),
	    cmocka_unit_test(registry_with_port_without_tag),
	    cmocka_unit_test(nested_owner_path),
	    cmocka_unit_test(digest_without_tag),
	    cmocka_unit_test(digest_with_tag_kept_apart),
	    cmocka_unit_test(digest_with_registry_port_and_tag),
	    cmocka_unit_test(localhost_is_a_registry),
	    cmocka_unit_test(lscr_linuxserver),
	    cmocka_unit_test(empty_is_malformed),
	    cmocka_unit_test(null_is_malformed),
	    cmocka_unit_test(tag_without_name_is_malformed),
	    cmocka_unit_test(empty_tag_is_malformed),
	    cmocka_unit_test(space_is_malformed),
	    cmocka_unit_test(empty_digest_is_malformed),
	    cmocka_unit_test(registry_without_path_is_malformed),
	    cmocka_unit_test(release_accepts_null),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
