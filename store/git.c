#include "git.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

#include "../common/fileio.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

/*
 * A commit staging more files than this writes its new objects as one
 * packfile instead of one loose file each: creating a file costs far more
 * than writing its bytes on some disks, and a pack is two files whatever
 * its size. Smaller commits stay loose, so everyday batches do not pile up
 * packs (nothing here ever repacks).
 */
#define PACK_MIN_FILES 64

struct store_git {
	git_repository *repo;
	git_index *index; /* kept open between commits; re-read only when changed on disk */
	/*
	 * While a packed commit stages (else NULL): the repository's object
	 * database is swapped for pack_odb, the same objects directory with an
	 * in-memory backend on top, so every object written lands in mempack
	 * until write_pack puts what the new tree needs into objects/pack.
	 */
	git_odb *pack_odb;
	git_odb_backend *mempack; /* owned by pack_odb */
	git_odb *saved_odb;       /* the repository's own database, put back after */
	int fanout_made;          /* objects/00..ff made by this process (see make_fanout) */
	char *workdir;            /* as given to store_git_open */
	int inited;               /* git_libgit2_init succeeded, so free must shut down */
	store_git_commit_hook before_move; /* see store_git_set_commit_hook */
	void *before_move_arg;
	struct stat index_written; /* the index file as we last wrote it (zeroed: never) */
	git_oid dirty_head;        /* the HEAD whose tree dirty_tree is */
	git_tree *dirty_tree;      /* cached for store_git_worktree_dirty */
};

/* Lock files a process killed with -9 may leave; relative to the git dir. */
static const char *const stale_locks[] = {
    "index.lock", "HEAD.lock", "refs/heads/main.lock", "packed-refs.lock", "config.lock",
};

static const char *git_msg(void)
{
	const git_error *ge = git_error_last();
	return ge && ge->message ? ge->message : "unknown libgit2 error";
}

/* Report the last libgit2 error as "cannot WHAT 'SUBJECT': message". */
static int git_fail(struct err *e, int code, const char *what, const char *subject)
{
	return err_set(e, code, "cannot %s '%s': %s", what, subject, git_msg());
}

/*
 * Process-wide libgit2 settings. Config files outside the repository are
 * not read, so ~/.gitconfig or /etc/gitconfig cannot change what we commit.
 * Strict object creation makes every tree entry written by write_tree look
 * up its blob in the object database (an inflate per loose object); the
 * blobs were written by add_bypath a moment earlier, so it only costs time.
 */
static int set_global_options(struct err *e)
{
	static const int levels[] = {GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
	                             GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return err_set(e, ERR_GIT, "cannot configure libgit2: %s", git_msg());
	if (git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0) < 0)
		return err_set(e, ERR_GIT, "cannot configure libgit2: %s", git_msg());
	/*
	 * Reading an object re-hashes it by default: ~30% of a history walk
	 * (store/history.h). git itself does not on reads; fsck is for that.
	 */
	if (git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0) < 0)
		return err_set(e, ERR_GIT, "cannot configure libgit2: %s", git_msg());
	return 0;
}

static int unlink_stale(const char *path, struct err *e)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, ERR_IO, "cannot remove stale lock '%s': %s", path,
		               strerror(errno));
	return 0;
}

/* 1 if name is stale in objects/pack (dir): an indexer temp file, or an .idx without its pack. */
static int stale_in_pack_dir(const char *dir, const char *name)
{
	if (!strncmp(name, "pack_git2_", strlen("pack_git2_"))) /* pack and idx.lock */
		return 1;
	size_t n = strlen(name);
	if (strncmp(name, "pack-", strlen("pack-")) != 0 || n < 4 || strcmp(name + n - 4, ".idx"))
		return 0;
	/* libgit2 renames the .idx into place before the pack; git never leaves one alone. */
	char *pack = xasprintf("%s/%.*s.pack", dir, (int)(n - 4), name);
	int orphan = !fileio_exists(pack);
	free(pack);
	return orphan;
}

/*
 * Temp files of objects being written: objects/tmp_object_git2_* (loose)
 * and, in objects/pack, what the indexer leaves when killed (see
 * stale_in_pack_dir).
 */
static int remove_stale_in(const char *dir, int pack_dir, struct err *e)
{
	DIR *d = opendir(dir);
	int rc = 0;
	if (!d) /* nothing to sweep; a write there fails and says so */
		return errno == ENOENT || errno == ENOTDIR
		           ? 0
		           : err_set(e, ERR_IO, "cannot open '%s': %s", dir, strerror(errno));
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (pack_dir ? !stale_in_pack_dir(dir, de->d_name)
		             : strncmp(de->d_name, "tmp_object", strlen("tmp_object")) != 0)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		rc = unlink_stale(path, e);
		free(path);
	}
	closedir(d);
	return rc;
}

static int remove_stale_objects(const char *gitdir, struct err *e)
{
	char *objects = xasprintf("%sobjects", gitdir), *pack = xasprintf("%sobjects/pack", gitdir);
	int rc = remove_stale_in(objects, 0, e);
	if (!rc)
		rc = remove_stale_in(pack, 1, e);
	free(pack);
	free(objects);
	return rc;
}

/*
 * Nobody else works on this repository (the caller's flock says so), so
 * every lock file is a leftover of a killed process and would make the
 * next write fail forever.
 */
static int remove_stale_locks(struct store_git *g, struct err *e)
{
	const char *gitdir = git_repository_path(g->repo); /* ends with '/' */
	git_reference *head = NULL;
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(stale_locks) / sizeof(stale_locks[0]); i++) {
		char *path = xasprintf("%s%s", gitdir, stale_locks[i]);
		rc = unlink_stale(path, e);
		free(path);
	}
	/* The current branch, if it is not main. */
	if (!rc && git_reference_lookup(&head, g->repo, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		char *path = xasprintf("%s%s.lock", gitdir, git_reference_symbolic_target(head));
		rc = unlink_stale(path, e);
		free(path);
	}
	git_reference_free(head);
	git_error_clear();
	if (!rc)
		rc = remove_stale_objects(gitdir, e);
	return rc;
}

static int open_or_init(struct store_git *g, struct err *e)
{
	int grc =
	    git_repository_open_ext(&g->repo, g->workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (grc == GIT_ENOTFOUND) {
		git_repository_init_options opts;
		git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		opts.flags = GIT_REPOSITORY_INIT_MKPATH;
		opts.initial_head = "main";
		grc = git_repository_init_ext(&g->repo, g->workdir, &opts);
		if (grc < 0)
			return git_fail(e, ERR_GIT, "create repository", g->workdir);
	} else if (grc < 0) {
		return git_fail(e, ERR_GIT, "open repository", g->workdir);
	}
	if (git_repository_is_bare(g->repo))
		return err_set(e, ERR_INVAL, "cannot use repository '%s': it is bare", g->workdir);
	return 0;
}

/* HEAD's commit in *out, or NULL when the branch has no commits yet. */
static int head_commit(struct store_git *g, git_commit **out, struct err *e)
{
	git_oid id;
	*out = NULL;
	int grc = git_reference_name_to_id(&id, g->repo, "HEAD");
	if (grc == GIT_ENOTFOUND || grc == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return 0;
	}
	if (grc < 0 || git_commit_lookup(out, g->repo, &id) < 0)
		return git_fail(e, ERR_GIT, "read HEAD of", g->workdir);
	return 0;
}

/*
 * Open the index. A repository with commits but no index file (deleted by
 * hand, or never written) gets one from HEAD's tree: an empty index would
 * make the next commit delete every file the batch does not name.
 */
static int open_index(struct store_git *g, struct err *e)
{
	git_commit *head = NULL;
	git_tree *tree = NULL;
	int rc = 0;
	if (git_repository_index(&g->index, g->repo) < 0)
		return git_fail(e, ERR_GIT, "open index of", g->workdir);
	if (fileio_exists(git_index_path(g->index)))
		return 0;
	if ((rc = head_commit(g, &head, e)) || !head)
		goto out;
	if (git_commit_tree(&tree, head) < 0 || git_index_read_tree(g->index, tree) < 0 ||
	    git_index_write(g->index) < 0)
		rc = git_fail(e, ERR_GIT, "rebuild index of", g->workdir);
out:
	git_tree_free(tree);
	git_commit_free(head);
	return rc;
}

int store_git_open(struct store_git **out, const char *workdir, struct err *e)
{
	struct store_git *g = xcalloc(1, sizeof(*g));
	int rc = 0;
	g->workdir = xstrdup(workdir);
	if (git_libgit2_init() < 0) {
		rc = err_set(e, ERR_GIT, "cannot initialise libgit2: %s", git_msg());
		goto out;
	}
	g->inited = 1;
	if ((rc = set_global_options(e)) || (rc = open_or_init(g, e)) ||
	    (rc = remove_stale_locks(g, e)) || (rc = open_index(g, e)))
		goto out;
	*out = g;
	g = NULL;
out:
	store_git_free(g);
	return rc;
}

void store_git_free(struct store_git *g)
{
	if (!g)
		return;
	git_tree_free(g->dirty_tree);
	git_index_free(g->index);
	git_repository_free(g->repo);
	if (g->inited)
		git_libgit2_shutdown();
	free(g->workdir);
	free(g);
}

const char *store_git_workdir(const struct store_git *g)
{
	return g->workdir;
}

/* Work-tree-relative, no empty, "." or ".." component, nothing inside .git. */
static int check_path(const char *path, struct err *e)
{
	const char *p = path;
	if (!*p || *p == '/')
		return err_set(e, ERR_INVAL, "bad path '%s': not relative to the work tree", path);
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 4 && !strncasecmp(p, ".git", 4)))
			return err_set(e, ERR_INVAL, "bad path '%s': bad component", path);
		p += n;
		if (*p == '/' && !*++p)
			return err_set(e, ERR_INVAL, "bad path '%s': trailing slash", path);
	}
	return 0;
}

/* Add path if the work tree has it, else remove it from the index. */
static int stage_path(struct store_git *g, const char *path, struct err *e)
{
	char *full = xasprintf("%s%s", git_repository_workdir(g->repo), path);
	struct stat st;
	int rc = 0;
	if (lstat(full, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			rc = err_set(e, ERR_INVAL, "cannot stage '%s': it is a directory", path);
		else if (git_index_add_bypath(g->index, path) < 0)
			rc = git_fail(e, ERR_GIT, "stage", path);
	} else if (errno == ENOENT || errno == ENOTDIR) {
		if (git_index_remove_bypath(g->index, path) < 0)
			rc = git_fail(e, ERR_GIT, "unstage", path);
	} else {
		rc = err_set(e, ERR_IO, "cannot stat '%s': %s", full, strerror(errno));
	}
	free(full);
	return rc;
}

/*
 * In a packed commit, put f's blob in the memory backend unless some
 * backend has it already. What git_odb_write does, less its rescan of
 * objects/pack whenever an object is not found (a directory read per new
 * blob); the packs it would miss are only those written by someone else
 * since pack_begin, whose blobs then get packed twice, which is harmless.
 */
static int stage_blob_in_memory(struct store_git *g, const struct store_git_file *f, git_oid *id)
{
	if (git_odb_hash(id, f->data, f->len, GIT_OBJECT_BLOB) < 0)
		return -1;
	if (git_odb_exists_ext(g->pack_odb, id, GIT_ODB_LOOKUP_NO_REFRESH) == 1)
		return 0;
	return g->mempack->write(g->mempack, id, f->data, f->len, GIT_OBJECT_BLOB);
}

/*
 * Stage content the caller already holds (and has written to the work
 * tree): the blob comes from memory, so nothing is read back from disk and
 * no attribute or symlink lookups are made. The entry carries no stat data;
 * git notices that and re-hashes the file when it next looks at it.
 */
static int stage_buffer(struct store_git *g, const struct store_git_file *f, struct err *e)
{
	if (!f->data)
		return git_index_remove_bypath(g->index, f->path) < 0
		           ? git_fail(e, ERR_GIT, "unstage", f->path)
		           : 0;
	git_index_entry entry;
	memset(&entry, 0, sizeof(entry));
	entry.mode = GIT_FILEMODE_BLOB;
	entry.path = f->path;
	entry.file_size = (uint32_t)f->len;
	if ((g->mempack ? stage_blob_in_memory(g, f, &entry.id)
	                : git_blob_create_from_buffer(&entry.id, g->repo, f->data, f->len)) < 0 ||
	    git_index_add(g->index, &entry) < 0)
		return git_fail(e, ERR_GIT, "stage", f->path);
	return 0;
}

/*
 * Loose objects live in objects/00..ff. Loose writes for thousands of blobs
 * used to create all 256 as a side effect; once those blobs go to a pack,
 * the next small commits would instead pay a mkdir for most of their
 * objects (a quarter of a millisecond each on a slow disk). Make them all
 * once, at the first packed commit. Best effort: a loose write makes a
 * missing one itself.
 */
static void make_fanout(struct store_git *g)
{
	if (g->fanout_made)
		return;
	const char *gitdir = git_repository_path(g->repo);
	for (int i = 0; i < 256; i++) {
		char *dir = xasprintf("%sobjects/%02x", gitdir, i);
		(void)mkdir(dir, 0777); /* less the umask, as libgit2 does */
		free(dir);
	}
	g->fanout_made = 1;
}

/*
 * Start a packed commit: swap in an object database whose top backend
 * keeps every write in memory. A fresh database each time, so nothing it
 * cached can outlive the memory objects it came from.
 */
static int pack_begin(struct store_git *g, struct err *e)
{
	char *objects = xasprintf("%sobjects", git_repository_path(g->repo));
	git_odb_backend *mempack = NULL;
	int rc = 0;
	make_fanout(g);
	if (git_odb_open(&g->pack_odb, objects) < 0 || git_mempack_new(&mempack) < 0) {
		rc = git_fail(e, ERR_GIT, "open objects of", g->workdir);
		goto out;
	}
	/* Above the loose (1) and pack (2) backends, so it takes every write. */
	if (git_odb_add_backend(g->pack_odb, mempack, 1000) < 0) {
		mempack->free(mempack);
		rc = git_fail(e, ERR_GIT, "open objects of", g->workdir);
		goto out;
	}
	g->mempack = mempack;
	if (git_repository_odb(&g->saved_odb, g->repo) < 0 ||
	    git_repository_set_odb(g->repo, g->pack_odb) < 0)
		rc = git_fail(e, ERR_GIT, "open objects of", g->workdir);
out:
	free(objects);
	return rc;
}

/* End a packed commit (or a failed start): the repository's own database back, memory freed. */
static void pack_end(struct store_git *g)
{
	if (g->saved_odb) {
		git_repository_set_odb(g->repo, g->saved_odb);
		git_odb_free(g->saved_odb);
		g->saved_odb = NULL;
	}
	if (g->mempack)
		git_mempack_reset(g->mempack);
	git_odb_free(g->pack_odb); /* frees mempack */
	g->pack_odb = NULL;
	g->mempack = NULL;
}

/*
 * Add to pb the tree id and everything below it that only the memory
 * backend holds. A tree already on disk was written after all it names, so
 * nothing new hides below it and the walk skips it.
 */
static int add_new_objects(struct store_git *g, git_packbuilder *pb, const git_oid *id,
                           const char *name)
{
	git_tree *tree = NULL;
	int grc = 0;
	if (!g->mempack->exists(g->mempack, id))
		return 0;
	if ((grc = git_packbuilder_insert(pb, id, name)) < 0 ||
	    (grc = git_tree_lookup(&tree, g->repo, id)) < 0)
		return grc;
	for (size_t i = 0, n = git_tree_entrycount(tree); i < n && grc >= 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		const git_oid *eid = git_tree_entry_id(te);
		switch (git_tree_entry_type(te)) {
		case GIT_OBJECT_TREE:
			grc = add_new_objects(g, pb, eid, git_tree_entry_name(te));
			break;
		case GIT_OBJECT_BLOB:
			if (g->mempack->exists(g->mempack, eid))
				grc = git_packbuilder_insert(pb, eid, git_tree_entry_name(te));
			break;
		default: /* a submodule's commit lives elsewhere */
			break;
		}
	}
	git_tree_free(tree);
	return grc;
}

/*
 * Write the new objects the tree needs as one pack in objects/pack. The
 * indexer writes the pack under a temporary name, then the .idx, then
 * renames the pack into place; git and libgit2 ignore an .idx whose pack is
 * missing, and open sweeps what a kill -9 leaves.
 */
static int write_pack(struct store_git *g, const git_oid *tree_id, struct err *e)
{
	git_packbuilder *pb = NULL;
	git_buf pack = GIT_BUF_INIT;
	git_indexer *idx = NULL;
	git_indexer_progress stats;
	char *dir = xasprintf("%sobjects/pack", git_repository_path(g->repo));
	int rc = 0;
	if (git_packbuilder_new(&pb, g->repo) < 0 || add_new_objects(g, pb, tree_id, NULL) < 0)
		goto fail;
	if (git_packbuilder_object_count(pb) == 0)
		goto out;
	/*
	 * Built in memory and handed over in one piece: the indexer maps and
	 * unmaps its file once per append, and git_packbuilder_write appends
	 * twice per object. The directory is named here, not left to the
	 * database's pack backend: when objects/pack is missing or not a
	 * directory, that one writes its pack to "/" and reports success.
	 */
	(void)mkdir(dir, 0777); /* git init makes it; someone may have removed it */
	/* Checked here: libgit2 1.5's indexer leaks when it cannot open its directory. */
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = err_set(e, ERR_GIT, "cannot write pack of '%s': '%s' is not a directory",
		             g->workdir, dir);
		goto out;
	}
	if (git_packbuilder_write_buf(&pack, pb) < 0 ||
	    git_indexer_new(&idx, dir, 0, NULL, NULL) < 0 ||
	    git_indexer_append(idx, pack.ptr, pack.size, &stats) < 0 ||
	    git_indexer_commit(idx, &stats) < 0)
		goto fail;
	goto out;
fail:
	rc = git_fail(e, ERR_GIT, "write pack of", g->workdir);
out:
	if (idx)
		git_indexer_free(idx);
	git_buf_dispose(&pack);
	git_packbuilder_free(pb);
	free(dir);
	return rc;
}

/*
 * Point HEAD's branch (or a detached HEAD) at id, but only if it still
 * points at parent (or, for a first commit, does not exist yet). The
 * reflog records the commit's author, as git_commit_create would.
 */
static int move_head(struct store_git *g, const git_oid *id, git_commit *parent,
                     const git_signature *who, const char *message, struct err *e)
{
	git_reference *head = NULL, *moved = NULL;
	const char *name = "HEAD";
	int rc = 0;
	char *log = xasprintf("commit%s: %.*s", parent ? "" : " (initial)",
	                      (int)strcspn(message, "\n"), message);
	if (git_reference_lookup(&head, g->repo, "HEAD") < 0 ||
	    git_repository_set_ident(g->repo, who->name, who->email) < 0) {
		rc = git_fail(e, ERR_GIT, "read HEAD of", g->workdir);
		goto out;
	}
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC)
		name = git_reference_symbolic_target(head);
	if ((parent ? git_reference_create_matching(&moved, g->repo, name, id, 1,
	                                            git_commit_id(parent), log)
	            : git_reference_create(&moved, g->repo, name, id, 0, log)) < 0)
		rc = git_fail(e, ERR_GIT, "update branch of", g->workdir);
	git_repository_set_ident(g->repo, NULL, NULL);
out:
	git_reference_free(moved);
	git_reference_free(head);
	free(log);
	return rc;
}

/* A copy of a git identity part with the bytes git refuses replaced (empty stays empty). */
static char *clean_ident(const char *s)
{
	char *c = xstrdup(s);
	for (char *p = c; *p; p++)
		if (*p == '<' || *p == '>' || (unsigned char)*p < 0x20)
			*p = '_';
	return c;
}

/* Author signature (time = now) and cleaned-up message; ERR_INVAL when unusable. */
static int prepare_commit(struct store_git *g, const char *name, const char *email,
                          const char *message, git_signature **sig, git_buf *msg, struct err *e)
{
	if (!name || !email || !message)
		return err_set(e, ERR_INVAL, "cannot commit '%s': author and message required",
		               g->workdir);
	/*
	 * Authors carry a notifier's host name ("notifier@<host>"), which may hold
	 * bytes a git identity cannot ('<', '>', newlines): a refused commit would
	 * hold up the mirror for every later change, so those become '_'.
	 */
	char *clean_name = clean_ident(name), *clean_email = clean_ident(email);
	int bad = git_signature_now(sig, clean_name, clean_email) < 0;
	free(clean_name);
	free(clean_email);
	if (bad)
		return err_set(e, ERR_INVAL, "bad author '%s <%s>': %s", name, email, git_msg());
	if (git_message_prettify(msg, message, 0, '#') < 0)
		return git_fail(e, ERR_GIT, "format commit message for", g->workdir);
	if (msg->size == 0)
		return err_set(e, ERR_INVAL, "cannot commit '%s': empty message", g->workdir);
	return 0;
}

/*
 * Create the commit object, make everything written so far durable, then
 * move the branch: after a power cut the ref never names an object whose
 * bytes did not reach the disk. (A kill -9 needs no sync; the page cache
 * survives it.)
 */
static int make_commit(struct store_git *g, const git_oid *tree_id, git_commit *parent,
                       git_commit *merged, const git_signature *sig, const char *message,
                       git_oid *out, struct err *e)
{
	git_tree *tree = NULL;
	const git_commit *parents[2] = {parent, merged};
	int rc = 0;
	if (git_tree_lookup(&tree, g->repo, tree_id) < 0 ||
	    git_commit_create(out, g->repo, NULL, sig, sig, NULL, message, tree,
	                      parent ? (merged ? 2 : 1) : 0, parents) < 0) {
		rc = git_fail(e, ERR_GIT, "commit", g->workdir);
		goto out;
	}
	if ((rc = fileio_syncfs(git_repository_path(g->repo), e)))
		goto out;
	if (g->before_move) {
		char hex[STORE_GIT_HEX_SIZE], parent_hex[STORE_GIT_HEX_SIZE] = "";
		git_oid_tostr(hex, sizeof(hex), out);
		if (parent)
			git_oid_tostr(parent_hex, sizeof(parent_hex), git_commit_id(parent));
		if ((rc = g->before_move(hex, parent_hex, g->before_move_arg, e)))
			goto out;
	}
	rc = move_head(g, out, parent, sig, message, e);
out:
	git_tree_free(tree);
	return rc;
}

/*
 * Order matters for crashes: objects first (invisible until referenced),
 * then the index, then the ref. An index written before the ref moves
 * means a restart never sees a HEAD newer than its index, which would make
 * the next commit revert files it does not name. A packed commit keeps its
 * blobs and trees in memory until the pack holding them is in
 * objects/pack, before the index (whose entries and tree cache name them)
 * is written; its commit object is written loose afterwards.
 */
/* Stage entry i of what a commit call was given. */
typedef int (*stage_fn)(struct store_git *g, const void *items, size_t i, struct err *e);

static int stage_nth_path(struct store_git *g, const void *items, size_t i, struct err *e)
{
	const char *path = ((const char *const *)items)[i];
	int rc = check_path(path, e);
	return rc ? rc : stage_path(g, path, e);
}

static int stage_nth_file(struct store_git *g, const void *items, size_t i, struct err *e)
{
	const struct store_git_file *f = &((const struct store_git_file *)items)[i];
	int rc = check_path(f->path, e);
	return rc ? rc : stage_buffer(g, f, e);
}

/* 1 when nobody has written the index file since this process did. */
static int index_as_written(struct store_git *g)
{
	struct stat st;
	const struct stat *w = &g->index_written;
	return w->st_ino && stat(git_index_path(g->index), &st) == 0 && st.st_ino == w->st_ino &&
	       st.st_dev == w->st_dev && st.st_size == w->st_size &&
	       st.st_mtim.tv_sec == w->st_mtim.tv_sec && st.st_mtim.tv_nsec == w->st_mtim.tv_nsec;
}

static int commit_staged(struct store_git *g, stage_fn stage, const void *items, size_t n,
                         const char *merge_hex, const char *author_name, const char *author_email,
                         const char *message, int *committed, char *commit_hex, struct err *e);

int store_git_commit_paths(struct store_git *g, const char *const *paths, size_t npaths,
                           const char *author_name, const char *author_email, const char *message,
                           int *committed, char *commit_hex, struct err *e)
{
	return commit_staged(g, stage_nth_path, paths, npaths, NULL, author_name, author_email,
	                     message, committed, commit_hex, e);
}

int store_git_commit_files(struct store_git *g, const struct store_git_file *files, size_t nfiles,
                           const char *author_name, const char *author_email, const char *message,
                           int *committed, char *commit_hex, struct err *e)
{
	return commit_staged(g, stage_nth_file, files, nfiles, NULL, author_name, author_email,
	                     message, committed, commit_hex, e);
}

int store_git_commit_merge(struct store_git *g, const struct store_git_file *files, size_t nfiles,
                           const char *merge_hex, const char *author_name, const char *author_email,
                           const char *message, char *commit_hex, struct err *e)
{
	if (!merge_hex)
		return err_set(e, ERR_INVAL, "cannot merge into '%s': no commit named", g->workdir);
	return commit_staged(g, stage_nth_file, files, nfiles, merge_hex, author_name, author_email,
	                     message, NULL, commit_hex, e);
}

static int lookup_commit(struct store_git *g, const char *hex, git_commit **out, struct err *e)
{
	git_oid id;
	*out = NULL;
	if (git_oid_fromstr(&id, hex) < 0)
		return err_set(e, ERR_INVAL, "bad commit id '%s'", hex);
	int grc = git_commit_lookup(out, g->repo, &id);
	if (grc == GIT_ENOTFOUND)
		return git_fail(e, ERR_NOTFOUND, "find commit", hex);
	return grc < 0 ? git_fail(e, ERR_GIT, "read commit", hex) : 0;
}

static int commit_staged(struct store_git *g, stage_fn stage, const void *items, size_t n,
                         const char *merge_hex, const char *author_name, const char *author_email,
                         const char *message, int *committed, char *commit_hex, struct err *e)
{
	git_signature *sig = NULL;
	git_buf msg = GIT_BUF_INIT;
	git_commit *head = NULL, *merged = NULL;
	git_oid tree_id, commit_id;
	int rc, staging = 0, made = 0;
	if ((rc = prepare_commit(g, author_name, author_email, message, &sig, &msg, e)))
		goto out;
	if (merge_hex && (rc = lookup_commit(g, merge_hex, &merged, e)))
		goto out;
	if (git_index_read(g->index, 0) < 0) {
		rc = git_fail(e, ERR_GIT, "read index of", g->workdir);
		goto out;
	}
	/*
	 * Start from HEAD's tree, not from whatever someone staged by hand
	 * (git add without a commit): that is theirs to commit, not ours. Their
	 * work-tree files stay as they are (reported as uncommitted).
	 */
	if ((rc = head_commit(g, &head, e)))
		goto out;
	/* only when someone else wrote the index since we did: reading a tree costs */
	if (head && !index_as_written(g)) {
		git_tree *tree = NULL;
		int bad =
		    git_commit_tree(&tree, head) < 0 || git_index_read_tree(g->index, tree) < 0;
		git_tree_free(tree);
		if (bad) {
			rc = git_fail(e, ERR_GIT, "read HEAD's tree into the index of", g->workdir);
			goto out;
		}
	}
	git_commit_free(head);
	head = NULL;
	staging = 1;
	if (n > PACK_MIN_FILES && (rc = pack_begin(g, e)))
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((rc = stage(g, items, i, e)))
			goto out;
	if (git_index_write_tree(&tree_id, g->index) < 0) {
		rc = git_fail(e, ERR_GIT, "write tree of", g->workdir);
		goto out;
	}
	/* The pack is on disk before the index (or any ref) can name what is in it. */
	if (g->pack_odb) {
		if ((rc = write_pack(g, &tree_id, e)))
			goto out;
		pack_end(g);
	}
	if ((rc = head_commit(g, &head, e)))
		goto out;
	if (git_index_write(g->index) < 0) {
		rc = git_fail(e, ERR_GIT, "write index of", g->workdir);
		goto out;
	}
	if (stat(git_index_path(g->index), &g->index_written) < 0)
		memset(&g->index_written, 0, sizeof(g->index_written));
	staging = 0;
	if (merged && !head) {
		rc = err_set(e, ERR_INVAL, "cannot merge into '%s': no commits yet", g->workdir);
		goto out;
	}
	/* A merge is recorded even when it changes no file: it joins two histories. */
	if (merged || (head ? !git_oid_equal(&tree_id, git_commit_tree_id(head))
	                    : git_index_entrycount(g->index) > 0)) {
		if ((rc = make_commit(g, &tree_id, head, merged, sig, msg.ptr, &commit_id, e)))
			goto out;
		made = 1;
		if (commit_hex)
			git_oid_tostr(commit_hex, STORE_GIT_HEX_SIZE, &commit_id);
	}
	if (committed)
		*committed = made;
out:
	pack_end(g);
	/* Drop what a failed batch half-staged; the next call restages from the work tree. */
	if (rc && staging)
		git_index_read(g->index, 1);
	git_commit_free(merged);
	git_commit_free(head);
	git_buf_dispose(&msg);
	git_signature_free(sig);
	return rc;
}

int store_git_head(struct store_git *g, char *hex, struct err *e)
{
	git_oid id;
	int grc = git_reference_name_to_id(&id, g->repo, "HEAD");
	if (grc == GIT_ENOTFOUND || grc == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return err_set(e, ERR_NOTFOUND, "no commits yet in '%s'", g->workdir);
	}
	if (grc < 0)
		return git_fail(e, ERR_GIT, "read HEAD of", g->workdir);
	git_oid_tostr(hex, STORE_GIT_HEX_SIZE, &id);
	return 0;
}

/* The tree of revision spec in *out; NULL for a NULL or empty spec. */
static int resolve_tree(struct store_git *g, const char *spec, git_tree **out, struct err *e)
{
	git_object *obj = NULL, *tree = NULL;
	int grc, rc = 0;
	*out = NULL;
	if (!spec || !*spec)
		return 0;
	grc = git_revparse_single(&obj, g->repo, spec);
	if (grc == GIT_ENOTFOUND)
		rc = git_fail(e, ERR_NOTFOUND, "find revision", spec);
	else if (grc == GIT_EINVALIDSPEC || grc == GIT_EAMBIGUOUS)
		rc = git_fail(e, ERR_INVAL, "parse revision", spec);
	else if (grc < 0 || git_object_peel(&tree, obj, GIT_OBJECT_TREE) < 0)
		rc = git_fail(e, ERR_GIT, "read revision", spec);
	else
		*out = (git_tree *)tree;
	git_object_free(obj);
	return rc;
}

int store_git_diff_paths(struct store_git *g, const char *from_hex, const char *to_hex,
                         int (*cb)(const char *path, int exists, void *arg), void *arg,
                         struct err *e)
{
	git_tree *from = NULL, *to = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	int rc = 0;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	if (!to_hex || !*to_hex)
		return err_set(e, ERR_INVAL, "cannot diff '%s': no target revision", g->workdir);
	if ((rc = resolve_tree(g, from_hex, &from, e)) || (rc = resolve_tree(g, to_hex, &to, e)))
		goto out;
	if (git_diff_tree_to_tree(&diff, g->repo, from, to, &opts) < 0) {
		rc = git_fail(e, ERR_GIT, "diff", g->workdir);
		goto out;
	}
	for (size_t i = 0, n = git_diff_num_deltas(diff); i < n && !rc; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		int exists = d->status != GIT_DELTA_DELETED;
		rc = cb(exists ? d->new_file.path : d->old_file.path, exists, arg);
	}
out:
	git_diff_free(diff);
	git_tree_free(to);
	git_tree_free(from);
	return rc;
}

/* The commit id of revision spec in *id. */
static int resolve_commit(struct store_git *g, const char *spec, git_oid *id, struct err *e)
{
	git_object *obj = NULL, *commit = NULL;
	int grc = git_revparse_single(&obj, g->repo, spec), rc = 0;
	if (grc == GIT_ENOTFOUND)
		rc = git_fail(e, ERR_NOTFOUND, "find revision", spec);
	else if (grc == GIT_EINVALIDSPEC || grc == GIT_EAMBIGUOUS)
		rc = git_fail(e, ERR_INVAL, "parse revision", spec);
	else if (grc < 0 || git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0)
		rc = git_fail(e, ERR_GIT, "read revision", spec);
	else
		git_oid_cpy(id, git_object_id(commit));
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

int store_git_resolve(struct store_git *g, const char *spec, char *hex, struct err *e)
{
	git_oid id;
	int rc = resolve_commit(g, spec, &id, e);
	if (!rc)
		git_oid_tostr(hex, STORE_GIT_HEX_SIZE, &id);
	return rc;
}

int store_git_merge_base(struct store_git *g, const char *a, const char *b, char *hex,
                         struct err *e)
{
	git_oid x, y, base;
	int rc = resolve_commit(g, a, &x, e);
	if (!rc)
		rc = resolve_commit(g, b, &y, e);
	if (rc)
		return rc;
	int grc = git_merge_base(&base, g->repo, &x, &y);
	if (grc == GIT_ENOTFOUND) {
		git_error_clear();
		return err_set(e, ERR_NOTFOUND, "'%s' and '%s' share no history", a, b);
	}
	if (grc < 0)
		return git_fail(e, ERR_GIT, "find merge base in", g->workdir);
	git_oid_tostr(hex, STORE_GIT_HEX_SIZE, &base);
	return 0;
}

int store_git_contains(struct store_git *g, const char *commit, const char *ancestor, struct err *e)
{
	git_oid x, y;
	int rc = resolve_commit(g, commit, &x, e);
	if (!rc)
		rc = resolve_commit(g, ancestor, &y, e);
	if (rc)
		return -rc;
	if (git_oid_equal(&x, &y))
		return 1;
	int grc = git_graph_descendant_of(g->repo, &x, &y);
	if (grc < 0)
		return -git_fail(e, ERR_GIT, "walk history of", g->workdir);
	return grc;
}

int store_git_read_file(struct store_git *g, const char *rev, const char *path, size_t max,
                        struct buf *out, struct err *e)
{
	git_object *obj = NULL, *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int rc = 0;
	if (git_revparse_single(&obj, g->repo, rev) < 0 ||
	    git_object_peel(&tree, obj, GIT_OBJECT_TREE) < 0) {
		rc = git_fail(e, ERR_NOTFOUND, "find revision", rev);
		goto out;
	}
	int grc = git_tree_entry_bypath(&te, (git_tree *)tree, path);
	if (grc == GIT_ENOTFOUND || (!grc && git_tree_entry_type(te) != GIT_OBJECT_BLOB)) {
		git_error_clear();
		rc = err_set(e, ERR_NOTFOUND, "no file '%s' in %s", path, rev);
		goto out;
	}
	if (grc < 0 || git_blob_lookup(&blob, g->repo, git_tree_entry_id(te)) < 0) {
		rc = git_fail(e, ERR_GIT, "read file", path);
		goto out;
	}
	size_t len = (size_t)git_blob_rawsize(blob);
	if (len > max) {
		rc = err_set(e, ERR_TOOBIG, "'%s' in %s is larger than %zu bytes", path, rev, max);
		goto out;
	}
	buf_add(out, git_blob_rawcontent(blob), len);
out:
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_object_free(tree);
	git_object_free(obj);
	return rc;
}

int store_git_commit_info(struct store_git *g, const char *rev, char **author, char **summary,
                          struct err *e)
{
	git_oid id;
	git_commit *c = NULL;
	int rc = resolve_commit(g, rev, &id, e);
	if (rc)
		return rc;
	if (git_commit_lookup(&c, g->repo, &id) < 0)
		return git_fail(e, ERR_GIT, "read commit", rev);
	const git_signature *a = git_commit_author(c);
	const char *s = git_commit_summary(c);
	if (author)
		*author = xstrdup(a && a->name && *a->name ? a->name : "unknown");
	if (summary)
		*summary = xstrdup(s ? s : "");
	git_commit_free(c);
	return 0;
}

int store_git_worktree_changes(struct store_git *g, const char *path,
                               int (*cb)(const char *path, void *arg), void *arg, struct err *e)
{
	git_status_options opts;
	git_status_list *list = NULL;
	char *spec = path ? xstrdup(path) : NULL;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	/*
	 * Read-only: no UPDATE_INDEX, whose index write would take index.lock
	 * under the feet of someone running git in the repo. Files staged from
	 * memory have no stat data, so they are hashed; at one scan per
	 * GIT_SYNC_INTERVAL that costs little.
	 */
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	if (spec) {
		opts.pathspec.strings = &spec;
		opts.pathspec.count = 1;
	}
	int rc = 0;
	/* The index on disk may be newer than ours (a commit made by hand). */
	if (git_index_read(g->index, 0) < 0 || git_status_list_new(&list, g->repo, &opts) < 0) {
		rc = git_fail(e, ERR_GIT, "read the status of", g->workdir);
		goto out;
	}
	for (size_t i = 0, n = git_status_list_entrycount(list); i < n && !rc; i++) {
		const git_status_entry *s = git_status_byindex(list, i);
		const git_diff_delta *dd = NULL;
		if (s->status & (GIT_STATUS_WT_MODIFIED | GIT_STATUS_WT_DELETED |
		                 GIT_STATUS_WT_TYPECHANGE | GIT_STATUS_WT_RENAMED))
			dd = s->index_to_workdir;
		else if (s->status & (GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED |
		                      GIT_STATUS_INDEX_DELETED | GIT_STATUS_INDEX_RENAMED |
		                      GIT_STATUS_INDEX_TYPECHANGE))
			dd = s->head_to_index; /* staged by hand, not committed */
		if (dd)
			rc = cb(dd->new_file.path ? dd->new_file.path : dd->old_file.path, arg);
	}
out:
	git_status_list_free(list);
	free(spec);
	return rc;
}

/* HEAD's tree, kept while HEAD does not move (NULL before the first commit). */
static git_tree *head_tree(struct store_git *g)
{
	git_oid id;
	if (git_reference_name_to_id(&id, g->repo, "HEAD") < 0) {
		git_error_clear();
		return NULL;
	}
	if (g->dirty_tree && git_oid_equal(&id, &g->dirty_head))
		return g->dirty_tree;
	git_commit *c = NULL;
	git_tree_free(g->dirty_tree);
	g->dirty_tree = NULL;
	if (git_commit_lookup(&c, g->repo, &id) == 0 && git_commit_tree(&g->dirty_tree, c) == 0)
		git_oid_cpy(&g->dirty_head, &id);
	git_commit_free(c);
	git_error_clear();
	return g->dirty_tree;
}

int store_git_worktree_dirty(struct store_git *g, const char *path)
{
	char *full = xasprintf("%s/%s", g->workdir, path);
	struct buf bytes;
	buf_init(&bytes, 0);
	int dirty = 0;
	/* against HEAD: an edit that was only staged (git add) is not committed either */
	if (!fileio_read(full, &bytes, NULL)) {
		git_tree *tree = head_tree(g);
		git_tree_entry *te = NULL;
		git_oid id;
		/* hashes only: no blob is read (the mirror asks for every file it writes) */
		dirty = !tree || git_tree_entry_bypath(&te, tree, path) < 0 ||
		        git_odb_hash(&id, bytes.data ? bytes.data : "", bytes.len,
		                     GIT_OBJECT_BLOB) < 0 ||
		        !git_oid_equal(&id, git_tree_entry_id(te));
		git_error_clear();
		git_tree_entry_free(te);
	}
	buf_release(&bytes);
	free(full);
	return dirty;
}

void store_git_set_commit_hook(struct store_git *g, store_git_commit_hook fn, void *arg)
{
	g->before_move = fn;
	g->before_move_arg = arg;
}
