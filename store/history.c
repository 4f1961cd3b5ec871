#include "history.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "record.h"
#include "../common/banned.h"

/* Deepest path looked up or listed, in components; git itself goes no deeper in practice. */
#define MAX_DEPTH 64
/* Largest single file store_history_export writes (a service file is a few KiB). */
#define EXPORT_FILE_MAX (16u << 20)
/* Longest path accepted from a caller. */
#define MAX_PATH 4096

/* One call's repository; opened and released by that call alone. */
struct hrepo {
	git_repository *repo;
	const char *dir;
	int inited; /* git_libgit2_init succeeded, so release must shut down */
};

/* A caller's path split into components (pointers into copy). */
struct parts {
	char *copy;
	const char *comp[MAX_DEPTH];
	size_t n;
};

/*
 * Where a path leads in one commit's tree: the tree ids passed through
 * (trees[i] holds component i) and the file found there, if any.
 */
struct probe {
	git_oid trees[MAX_DEPTH];
	size_t ntrees; /* how many of trees[] are known */
	git_oid blob;
	uint32_t mode; /* 0: no file at the path */
};

/* The files that differ between two trees, for store_history_log. */
struct changes {
	struct buf prefix; /* directory being compared, with a trailing '/' */
	json_t *files;     /* the first STORE_HISTORY_MAX_FILES paths */
	size_t n;          /* all of them */
};

/* One file's diff being printed, capped at STORE_HISTORY_MAX_DIFF. */
struct diff_text {
	struct buf text;
	const char *path;
	int truncated;
};

static const char *git_msg(void)
{
	const git_error *ge = git_error_last();
	return ge && ge->message ? ge->message : "unknown libgit2 error";
}

/* Report the last libgit2 error as "cannot WHAT 'SUBJECT': message". */
static int git_fail(struct err *e, const char *what, const char *subject)
{
	return err_set(e, ERR_GIT, "cannot %s '%s': %s", what, subject, git_msg());
}

static int repo_open(struct hrepo *r, const char *dir, struct err *e)
{
	r->dir = dir;
	if (!dir || !*dir)
		return err_set(e, ERR_GIT, "cannot open repository '': no directory given");
	if (git_libgit2_init() < 0)
		return err_set(e, ERR_GIT, "cannot initialise libgit2: %s", git_msg());
	r->inited = 1;
	if (git_repository_open_ext(&r->repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return git_fail(e, "open repository", dir);
	return 0;
}

static void repo_release(struct hrepo *r)
{
	git_repository_free(r->repo);
	r->repo = NULL;
	if (r->inited)
		git_libgit2_shutdown();
	r->inited = 0;
}

/* HEAD's commit in *out, or NULL when the current branch has no commits yet. */
static int head_commit(struct hrepo *r, git_commit **out, struct err *e)
{
	git_oid id;
	*out = NULL;
	int grc = git_reference_name_to_id(&id, r->repo, "HEAD");
	if (grc == GIT_ENOTFOUND || grc == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return 0;
	}
	if (grc < 0 || git_commit_lookup(out, r->repo, &id) < 0)
		return git_fail(e, "read HEAD of", r->dir);
	return 0;
}

/* First parent of c in *out, or NULL for a root commit. */
static int first_parent(struct hrepo *r, git_commit *c, git_commit **out, struct err *e)
{
	*out = NULL;
	if (git_commit_parentcount(c) == 0)
		return 0;
	if (git_commit_parent(out, c, 0) < 0)
		return git_fail(e, "read history of", r->dir);
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	uint32_t cp = s[0] & (0x3fu >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string of n bytes at s, each byte of a bad UTF-8 sequence as U+FFFD. */
static json_t *text_json(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len((const unsigned char *)s + i, n - i);
		if (len)
			buf_add(&b, s + i, len);
		else
			buf_adds(&b, "\xef\xbf\xbd");
		i += len ? len : 1;
	}
	j = json_stringn(b.data, b.len);
	buf_release(&b);
	return j ? j : json_string("");
}

/* {"commit", "when", "author", "email", "message"} for c. */
static json_t *commit_json(git_commit *c)
{
	char hex[GIT_OID_HEXSZ + 1], when[32];
	const git_signature *a = git_commit_author(c);
	const char *summary = git_commit_summary(c);
	if (!summary)
		summary = "";
	git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
	store_time_format((int64_t)a->when.time, when, sizeof(when));
	json_t *j = json_object();
	json_object_set_new(j, "commit", json_string(hex));
	json_object_set_new(j, "when", json_string(when));
	json_object_set_new(j, "author", text_json(a->name, strlen(a->name)));
	json_object_set_new(j, "email", text_json(a->email, strlen(a->email)));
	json_object_set_new(j, "message", text_json(summary, strlen(summary)));
	return j;
}

/* Relative, no empty, "." or ".." component, at most MAX_DEPTH components. */
static int parts_split(struct parts *p, const char *path, struct err *e)
{
	if (!path || !*path || *path == '/' || strlen(path) > MAX_PATH)
		return err_set(e, ERR_INVAL, "bad path '%.200s': not relative to the repository",
		               path ? path : "");
	p->copy = xstrdup(path);
	for (char *s = p->copy; s;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
			return err_set(e, ERR_INVAL, "bad path '%.200s': bad component", path);
		if (p->n == MAX_DEPTH)
			return err_set(e, ERR_INVAL, "bad path '%.200s': too deep", path);
		p->comp[p->n++] = s;
		s = slash ? slash + 1 : NULL;
	}
	return 0;
}

static void parts_release(struct parts *p)
{
	free(p->copy);
	p->copy = NULL;
	p->n = 0;
}

/*
 * Fill p for the path in the tree root. Whatever prev (the same path in
 * another commit, or NULL) shares from the first tree both have in common
 * is copied, not read: equal tree ids mean equal contents below, so a
 * commit that changed other files costs a tree read or two.
 */
static int probe_tree(git_repository *repo, const struct parts *pp, const git_oid *root,
                      const struct probe *prev, struct probe *p)
{
	git_oid id = *root;
	uint32_t mode = 0;
	p->ntrees = 0;
	p->mode = 0;
	for (size_t i = 0; i < pp->n; i++) {
		if (prev && i < prev->ntrees && git_oid_equal(&id, &prev->trees[i])) {
			memcpy(&p->trees[i], &prev->trees[i], (prev->ntrees - i) * sizeof(git_oid));
			p->ntrees = prev->ntrees;
			p->blob = prev->blob;
			p->mode = prev->mode;
			return 0;
		}
		git_tree *tree = NULL;
		p->trees[i] = id;
		p->ntrees = i + 1;
		if (git_tree_lookup(&tree, repo, &id) < 0)
			return -1;
		const git_tree_entry *te = git_tree_entry_byname(tree, pp->comp[i]);
		git_object_t want = i + 1 < pp->n ? GIT_OBJECT_TREE : GIT_OBJECT_BLOB;
		int found = te && git_tree_entry_type(te) == want;
		if (found) {
			id = *git_tree_entry_id(te);
			mode = (uint32_t)git_tree_entry_filemode(te);
		}
		git_tree_free(tree);
		if (!found)
			return 0;
	}
	p->blob = id;
	p->mode = mode;
	return 0;
}

static int probe_differs(const struct probe *a, const struct probe *b)
{
	return a->mode != b->mode || (a->mode && !git_oid_equal(&a->blob, &b->blob));
}

/* git_diff_line_cb: append the lines of the delta at d->path, up to the cap. */
static int print_line(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l,
                      void *arg)
{
	struct diff_text *t = arg;
	(void)h;
	if (strcmp(d->new_file.path, t->path) != 0 && strcmp(d->old_file.path, t->path) != 0)
		return 0; /* a file below a directory that replaced the file, or was replaced */
	int origin = l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
	             l->origin == GIT_DIFF_LINE_DELETION;
	if (t->text.len + (size_t)origin + l->content_len > STORE_HISTORY_MAX_DIFF) {
		t->truncated = 1;
		return 1;
	}
	if (origin)
		buf_addc(&t->text, l->origin);
	buf_add(&t->text, l->content, l->content_len);
	return 0;
}

/*
 * The unified diff of path from parent (NULL: the empty tree) to c. The
 * tree-to-tree diff is limited to exactly that path, so it reads only the
 * trees leading to it.
 */
static int file_diff(struct hrepo *r, git_commit *c, git_commit *parent, const char *path,
                     json_t **out, struct err *e)
{
	git_tree *old = NULL, *new = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	char *spec[1] = {(char *)path};
	struct diff_text t = {.path = path};
	int rc = 0;
	buf_init(&t.text, 0);
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
	opts.pathspec.strings = spec;
	opts.pathspec.count = 1;
	opts.max_size = STORE_HISTORY_MAX_DIFF_BLOB;
	if ((parent && git_commit_tree(&old, parent) < 0) || git_commit_tree(&new, c) < 0 ||
	    git_diff_tree_to_tree(&diff, r->repo, old, new, &opts) < 0) {
		rc = git_fail(e, "diff history of", path);
		goto out;
	}
	if (git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, print_line, &t) != 0) {
		if (!t.truncated) {
			rc = git_fail(e, "diff history of", path);
			goto out;
		}
		git_error_clear();
		buf_adds(&t.text, STORE_HISTORY_TRUNCATED);
	}
	*out = text_json(t.text.data, t.text.len);
out:
	buf_release(&t.text);
	git_diff_free(diff);
	git_tree_free(new);
	git_tree_free(old);
	return rc;
}

/* The history entry of c, which changed path from was to now. */
static int file_entry(struct hrepo *r, git_commit *c, git_commit *parent, const char *path,
                      const struct probe *was, const struct probe *now, json_t **out, struct err *e)
{
	json_t *diff = NULL;
	int rc = file_diff(r, c, parent, path, &diff, e);
	if (rc)
		return rc;
	const char *change = !was->mode ? "added" : !now->mode ? "deleted" : "modified";
	*out = commit_json(c);
	json_object_set_new(*out, "change", json_string(change));
	json_object_set_new(*out, "diff", diff);
	return 0;
}

int store_history_file(const char *repo_dir, const char *path, size_t max, json_t **out,
                       struct err *e)
{
	struct hrepo r = {0};
	struct parts pp = {0};
	struct probe probes[2], *now = &probes[0], *was = &probes[1], *swap;
	git_commit *c = NULL, *parent = NULL;
	json_t *list = json_array();
	int rc;
	if ((rc = parts_split(&pp, path, e)) || (rc = repo_open(&r, repo_dir, e)) ||
	    (rc = head_commit(&r, &c, e)))
		goto out;
	if (c && max && probe_tree(r.repo, &pp, git_commit_tree_id(c), NULL, now) < 0) {
		rc = git_fail(e, "read history of", repo_dir);
		goto out;
	}
	for (size_t seen = 0; c && json_array_size(list) < max && seen < STORE_HISTORY_MAX_SCAN;
	     seen++) {
		if ((rc = first_parent(&r, c, &parent, e)))
			goto out;
		was->ntrees = 0;
		was->mode = 0; /* a root commit compares with nothing */
		if (parent && probe_tree(r.repo, &pp, git_commit_tree_id(parent), now, was) < 0) {
			rc = git_fail(e, "read history of", repo_dir);
			goto out;
		}
		if (probe_differs(now, was)) {
			json_t *entry = NULL;
			if ((rc = file_entry(&r, c, parent, path, was, now, &entry, e)))
				goto out;
			json_array_append_new(list, entry);
		}
		git_commit_free(c);
		c = parent;
		parent = NULL;
		swap = now;
		now = was;
		was = swap;
	}
	*out = list;
	list = NULL;
out:
	json_decref(list);
	git_commit_free(parent);
	git_commit_free(c);
	repo_release(&r);
	parts_release(&pp);
	return rc;
}

static int is_commit_hex(const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < GIT_OID_HEXSZ; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[GIT_OID_HEXSZ] == '\0';
}

/* Append blob id to out, refusing before reading it when it would not fit. */
static int read_blob(struct hrepo *r, const git_oid *id, const char *path, struct buf *out,
                     struct err *e)
{
	git_odb *odb = NULL;
	git_blob *blob = NULL;
	git_object_t type;
	size_t size;
	int rc = 0;
	if (git_repository_odb(&odb, r->repo) < 0 ||
	    git_odb_read_header(&size, &type, odb, id) < 0) {
		rc = git_fail(e, "read", path);
		goto out;
	}
	if (out->max && (size > out->max || out->len > out->max - size)) {
		rc = err_set(e, ERR_TOOBIG, "cannot read '%s': %zu bytes is too big", path, size);
		goto out;
	}
	if (git_blob_lookup(&blob, r->repo, id) < 0) {
		rc = git_fail(e, "read", path);
		goto out;
	}
	if (buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)))
		rc = err_set(e, ERR_TOOBIG, "cannot read '%s': too big", path);
out:
	git_blob_free(blob);
	git_odb_free(odb);
	return rc;
}

/* The commit named by commit_hex (already checked) and its tree. ERR_NOTFOUND, ERR_GIT. */
static int commit_tree(struct hrepo *r, const char *commit_hex, git_commit **c, git_tree **tree,
                       struct err *e)
{
	git_oid id;
	git_oid_fromstr(&id, commit_hex);
	int grc = git_commit_lookup(c, r->repo, &id); /* a non-commit object is ENOTFOUND too */
	if (grc == GIT_ENOTFOUND) {
		git_error_clear();
		return err_set(e, ERR_NOTFOUND, "no commit '%s' in '%s'", commit_hex, r->dir);
	}
	if (grc < 0 || git_commit_tree(tree, *c) < 0)
		return git_fail(e, "read commit", commit_hex);
	return 0;
}

int store_history_file_at(const char *repo_dir, const char *commit_hex, const char *path,
                          struct buf *out, struct err *e)
{
	struct hrepo r = {0};
	struct parts pp = {0};
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	int rc, grc;
	if (!is_commit_hex(commit_hex))
		return err_set(e, ERR_INVAL, "bad commit id '%.64s': not 40 lowercase hex digits",
		               commit_hex ? commit_hex : "");
	if ((rc = parts_split(&pp, path, e)) || (rc = repo_open(&r, repo_dir, e)))
		goto out;
	if ((rc = commit_tree(&r, commit_hex, &c, &tree, e)))
		goto out;
	grc = git_tree_entry_bypath(&te, tree, path);
	if (grc == GIT_ENOTFOUND || (grc == 0 && git_tree_entry_type(te) != GIT_OBJECT_BLOB)) {
		git_error_clear();
		rc = err_set(e, ERR_NOTFOUND, "no file '%s' in commit '%.12s'", path, commit_hex);
		goto out;
	}
	if (grc < 0) {
		rc = git_fail(e, "read", path);
		goto out;
	}
	rc = read_blob(&r, git_tree_entry_id(te), path, out, e);
out:
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	repo_release(&r);
	parts_release(&pp);
	return rc;
}

/* What store_history_walk's tree walk carries. */
struct walk {
	struct hrepo *r;
	int (*cb)(const char *path, const char *data, size_t len, void *arg);
	void *arg;
	size_t bytes;
	int rc;
	struct err *e;
};

/* Only what store/repo.h reads: services/ and the two top-level files. */
static int inventory_path(const char *root, const char *name)
{
	if (!*root)
		return !strcmp(name, "groups.yml") || !strcmp(name, "exposure.yml") ||
		       !strcmp(name, "services");
	return !strncmp(root, "services/", 9);
}

static int walk_entry(const char *root, const git_tree_entry *te, void *arg)
{
	struct walk *x = arg;
	const char *name = git_tree_entry_name(te);
	if (!inventory_path(root, name))
		return 1; /* skip (a tree: its whole subtree) */
	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return 0;
	struct buf data, path;
	buf_init(&data, EXPORT_FILE_MAX);
	buf_init(&path, 0);
	buf_addf(&path, "%s%s", root, name);
	x->rc = read_blob(x->r, git_tree_entry_id(te), path.data, &data, x->e);
	if (!x->rc && (x->bytes += data.len) > STORE_HISTORY_MAX_EXPORT)
		x->rc = err_set(x->e, ERR_TOOBIG, "the inventory is larger than %u bytes",
		                STORE_HISTORY_MAX_EXPORT);
	if (!x->rc)
		x->rc = x->cb(path.data, data.data ? data.data : "", data.len, x->arg);
	buf_release(&data);
	buf_release(&path);
	return x->rc ? -1 : 0;
}

int store_history_walk(const char *repo_dir, const char *commit_hex,
                       int (*cb)(const char *path, const char *data, size_t len, void *arg),
                       void *arg, struct err *e)
{
	struct hrepo r = {0};
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int rc;
	if (!is_commit_hex(commit_hex))
		return err_set(e, ERR_INVAL, "bad commit id '%.64s': not 40 lowercase hex digits",
		               commit_hex ? commit_hex : "");
	if ((rc = repo_open(&r, repo_dir, e)))
		goto out;
	if ((rc = commit_tree(&r, commit_hex, &c, &tree, e)))
		goto out;
	struct walk x = {&r, cb, arg, 0, 0, e};
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_entry, &x) < 0 && !x.rc)
		x.rc = git_fail(e, "read the tree of", commit_hex);
	rc = x.rc;
out:
	git_tree_free(tree);
	git_commit_free(c);
	repo_release(&r);
	return rc;
}

struct export
{
	const char *dir;
	struct err *e;
};

static int export_file(const char *path, const char *data, size_t len, void *arg)
{
	struct export *x = arg;
	char *full = xasprintf("%s/%s", x->dir, path);
	int rc = fileio_write_atomic_flags(full, NULL, data, len, FILEIO_NOSYNC | FILEIO_NOCOMPARE,
	                                   NULL, x->e);
	free(full);
	return rc;
}

int store_history_export(const char *repo_dir, const char *commit_hex, const char *dir,
                         struct err *e)
{
	struct export x = {dir, e};
	return store_history_walk(repo_dir, commit_hex, export_file, &x, e);
}

/* Cut b back to its first len bytes (what it held before an append). */
static void prefix_cut(struct buf *b, size_t len)
{
	b->len = len;
	if (b->alloc)
		b->data[len] = '\0';
}

/* Count path (the prefix plus name) as changed; list it while there is room. */
static void note_file(struct changes *ch, const char *name)
{
	ch->n++;
	if (json_array_size(ch->files) >= STORE_HISTORY_MAX_FILES)
		return;
	size_t keep = ch->prefix.len;
	buf_adds(&ch->prefix, name);
	json_array_append_new(ch->files, text_json(ch->prefix.data, ch->prefix.len));
	prefix_cut(&ch->prefix, keep);
}

static int tree_changes(git_repository *repo, const git_oid *a_id, const git_oid *b_id,
                        struct changes *ch, int depth);

/* An entry that differs between two trees; x or y is NULL when absent on that side. */
static int entry_changes(git_repository *repo, const git_tree_entry *x, const git_tree_entry *y,
                         struct changes *ch, int depth)
{
	const git_tree_entry *any = x ? x : y;
	int xt = x && git_tree_entry_type(x) == GIT_OBJECT_TREE;
	int yt = y && git_tree_entry_type(y) == GIT_OBJECT_TREE;
	if (!xt && !yt) {
		note_file(ch, git_tree_entry_name(any));
		return 0;
	}
	size_t keep = ch->prefix.len;
	buf_adds(&ch->prefix, git_tree_entry_name(any));
	buf_addc(&ch->prefix, '/');
	int rc;
	if (depth >= MAX_DEPTH) { /* listed as the directory itself, rather than recurse on */
		note_file(ch, "");
		rc = 0;
	} else {
		rc = tree_changes(repo, xt ? git_tree_entry_id(x) : NULL,
		                  yt ? git_tree_entry_id(y) : NULL, ch, depth + 1);
	}
	prefix_cut(&ch->prefix, keep);
	return rc;
}

/*
 * Note every file that differs between trees a_id and b_id (either NULL:
 * empty). Subtrees with equal ids are skipped unread, so the cost follows
 * the size of the change, not of the repo (libgit2's tree-to-tree diff
 * reads both trees whole). Both trees are walked in git's tree order,
 * which for the full paths written is byte order.
 */
static int tree_changes(git_repository *repo, const git_oid *a_id, const git_oid *b_id,
                        struct changes *ch, int depth)
{
	git_tree *a = NULL, *b = NULL;
	int rc = 0;
	if ((a_id && git_tree_lookup(&a, repo, a_id) < 0) ||
	    (b_id && git_tree_lookup(&b, repo, b_id) < 0)) {
		rc = -1;
		goto out;
	}
	size_t na = a ? git_tree_entrycount(a) : 0, nb = b ? git_tree_entrycount(b) : 0;
	for (size_t i = 0, j = 0; !rc && (i < na || j < nb);) {
		const git_tree_entry *x = i < na ? git_tree_entry_byindex(a, i) : NULL;
		const git_tree_entry *y = j < nb ? git_tree_entry_byindex(b, j) : NULL;
		int cmp = !x ? 1 : !y ? -1 : git_tree_entry_cmp(x, y);
		if (cmp < 0)
			rc = entry_changes(repo, x, NULL, ch, depth);
		else if (cmp > 0)
			rc = entry_changes(repo, NULL, y, ch, depth);
		else if (!git_oid_equal(git_tree_entry_id(x), git_tree_entry_id(y)) ||
		         git_tree_entry_filemode(x) != git_tree_entry_filemode(y))
			rc = entry_changes(repo, x, y, ch, depth);
		i += cmp <= 0;
		j += cmp >= 0;
	}
out:
	git_tree_free(b);
	git_tree_free(a);
	return rc;
}

/* The log entry of c: its commit fields and the files changed since parent. */
static int log_entry(struct hrepo *r, git_commit *c, git_commit *parent, json_t **out,
                     struct err *e)
{
	struct changes ch = {.files = json_array()};
	buf_init(&ch.prefix, 0);
	if (tree_changes(r->repo, parent ? git_commit_tree_id(parent) : NULL, git_commit_tree_id(c),
	                 &ch, 0) < 0) {
		json_decref(ch.files);
		buf_release(&ch.prefix);
		return git_fail(e, "read history of", r->dir);
	}
	buf_release(&ch.prefix);
	*out = commit_json(c);
	json_object_set_new(*out, "files", ch.files);
	json_object_set_new(*out, "nfiles", json_integer((json_int_t)ch.n));
	return 0;
}

int store_history_log(const char *repo_dir, size_t max, json_t **out, struct err *e)
{
	struct hrepo r = {0};
	git_commit *c = NULL, *parent = NULL;
	json_t *list = json_array();
	int rc;
	if ((rc = repo_open(&r, repo_dir, e)) || (rc = head_commit(&r, &c, e)))
		goto out;
	for (size_t n = 0; c && n < max && n < STORE_HISTORY_MAX_SCAN; n++) {
		json_t *entry = NULL;
		if ((rc = first_parent(&r, c, &parent, e)) ||
		    (rc = log_entry(&r, c, parent, &entry, e)))
			goto out;
		json_array_append_new(list, entry);
		git_commit_free(c);
		c = parent;
		parent = NULL;
	}
	*out = list;
	list = NULL;
out:
	json_decref(list);
	git_commit_free(parent);
	git_commit_free(c);
	repo_release(&r);
	return rc;
}
