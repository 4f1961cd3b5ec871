#include "mirror.h"

#include <errno.h>
#include <stdint.h>
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
	char *tmp_dir; /* inside .git: temp files never show in the work tree */
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
	m->tmp_dir = xasprintf("%s/.git/portolan-tmp", repo_dir);
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
	/* A writer killed mid-file leaves temp files here: sweep them. */
	if (!rc)
		rc = fileio_remove_tree(m->tmp_dir, e);
	if (!rc)
		rc = fileio_mkdirs(m->tmp_dir, e);
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
	free(m->tmp_dir);
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

/* Files to stage for one commit; paths and bytes owned (data NULL = removed). */
struct staged {
	struct store_git_file *v;
	size_t n, alloc;
};

static void staged_add(struct staged *s, char *path, char *data, size_t len)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 64;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = (struct store_git_file){path, data, len};
}

static void staged_release(struct staged *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free((char *)s->v[i].path);
		free((char *)s->v[i].data);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* A path a service had before a rename or delete in this batch. */
struct removed {
	char *path;
	size_t group;
	int rewritten; /* another service's file now stands there */
};

/*
 * The changes of one author within a batch: they become one commit. Git
 * has one author per commit, so notifiers on five hosts registering at
 * once give five commits per batch, not one per registration.
 */
struct author_group {
	char *author;
	struct buf message;
	size_t nmessages;
	struct staged staged;
};

/* A service touched in the batch; the last author to touch it commits its file. */
struct touched {
	uint64_t id;
	size_t order;
	size_t group;
};

struct batch {
	uint64_t last_seq;
	struct author_group *groups;
	size_t ngroups;
	struct touched *touched;
	size_t ntouched, alloc_touched;
	struct removed *removed;
	size_t nremoved;
	size_t groups_file_group, exposure_file_group; /* SIZE_MAX: untouched */
};

static void batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	b->groups_file_group = b->exposure_file_group = SIZE_MAX;
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->ngroups; i++) {
		free(b->groups[i].author);
		buf_release(&b->groups[i].message);
		staged_release(&b->groups[i].staged);
	}
	free(b->groups);
	free(b->touched);
	for (size_t i = 0; i < b->nremoved; i++)
		free(b->removed[i].path);
	free(b->removed);
}

static size_t group_of(struct batch *b, const char *author)
{
	for (size_t i = 0; i < b->ngroups; i++)
		if (!strcmp(b->groups[i].author, author))
			return i;
	b->groups = xrealloc(b->groups, (b->ngroups + 1) * sizeof(*b->groups));
	struct author_group *g = &b->groups[b->ngroups];
	memset(g, 0, sizeof(*g));
	g->author = xstrdup(author);
	buf_init(&g->message, 0);
	return b->ngroups++;
}

static void touch(struct batch *b, uint64_t id, size_t group)
{
	if (b->ntouched == b->alloc_touched) {
		b->alloc_touched = b->alloc_touched ? 2 * b->alloc_touched : 64;
		b->touched = xrealloc(b->touched, b->alloc_touched * sizeof(*b->touched));
	}
	b->touched[b->ntouched] = (struct touched){id, b->ntouched, group};
	b->ntouched++;
}

/* Journal callback: sort each inventory change into its author's group. */
static int collect(const struct store_journal_entry *en, void *arg)
{
	struct batch *b = arg;
	b->last_seq = en->seq;
	if (!(en->flags & STORE_JOURNAL_INVENTORY))
		return 0;
	size_t g = group_of(b, en->author ? en->author : "portolan");
	if (en->kind == STORE_CHANGE_GROUP)
		b->groups_file_group = g;
	else if (en->kind == STORE_CHANGE_SETTINGS && !en->id)
		b->exposure_file_group = g;
	else
		touch(b, en->id, g);
	if (en->path_before) {
		b->removed = xrealloc(b->removed, (b->nremoved + 1) * sizeof(*b->removed));
		b->removed[b->nremoved++] = (struct removed){xstrdup(en->path_before), g, 0};
	}
	struct author_group *ag = &b->groups[g];
	if (ag->nmessages < MESSAGE_LINES)
		buf_addf(&ag->message, "%s\n", en->message ? en->message : "change");
	ag->nmessages++;
	return 0;
}

static int cmp_touched(const void *a, const void *b)
{
	const struct touched *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_removed(const void *a, const void *b)
{
	return strcmp(((const struct removed *)a)->path, ((const struct removed *)b)->path);
}

/* Note that path holds a file again, so its removal must not be committed. */
static void mark_rewritten(struct batch *b, const char *path)
{
	struct removed key = {(char *)path, 0, 0};
	struct removed *r =
	    b->nremoved ? bsearch(&key, b->removed, b->nremoved, sizeof(*b->removed), cmp_removed)
	                : NULL;
	/* bsearch finds one of possibly several equal entries: mark them all. */
	for (struct removed *p = r; p && p >= b->removed && !strcmp(p->path, path); p--)
		p->rewritten = 1;
	for (struct removed *p = r; p && p < b->removed + b->nremoved && !strcmp(p->path, path);
	     p++)
		p->rewritten = 1;
}

/* Stage one file whose bytes are in content (taken) in a group's commit. */
static void stage(struct batch *b, size_t group, char *rel, struct buf *content)
{
	mark_rewritten(b, rel);
	size_t len;
	char *data = buf_detach(content, &len);
	staged_add(&b->groups[group].staged, rel, data, len);
}

/*
 * Render the current state of everything in the batch, inside the read
 * transaction: each touched service's YAML (the last author to touch it
 * commits it), and removals for the paths no service stands on any more.
 */
static int render_services(struct store_txn *t, struct batch *b)
{
	int rc = 0;
	if (b->nremoved)
		qsort(b->removed, b->nremoved, sizeof(*b->removed), cmp_removed);
	if (b->ntouched)
		qsort(b->touched, b->ntouched, sizeof(*b->touched), cmp_touched);
	struct buf yaml;
	buf_init(&yaml, 0);
	for (size_t i = 0; i < b->ntouched && !rc; i++) {
		if (i + 1 < b->ntouched && b->touched[i + 1].id == b->touched[i].id)
			continue; /* a later change of the same service commits it */
		struct store_record r;
		if (store_db_get(t, b->touched[i].id, &r, NULL))
			continue; /* deleted since: its path_before is removed */
		rc = store_yaml_emit_record(&r, &yaml);
		if (!rc)
			stage(b, b->touched[i].group,
			      store_naming_service_path(r.host, r.container_name), &yaml);
		store_record_release(&r);
	}
	buf_release(&yaml);
	for (size_t i = 0; i < b->nremoved; i++)
		if (!b->removed[i].rewritten)
			staged_add(&b->groups[b->removed[i].group].staged,
			           xstrdup(b->removed[i].path), NULL, 0);
	return rc;
}

static int render_json_file(struct batch *b, size_t group, const char *rel, const json_t *v,
                            struct err *e)
{
	struct buf yaml;
	buf_init(&yaml, 0);
	int rc = store_yaml_emit_json(v, &yaml);
	if (rc)
		rc = err_set(e, ERR_INVAL, "cannot emit '%s'", rel);
	else
		stage(b, group, xstrdup(rel), &yaml);
	buf_release(&yaml);
	return rc;
}

static int render_batch(struct store_txn *t, struct batch *b, struct err *e)
{
	int rc = render_services(t, b);
	if (rc)
		return err_set(e, rc, "cannot render the inventory files");
	if (b->groups_file_group != SIZE_MAX) {
		json_t *groups = store_group_list(t);
		rc = render_json_file(b, b->groups_file_group, STORE_GROUPS_FILE, groups, e);
		json_decref(groups);
	}
	if (!rc && b->exposure_file_group != SIZE_MAX)
		rc = render_json_file(b, b->exposure_file_group, STORE_EXPOSURE_FILE,
		                      store_db_exposure(t), e);
	return rc;
}

/* Bring the work tree to the rendered state: removals first, then every file. */
static int write_batch(struct store_mirror *m, struct batch *b, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < b->nremoved && !rc; i++) {
		char *full = xasprintf("%s/%s", m->repo, b->removed[i].path);
		rc = fileio_remove_pruning(full, m->repo, e);
		free(full);
	}
	for (size_t g = 0; g < b->ngroups && !rc; g++) {
		const struct staged *st = &b->groups[g].staged;
		for (size_t i = 0; i < st->n && !rc; i++) {
			if (!st->v[i].data)
				continue;
			char *full = xasprintf("%s/%s", m->repo, st->v[i].path);
			rc = fileio_write_atomic_flags(full, m->tmp_dir, st->v[i].data,
			                               st->v[i].len, FILEIO_NOSYNC, NULL, e);
			free(full);
		}
	}
	/* One flush for the whole batch instead of one fsync per file. */
	if (!rc && b->ngroups)
		rc = fileio_syncfs(m->repo, e);
	return rc;
}

/* Author "notifier@docker01" keeps its address; a user name gets a local one. */
static char *author_email(const char *author)
{
	return strchr(author, '@') ? xstrdup(author) : xasprintf("%s@portolan.invalid", author);
}

static void commit_message(const struct author_group *g, struct buf *out)
{
	if (g->nmessages == 1) {
		buf_add(out, g->message.data, g->message.len);
		return;
	}
	buf_addf(out, "%zu changes by %s\n\n", g->nmessages, g->author);
	buf_add(out, g->message.data, g->message.len);
	if (g->nmessages > MESSAGE_LINES)
		buf_addf(out, "... and %zu more\n", g->nmessages - MESSAGE_LINES);
}

static int commit_group(struct store_mirror *m, struct author_group *g, int *commits, struct err *e)
{
	if (!g->staged.n)
		return 0;
	struct buf msg;
	buf_init(&msg, 0);
	commit_message(g, &msg);
	char *email = author_email(g->author);
	int committed = 0;
	int rc = store_git_commit_files(m->git, g->staged.v, g->staged.n, g->author, email,
	                                msg.data, &committed, NULL, e);
	free(email);
	buf_release(&msg);
	if (!rc && committed && commits)
		(*commits)++;
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
	batch_init(&b);
	uint64_t cursor = store_cursor_get(t, STORE_MIRROR_CURSOR);
	rc = store_journal_read(t, cursor, BATCH_MAX, collect, &b, e);
	*done = b.last_seq == 0;
	if (!rc)
		rc = render_batch(t, &b, e);
	/*
	 * End the read transaction before the slow part: a reader held across
	 * file and git work keeps LMDB from reusing pages and the file grows.
	 */
	store_txn_abort(t);
	if (!rc)
		rc = write_batch(m, &b, e);
	for (size_t i = 0; i < b.ngroups && !rc; i++)
		rc = commit_group(m, &b.groups[i], commits, e);
	if (!rc && b.last_seq)
		rc = advance(m, db, b.last_seq, e);
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

int store_mirror_changed_paths(struct store_mirror *m, const char *from_hex, const char *to_hex,
                               int (*cb)(const char *path, int exists, void *arg), void *arg,
                               struct err *e)
{
	/* Under the lock: another process may be committing (and packing) in the same repo. */
	int rc = lock_repo(m, e);
	if (rc)
		return rc;
	rc = store_git_diff_paths(m->git, from_hex, to_hex, cb, arg, e);
	unlock_repo(m);
	return rc;
}
