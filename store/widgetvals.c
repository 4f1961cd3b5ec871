#include "widgetvals.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/xalloc.h"
#include "../common/banned.h"

#define DAY      86400
#define CHUNK_V1 1
#define STATE_V1 1
#define RAW_K    7
/* 9999-12-31T23:59:59Z: days fit a u32 and times print as four-digit years. */
#define TIME_MAX INT64_C(253402300799)
/* One sample per second for a whole day at the worst encoding, with room. */
#define CHUNK_MAX   (DAY * 24)
#define STATE_MAX   1024
#define KEY_MAX     (1 + 4 + 8 + STORE_WIDGET_FIELD_MAX)
#define STATE_HAS_V 1
#define STATE_HAS_E 2
#define EXACT_LIMIT 9007199254740992.0 /* 2^53: every integer below is a double */

static const double pow10s[] = {1, 10, 100, 1000};

struct sample {
	int64_t t;
	double v;
};

struct series {
	struct sample *s;
	size_t n, alloc;
};

struct state {
	int flags; /* STATE_HAS_* */
	int64_t value_at, err_at;
	double value;
	char cls[STORE_WIDGET_CLASS_MAX + 1];
	char msg[STORE_WIDGET_MESSAGE_MAX + 1];
};

/* --- names and keys ------------------------------------------------------- */

static int name_ok(const char *s, size_t max)
{
	size_t n = 0;
	for (; s && s[n]; n++)
		if (n == max ||
		    !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0;
}

int store_widget_check_field(const char *field, struct err *e)
{
	if (name_ok(field, STORE_WIDGET_FIELD_MAX))
		return 0;
	return err_set(e, ERR_INVAL, "widget field: must be 1 to %d characters of a-z, 0-9 and '_'",
	               STORE_WIDGET_FIELD_MAX);
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* 'd' day id field; field NULL gives the prefix of the service's day. */
static size_t chunk_key(unsigned char *k, uint32_t day, uint64_t id, const char *field)
{
	size_t n = field ? strlen(field) : 0;
	k[0] = 'd';
	put_be(k + 1, day, 4);
	put_be(k + 5, id, 8);
	if (n)
		memcpy(k + 13, field, n);
	return 13 + n;
}

static size_t state_key(unsigned char *k, uint64_t id, const char *field)
{
	size_t n = field ? strlen(field) : 0;
	k[0] = 's';
	put_be(k + 1, id, 8);
	if (n)
		memcpy(k + 9, field, n);
	return 9 + n;
}

/* --- varints and the chunk codec ------------------------------------------ */

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, tmp, (size_t)n);
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		unsigned char c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* The smallest decimal scale k that holds v exactly as m / 10^k, else RAW_K. */
static int value_scale(double v, int64_t *m)
{
	for (int k = 0; k < 4; k++) {
		double x = v * pow10s[k];
		if (!(x > -EXACT_LIMIT && x < EXACT_LIMIT))
			return RAW_K;
		int64_t r = (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
		if ((double)r / pow10s[k] == v) {
			*m = r;
			return k;
		}
	}
	return RAW_K;
}

static void series_push(struct series *s, int64_t t, double v)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 128;
		s->s = xrealloc(s->s, s->alloc * sizeof(*s->s));
	}
	s->s[s->n].t = t;
	s->s[s->n].v = v;
	s->n++;
}

static void chunk_encode(struct buf *b, const struct series *s, int64_t day_start)
{
	int64_t prev_t = day_start, prev_dt = 0, prev_m = 0;
	int prev_k = 0;
	buf_addc(b, CHUNK_V1);
	for (size_t i = 0; i < s->n; i++) {
		int64_t dt = s->s[i].t - prev_t, m = 0;
		put_varint(b, zigzag(dt - prev_dt));
		prev_t = s->s[i].t;
		prev_dt = dt;
		int k = value_scale(s->s[i].v, &m);
		if (k == RAW_K) {
			unsigned char raw[8];
			memcpy(raw, &s->s[i].v, 8);
			put_varint(b, RAW_K);
			buf_add(b, raw, 8);
		} else {
			put_varint(b, zigzag(k == prev_k ? m - prev_m : m) << 3 | (uint64_t)k);
			prev_m = m;
		}
		prev_k = k;
	}
}

/* Append the samples of a chunk to out; -1 when it is malformed. */
static int chunk_decode(struct series *out, const unsigned char *p, size_t len, int64_t day_start)
{
	const unsigned char *end = p + len;
	int64_t prev_t = day_start, prev_dt = 0, prev_m = 0;
	int prev_k = 0, first = 1;
	if (!len || *p++ != CHUNK_V1)
		return -1;
	for (; p < end; first = 0) {
		uint64_t u, tag;
		if (get_varint(&p, end, &u) || get_varint(&p, end, &tag))
			return -1;
		/* Unsigned sums: damaged bytes must not overflow a signed int (UB). */
		int64_t dt = (int64_t)((uint64_t)prev_dt + (uint64_t)unzigzag(u));
		/* Sorted, one per second, inside the day: anything else is damage. */
		if (dt < (first ? 0 : 1) || dt >= DAY || prev_t + dt >= day_start + DAY)
			return -1;
		prev_t += dt;
		prev_dt = dt;
		int k = (int)(tag & 7);
		double v;
		if (k == RAW_K) {
			if (tag != RAW_K || end - p < 8)
				return -1;
			memcpy(&v, p, 8);
			p += 8;
		} else if (k < 4) {
			int64_t dm = unzigzag(tag >> 3);
			int64_t m = k == prev_k ? (int64_t)((uint64_t)prev_m + (uint64_t)dm) : dm;
			v = (double)m / pow10s[k];
			prev_m = m;
		} else {
			return -1;
		}
		prev_k = k;
		series_push(out, prev_t, v);
	}
	return 0;
}

/* --- chunks in the store --------------------------------------------------- */

/* Append day's chunk of (id, field) to out; a missing chunk adds nothing. */
static int chunk_load(struct store_txn *t, uint32_t day, uint64_t id, const char *field,
                      struct series *out, struct err *e)
{
	unsigned char k[KEY_MAX];
	size_t klen = chunk_key(k, day, id, field);
	struct buf b;
	buf_init(&b, CHUNK_MAX);
	int rc = store_kv_get(t, STORE_KV_WIDGETVALS, k, klen, &b, NULL);
	if (rc == ERR_NOTFOUND)
		rc = 0;
	else if (rc || chunk_decode(out, (const unsigned char *)b.data, b.len, (int64_t)day * DAY))
		rc = err_set(e, ERR_STORE, "malformed widget values of service %llu field '%s'",
		             (unsigned long long)id, field);
	buf_release(&b);
	return rc;
}

/* Insert (when, value) into its day's chunk, replacing a sample at the same second. */
static int chunk_insert(struct store_txn *t, uint64_t id, const char *field, int64_t when,
                        double value, struct err *e)
{
	uint32_t day = (uint32_t)(when / DAY);
	struct series s = {0};
	struct buf b;
	buf_init(&b, 0);
	int rc = chunk_load(t, day, id, field, &s, e);
	if (rc)
		goto out;
	size_t i = s.n;
	while (i > 0 && s.s[i - 1].t > when)
		i--;
	if (i > 0 && s.s[i - 1].t == when) {
		s.s[i - 1].v = value;
	} else {
		series_push(&s, 0, 0);
		memmove(s.s + i + 1, s.s + i, (s.n - 1 - i) * sizeof(*s.s));
		s.s[i].t = when;
		s.s[i].v = value;
	}
	chunk_encode(&b, &s, (int64_t)day * DAY);
	unsigned char k[KEY_MAX];
	size_t klen = chunk_key(k, day, id, field);
	rc = store_kv_put(t, STORE_KV_WIDGETVALS, k, klen, b.data, b.len, e);
out:
	free(s.s);
	buf_release(&b);
	return rc;
}

/* --- field states ------------------------------------------------------------ */

static void put_i64(struct buf *b, int64_t v)
{
	buf_add(b, &v, 8);
}

static void state_encode(struct buf *b, const struct state *st)
{
	buf_addc(b, STATE_V1);
	buf_addc(b, (char)st->flags);
	if (st->flags & STATE_HAS_V) {
		put_i64(b, st->value_at);
		buf_add(b, &st->value, 8);
	}
	if (st->flags & STATE_HAS_E) {
		size_t cl = strlen(st->cls), ml = strlen(st->msg);
		put_i64(b, st->err_at);
		buf_addc(b, (char)cl);
		buf_add(b, st->cls, cl);
		buf_addc(b, (char)(ml >> 8));
		buf_addc(b, (char)(ml & 0xff));
		buf_add(b, st->msg, ml);
	}
}

static int take(const unsigned char **p, const unsigned char *end, void *out, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(out, *p, n);
	*p += n;
	return 0;
}

static int state_decode(struct state *st, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	unsigned char v[2], cl, ml[2];
	memset(st, 0, sizeof(*st));
	if (take(&p, end, v, 2) || v[0] != STATE_V1 || (v[1] & ~(STATE_HAS_V | STATE_HAS_E)))
		return -1;
	st->flags = v[1];
	if ((st->flags & STATE_HAS_V) &&
	    (take(&p, end, &st->value_at, 8) || take(&p, end, &st->value, 8)))
		return -1;
	if (!(st->flags & STATE_HAS_E))
		return p == end ? 0 : -1;
	if (take(&p, end, &st->err_at, 8) || take(&p, end, &cl, 1) || cl > STORE_WIDGET_CLASS_MAX ||
	    take(&p, end, st->cls, cl) || take(&p, end, ml, 2))
		return -1;
	size_t n = (size_t)ml[0] << 8 | ml[1];
	if (n > STORE_WIDGET_MESSAGE_MAX || take(&p, end, st->msg, n) || p != end)
		return -1;
	return 0;
}

/* Load a field's state; a missing one is all zero (found = 0). */
static int state_load(struct store_txn *t, uint64_t id, const char *field, struct state *st,
                      struct err *e)
{
	unsigned char k[KEY_MAX];
	size_t klen = state_key(k, id, field);
	struct buf b;
	buf_init(&b, STATE_MAX);
	memset(st, 0, sizeof(*st));
	int rc = store_kv_get(t, STORE_KV_WIDGETVALS, k, klen, &b, NULL);
	if (rc == ERR_NOTFOUND)
		rc = 0;
	else if (rc || state_decode(st, (const unsigned char *)b.data, b.len))
		rc = err_set(e, ERR_STORE, "malformed widget state of service %llu field '%s'",
		             (unsigned long long)id, field);
	buf_release(&b);
	return rc;
}

static int state_store(struct store_txn *t, uint64_t id, const char *field, const struct state *st,
                       struct err *e)
{
	unsigned char k[KEY_MAX];
	size_t klen = state_key(k, id, field);
	struct buf b;
	buf_init(&b, 0);
	state_encode(&b, st);
	int rc = store_kv_put(t, STORE_KV_WIDGETVALS, k, klen, b.data, b.len, e);
	buf_release(&b);
	return rc;
}

/* --- recording --------------------------------------------------------------- */

static int check_sample(const char *field, int64_t when, struct err *e)
{
	int rc = store_widget_check_field(field, e);
	if (rc)
		return rc;
	if (when < 0 || when > TIME_MAX)
		return err_set(e, ERR_INVAL, "widget sample time %lld is out of range",
		               (long long)when);
	return 0;
}

int store_widget_record(struct store_txn *t, uint64_t service_id, const char *field, int64_t when,
                        double value, int *changed, struct err *e)
{
	int rc = check_sample(field, when, e);
	if (rc)
		return rc;
	if (!isfinite(value))
		return err_set(e, ERR_INVAL, "widget field '%s': value is not a finite number",
		               field);
	struct state st;
	if ((rc = chunk_insert(t, service_id, field, when, value, e)) ||
	    (rc = state_load(t, service_id, field, &st, e)))
		return rc;
	int ch = 0;
	if (!(st.flags & STATE_HAS_V) || when >= st.value_at) {
		ch = !(st.flags & STATE_HAS_V) || st.value != value;
		st.flags |= STATE_HAS_V;
		st.value = value;
		st.value_at = when;
		/* At the same second the later call wins: a value clears the error. */
		if ((st.flags & STATE_HAS_E) && st.err_at <= when) {
			st.flags &= ~STATE_HAS_E;
			ch = 1;
		}
		rc = state_store(t, service_id, field, &st, e);
	}
	if (!rc && changed)
		*changed = ch;
	return rc;
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80                    ? 1
	             : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
	             : s[0] >= 0xe0 && s[0] <= 0xef ? 3
	             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
	                                            : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/*
 * Messages come from remote services: keep them valid UTF-8 (JSON needs
 * it), turn control characters into spaces (they end up in logs and
 * HTML), and cut at a character boundary.
 */
static void message_clean(char *out, const char *msg)
{
	const unsigned char *s = (const unsigned char *)(msg ? msg : "");
	size_t n = strlen((const char *)s), o = 0;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);
		const char *rep = len ? NULL : "?";
		if (len == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			rep = " ";
		size_t add = rep ? 1 : len;
		if (o + add > STORE_WIDGET_MESSAGE_MAX)
			break;
		memcpy(out + o, rep ? rep : (const char *)s + i, add);
		o += add;
		i += len ? len : 1;
	}
	out[o] = '\0';
}

int store_widget_record_error(struct store_txn *t, uint64_t service_id, const char *field,
                              int64_t when, const char *error_class, const char *message,
                              int *changed, struct err *e)
{
	int rc = check_sample(field, when, e);
	if (rc)
		return rc;
	if (!name_ok(error_class, STORE_WIDGET_CLASS_MAX))
		return err_set(e, ERR_INVAL,
		               "widget error class: must be 1 to %d characters of a-z, 0-9 and '_'",
		               STORE_WIDGET_CLASS_MAX);
	char msg[STORE_WIDGET_MESSAGE_MAX + 1];
	message_clean(msg, message);
	struct state st;
	if ((rc = state_load(t, service_id, field, &st, e)))
		return rc;
	int ch = 0;
	int older = ((st.flags & STATE_HAS_V) && st.value_at > when) ||
	            ((st.flags & STATE_HAS_E) && st.err_at > when);
	if (!older) {
		ch =
		    !(st.flags & STATE_HAS_E) || strcmp(st.cls, error_class) || strcmp(st.msg, msg);
		st.flags |= STATE_HAS_E;
		st.err_at = when;
		memcpy(st.cls, error_class, strlen(error_class) + 1);
		memcpy(st.msg, msg, strlen(msg) + 1);
		rc = state_store(t, service_id, field, &st, e);
	}
	if (!rc && changed)
		*changed = ch;
	return rc;
}

/* --- reading ----------------------------------------------------------------- */

static json_t *iso_time(int64_t at)
{
	char s[32];
	struct tm tm;
	time_t tt = (time_t)at;
	if (!gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(s);
}

/* Integral values as JSON integers, so 5 reads back as 5 and not 5.0. */
static json_t *number(double v)
{
	if (v > -EXACT_LIMIT && v < EXACT_LIMIT && v == (double)(int64_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static json_t *state_json(const struct state *st)
{
	int hv = st->flags & STATE_HAS_V, he = st->flags & STATE_HAS_E;
	json_t *err = he ? json_pack("{s:s,s:s,s:o}", "class", st->cls, "message", st->msg, "at",
	                             iso_time(st->err_at))
	                 : json_null();
	return json_pack("{s:o,s:o,s:o,s:b}", "value", hv ? number(st->value) : json_null(), "at",
	                 hv ? iso_time(st->value_at) : json_null(), "error", err, "stale", he);
}

/* Visits one service's states: key prefix, field names, and what to do with each. */
struct state_walk {
	unsigned char prefix[9];
	uint64_t id;
	int (*fn)(struct state_walk *w, const char *field, const struct state *st);
	json_t *out;
	int64_t since;
	struct store_txn *t;
	struct err *e;
	int rc;
};

static int walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct state_walk *w = arg;
	if (klen < 10 || klen > 9 + STORE_WIDGET_FIELD_MAX || memcmp(key, w->prefix, 9))
		return 1;
	char field[STORE_WIDGET_FIELD_MAX + 1];
	memcpy(field, (const char *)key + 9, klen - 9);
	field[klen - 9] = '\0';
	struct state st;
	if (state_decode(&st, val, vlen)) {
		w->rc = err_set(w->e, ERR_STORE, "malformed widget state of field '%s'", field);
		return 1;
	}
	w->rc = w->fn(w, field, &st);
	return w->rc ? 1 : 0;
}

static int walk_states(struct store_txn *t, uint64_t id, struct state_walk *w, struct err *e)
{
	state_key(w->prefix, id, NULL);
	w->id = id;
	w->t = t;
	w->e = e;
	w->rc = 0;
	int rc = store_kv_foreach_from(t, STORE_KV_WIDGETVALS, w->prefix, 9, walk_one, w, e);
	return w->rc ? w->rc : rc < 0 ? rc : 0;
}

static int add_state(struct state_walk *w, const char *field, const struct state *st)
{
	json_object_set_new(w->out, field, state_json(st));
	return 0;
}

int store_widget_state(struct store_txn *t, uint64_t service_id, json_t **out, struct err *e)
{
	struct state_walk w = {.fn = add_state, .out = json_object()};
	int rc = walk_states(t, service_id, &w, e);
	if (rc) {
		json_decref(w.out);
		return rc;
	}
	*out = json_pack("{s:o}", "fields", w.out);
	return 0;
}

/* The first key at or after key; 0 and *k filled, or ERR_NOTFOUND at the end. */
static int copy_key(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	(void)val;
	(void)vlen;
	struct buf *b = arg;
	buf_reset(b);
	buf_add(b, key, klen);
	return 1;
}

static int first_day_from(struct store_txn *t, uint32_t day, uint32_t *found, struct err *e)
{
	unsigned char k[5];
	struct buf b;
	buf_init(&b, 0);
	k[0] = 'd';
	put_be(k + 1, day, 4);
	int rc = store_kv_foreach_from(t, STORE_KV_WIDGETVALS, k, sizeof(k), copy_key, &b, e);
	if (rc < 0)
		goto out;
	rc = b.len >= 5 && b.data[0] == 'd' ? 0 : ERR_NOTFOUND;
	if (!rc)
		*found = (uint32_t)get_be((const unsigned char *)b.data + 1, 4);
out:
	buf_release(&b);
	return rc;
}

/* Append field's samples at or after w->since as [t, v] pairs; st says where they end. */
static int add_history(struct state_walk *w, const char *field, const struct state *st)
{
	json_t *list = json_array();
	json_object_set_new(w->out, field, list);
	if (!(st->flags & STATE_HAS_V) || st->value_at < w->since)
		return 0;
	uint32_t day = (uint32_t)(w->since / DAY), last = (uint32_t)(st->value_at / DAY);
	/* Skip the days before the oldest chunk: since may be 0. */
	int rc = first_day_from(w->t, day, &day, w->e);
	if (rc == ERR_NOTFOUND)
		return 0;
	struct series s = {0};
	for (; !rc && day <= last; day++)
		rc = chunk_load(w->t, day, w->id, field, &s, w->e);
	for (size_t i = 0; !rc && i < s.n; i++)
		if (s.s[i].t >= w->since)
			json_array_append_new(
			    list, json_pack("[I,o]", (json_int_t)s.s[i].t, number(s.s[i].v)));
	free(s.s);
	return rc;
}

int store_widget_history(struct store_txn *t, uint64_t service_id, const char *field, int64_t since,
                         json_t **out, struct err *e)
{
	if (field && store_widget_check_field(field, e))
		return ERR_INVAL;
	struct state_walk w = {.fn = add_history,
	                       .out = json_object(),
	                       .since = since < 0          ? 0
	                                : since > TIME_MAX ? TIME_MAX
	                                                   : since};
	int rc;
	if (field) {
		struct state st;
		w.id = service_id;
		w.t = t;
		w.e = e;
		rc = state_load(t, service_id, field, &st, e);
		if (!rc)
			rc = add_history(&w, field, &st);
	} else {
		rc = walk_states(t, service_id, &w, e);
	}
	if (rc) {
		json_decref(w.out);
		return rc;
	}
	*out = w.out;
	return 0;
}

/* --- forgetting and pruning --------------------------------------------------- */

int store_widget_forget(struct store_txn *t, uint64_t service_id, struct err *e)
{
	unsigned char from[KEY_MAX], to[KEY_MAX];
	uint32_t day = 0;
	int rc;
	/* Jump from day to day that has chunks: ~retention seeks, not a full scan. */
	while (!(rc = first_day_from(t, day, &day, e))) {
		size_t flen = chunk_key(from, day, service_id, NULL);
		memcpy(to, from, flen);
		to[flen] = 0xff; /* after every field name ([a-z0-9_]) */
		rc = store_kv_del_range(t, STORE_KV_WIDGETVALS, from, flen, to, flen + 1, NULL, e);
		if (rc || day == UINT32_MAX)
			break;
		day++;
	}
	if (rc && rc != ERR_NOTFOUND)
		return rc;
	size_t flen = state_key(from, service_id, NULL);
	memcpy(to, from, flen);
	to[flen] = 0xff;
	return store_kv_del_range(t, STORE_KV_WIDGETVALS, from, flen, to, flen + 1, NULL, e);
}

struct prune_states {
	int64_t cutoff;
	struct buf keys; /* doomed keys, each a length byte then the key */
	size_t n;
};

static int doom_state(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct prune_states *p = arg;
	struct state st;
	if (!klen || *(const unsigned char *)key != 's')
		return 1;
	if (klen > KEY_MAX || state_decode(&st, val, vlen))
		return 0; /* store_widget_state reports it; forget removes it */
	int64_t newest = (st.flags & STATE_HAS_V) ? st.value_at : INT64_MIN;
	if ((st.flags & STATE_HAS_E) && st.err_at > newest)
		newest = st.err_at;
	if (newest < p->cutoff) {
		buf_addc(&p->keys, (char)klen);
		buf_add(&p->keys, key, klen);
		p->n++;
	}
	return 0;
}

int store_widget_prune(struct store_txn *t, int64_t before, size_t *removed, struct err *e)
{
	int64_t cutoff_day = before > 0 ? (before > TIME_MAX ? TIME_MAX : before) / DAY : 0;
	unsigned char to[5] = {'d'};
	put_be(to + 1, (uint64_t)cutoff_day, 4);
	size_t chunks = 0;
	int rc = store_kv_del_range(t, STORE_KV_WIDGETVALS, "d", 1, to, sizeof(to), &chunks, e);
	if (rc)
		return rc;
	struct prune_states p = {.cutoff = cutoff_day * DAY};
	buf_init(&p.keys, 0);
	rc = store_kv_foreach_from(t, STORE_KV_WIDGETVALS, "s", 1, doom_state, &p, e);
	rc = rc < 0 ? rc : 0;
	for (size_t off = 0; !rc && off < p.keys.len; off += 1 + (unsigned char)p.keys.data[off])
		rc = store_kv_del(t, STORE_KV_WIDGETVALS, p.keys.data + off + 1,
		                  (unsigned char)p.keys.data[off], e);
	buf_release(&p.keys);
	if (!rc && removed)
		*removed = chunks + p.n;
	return rc;
}
