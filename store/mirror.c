#include "mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "git.h"
#include "naming.h"
#include "yaml.h"
#include "../common/banned.h"

/* Entries per batch: bounds memory and keeps one commit reviewable. */
#define BATCH_MAX 20000
/* Commit message lines listed before "... and N more". */
#define MESSAGE_LINES 200

struct store_mirror {
	struct store_git *git;
	char *repo;
	char *lock_path;
	int lock_fd;
};

static int lock_repo(struct store_mirror *m, struct err *e)
{
	while (flock(m->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(e, ERR_IO, "cannot lock '%s': %s", m->lock_path,
				       strerror(errno));
	return 0;
}

static void unlock_repo(struct store_mirror *m)
{
	flock(m->lock_fd, LOCK_UN);
}

int store_mirror_open(struct store_mirror **out, const char *repo_dir, const char *lock_path,
		      struct err *e)
{
	struct store_mirror *m = xcalloc(1, sizeof(*m));
	m->repo = xstrdup(repo_dir);
	m->lock_path = xstrdup(lock_path);
	m->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int rc = 0;
	if (m->lock_fd < 0) {
		rc = err_set(e, ERR_IO, "cannot open '%s': %s", lock_path, strerror(errno));
		goto fail;
	}
	/* Under the lock, so removing stale git lock files cannot hit a live writer. */
	if ((rc = lock_repo(m, e)))
		goto fail;
	rc = store_git_open(&m->git, repo_dir, e);
	unlock_repo(m);
	if (rc)
		goto fail;
	*out = m;
	return 0;
fail:
	store_mirror_free(m);
	return rc;
}

void store_mirror_free(struct store_mirror *m)
{
	if (!m)
		return;
	store_git_free(m->git);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m->repo);
	free(m->lock_path);
	free(m);
}

int store_mirror_head(struct store_mirror *m, char *hex, struct err *e)
{
	return store_git_head(m->git, hex, e);
}

const char *store_mirror_repo(const struct store_mirror *m)
{
	return m->repo;
}

/* What one batch of journal entries asks the mirror to do. */
struct batch {
	uint64_t last_seq;
	char *author;
	uint64_t *ids;
	size_t nids, alloc_ids;
	char **removed; /* paths services had before (renamed or deleted) */
	size_t nremoved, alloc_removed;
	int groups, settings;
	struct buf message;
	size_t nmessages;
};

static void batch_release(struct batch *b)
{
	free(b->author);
	free(b->ids);
	for (size_t i = 0; i < b->nremoved; i++)
		free(b->removed[i]);
	free(b->removed);
	buf_release(&b->message);
}

static void batch_add_id(struct batch *b, uint64_t id)
{
	if (b->nids == b->alloc_ids) {
		b->alloc_ids = b->alloc_ids ? 2 * b->alloc_ids : 64;
		b->ids = xrealloc(b->ids, b->alloc_ids * sizeof(*b->ids));
	}
	b->ids[b->nids++] = id;
}

static void batch_add_removed(struct batch *b, const char *path)
{
	if (b->nremoved == b->alloc_removed) {
		b->alloc_removed = b->alloc_removed ? 2 * b->alloc_removed : 16;
		b->removed = xrealloc(b->removed, b->alloc_removed * sizeof(*b->removed));
	}
	b->removed[b->nremoved++] = xstrdup(path);
}

/* Journal callback: gather entries until the author changes. */
static int collect(const struct store_journal_entry *en, void *arg)
{
	struct batch *b = arg;
	const char *author = en->author ? en->author : "portolan";
	if (!(en->flags & STORE_JOURNAL_INVENTORY)) {
		b->last_seq = en->seq;
		return 0;
	}
	if (b->author && strcmp(b->author, author))
		return 1; /* next batch */
	if (!b->author)
		b->author = xstrdup(author);
	b->last_seq = en->seq;
	if (en->kind == STORE_CHANGE_GROUP)
		b->groups = 1;
	else if (en->kind == STORE_CHANGE_SETTINGS && !en->id)
		b->settings = 1;
	else
		batch_add_id(b, en->id);
	if (en->path_before)
		batch_add_removed(b, en->path_before);
	if (b->nmessages < MESSAGE_LINES)
		buf_addf(&b->message, "%s\n", en->message ? en->message : "change");
	b->nmessages++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A growing list of repo paths to stage. */
struct paths {
	char **v;
	size_t n, alloc;
};

static void paths_add(struct paths *p, char *owned)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 64;
		p->v = xrealloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->v[p->n++] = owned;
}

static void paths_release(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static int write_repo_file(struct store_mirror *m, const char *rel, const struct buf *content,
			   struct err *e)
{
	char *full = xasprintf("%s/%s", m->repo, rel);
	int rc = fileio_write_atomic_flags(full, content->data, content->len, FILEIO_NOSYNC, NULL, e);
	free(full);
	return rc;
}

/* Write the current YAML of every service in the batch; removed paths first. */
static int write_services(struct store_mirror *m, struct store_txn *t, struct batch *b,
			  struct paths *staged, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < b->nremoved && !rc; i++) {
		char *full = xasprintf("%s/%s", m->repo, b->removed[i]);
		rc = fileio_remove_pruning(full, m->repo, e);
		free(full);
		paths_add(staged, xstrdup(b->removed[i]));
	}
	qsort(b->ids, b->nids, sizeof(*b->ids), cmp_u64);
	struct buf yaml;
	buf_init(&yaml, 0);
	for (size_t i = 0; i < b->nids && !rc; i++) {
		if (i && b->ids[i] == b->ids[i - 1])
			continue;
		struct store_record r;
		if (store_db_get(t, b->ids[i], &r, NULL))
			continue; /* deleted since: its path_before was removed above */
		char *rel = store_naming_service_path(r.host, r.container_name);
		buf_reset(&yaml);
		rc = store_yaml_emit_record(&r, &yaml);
		if (!rc)
			rc = write_repo_file(m, rel, &yaml, e);
		paths_add(staged, rel);
		store_record_release(&r);
	}
	buf_release(&yaml);
	return rc;
}

static int write_json_file(struct store_mirror *m, const char *rel, const json_t *v,
			   struct paths *staged, struct err *e)
{
	struct buf yaml;
	buf_init(&yaml, 0);
	int rc = store_yaml_emit_json(v, &yaml);
	if (rc)
		rc = err_set(e, ERR_INVAL, "cannot emit '%s'", rel);
	else
		rc = write_repo_file(m, rel, &yaml, e);
	buf_release(&yaml);
	paths_add(staged, xstrdup(rel));
	return rc;
}

/* Author "notifier@docker01" keeps its address; a user name gets a local one. */
static char *author_email(const char *author)
{
	return strchr(author, '@') ? xstrdup(author) : xasprintf("%s@portolan.invalid", author);
}

static void commit_message(const struct batch *b, struct buf *out)
{
	if (b->nmessages == 1) {
		buf_add(out, b->message.data, b->message.len);
		return;
	}
	buf_addf(out, "%zu changes by %s\n\n", b->nmessages, b->author);
	buf_add(out, b->message.data, b->message.len);
	if (b->nmessages > MESSAGE_LINES)
		buf_addf(out, "... and %zu more\n", b->nmessages - MESSAGE_LINES);
}

/* Write, stage and commit one batch; the caller holds the repo lock and a read txn. */
static int commit_batch(struct store_mirror *m, struct store_txn *t, struct batch *b,
			int *committed, struct err *e)
{
	struct paths staged = {0};
	int rc = write_services(m, t, b, &staged, e);
	if (!rc && b->groups) {
		json_t *groups = store_group_list(t);
		rc = write_json_file(m, STORE_GROUPS_FILE, groups, &staged, e);
		json_decref(groups);
	}
	if (!rc && b->settings)
		rc = write_json_file(m, STORE_EXPOSURE_FILE, store_db_exposure(t), &staged, e);
	if (!rc)
		rc = fileio_syncfs(m->repo, e);
	if (!rc && staged.n) {
		struct buf msg;
		buf_init(&msg, 0);
		commit_message(b, &msg);
		char *email = author_email(b->author);
		rc = store_git_commit_paths(m->git, (const char *const *)staged.v, staged.n,
					    b->author, email, msg.data, committed, NULL, e);
		free(email);
		buf_release(&msg);
	}
	paths_release(&staged);
	return rc;
}

/* Move the cursor past the batch and remember which commit we made last. */
static int advance(struct store_mirror *m, struct store_db *db, uint64_t seq, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 1, &t, e);
	if (rc)
		return rc;
	char head[STORE_GIT_HEX_SIZE];
	rc = store_cursor_set(t, STORE_MIRROR_CURSOR, seq, e);
	if (!rc && !store_git_head(m->git, head, NULL))
		rc = store_meta_put(t, "mirror_head", head, e);
	if (!rc)
		rc = store_journal_prune(t, e);
	if (rc) {
		store_txn_abort(t);
		return rc;
	}
	return store_txn_commit(t, e);
}

static int drain_one(struct store_mirror *m, struct store_db *db, int *done, int *commits,
		     struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	struct batch b;
	memset(&b, 0, sizeof(b));
	buf_init(&b.message, 0);
	uint64_t cursor = store_cursor_get(t, STORE_MIRROR_CURSOR);
	rc = store_journal_read(t, cursor, BATCH_MAX, collect, &b, e);
	if (rc > 0)
		rc = 0; /* the author changed: the rest is the next batch */
	*done = b.last_seq == 0;
	int committed = 0;
	if (!rc && b.author)
		rc = commit_batch(m, t, &b, &committed, e);
	store_txn_abort(t);
	if (!rc && b.last_seq)
		rc = advance(m, db, b.last_seq, e);
	if (!rc && committed && commits)
		(*commits)++;
	batch_release(&b);
	return rc;
}

int store_mirror_drain(struct store_mirror *m, struct store_db *db, int *commits, struct err *e)
{
	if (commits)
		*commits = 0;
	int rc = lock_repo(m, e);
	if (rc)
		return rc;
	int done = 0;
	while (!rc && !done)
		rc = drain_one(m, db, &done, commits, e);
	unlock_repo(m);
	return rc;
}
