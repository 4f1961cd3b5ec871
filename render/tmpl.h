/*
 * The template engine: logic-less, Mustache syntax, rendering a jansson
 * tree (render/MODEL.md says which names the site's templates get).
 *
 * A struct tmpl_set owns a set of named templates, each compiled once into
 * an op list (text spans, variables with their names pre-split, sections
 * with their child ranges, partials resolved to templates), so rendering
 * never re-parses and allocates only when the output buffer grows. A
 * finished set is read-only: any number of threads may render from it at
 * once.
 *
 * Syntax: {{name}} (HTML-escaped), {{{name_html}}} and {{& name_html}} (raw,
 * only for names whose last segment ends in "_html": the one way trusted,
 * pre-rendered HTML reaches the page), {{#name}}…{{/name}},
 * {{^name}}…{{/name}}, {{> partial}}, {{! comment }}, dotted names (a.b.c)
 * and {{.}}. Names are [A-Za-z0-9_.-]. A section, inverted, close, comment
 * or partial tag alone on its line is removed with the line (partials are
 * not re-indented). No set-delimiter tags.
 *
 * Values: strings as they are, integers in decimal, reals in their shortest
 * round-tripping %g form, true/false as words; null, objects, arrays and
 * missing names print nothing. Sections repeat over array elements, render
 * once for an object or a truthy scalar (pushed, so {{.}} sees it), and not
 * at all for false, null, a missing name, "", 0 or []. Lookup walks the
 * context stack outwards for the first segment only.
 */
#ifndef RENDER_TMPL_H
#define RENDER_TMPL_H

#include <stddef.h>

#include <jansson.h>

#include "../common/buf.h"
#include "../common/err.h"

/* Largest template file a theme reads (render/theme.h). */
#define TMPL_MAX_FILE (1024 * 1024)
/* Sections nested inside one template (deeper is a parse error). */
#define TMPL_MAX_NEST 64
/* Partials nested inside one render (deeper is a render error). */
#define TMPL_MAX_PARTIAL_DEPTH 32
/*
 * Ops one tmpl_render() call may execute: partials that include
 * themselves twice would otherwise run for 2^32 steps without writing a
 * byte, so no output ceiling would stop them.
 */
#define TMPL_MAX_STEPS (4L * 1024 * 1024)

struct tmpl_set;

/* An empty set; fill it with tmpl_set_add_string() and tmpl_set_finish(). */
struct tmpl_set *tmpl_set_new(void);

/*
 * Parse text (len bytes, NUL bytes allowed) as template `name`, replacing
 * a template of that name; errors are labelled name + ".html". The set
 * must be finished again before it renders. ERR_INVAL on a parse error
 * ("name.html:LINE: what"), the set unchanged.
 */
int tmpl_set_add_string(struct tmpl_set *s, const char *name, const char *text, size_t len,
                        struct err *e);

/*
 * Resolve every partial reference; ERR_INVAL naming the first template,
 * line and partial that does not exist (templates in name order).
 */
int tmpl_set_finish(struct tmpl_set *s, struct err *e);

/* Free the set and all its templates; NULL is fine. */
void tmpl_set_free(struct tmpl_set *s);

/* 1 if the set has a template called name, else 0. */
int tmpl_set_has(const struct tmpl_set *s, const char *name);

/*
 * Render template `name` with ctx (NULL = empty context), appending to
 * out. On error out is left as it was. ERR_NOTFOUND for no such template,
 * ERR_INVAL for an unfinished set or partials nested deeper than
 * TMPL_MAX_PARTIAL_DEPTH, ERR_TOOBIG when out hits its ceiling or the
 * render takes more than TMPL_MAX_STEPS.
 */
int tmpl_render(const struct tmpl_set *s, const char *name, const json_t *ctx, struct buf *out,
                struct err *e);

/*
 * Append len bytes of s HTML-escaped, exactly as {{name}} does (& < > " '
 * ` = become entities), for callers that build HTML by hand. ERR_TOOBIG
 * when out hits its ceiling, out then unchanged; callers with an
 * unlimited buffer may ignore the result.
 */
int tmpl_escape_html(struct buf *out, const char *s, size_t len);

#endif
