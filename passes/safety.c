#include "safety.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "pass.h"
#include "unit.h"

#define MAX_ROUNDS 16

void fix_result_free(struct fix_result *r)
{
	free(r->text);
	if (r->error_owned)
		free((char *)r->error);
	memset(r, 0, sizeof *r);
}

static bool wanted(const struct finding *f, bool unsafe)
{
	if (!f->nedits)
		return false;
	return f->applicability == FIX_SAFE || (unsafe && f->applicability == FIX_UNSAFE);
}

static bool same_edit(const struct edit *a, const struct edit *b)
{
	return a->start == b->start && a->end == b->end && a->len == b->len && !memcmp(a->text, b->text, a->len);
}

/* Fixes are taken pass by pass in registry order (SPF101's lift first), and within a pass in
 * source order; a fix whose edits overlap one already taken waits for the next round, where
 * it is found again on the rewritten text. An edit identical to one already taken (the same
 * `import functools`, the same hoisted constant) is applied once. */
int safety_pick(struct unit *u, bool unsafe, struct edit **out, size_t *nout)
{
	size_t cap = 0, n = 0;
	struct edit *acc = NULL;
	int taken = 0;
	for (const struct pass *const *p = pass_registry; *p; p++)
		for (size_t i = 0; i < u->nfindings; i++) {
			struct finding *f = &u->findings[i];
			if (f->pass != *p || !wanted(f, unsafe))
				continue;
			bool clash = false;
			for (size_t k = 0; k < f->nedits && !clash; k++)
				for (size_t j = 0; j < n && !clash; j++)
					clash = !same_edit(&f->edits[k], &acc[j]) && edit_overlaps(&f->edits[k], &acc[j]);
			if (clash) {
				unit_debug(u, f->pass, "%u:%u: fix deferred to the next round (overlaps another fix)",
					   f->row + 1, f->col + 1);
				continue;
			}
			if (n + f->nedits > cap) {
				cap = (n + f->nedits) * 2;
				struct edit *na = realloc(acc, cap * sizeof *na);
				if (!na) {
					free(acc);
					return -1;
				}
				acc = na;
			}
			for (size_t k = 0; k < f->nedits; k++) {
				bool dup = false;
				for (size_t j = 0; j < n && !dup; j++)
					dup = same_edit(&f->edits[k], &acc[j]);
				if (dup)
					continue;
				acc[n] = f->edits[k];
				acc[n].seq = (unsigned)n; /* insertions at one point keep the order taken */
				n++;
			}
			taken++;
		}
	*out = acc;
	*nout = n;
	return taken;
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

/* Key of a fixed finding: "SPF101 qualname". */
struct keys {
	char **v;
	size_t n;
};

static void finding_key(const struct finding *f, char *key, size_t cap)
{
	snprintf(key, cap, "%s %s %d %s", f->pass->code, f->code->qualname, f->code->firstlineno, f->key ? f->key : "");
}

static bool keys_has(struct keys *k, const char *s)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->v[i], s))
			return true;
	return false;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
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

int safety_fix(const char *path, const char *buf, size_t len, const struct fix_options *o, struct fix_result *r)
{
	memset(r, 0, sizeof *r);
	char *cur = NULL; /* NULL: the original buffer */
	size_t curlen = len;
	struct keys fixed = {0};
	TSTree *reuse = NULL; /* the previous round's tree, edited */
	int rc = -1;
	for (int round = 0;; round++) {
		const char *text = cur ? cur : buf;
		struct unit u;
		unit_init(&u, path, text, curlen);
		u.debug = o->debug;
		u.reuse = reuse;
		u.check_reuse = o->check_reparse;
		int arc = unit_analyse(&u, o->select);
		if (reuse)
			ts_tree_delete(reuse);
		reuse = NULL;
		if (arc < 0) {
			if (round == 0)
				set_error(r, "%s", u.error ? u.error : "cannot analyse");
			else if (u.tree && !ts_node_is_null(syn_first_error(u.root)))
				set_error(r, "refusing to fix: the rewritten text does not parse cleanly");
			else if (!u.module_code)
				set_error(r, "refusing to fix: the rewritten text does not compile: %s", u.error ? u.error : "?");
			else
				set_error(r, "refusing to fix: the rewritten text does not analyse (%s)", u.error ? u.error : "?");
			unit_free(&u);
			goto out;
		}
		if (o->filter && o->filter(&u, o->filter_ctx) < 0) {
			r->error = "out of memory";
			unit_free(&u);
			goto out;
		}
		/* idempotence: a finding fixed in an earlier round must not come back */
		bool again = false;
		for (size_t i = 0; i < u.nfindings && round > 0; i++) {
			struct finding *f = &u.findings[i];
			if (!wanted(f, o->unsafe) || !f->code)
				continue;
			char key[512];
			finding_key(f, key, sizeof key);
			again |= keys_has(&fixed, key);
		}
		if (again) {
			set_error(r, "refusing to fix: a fix is proposed again after it was applied (not idempotent)");
			unit_free(&u);
			goto out;
		}
		struct edit *edits = NULL;
		size_t nedits = 0;
		int taken = safety_pick(&u, o->unsafe, &edits, &nedits);
		if (taken < 0) {
			unit_free(&u);
			r->error = "out of memory";
			goto out;
		}
		if (taken == 0) {
			free(edits);
			if (o->final)
				o->final(&u, o->final_ctx);
			unit_free(&u);
			break;
		}
		if (round >= MAX_ROUNDS) {
			free(edits);
			unit_free(&u);
			r->error = "refusing to fix: fixes did not converge";
			goto out;
		}
		for (size_t i = 0; i < u.nfindings; i++) {
			struct finding *f = &u.findings[i];
			if (!wanted(f, o->unsafe) || !f->code)
				continue;
			char key[512];
			finding_key(f, key, sizeof key);
			char **nv = realloc(fixed.v, (fixed.n + 1) * sizeof *nv);
			if (nv) {
				fixed.v = nv;
				fixed.v[fixed.n] = strdup(key);
				if (fixed.v[fixed.n])
					fixed.n++;
			}
		}
		if (edits_sort_check(edits, nedits, u.len) < 0) {
			free(edits);
			unit_free(&u);
			r->error = "internal error: overlapping edits";
			goto out;
		}
		size_t outlen;
		char *applied = edits_apply(u.src, u.len, edits, nedits, &outlen);
		if (u.len <= UINT32_MAX && outlen <= UINT32_MAX)
			reuse = edited_tree(&u, edits, nedits);
		free(edits);
		char *next = applied ? malloc(u.bom + outlen + 1) : NULL;
		if (next) {
			memcpy(next, text, u.bom);
			memcpy(next + u.bom, applied, outlen + 1);
		}
		free(applied);
		unit_free(&u);
		if (!next) {
			r->error = "out of memory";
			goto out;
		}
		if (o->mangle) {
			size_t ml;
			char *m = o->mangle(next, u.bom + outlen, &ml);
			if (m) {
				if (reuse) /* the edits no longer describe the text */
					ts_tree_delete(reuse);
				reuse = NULL;
				free(next);
				next = m;
				outlen = ml - u.bom;
			}
		}
		/* the safety net is the next round: the result must parse cleanly and compile before
		 * its analysis can find nothing more to fix */
		free(cur);
		cur = next;
		curlen = u.bom + outlen;
		r->applied += (size_t)taken;
	}
	rc = 0;
	if (cur) {
		r->text = cur;
		r->len = curlen;
		cur = NULL;
	}
out:
	if (reuse)
		ts_tree_delete(reuse);
	free(cur);
	keys_free(&fixed);
	return rc;
}
