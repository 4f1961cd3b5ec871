/*
 * The inventory repo's remote (GIT_REMOTE): push the branch after commits
 * and fetch the remote's branch for the merge (store/import.h). It has its
 * own handle on the repository, so network transfers run on the sync
 * thread without the mirror's lock: a fetch only writes objects and
 * refs/remotes/origin/main, a push only reads.
 *
 * Remotes: a local path (absolute, or file://), ssh:// with a private key
 * file (user from the URL, else "git"), https:// with a token (basic auth:
 * user from the URL, else "x-access-token"). Plain http:// and git:// are
 * refused: the inventory and the token would cross the network in clear.
 */
#ifndef STORE_GITREMOTE_H
#define STORE_GITREMOTE_H

#include "../common/err.h"

/* The ref a fetch updates. */
#define STORE_REMOTE_REF "refs/remotes/origin/main"

struct store_remote_opts {
	const char *url;
	const char
	    *ssh_key;      /* private key file for ssh:// (its .pub beside it is used if present) */
	const char *token; /* for https://; never logged */
};

struct store_remote;

/* ERR_INVAL (with a reason) when url is not a remote portolan accepts. */
int store_remote_check_url(const char *url, struct err *e);
/* Open the repository whose work tree is workdir for transfers with the remote. */
int store_remote_open(struct store_remote **out, const char *workdir,
                      const struct store_remote_opts *o, struct err *e);
void store_remote_free(struct store_remote *r);
/*
 * Push refs/heads/main to the remote's main. ERR_NOTFOUND when there is
 * nothing to push (no commits), ERR_EXISTS when the remote refused a
 * non-fast-forward (it has commits we have not merged: fetch first),
 * ERR_AUTH, ERR_GIT.
 */
int store_remote_push(struct store_remote *r, struct err *e);
/*
 * Fetch the remote's main into STORE_REMOTE_REF; hex gets its commit id.
 * ERR_NOTFOUND when the remote has no main yet, ERR_AUTH, ERR_GIT.
 */
int store_remote_fetch(struct store_remote *r, char *hex, struct err *e);
/* The URL as it may be shown: any user:password@ part removed (static buffer of r). */
const char *store_remote_display(const struct store_remote *r);

#endif
