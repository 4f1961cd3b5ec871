#include "mirror.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "git.h"
#include "import.h"
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
	/* during a drain (see own_commit) */
	struct store_db *db;
	char expect_parent[41]; /* "" = the branch has no commit yet */
	char made[41];          /* the last commit this drain made, "" when none */
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

/*
 * Someone edited the file by hand and did not commit: the store never
 * imported that edit (only commits are imported), and writing the file now
 * would lose it. Keep a copy under .git and say where.
 */
static int keep_uncommitted(struct store_mirror *m, const char *rel, struct err *e)
{
	if (!store_git_worktree_dirty(m->git, rel))
		return 0;
	char *full = xasprintf("%s/%s", m->repo, rel);
	char *name = xstrdup(rel);
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '%';
	char *dir = xasprintf("%s/.git/portolan-uncommitted", m->repo);
	char *copy = xasprintf("%s/%s.%lld", dir, name, (long long)time(NULL));
	struct buf bytes;
	buf_init(&bytes, 0);
	int rc = fileio_mkdirs(dir, e);
	if (!rc)
		rc = fileio_read(full, &bytes, e);
	if (!rc)
		rc = fileio_write_atomic(copy, bytes.data, bytes.len, NULL, e);
	if (!rc)
		log_warn(
		    "git mirror: %s had uncommitted changes, not imported (commit them to "
		    "import them); the inventory's version replaces it, the edit is kept in %s",
		    rel, copy);
	else /* the batch fails and is retried: the edit is not lost */
		log_error("git mirror: %s has uncommitted changes and no copy could be kept: %s",
		          rel, e->msg);
	buf_release(&bytes);
	free(copy);
	free(dir);
	free(name);
	free(full);
	return rc;
}

/* Bring the work tree to the rendered state: removals first, then every file. */
static int write_batch(struct store_mirror *m, struct batch *b, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < b->nremoved && !rc; i++) {
		if ((rc = keep_uncommitted(m, b->removed[i].path, e)))
			break;
		char *full = xasprintf("%s/%s", m->repo, b->removed[i].path);
		rc = fileio_remove_pruning(full, m->repo, e);
		free(full);
	}
	for (size_t g = 0; g < b->ngroups && !rc; g++) {
		const struct staged *st = &b->groups[g].staged;
		for (size_t i = 0; i < st->n && !rc; i++) {
			if (!st->v[i].data)
				continue;
			if ((rc = keep_uncommitted(m, st->v[i].path, e)))
				break;
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

/*
 * The "<prefix>" every listed line starts with as "<prefix>: ", or 0: a
 * restore journals "restore from F: host/name: ..." per service and its
 * commit is then titled "restore from F". Only the listed lines are
 * seen (the first MESSAGE_LINES).
 */
static size_t shared_prefix(const struct buf *lines)
{
	const char *first = lines->data, *sep = strstr(first, ": ");
	const char *nl = strchr(first, '\n');
	if (!sep || (nl && nl < sep))
		return 0;
	size_t n = (size_t)(sep - first);
	for (const char *p = first; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, first, n + 2))
			return 0;
	return n;
}

static void commit_message(const struct author_group *g, struct buf *out)
{
	if (g->nmessages == 1) {
		buf_add(out, g->message.data, g->message.len);
		return;
	}
	size_t prefix = shared_prefix(&g->message);
	if (prefix)
		buf_addf(out, "%.*s\n\n", (int)prefix, g->message.data);
	else
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

/* Meta keys: see the header. "" means unset. */
#define META_MIRROR_HEAD    "mirror_head"
#define META_IMPORT_BASE    "import_base"
#define META_IMPORT_REFUSED "import_refused"
#define META_FETCH_REFUSED  "fetch_refused"
#define META_MERGE_PARENT   "merge_parent"
#define META_MIRROR_MADE    "mirror_made"

static char *meta_get(struct store_txn *t, const char *key)
{
	char *v = store_meta_get(t, key);
	if (v && !*v) {
		free(v);
		v = NULL;
	}
	return v;
}

/*
 * head is a commit the store reflects: ours. It is also the base of the
 * next import unless an outside commit below it was refused (the next
 * import must then start below that commit, so its changes are not lost).
 */
static int mark_head(struct store_txn *t, const char *head, struct err *e)
{
	char *refused = meta_get(t, META_IMPORT_REFUSED);
	int rc = store_meta_put(t, META_MIRROR_HEAD, head, e);
	if (!rc && !refused)
		rc = store_meta_put(t, META_IMPORT_BASE, head, e);
	free(refused);
	return rc;
}

/* Move the cursor past the batch and remember which commit we made last. */
static int advance(struct store_mirror *m, struct store_db *db, uint64_t seq, struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 1, &t, e);
	if (rc)
		return rc;
	rc = store_cursor_set(t, STORE_MIRROR_CURSOR, seq, e);
	/* only a commit we made is ours: HEAD may have moved by hand meanwhile */
	if (!rc && m->made[0])
		rc = mark_head(t, m->made, e);
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

/*
 * Runs between a commit object's creation and the branch's move (git.h):
 * the branch must still be where this drain found it (a commit made by
 * hand meanwhile is imported first, never buried under ours), and the new
 * commit is noted as ours before it becomes visible, so after a kill -9
 * here the next start knows it from an outside commit.
 */
static int own_commit(const char *hex, const char *parent_hex, void *arg, struct err *e)
{
	struct store_mirror *m = arg;
	if (strcmp(parent_hex, m->expect_parent))
		return err_set(e, ERR_BUSY,
		               "the branch moved (someone committed in '%s'): importing first",
		               m->repo);
	struct store_txn *t;
	int rc = store_txn_begin(m->db, 1, &t, e);
	if (rc)
		return rc;
	rc = store_meta_put(t, META_MIRROR_MADE, hex, e);
	rc = rc ? (store_txn_abort(t), rc) : store_txn_commit(t, e);
	if (!rc) {
		snprintf(m->expect_parent, sizeof(m->expect_parent), "%s", hex);
		snprintf(m->made, sizeof(m->made), "%s", hex);
	}
	return rc;
}

/* Every file of the store as the mirror writes it, staged in st when it differs from the work tree.
 */
struct full_sync {
	struct store_mirror *m;
	struct staged *st;
	json_t *paths; /* set of the paths the store has */
};

static void sync_file(struct full_sync *fs, char *rel, struct buf *bytes)
{
	json_object_set_new(fs->paths, rel, json_true());
	char *full = xasprintf("%s/%s", fs->m->repo, rel);
	if (fileio_same_content(full, bytes->data, bytes->len) == 1) {
		free(rel);
	} else {
		size_t len;
		char *data = buf_detach(bytes, &len);
		staged_add(fs->st, rel, data, len);
	}
	free(full);
	buf_reset(bytes);
}

static int sync_service(const struct store_record *r, void *arg)
{
	struct full_sync *fs = arg;
	struct buf yaml;
	buf_init(&yaml, 0);
	if (!store_yaml_emit_record(r, &yaml))
		sync_file(fs, store_naming_service_path(r->host, r->container_name), &yaml);
	buf_release(&yaml);
	return 0;
}

static int note_stray(const char *path, int exists, void *arg)
{
	struct full_sync *fs = arg;
	if (exists && !strncmp(path, "services/", 9) && !json_object_get(fs->paths, path))
		staged_add(fs->st, xstrdup(path), NULL, 0);
	return 0;
}

/*
 * The whole inventory as the store has it, against HEAD's tree: after an
 * import whose merge must not take HEAD's tree as it is (a branch reset by
 * hand no longer holds our commits' files).
 */
static int stage_everything(struct store_mirror *m, struct store_db *db, struct staged *st,
                            struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	struct full_sync fs = {m, st, json_object()};
	struct buf bytes;
	buf_init(&bytes, 0);
	rc = store_db_foreach(t, sync_service, &fs, e);
	json_t *groups = store_group_list(t);
	if (!rc && !store_yaml_emit_json(groups, &bytes))
		sync_file(&fs, xstrdup(STORE_GROUPS_FILE), &bytes);
	json_decref(groups);
	if (!rc && !store_yaml_emit_json(store_db_exposure(t), &bytes))
		sync_file(&fs, xstrdup(STORE_EXPOSURE_FILE), &bytes);
	store_txn_abort(t);
	buf_release(&bytes);
	if (!rc)
		rc = store_git_diff_paths(m->git, "", "HEAD", note_stray, &fs, e);
	json_decref(fs.paths);
	for (size_t i = 0; i < st->n && !rc; i++) {
		char *full = xasprintf("%s/%s", m->repo, st->v[i].path);
		rc = keep_uncommitted(m, st->v[i].path, e);
		if (!rc && st->v[i].data)
			rc = fileio_write_atomic_flags(full, m->tmp_dir, st->v[i].data,
			                               st->v[i].len, FILEIO_NOSYNC, NULL, e);
		else if (!rc)
			rc = fileio_remove_pruning(full, m->repo, e);
		free(full);
	}
	if (!rc && st->n)
		rc = fileio_syncfs(m->repo, e);
	return rc;
}

/*
 * An import left a merge to record: one commit whose second parent is the
 * other history (a fetched tip, or our own commits a reset by hand left
 * out), so it becomes part of ours and the next push is a fast-forward.
 * Its tree is the store's whole inventory.
 */
static int commit_pending_merge(struct store_mirror *m, struct store_db *db, int *commits,
                                struct err *e)
{
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	char *parent = meta_get(t, META_MERGE_PARENT);
	store_txn_abort(t);
	if (!parent)
		return 0;
	char head[STORE_GIT_HEX_SIZE] = "", *summary = NULL;
	struct staged st = {0};
	/* a crash after the merge commit, before the meta below: it is made already */
	int done = store_git_contains(m->git, "HEAD", parent, NULL) == 1;
	if (done) {
		store_git_head(m->git, head, NULL);
	} else {
		rc = stage_everything(m, db, &st, e);
		struct err ignored = {0};
		store_git_commit_info(m->git, parent, NULL, &summary, &ignored);
		char *msg = xasprintf("merge %.7s: %s", parent, summary ? summary : "");
		if (!rc)
			rc = store_git_commit_merge(m->git, st.v, st.n, parent, "portolan",
			                            "portolan@portolan.invalid", msg, head, e);
		free(msg);
		if (rc == ERR_NOTFOUND || rc == ERR_INVAL) { /* gone, or never a commit */
			log_warn("git mirror: cannot merge %s: %s", parent, e->msg);
			rc = 0;
			head[0] = 0;
		} else if (!rc && commits) {
			(*commits)++;
		}
	}
	if (!rc && !(rc = store_txn_begin(db, 1, &t, e))) {
		rc = store_meta_put(t, META_MERGE_PARENT, "", e);
		if (!rc && head[0])
			rc = mark_head(t, head, e);
		rc = rc ? (store_txn_abort(t), rc) : store_txn_commit(t, e);
	}
	staged_release(&st);
	free(summary);
	free(parent);
	return rc;
}

/*
 * The branch is where the store says: at our last commit, at one we made
 * just before a crash, or at an outside commit that was refused. Anything
 * else is an outside commit not imported yet: committing on top of it
 * would bury it (store_mirror_check imports it first).
 */
static int branch_accounted(struct store_mirror *m, struct store_db *db, struct err *e)
{
	char head[STORE_GIT_HEX_SIZE];
	m->made[0] = 0;
	if (store_git_head(m->git, head, NULL)) {
		m->expect_parent[0] = 0; /* no commit yet */
		return 0;
	}
	snprintf(m->expect_parent, sizeof(m->expect_parent), "%s", head);
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	char *ours = meta_get(t, META_MIRROR_HEAD), *made = meta_get(t, META_MIRROR_MADE),
	     *refused = meta_get(t, META_IMPORT_REFUSED);
	store_txn_abort(t);
	int ok = !ours || !strcmp(head, ours) || (made && !strcmp(head, made)) ||
	         (refused && !strcmp(head, refused));
	/* ours, made just before a crash kept it from being recorded: record it now */
	if (made && !strcmp(head, made) && (!ours || strcmp(head, ours)) &&
	    !store_txn_begin(db, 1, &t, NULL)) {
		if (mark_head(t, made, NULL))
			store_txn_abort(t);
		else
			store_txn_commit(t, NULL);
	}
	free(ours);
	free(made);
	free(refused);
	return ok ? 0
	          : err_set(e, ERR_BUSY, "'%s' has commits made outside that are not imported yet",
	                    m->repo);
}

int store_mirror_drain(struct store_mirror *m, struct store_db *db, int *commits, struct err *e)
{
	if (commits)
		*commits = 0;
	int rc = lock_repo(m, e);
	if (rc)
		return rc;
	m->db = db;
	rc = branch_accounted(m, db, e);
	store_git_set_commit_hook(m->git, own_commit, m);
	int done = 0;
	while (!rc && !done)
		rc = drain_one(m, db, &done, commits, e);
	if (!rc)
		rc = commit_pending_merge(m, db, commits, e);
	store_git_set_commit_hook(m->git, NULL, NULL);
	m->db = NULL;
	unlock_repo(m);
	return rc;
}

/* --- commits made outside ------------------------------------------------ */

void store_mirror_import_release(struct store_mirror_import *mi)
{
	store_import_free(mi->plan);
	memset(mi, 0, sizeof(*mi));
}

/* Plan base..rev into mi (problems on ERR_INVAL); mi->rev is set either way. */
static int plan(struct store_mirror *m, const char *base, const char *rev,
                struct store_mirror_import *mi, struct buf *problems, struct err *e)
{
	snprintf(mi->rev, sizeof(mi->rev), "%s", rev);
	return store_import_plan(&mi->plan, m->git, base, rev, problems, e);
}

/* A base for rev: want when rev contains it, else where their histories meet ("" if never). */
static void base_within(struct store_mirror *m, const char *rev, const char *want, char *out)
{
	out[0] = 0;
	if (!want)
		return;
	if (store_git_contains(m->git, rev, want, NULL) == 1)
		snprintf(out, STORE_GIT_HEX_SIZE, "%s", want);
	else if (store_git_merge_base(m->git, rev, want, out, NULL))
		out[0] = 0;
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int check_locked(struct store_mirror *m, struct store_db *db, const char *fetched,
                        struct store_mirror_import *mi, struct buf *problems, struct err *e)
{
	char head[STORE_GIT_HEX_SIZE], base[STORE_GIT_HEX_SIZE], tip[STORE_GIT_HEX_SIZE];
	if (store_git_head(m->git, head, NULL))
		return 0; /* no commits: nothing came from outside */
	struct store_txn *t;
	int rc = store_txn_begin(db, 0, &t, e);
	if (rc)
		return rc;
	char *ours = meta_get(t, META_MIRROR_HEAD), *import_base = meta_get(t, META_IMPORT_BASE);
	char *made = meta_get(t, META_MIRROR_MADE), *pending = meta_get(t, META_MERGE_PARENT);
	char *head_refused = meta_get(t, META_IMPORT_REFUSED);
	char *fetch_refused = meta_get(t, META_FETCH_REFUSED);
	store_txn_abort(t);
	if (ours && !same(head, ours) && !same(head, made) && !same(head, head_refused)) {
		/* HEAD moved without us: commits made by hand in the repo */
		mi->from_head = 1;
		if (store_git_contains(m->git, head, ours, NULL) != 1)
			snprintf(mi->merge_parent, sizeof(mi->merge_parent), "%s", ours);
		/*
		 * From the newest commit the store is known to reflect: our last
		 * commit (even one a crash kept from being recorded) when the hand
		 * commits are on top of it and nothing refused lies below.
		 */
		if (made && !head_refused && store_git_contains(m->git, head, made, NULL) == 1 &&
		    (!import_base || store_git_contains(m->git, made, import_base, NULL) == 1))
			snprintf(base, sizeof(base), "%s", made);
		else
			base_within(m, head, import_base ? import_base : ours, base);
		rc = plan(m, base, head, mi, problems, e);
	} else if (fetched && !store_git_resolve(m->git, fetched, tip, NULL) &&
	           !same(tip, fetch_refused) && !same(tip, pending) &&
	           store_git_contains(m->git, head, tip, NULL) == 0) {
		/* (a tip whose merge is pending was imported already: not twice) */
		snprintf(mi->merge_parent, sizeof(mi->merge_parent), "%s", tip);
		base_within(m, tip, head, base);
		rc = plan(m, base, tip, mi, problems, e);
	}
	free(ours);
	free(import_base);
	free(made);
	free(pending);
	free(head_refused);
	free(fetch_refused);
	return rc;
}

int store_mirror_check(struct store_mirror *m, struct store_db *db, const char *fetched,
                       struct store_mirror_import *mi, struct buf *problems, struct err *e)
{
	memset(mi, 0, sizeof(*mi));
	int rc = lock_repo(m, e);
	if (rc)
		return rc;
	rc = check_locked(m, db, fetched, mi, problems, e);
	unlock_repo(m);
	return rc;
}

int store_mirror_import_apply(struct store_txn *t, const struct store_mirror_import *mi,
                              int64_t now, size_t *changed, struct err *e)
{
	int rc = store_import_apply(t, mi->plan, now, changed, e);
	if (!rc && mi->merge_parent[0])
		rc = store_meta_put(t, META_MERGE_PARENT, mi->merge_parent, e);
	if (!rc && mi->from_head) {
		rc = store_meta_put(t, META_IMPORT_REFUSED, "", e);
		if (!rc)
			rc = mark_head(t, mi->rev, e);
	}
	return rc;
}

int store_mirror_refuse(struct store_txn *t, const struct store_mirror_import *mi, struct err *e)
{
	return store_meta_put(t, mi->from_head ? META_IMPORT_REFUSED : META_FETCH_REFUSED, mi->rev,
	                      e);
}

struct uncommitted {
	struct buf *out;
	size_t n;
};

static int note_uncommitted(const char *path, void *arg)
{
	struct uncommitted *u = arg;
	if (u->n++ < 10)
		buf_addf(u->out, "%s%s", u->out->len ? ", " : "", path);
	return 0;
}

int store_mirror_uncommitted(struct store_mirror *m, size_t *n, struct buf *paths, struct err *e)
{
	struct uncommitted u = {paths, 0};
	int rc = lock_repo(m, e);
	if (rc)
		return rc;
	rc = store_git_worktree_changes(m->git, NULL, note_uncommitted, &u, e);
	unlock_repo(m);
	*n = u.n;
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
