#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "xalloc.h"
#include "banned.h"

static char empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->data[0] = '\0';
}

static int grow(struct buf *b, size_t extra)
{
	if (b->max && (extra > b->max || b->len > b->max - extra))
		return ERR_TOOBIG;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	if (b->alloc) {
		b->data = xrealloc(b->data, n);
	} else {
		b->data = xmalloc(n);
		b->data[0] = '\0';
	}
	b->alloc = n;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	if (grow(b, n))
		return ERR_TOOBIG;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	if (b->alloc)
		b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return ERR_INVAL;
	if (grow(b, (size_t)n))
		return ERR_TOOBIG;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->alloc ? b->data : xstrdup("");
	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return p;
}
