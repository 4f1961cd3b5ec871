#include "gitremote.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "git.h"
#include "../common/banned.h"

struct store_remote {
	git_repository *repo;
	char *url;
	char *display;
	char *ssh_key;
	char *ssh_pub;
	char *token;
	int cred_tries; /* per transfer: a refused key or token is not offered again */
	char *rejected; /* why the remote refused the last push's update, or NULL */
	int inited;
};

static const char *last_git_error(void)
{
	const git_error *ge = git_error_last();
	return ge && ge->message ? ge->message : "unknown libgit2 error";
}

int store_remote_check_url(const char *url, struct err *e)
{
	if (!url || !*url)
		return err_set(e, ERR_INVAL, "no remote given");
	if (strpbrk(url, " \t\r\n"))
		return err_set(e, ERR_INVAL, "a remote URL has no white space");
	if (url[0] == '/' || !strncmp(url, "file:///", 8))
		return 0;
	const char *host = strstr(url, "://");
	if (host) {
		host += 3;
		const char *at = strchr(host, '@'), *slash = strchr(host, '/');
		int userinfo = at && (!slash || at < slash);
		/* over https a user name is often the token itself: none at all, it would be shown
		 */
		if (userinfo &&
		    (!strncmp(url, "https://", 8) || memchr(host, ':', (size_t)(at - host))))
			return err_set(
			    e, ERR_INVAL,
			    "a remote URL holds no credentials: give the token in GIT_TOKEN");
	}
	if (!strncmp(url, "ssh://", 6) && url[6] && url[6] != '/')
		return 0;
	if (!strncmp(url, "https://", 8) && url[8] && url[8] != '/')
		return 0;
	if (!strncmp(url, "http://", 7) || !strncmp(url, "git://", 6))
		return err_set(e, ERR_INVAL,
		               "'%.*s' sends the inventory in clear: use https:// or ssh://",
		               (int)strcspn(url, ":"), url);
	return err_set(e, ERR_INVAL, "must be an absolute path, file://, ssh:// or https://");
}

/* url without a "user:secret@" part, so it can be logged and shown. */
static char *display_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	if (!scheme)
		return xstrdup(url);
	const char *host = scheme + 3;
	const char *at = strchr(host, '@'), *slash = strchr(host, '/');
	if (!at || (slash && slash < at))
		return xstrdup(url);
	const char *colon = memchr(host, ':', (size_t)(at - host));
	if (!colon) /* ssh://git@host/... names a user, no secret */
		return xstrdup(url);
	return xasprintf("%.*s%.*s@%s", (int)(host - url), url, (int)(colon - host), host, at + 1);
}

int store_remote_open(struct store_remote **out, const char *workdir,
                      const struct store_remote_opts *o, struct err *e)
{
	int rc = store_remote_check_url(o->url, e);
	if (rc)
		return rc;
	struct store_remote *r = xcalloc(1, sizeof(*r));
	if (git_libgit2_init() < 0) {
		free(r);
		return err_set(e, ERR_GIT, "cannot initialise libgit2: %s", last_git_error());
	}
	r->inited = 1;
	r->url = xstrdup(o->url);
	r->display = display_url(o->url);
	r->ssh_key = o->ssh_key && *o->ssh_key ? xstrdup(o->ssh_key) : NULL;
	if (r->ssh_key) {
		char *pub = xasprintf("%s.pub", r->ssh_key);
		if (fileio_exists(pub))
			r->ssh_pub = pub;
		else
			free(pub);
	}
	r->token = o->token && *o->token ? xstrdup(o->token) : NULL;
	if (git_repository_open_ext(&r->repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = err_set(e, ERR_GIT, "cannot open repository '%s': %s", workdir,
		             last_git_error());
		store_remote_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void store_remote_free(struct store_remote *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->url);
	free(r->display);
	free(r->ssh_key);
	free(r->ssh_pub);
	free(r->rejected);
	if (r->token) {
		explicit_bzero(r->token, strlen(r->token));
		free(r->token);
	}
	if (r->inited)
		git_libgit2_shutdown();
	free(r);
}

const char *store_remote_display(const struct store_remote *r)
{
	return r->display;
}

/* libgit2 asks until it gets an accepted credential: offer each kind once. */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
                       unsigned int allowed, void *payload)
{
	(void)url;
	struct store_remote *r = payload;
	if (r->cred_tries++ > 0)
		return GIT_EAUTH;
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && r->ssh_key)
		return git_credential_ssh_key_new(out, user_from_url ? user_from_url : "git",
		                                  r->ssh_pub, r->ssh_key, NULL);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && r->token)
		return git_credential_userpass_plaintext_new(
		    out, user_from_url ? user_from_url : "x-access-token", r->token);
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user_from_url ? user_from_url : "git");
	return GIT_EAUTH;
}

static int transfer_fail(struct store_remote *r, struct err *e, int grc, const char *what)
{
	int code = grc == GIT_EAUTH || r->cred_tries > 1 ? ERR_AUTH : ERR_GIT;
	return err_set(e, code, "cannot %s '%s': %s", what, r->display, last_git_error());
}

/* The remote refused an update (e.g. not a fast-forward): remember why. */
static int push_update(const char *ref, const char *status, void *payload)
{
	struct store_remote *r = payload;
	(void)ref;
	if (status && !r->rejected)
		r->rejected = xstrdup(status);
	return 0;
}

static int make_remote(struct store_remote *r, git_remote **out, git_remote_callbacks *cb,
                       struct err *e)
{
	r->cred_tries = 0;
	free(r->rejected);
	r->rejected = NULL;
	cb->credentials = credentials;
	cb->push_update_reference = push_update;
	cb->payload = r;
	/*
	 * No url.*.insteadOf rewriting: the URL is the setting, and libgit2
	 * 1.5 leaks a PCRE2 match block per config entry it tries against it.
	 */
	git_remote_create_options o;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = r->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	if (git_remote_create_with_opts(out, r->url, &o) < 0)
		return err_set(e, ERR_GIT, "cannot use remote '%s': %s", r->display,
		               last_git_error());
	return 0;
}

/* The remote has commits we lack (libgit2 words this differently per transport). */
static int refused_as_behind(int grc)
{
	const char *m = last_git_error();
	return grc == GIT_ENONFASTFORWARD || strstr(m, "fast-forward") ||
	       strstr(m, "fastforward") || strstr(m, "not present locally");
}

int store_remote_push(struct store_remote *r, struct err *e)
{
	git_reference *head = NULL;
	git_remote *remote = NULL;
	int grc = git_reference_lookup(&head, r->repo, "refs/heads/main");
	git_reference_free(head);
	if (grc == GIT_ENOTFOUND) {
		git_error_clear();
		return err_set(e, ERR_NOTFOUND, "nothing to push yet");
	}
	char spec_buf[] = "refs/heads/main:refs/heads/main";
	char *spec = spec_buf;
	git_strarray specs = {&spec, 1};
	git_push_options opts;
	git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
	int rc = make_remote(r, &remote, &opts.callbacks, e);
	if (rc)
		return rc;
	grc = git_remote_push(remote, &specs, &opts);
	if (grc < 0 && r->cred_tries <= 1 && refused_as_behind(grc))
		rc = err_set(e, ERR_EXISTS, "'%s' has commits not merged here yet", r->display);
	else if (grc < 0)
		rc = transfer_fail(r, e, grc, "push to");
	else if (r->rejected)
		rc = err_set(e, ERR_EXISTS, "'%s' refused the push: %s", r->display, r->rejected);
	git_remote_free(remote);
	return rc;
}

int store_remote_fetch(struct store_remote *r, char *hex, struct err *e)
{
	git_remote *remote = NULL;
	git_oid id;
	char spec_buf[] = "+refs/heads/main:" STORE_REMOTE_REF;
	char *spec = spec_buf;
	git_strarray specs = {&spec, 1};
	git_fetch_options opts;
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	opts.update_fetchhead = 0;
	int rc = make_remote(r, &remote, &opts.callbacks, e);
	if (rc)
		return rc;
	int grc = git_remote_fetch(remote, &specs, &opts, "fetch");
	if (grc < 0) {
		rc = transfer_fail(r, e, grc, "fetch from");
		goto out;
	}
	grc = git_reference_name_to_id(&id, r->repo, STORE_REMOTE_REF);
	if (grc == GIT_ENOTFOUND) {
		git_error_clear();
		rc = err_set(e, ERR_NOTFOUND, "'%s' has no branch main yet", r->display);
	} else if (grc < 0) {
		rc = err_set(e, ERR_GIT, "cannot read %s: %s", STORE_REMOTE_REF, last_git_error());
	} else {
		git_oid_tostr(hex, STORE_GIT_HEX_SIZE, &id);
	}
out:
	git_remote_free(remote);
	return rc;
}
