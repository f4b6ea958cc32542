/* The engine (engine.h): the pipeline as one sequence of stages, the fix rounds and their safety
 * net, and the fix picker every client shares. */
#include "engine.h"
#include "testcode.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uthash.h>

#include "bridge.h"
#include "pass.h"
#include "unit.h"
#include "vec.h"

#define MAX_FILE (64u * 1024 * 1024)
#define MAX_ROUNDS 16

/* ---- the text stage: bytes a Python file may hold ------------------------------------------ */

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		/* ASCII, nearly all of most sources: eight bytes at a time */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (!(w & 0x8080808080808080u)) {
				i += 8;
				continue;
			}
		}
		unsigned c = p[i];
		size_t k;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (p[i + j] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* A PEP 263 coding cookie on line 1 or 2 naming anything but UTF-8 (or ASCII, a subset). */
static const char *foreign_cookie(const char *s, size_t n, char *name, size_t cap)
{
	size_t at = 0;
	for (int line = 0; line < 2 && at < n; line++) {
		size_t e = at;
		while (e < n && s[e] != '\n')
			e++;
		size_t k = at;
		while (k < e && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f'))
			k++;
		if (k < e && s[k] == '#') {
			for (size_t i = k; i + 6 < e; i++) {
				if (memcmp(s + i, "coding", 6) != 0 || (s[i + 6] != ':' && s[i + 6] != '='))
					continue;
				size_t v = i + 7;
				while (v < e && (s[v] == ' ' || s[v] == '\t'))
					v++;
				size_t w = 0;
				while (v < e && w + 1 < cap &&
				       (s[v] == '-' || s[v] == '_' || s[v] == '.' || (s[v] >= '0' && s[v] <= '9') ||
					(s[v] >= 'a' && s[v] <= 'z') || (s[v] >= 'A' && s[v] <= 'Z')))
					name[w++] = s[v++];
				name[w] = 0;
				if (!strncasecmp(name, "utf-8", 5) || !strncasecmp(name, "utf_8", 5) ||
				    !strcasecmp(name, "utf8") || !strcasecmp(name, "ascii") || !strcasecmp(name, "us-ascii"))
					return NULL;
				return name;
			}
		} else if (k < e) {
			break; /* the cookie must come before any code */
		}
		at = e + 1;
	}
	return NULL;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

const char *engine_unreadable(const char *buf, size_t len, char *why, size_t cap)
{
	char cookie[64];
	if (len > MAX_FILE)
		return "larger than 64 MiB; skipped";
	if (memchr(buf, 0, len))
		return "contains NUL bytes; skipped";
	/* a file in another declared encoding is refused as such (its bytes are most likely valid
	 * in that encoding, not invalid UTF-8); in ASCII it reads the same as UTF-8 */
	if (foreign_cookie(buf, len, cookie, sizeof cookie) && !is_ascii(buf, len)) {
		snprintf(why, cap, "declares the encoding `%s`; only UTF-8 files are handled; skipped", cookie);
		return why;
	}
	if (!valid_utf8(buf, len))
		return "is not valid UTF-8; skipped";
	return NULL;
}

/* How deeply src nests: the most brackets open at once and the most levels of indentation (as
 * Python's tokenizer counts them: an indentation stack, lines inside brackets or strings not
 * counted), outside strings and comments, with the position where the deeper one was reached.
 * One pass over the bytes, before anything is parsed. */
struct nesting {
	unsigned brackets, indents;
	size_t at;
	bool tabs; /* indentation whose meaning depends on the width of a tab: CPython's TabError */
};

static size_t skip_string(const char *s, size_t n, size_t i)
{
	char q = s[i];
	bool triple = i + 2 < n && s[i + 1] == q && s[i + 2] == q;
	i += triple ? 3 : 1;
	while (i < n) {
		if (s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q && (!triple || (i + 2 < n && s[i + 1] == q && s[i + 2] == q)))
			return i + (triple ? 3 : 1);
		if (s[i] == '\n' && !triple)
			return i; /* an unterminated string ends at its line */
		i++;
	}
	return n;
}

static int measure_nesting(const char *s, size_t n, unsigned limit, struct nesting *out)
{
	unsigned depth = 0, top = 0, cap = 0;
	size_t *widths = NULL; /* the indentation stack */
	size_t *alts = NULL;   /* the same with a tab one column wide (CPython's altcol) */
	memset(out, 0, sizeof *out);
	bool line_start = true;
	for (size_t i = 0; i < n;) {
		if (line_start && depth == 0) {
			size_t w = 0, alt = 0, k = i;
			for (; k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\f'); k++) {
				w = s[k] == '\t' ? (w / 8 + 1) * 8 : s[k] == ' ' ? w + 1 : 0;
				alt = s[k] == '\f' ? 0 : alt + 1;
			}
			line_start = false;
			bool blank = k >= n || s[k] == '\n' || s[k] == '\r' || s[k] == '#' || s[k] == '\\';
			if (!blank) {
				while (top > 0 && widths[top - 1] > w)
					top--;
				/* as CPython's tokenizer: the same level must be the same with tabs one
				 * column wide, a deeper one deeper */
				size_t level = top ? widths[top - 1] : 0, alt_level = top ? alts[top - 1] : 0;
				if ((w == level && alt != alt_level) || (w > level && alt <= alt_level))
					out->tabs = true;
				if (w > 0 && (top == 0 || widths[top - 1] < w)) {
					if (top == cap) {
						size_t ncap = cap ? 2 * (size_t)cap : 64;
						size_t *nw = realloc(widths, ncap * sizeof *nw);
						if (nw)
							widths = nw;
						size_t *na = nw ? realloc(alts, ncap * sizeof *na) : NULL;
						if (!na) {
							free(widths);
							free(alts);
							return -1;
						}
						alts = na;
						cap = (unsigned)ncap;
					}
					alts[top] = alt;
					widths[top++] = w;
				}
				if (top > out->indents) {
					out->indents = top;
					if (top > limit) {
						out->at = k;
						break;
					}
				}
			}
			i = k;
			continue;
		}
		char c = s[i];
		if (c == '\n') {
			line_start = true;
			i++;
		} else if (c == '#') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '"' || c == '\'') {
			i = skip_string(s, n, i);
		} else if (c == '\\' && i + 1 < n && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
			i += s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n' ? 3 : 2; /* joined line */
		} else {
			if (c == '(' || c == '[' || c == '{') {
				if (++depth > out->brackets) {
					out->brackets = depth;
					if (depth > limit) {
						out->at = i;
						break;
					}
				}
			} else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
				depth--;
			}
			i++;
		}
	}
	free(widths);
	free(alts);
	return 0;
}

/* "812 bytes", "64.0 KiB", "4.0 MiB" */
static const char *human_size(size_t n, char *buf, size_t cap)
{
	if (n < 1024)
		snprintf(buf, cap, "%zu bytes", n);
	else if (n < 1024 * 1024)
		snprintf(buf, cap, "%.1f KiB", n / 1024.0);
	else
		snprintf(buf, cap, "%.1f MiB", n / 1048576.0);
	return buf;
}

/* The configured limits (engine.h); a message in why when the unit is past one. */
static bool over_limits(const struct engine_config *c, struct unit *u, char *why, size_t cap)
{
	size_t max = c->max_bytes ? c->max_bytes : ENGINE_MAX_BYTES;
	unsigned deep = c->max_nesting ? c->max_nesting : ENGINE_MAX_NESTING;
	if (u->buflen > max) {
		char have[32], limit[32];
		human_size(u->buflen, have, sizeof have);
		human_size(max, limit, sizeof limit);
		if (!strcmp(have, limit)) { /* just over: in bytes, so that they differ */
			snprintf(have, sizeof have, "%zu bytes", u->buflen);
			snprintf(limit, sizeof limit, "%zu bytes", max);
		}
		snprintf(why, cap, "%s, larger than the limit of %s (--max-file-size, or max-file-size in [tool.spipfix]); "
			 "skipped", have, limit);
		return true;
	}
	struct nesting ns;
	if (measure_nesting(u->src, u->len, deep, &ns) < 0) {
		snprintf(why, cap, "out of memory");
		return true;
	}
	u->tab_dependent = ns.tabs;
	if (ns.brackets <= deep && ns.indents <= deep)
		return false;
	snprintf(why, cap, "%s nested more than %u deep, the limit (--max-nesting, or max-nesting in [tool.spipfix]); "
		 "skipped", ns.brackets > deep ? "brackets" : "indentation", deep);
	uint32_t r, col;
	unit_position(u, ns.at, &r, &col);
	u->error_row = r;
	u->error_col = col;
	u->error_has_pos = true;
	return true;
}

static int text_stage(const struct engine_config *c, struct unit *u)
{
	char why[200];
	const char *e = engine_unreadable(u->buf, u->buflen, why, sizeof why);
	if (!e && over_limits(c, u, why, sizeof why))
		e = why;
	if (!e)
		return 0;
	u->error = arena_strdup(&u->arena, e);
	if (!u->error)
		u->error = "out of memory";
	u->error_kind = UE_INPUT;
	return -1;
}

/* ---- the bytecode stage ---------------------------------------------------------------------- */

/* The quote of a string node's start ("f'" -> '\'', "rb\"\"\"" -> '"'), or 0; *triple set. */
static char quote_of(const struct unit *u, TSNode str, bool *triple)
{
	TSNode start = ts_node_named_child(str, 0);
	if (ts_node_is_null(start) || !syn_is(start, "string_start"))
		return 0;
	uint32_t a = ts_node_start_byte(start), e = ts_node_end_byte(start);
	*triple = e - a >= 3 && u->src[e - 1] == u->src[e - 2] && u->src[e - 2] == u->src[e - 3];
	return e > a ? u->src[e - 1] : 0;
}

struct newer {
	const struct unit *u;
	int minor;         /* the first version that compiles what was found, 0 none */
	const char *what;  /* which syntax */
	char outer_quote;  /* inside an f-string's replacement field: the f-string's quote */
	bool want_python2; /* look for Python 2 syntax too */
	bool python2;      /* Python 2 syntax the grammar still accepts was found */
};

/* Python 2 forms the grammar accepts and no Python 3 compiles: print and exec statements, `<>`,
 * integers with an L suffix or a leading zero (0777). */
static bool python2_syntax(const struct unit *u, TSNode n)
{
	const char *t = ts_node_type(n);
	if (!strcmp(t, "print_statement") || !strcmp(t, "exec_statement") || !strcmp(t, "<>"))
		return true;
	if (strcmp(t, "integer"))
		return false;
	uint32_t a = ts_node_start_byte(n), e = ts_node_end_byte(n);
	if (e > a && (u->src[e - 1] == 'l' || u->src[e - 1] == 'L'))
		return true;
	if (e - a < 2 || u->src[a] != '0' || !(u->src[a + 1] >= '0' && u->src[a + 1] <= '9'))
		return false;
	for (uint32_t i = a; i < e; i++) /* 00 and 0_0 are zero in Python 3 too */
		if (u->src[i] != '0' && u->src[i] != '_')
			return true;
	return false;
}

/* Syntax that only a newer Python compiles: PEP 695 (3.12: `type X = ...`, `def f[T]()`), and
 * PEP 701 (3.12: an f-string's replacement field with a string in the f-string's own quote). */
static int newer_syntax(TSNode n, void *ctx)
{
	struct newer *w = ctx;
	if (w->want_python2 && python2_syntax(w->u, n)) {
		w->python2 = true;
		return -1;
	}
	if (syn_is(n, "type_alias_statement") || syn_is(n, "type_parameter")) {
		w->minor = 12;
		w->what = "PEP 695 type parameter syntax";
		return -1;
	}
	if (syn_is(n, "string")) {
		bool triple = false;
		char q = quote_of(w->u, n, &triple);
		if (w->outer_quote && q == w->outer_quote) {
			w->minor = 12;
			w->what = "PEP 701 f-string syntax";
			return -1;
		}
		/* the replacement fields of a one-line f-string: walk them with its quote */
		char saved = w->outer_quote;
		for (uint32_t i = 0; i < ts_node_named_child_count(n) && !w->minor; i++) {
			TSNode c = ts_node_named_child(n, i);
			if (!syn_is(c, "interpolation"))
				continue;
			w->outer_quote = triple ? saved : q;
			syn_walk(c, newer_syntax, w);
		}
		w->outer_quote = saved;
		return w->minor ? -1 : 0;
	}
	return 1;
}

/* The target version cannot compile a text the grammar accepts: when the text uses syntax of a
 * newer Python, the error says which version it needs. */
static void newer_than_target(struct unit *u)
{
	struct newer w = {.u = u};
	syn_walk(u->root, newer_syntax, &w);
	int target = bridge_target();
	if (w.minor <= target)
		return;
	const char *e = arena_printf(&u->arena, "%s: the file needs Python 3.%d or newer (%s), the target is py3%d "
						"(--target-version py3%d, or requires-python = \">=3.%d\")",
				     u->error ? u->error : "cannot compile", w.minor, w.what, target, w.minor, w.minor);
	if (e)
		u->error = e;
}

/* After CPython rejected the file: the grammar accepts what the target CPython rejects -- an
 * error all the same, exit 2, and when it is syntax of a newer Python the error says so. */
static void compile_failed(struct unit *u)
{
	if (u->error_kind == UE_INPUT && ts_node_is_null(syn_first_error(u->root)))
		newer_than_target(u);
}

/* CPython's compile of the whole file, now (when a pass has not asked for it already). */
static int compile_stage(struct unit *u)
{
	if (bridge_init() < 0) {
		u->error = "cannot start Python; skipped";
		u->error_kind = UE_INTERNAL;
		return -1;
	}
	if (bridge_need_code(u) == 0)
		return 0;
	compile_failed(u);
	return -1;
}

/* A file no pass compiled (no candidate in it) is still an error when the tree shows what the
 * target CPython rejects although the grammar accepts it -- syntax of a newer Python, Python 2
 * syntax, an encoding declared but not UTF-8 (CPython may not know it), indentation that means
 * something else with another tab width (TabError) -- and CPython's compile
 * then gives the message. Any other error only CPython finds (`return` outside a function) is
 * not looked for in a file with nothing to prove. */
static int uncompiled_stage(struct unit *u)
{
	char cookie[64];
	if (u->compiled)
		return 0;
	struct newer w = {.u = u, .want_python2 = true};
	syn_walk(u->root, newer_syntax, &w);
	if (w.minor <= bridge_target() && !w.python2 && !u->tab_dependent &&
	    !foreign_cookie(u->src, u->len, cookie, sizeof cookie))
		return 0;
	return compile_stage(u) < 0 ? -1 : 0;
}

/* ---- what the renderers and the applier rely on ------------------------------------------- */

/* Each finding's edits in the applier's order (insertions at one offset in the order the pass
 * emitted them), and the execution counts of a trace. */
static void finish_findings(const struct engine_config *c, struct unit *u)
{
	for (size_t i = 0; i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		for (size_t k = 0; k < f->nedits; k++)
			f->edits[k].seq = (unsigned)k;
		edits_sort(f->edits, f->nedits);
		if (c->counts)
			f->executions = c->counts->lookup(c->counts->ctx, u, f);
	}
}

#ifndef NDEBUG
/* The invariants between stages, checked in debug and sanitizer builds (as QBE's ssacheck):
 * findings in position order, inside the text, each one's edits sorted as the applier applies
 * them and free of overlaps, a fix with a title and edits, a demoted one with a reason. */
static void check_findings(const struct unit *u)
{
	for (size_t i = 0; i < u->nfindings; i++) {
		const struct finding *f = &u->findings[i];
		assert(f->pass && f->message);
		assert(f->start <= f->end && f->end <= u->len);
		assert(i == 0 || u->findings[i - 1].start <= f->start);
		assert(edits_ordered(f->edits, f->nedits, u->len));
		assert(f->applicability == FIX_NONE || f->nedits > 0 || f->reason);
	}
}
#else
static void check_findings(const struct unit *u) { (void)u; }
#endif

/* ---- cold findings (--min-executions) ------------------------------------------------------- */

/* The hot findings of the first round, by rule, key and the text of the finding's node (which a
 * fix elsewhere, a lift of the enclosing def included, leaves as it was): what the later rounds
 * of a fix trust instead of the counts at positions that the edits moved. */
struct hot_set {
	char **keys;
	bool *hot;
	size_t n;
};

static void hot_key(const struct unit *u, const struct finding *f, char *key, size_t cap)
{
	int n = 0;
	const char *text = "";
	if (!ts_node_is_null(f->node)) {
		size_t s = ts_node_start_byte(f->node), e = ts_node_end_byte(f->node);
		if (s <= e && e <= u->len) {
			text = u->src + s;
			n = (int)(e - s > 256 ? 256 : e - s);
		}
	}
	snprintf(key, cap, "%s %s %.*s", f->pass->code, f->key ? f->key : "", n, text);
}

static int hot_lookup(const struct hot_set *h, const char *key)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->keys[i], key))
			return (int)i;
	return -1;
}

static void hot_set_build(const struct unit *u, long long min, struct hot_set *h)
{
	memset(h, 0, sizeof *h);
	h->keys = calloc(u->nfindings + 1, sizeof *h->keys);
	h->hot = calloc(u->nfindings + 1, sizeof *h->hot);
	if (!h->keys || !h->hot)
		return;
	for (size_t i = 0; i < u->nfindings; i++) {
		const struct finding *f = &u->findings[i];
		char key[512];
		hot_key(u, f, key, sizeof key);
		bool hot = f->executions >= min;
		int k = hot_lookup(h, key);
		if (k >= 0) {
			h->hot[k] = h->hot[k] && hot; /* mixed: cold, to be safe */
		} else if ((h->keys[h->n] = strdup(key)) != NULL) {
			h->hot[h->n++] = hot;
		}
	}
}

static void hot_set_free(struct hot_set *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->keys[i]);
	free(h->keys);
	free(h->hot);
	memset(h, 0, sizeof *h);
}

/* Withhold the fixes of the findings that did not run often enough. `hot` (the first round's,
 * NULL in the first round) decides in later rounds. */
static void cold_stage(const struct engine_config *c, struct unit *u, const struct hot_set *hot)
{
	if (!c->counts || c->min_executions <= 0)
		return;
	for (size_t i = 0; i < u->nfindings; i++) {
		struct finding *f = &u->findings[i];
		bool cold;
		if (hot) {
			char key[512];
			hot_key(u, f, key, sizeof key);
			int k = hot_lookup(hot, key);
			cold = k < 0 || !hot->hot[k];
		} else {
			cold = f->executions < c->min_executions;
		}
		if (!cold || f->applicability == FIX_NONE)
			continue;
		f->applicability = FIX_NONE;
		const char *why = f->executions < 0 ? arena_printf(&u->arena, "cold: its file was not traced (--min-executions %lld)", c->min_executions)
				  : arena_printf(&u->arena, "cold: ran %lld time%s in the trace, fewer than --min-executions %lld",
						 f->executions, f->executions == 1 ? "" : "s", c->min_executions);
		f->reason = why ? why : "cold (--min-executions)";
	}
}

/* ---- analyse ----------------------------------------------------------------------------------- */

/* A tree with ERROR or MISSING nodes is never fixed from. CPython's message is the clearer one
 * when it rejects the file too: the file is compiled for it. */
static int tree_stage(struct unit *u)
{
	if (unit_check_tree(u) == 0)
		return 0;
	const char *e = u->error;
	enum unit_error k = u->error_kind;
	uint32_t row = u->error_row, col = u->error_col;
	bool pos = u->error_has_pos;
	if (compile_stage(u) == 0) {
		u->error = e;
		u->error_kind = k;
		u->error_row = row;
		u->error_col = col;
		u->error_has_pos = pos;
	}
	return -1;
}

/* The stages, in order, on an initialised unit; `hot`: the first round's hot findings when this
 * is a later round of engine_fix; `whole`: the text is a rewrite (the safety net), compiled whole
 * whatever the passes ask for. Otherwise the file is compiled when a pass first asks for a code
 * object: a file without a candidate is parsed, never compiled. */
static int analyse_round(const struct engine_config *c, struct unit *u, const struct hot_set *hot, bool whole)
{
	static const char *const no_rule[] = {NULL};
	u->debug = c->debug;
	u->config = c;
	/* test code introspects names and frames and is not where time goes: no findings there
	 * unless asked for (include-tests) */
	const char *const *select = !c->include_tests && testcode_path(u->path) ? no_rule : c->select;
	if (text_stage(c, u) < 0)          /* UTF-8, no NUL, no foreign coding cookie, limits */
		return -1;
	if (select && !select[0]) {
		/* no rule runs on the file: nothing can be found, so nothing is parsed or compiled */
		u->unanalysed = true;
		return 0;
	}
	/* CPython is started before the passes run (a pass may ask for a compile): not first
	 * from deep inside one */
	if (bridge_init() < 0) {
		u->error = "cannot start Python; skipped";
		u->error_kind = UE_INTERNAL;
		return -1;
	}
	if (unit_parse(u) < 0 ||           /* tree-sitter */
	    (whole && compile_stage(u) < 0)) /* CPython: the rewrite compiles whole */
		return -1;
	if (tree_stage(u) < 0 ||           /* never fix from a tree with ERROR or MISSING nodes */
	    unit_index(u, select) < 0 ||       /* one walk: scopes, query roots */
	    unit_run_passes(u, select) < 0)    /* find; compile and check on the bytecode; rewrite */
		return -1;
	if (u->compiled < 0) {             /* a pass asked for the code objects: CPython rejects the file */
		compile_failed(u);
		return -1;
	}
	if (uncompiled_stage(u) < 0 ||     /* no candidate: only what the tree shows CPython rejects */
	    unit_suppress(u) < 0)          /* # noqa, # spipfix: ignore[...] */
		return -1;
	finish_findings(c, u);             /* edit order; the trace's execution counts */
	cold_stage(c, u, hot);             /* --min-executions: no fix for cold findings */
	check_findings(u);
	return 0;
}

static int analyse(const struct engine_config *c, struct unit *u) { return analyse_round(c, u, NULL, false); }

int engine_analyse(const struct engine_config *c, struct unit *u, const char *path, const char *buf, size_t len)
{
	unit_init(u, path, buf, len);
	return analyse(c, u);
}

/* ---- pick ------------------------------------------------------------------------------------- */

bool engine_wants(const struct finding *f, bool unsafe)
{
	if (!f->nedits)
		return false;
	return f->applicability == FIX_SAFE || (unsafe && f->applicability == FIX_UNSAFE);
}

/* What the fixes taken so far claim of the text, so that a candidate's clash is found in the
 * length of its own edits, not by comparing it with every edit taken (linear in the findings):
 * bits over [0, len] for bytes inside a taken replacement, the starts of those, and the points
 * of taken insertions; and the taken edits by range, for identical ones (applied once). */
struct claims {
	unsigned char *covered, *starts, *points;
	struct claimed *by_range; /* uthash on (start, end) */
	size_t len;
};

struct range_key {
	size_t start, end;
};

struct claimed {
	UT_hash_handle hh;
	struct range_key key;
	VEC(const struct edit *) edits;
};

static bool bit(const unsigned char *b, size_t i) { return b[i >> 3] & (1u << (i & 7)); }
static void set_bit(unsigned char *b, size_t i) { b[i >> 3] |= (unsigned char)(1u << (i & 7)); }

static int claims_init(struct claims *c, size_t len)
{
	memset(c, 0, sizeof *c);
	size_t n = len / 8 + 1;
	c->len = len;
	c->covered = calloc(n, 1);
	c->starts = calloc(n, 1);
	c->points = calloc(n, 1);
	return c->covered && c->starts && c->points ? 0 : -1;
}

static void claims_free(struct claims *c)
{
	struct claimed *e, *tmp;
	HASH_ITER(hh, c->by_range, e, tmp)
	{
		HASH_DEL(c->by_range, e);
		vec_free(&e->edits);
		free(e);
	}
	free(c->covered);
	free(c->starts);
	free(c->points);
}

/* An edit identical to one taken. */
static bool claims_same(const struct claims *c, const struct edit *e)
{
	struct range_key k = {e->start, e->end};
	struct claimed *hit;
	HASH_FIND(hh, c->by_range, &k, sizeof k, hit);
	for (size_t i = 0; hit && i < hit->edits.n; i++)
		if (edit_same(hit->edits.v[i], e))
			return true;
	return false;
}

/* Does e conflict with a taken edit (edit_overlaps)? */
static bool claims_clash(const struct claims *c, const struct edit *e)
{
	if (e->start > c->len || e->end > c->len)
		return true;
	if (e->start == e->end) /* an insertion strictly inside a taken replacement */
		return e->start < c->len && bit(c->covered, e->start) && !bit(c->starts, e->start);
	for (size_t i = e->start; i < e->end; i++) {
		if (i > e->start && !(i & 7) && i + 8 <= e->end && !c->covered[i >> 3] && !c->points[i >> 3]) {
			i += 7; /* eight free bytes at once */
			continue;
		}
		if (bit(c->covered, i) || (i > e->start && bit(c->points, i)))
			return true;
	}
	return false;
}

static int claims_take(struct claims *c, const struct edit *e)
{
	if (e->start == e->end) {
		set_bit(c->points, e->start);
	} else {
		set_bit(c->starts, e->start);
		for (size_t i = e->start; i < e->end; i++)
			set_bit(c->covered, i);
	}
	struct range_key k = {e->start, e->end};
	struct claimed *hit;
	HASH_FIND(hh, c->by_range, &k, sizeof k, hit);
	if (!hit) {
		if (!(hit = calloc(1, sizeof *hit)))
			return -1;
		hit->key = k;
		HASH_ADD(hh, c->by_range, key, sizeof k, hit);
	}
	return vec_push(&hit->edits, e);
}

int engine_pick(const struct unit *u, bool unsafe, const bool *skip, bool *taken_out, struct edit **out, size_t *nout)
{
	VEC(struct edit) acc = {0};
	struct claims cl;
	int taken = 0;
	if (claims_init(&cl, u->len) < 0)
		goto oom;
	for (const struct pass *const *p = pass_registry; *p; p++)
		for (size_t i = 0; i < u->nfindings; i++) {
			const struct finding *f = &u->findings[i];
			if (f->pass != *p || !engine_wants(f, unsafe) || (skip && skip[i]))
				continue;
			bool clash = false;
			for (size_t k = 0; k < f->nedits && !clash; k++)
				clash = !claims_same(&cl, &f->edits[k]) && claims_clash(&cl, &f->edits[k]);
			if (clash) {
				unit_debug(u, f->pass, "%u:%u: fix deferred to the next round (overlaps another fix)",
					   f->row + 1, f->col + 1);
				continue;
			}
			for (size_t k = 0; k < f->nedits; k++) {
				if (claims_same(&cl, &f->edits[k]))
					continue;
				struct edit e = f->edits[k];
				e.seq = (unsigned)acc.n; /* insertions at one point keep the order taken */
				if (vec_push(&acc, e) < 0 || claims_take(&cl, &f->edits[k]) < 0)
					goto oom;
			}
			if (taken_out)
				taken_out[i] = true;
			taken++;
		}
	claims_free(&cl);
	edits_sort(acc.v, acc.n);
	*out = acc.v;
	*nout = acc.n;
	return taken;
oom:
	claims_free(&cl);
	vec_free(&acc);
	return -1;
}

/* ---- fix -------------------------------------------------------------------------------------- */

void fix_result_free(struct fix_result *r)
{
	if (r->final) {
		unit_free(r->final);
		free(r->final);
	}
	free(r->text);
	if (r->error_owned)
		free((char *)r->error);
	memset(r, 0, sizeof *r);
}

const struct unit *engine_remaining(const struct fix_result *r, const struct unit *first)
{
	return r->final ? r->final : first;
}

static void set_error(struct fix_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct fix_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *m = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (m) {
		va_start(ap, fmt);
		vsnprintf(m, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	r->error = m ? m : "out of memory";
	r->error_owned = m != NULL;
}

/* The findings fixed so far, by "CODE qualname firstlineno key": one that comes back after its
 * fix was applied means the fixes are not idempotent. A uthash set. */
struct key {
	UT_hash_handle hh;
	char text[];
};

struct keys {
	struct key *set;
};

static void finding_key(const struct finding *f, char *key, size_t cap)
{
	snprintf(key, cap, "%s %s %d %s", f->pass->code, f->code->qualname, f->code->firstlineno, f->key ? f->key : "");
}

static bool keys_has(const struct keys *k, const char *s)
{
	struct key *hit;
	HASH_FIND_STR(k->set, s, hit);
	return hit != NULL;
}

static void keys_add(struct keys *k, const char *s)
{
	if (keys_has(k, s))
		return;
	size_t n = strlen(s);
	struct key *e = malloc(sizeof *e + n + 1);
	if (!e)
		return;
	memcpy(e->text, s, n + 1);
	HASH_ADD_STR(k->set, text, e);
}

static void keys_free(struct keys *k)
{
	struct key *e, *tmp;
	HASH_ITER(hh, k->set, e, tmp)
	{
		HASH_DEL(k->set, e);
		free(e);
	}
}

/* Does any finding that the engine would fix come back after it was fixed? */
static bool fixed_again(const struct unit *u, const struct keys *fixed, bool unsafe)
{
	for (size_t i = 0; i < u->nfindings; i++) {
		const struct finding *f = &u->findings[i];
		if (!engine_wants(f, unsafe) || !f->code)
			continue;
		char key[512];
		finding_key(f, key, sizeof key);
		if (keys_has(fixed, key))
			return true;
	}
	return false;
}

/* Row and column (bytes) reached from `at` by writing text[0, len). */
static TSPoint advance(TSPoint at, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			at.row++;
			at.column = 0;
		} else {
			at.column++;
		}
	}
	return at;
}

/* A copy of u's tree told of the edits (sorted, non-overlapping), for the next round's
 * incremental parse; NULL when it cannot be made (the next round parses afresh). Edits are
 * given from the last to the first, so each one's offsets are still those of the old text;
 * insertions at one offset are given as one. */
static TSTree *edited_tree(const struct unit *u, const struct edit *e, size_t n)
{
	if (u->len > UINT32_MAX)
		return NULL;
	TSTree *t = ts_tree_copy(u->tree);
	if (!t)
		return NULL;
	for (size_t k = n; k > 0;) {
		size_t j = k - 1, newlen = e[j].len, end = e[j].end;
		while (j > 0 && e[j - 1].start == e[k - 1].start) {
			j--;
			newlen += e[j].len;
			if (e[j].end > end)
				end = e[j].end;
		}
		TSInputEdit ie;
		uint32_t r, c;
		unit_position(u, e[j].start, &r, &c);
		ie.start_byte = (uint32_t)e[j].start;
		ie.start_point = (TSPoint){r, c};
		unit_position(u, end, &r, &c);
		ie.old_end_byte = (uint32_t)end;
		ie.old_end_point = (TSPoint){r, c};
		ie.new_end_byte = (uint32_t)(e[j].start + newlen);
		ie.new_end_point = ie.start_point;
		for (size_t i = j; i < k; i++)
			ie.new_end_point = advance(ie.new_end_point, e[i].text, e[i].len);
		ts_tree_edit(t, &ie);
		k = j;
	}
	return t;
}

/* The text of one round: u's text with the edits applied, the BOM kept (engine.h). */
char *engine_apply(const struct unit *u, const struct edit *edits, size_t n, size_t *len)
{
	size_t outlen;
	char *applied = edits_apply(u->src, u->len, edits, n, &outlen);
	char *next = applied ? malloc(u->bom + outlen + 1) : NULL;
	if (next) {
		memcpy(next, u->buf, u->bom);
		memcpy(next + u->bom, applied, outlen + 1);
		*len = u->bom + outlen;
	}
	free(applied);
	return next;
}

/* Why the analysis of a rewritten text failed: the safety net refuses the rewrite. */
static void refuse(struct fix_result *r, const struct unit *u)
{
	r->refused = true;
	if (u->tree && !ts_node_is_null(syn_first_error(u->root)))
		set_error(r, "refusing to fix: the rewritten text does not parse cleanly");
	else if (!u->module_code)
		set_error(r, "refusing to fix: the rewritten text does not compile: %s", u->error ? u->error : "?");
	else
		set_error(r, "refusing to fix: the rewritten text does not analyse (%s)", u->error ? u->error : "?");
}

static void unit_release(struct unit *u)
{
	if (u) {
		unit_free(u);
		free(u);
	}
}

int engine_fix(const struct engine_config *c, struct unit *first, struct fix_result *r)
{
	memset(r, 0, sizeof *r);
	const struct unit *u = first; /* this round's analysis */
	const char *path = first->path;
	struct unit *owned = NULL;    /* u when it is not `first` */
	char *text = NULL;            /* owned's text */
	struct keys fixed = {0};
	struct hot_set hot = {0};
	if (c->counts && c->min_executions > 0)
		hot_set_build(first, c->min_executions, &hot);
	int rc = -1;
	for (int round = 0;; round++) {
		struct edit *edits = NULL;
		size_t nedits = 0;
		bool *took = calloc(u->nfindings + 1, sizeof *took);
		int taken = took ? engine_pick(u, c->unsafe, NULL, took, &edits, &nedits) : -1;
		if (taken < 0) {
			free(took);
			r->error = "out of memory";
			goto out;
		}
		if (taken == 0) {
			free(took);
			free(edits);
			break;
		}
		if (round >= MAX_ROUNDS) {
			/* defs nested deeper than the rounds (each round lifts one level): what the rounds
			 * made so far stands (every round passed the safety net, and none brought a fixed
			 * finding back); the rest is reported as remaining, and another --fix goes on */
			free(took);
			free(edits);
			break;
		}
		for (size_t i = 0; i < u->nfindings; i++)
			if (took[i] && pass_index(u->findings[i].pass) < ENGINE_MAX_PASSES)
				r->applied_by_pass[pass_index(u->findings[i].pass)]++;
		free(took);
		for (size_t i = 0; i < u->nfindings; i++) {
			const struct finding *f = &u->findings[i];
			if (engine_wants(f, c->unsafe) && f->code) {
				char key[512];
				finding_key(f, key, sizeof key);
				keys_add(&fixed, key);
			}
		}
		if (!edits_ordered(edits, nedits, u->len)) {
			/* the applier would write outside the text: never apply */
			free(edits);
			r->error = "refusing to fix: internal error (the fixes' edits overlap)";
			r->refused = true;
			goto out;
		}
		size_t nextlen = 0;
		char *next = engine_apply(u, edits, nedits, &nextlen);
		TSTree *reuse = next ? edited_tree(u, edits, nedits) : NULL;
		free(edits);
		if (!next) {
			r->error = "out of memory";
			goto out;
		}
		if (c->mangle) {
			size_t ml;
			char *m = c->mangle(next, nextlen, &ml);
			if (m) {
				if (reuse) /* the edits no longer describe the text */
					ts_tree_delete(reuse);
				reuse = NULL;
				free(next);
				next = m;
				nextlen = ml;
			}
		}
		r->applied += (size_t)taken;
		/* this round's analysis is done with: only one later analysis lives at a time */
		if (u == first && c->release_first) {
			unit_free(first);
			memset(first, 0, sizeof *first);
			r->released = true;
		}
		unit_release(owned);
		owned = NULL;
		free(text);
		text = NULL;
		u = NULL;
		/* the safety net is the next round: the result must parse cleanly and compile before
		 * its analysis can find nothing more to fix */
		struct unit *nu = malloc(sizeof *nu);
		if (!nu) {
			if (reuse)
				ts_tree_delete(reuse);
			free(next);
			r->error = "out of memory";
			goto out;
		}
		unit_init(nu, path, next, nextlen);
		/* parsed from the previous round's tree, told of the edits */
		nu->reuse = reuse;
		nu->check_reuse = c->check_reparse;
		int arc = analyse_round(c, nu, c->counts && c->min_executions > 0 ? &hot : NULL, true);
		if (reuse)
			ts_tree_delete(reuse);
		owned = nu;
		text = next;
		u = nu;
		if (arc < 0) {
			refuse(r, nu);
			goto out;
		}
		/* idempotence: a finding fixed in an earlier round must not come back */
		if (fixed_again(u, &fixed, c->unsafe)) {
			set_error(r, "refusing to fix: a fix is proposed again after it was applied (not idempotent)");
			r->refused = true;
			goto out;
		}
	}
	rc = 0;
	if (owned) {
		r->text = text;
		r->len = owned->buflen;
		r->final = owned;
		text = NULL;
		owned = NULL;
	}
out:
	unit_release(owned);
	free(text);
	keys_free(&fixed);
	hot_set_free(&hot);
	return rc;
}
