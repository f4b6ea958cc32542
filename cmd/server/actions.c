/* From an analysis to what the editor shows and applies: diagnostics, the quick fix of each
 * finding (the engine's own pick of its edits, checked by the safety net before it is offered),
 * "Disable CODE for this line" (unit_noqa_edit, as --add-noqa writes it) and the fix of the
 * whole file (engine_fix, as --fix). Offsets are bytes of the analysed text; the client gets
 * positions in the negotiated encoding. */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edit.h"
#include "pass.h"
#include "render.h"
#include "server.h"

enum { E_PARAMS = -32602, E_CONTENT_MODIFIED = -32801, E_REQUEST_FAILED = -32803 };

static json_t *jget(json_t *o, const char *key) { return json_is_object(o) ? json_object_get(o, key) : NULL; }
static const char *jstr(json_t *o, const char *key) { return json_string_value(jget(o, key)); }

/* A byte offset of the unit's source as an offset of the document (the BOM comes first). */
static size_t doc_off(const struct doc *d, size_t src_off) { return d->unit.bom + src_off; }

static json_t *position(const struct server *s, const struct doc *d, size_t off)
{
	unsigned long line, ch;
	lsp_position(&d->lines, d->abuf, d->alen, off, s->enc, &line, &ch);
	return json_pack("{s:I,s:I}", "line", (json_int_t)line, "character", (json_int_t)ch);
}

static json_t *range(const struct server *s, const struct doc *d, size_t a, size_t b)
{
	return json_pack("{s:o,s:o}", "start", position(s, d, a), "end", position(s, d, b));
}

/* Offsets of an LSP range of the analysed text. */
static void offsets(const struct server *s, const struct doc *d, json_t *r, size_t *a, size_t *b)
{
	json_t *p = jget(r, "start"), *q = jget(r, "end");
	*a = lsp_offset(&d->lines, d->abuf, d->alen, (unsigned long)json_integer_value(jget(p, "line")),
			(unsigned long)json_integer_value(jget(p, "character")), s->enc);
	*b = lsp_offset(&d->lines, d->abuf, d->alen, (unsigned long)json_integer_value(jget(q, "line")),
			(unsigned long)json_integer_value(jget(q, "character")), s->enc);
	if (*b < *a) {
		size_t t = *a;
		*a = *b;
		*b = t;
	}
}

/* TextEdits of edits sorted as the applier applies them (offsets of the unit's source). Those
 * that start at one offset become one TextEdit, their texts joined in the applier's order, so
 * that no client has to know how insertions at one point are ordered. */
static json_t *text_edits(const struct server *s, const struct doc *d, const struct edit *e, size_t n)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < n;) {
		size_t j = i, end = e[i].end;
		char *text = NULL;
		size_t tlen = 0;
		FILE *m = open_memstream(&text, &tlen);
		for (; j < n && e[j].start == e[i].start; j++) {
			if (m && e[j].len)
				fwrite(e[j].text, 1, e[j].len, m);
			end = e[j].end > end ? e[j].end : end;
		}
		if (!m || fclose(m) != 0) {
			free(text);
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, json_pack("{s:o,s:s%}", "range", range(s, d, doc_off(d, e[i].start), doc_off(d, end)),
						     "newText", text ? text : "", tlen));
		free(text);
		i = j;
	}
	return out;
}

/* A WorkspaceEdit of d (for the version analysed) from its TextEdits (stolen). */
static json_t *workspace_edit(const struct server *s, const struct doc *d, json_t *edits)
{
	if (!edits)
		return NULL;
	if (s->document_changes)
		return json_pack("{s:[{s:{s:s,s:I},s:o}]}", "documentChanges", "textDocument", "uri", d->uri, "version",
				 (json_int_t)d->aversion, "edits", edits);
	return json_pack("{s:{s:o}}", "changes", d->uri, edits);
}

static bool has_fix(const struct finding *f) { return f->applicability != FIX_NONE && f->nedits; }

/* ---- diagnostics ---------------------------------------------------------------------------- */

static json_t *diagnostic(const struct server *s, const struct doc *d, const struct finding *f)
{
	char *msg = NULL;
	size_t mlen = 0;
	FILE *m = open_memstream(&msg, &mlen);
	if (m) {
		fputs(f->message, m);
		render_fix_reason(m, f);
		fclose(m);
	}
	json_t *fix = json_null();
	if (has_fix(f)) {
		json_t *te = text_edits(s, d, f->edits, f->nedits);
		fix = json_pack("{s:s,s:s?,s:o}", "applicability", f->applicability == FIX_SAFE ? "safe" : "unsafe", "title",
				f->fix_title, "edits", te ? te : json_array());
	}
	json_t *o = json_pack("{s:o,s:i,s:s,s:s,s:s,s:{s:I,s:s,s:o,s:s?}}", "range",
			      range(s, d, doc_off(d, f->start), doc_off(d, f->end)), "severity", has_fix(f) ? 2 : 3, "code",
			      f->pass->code, "source", "spipfix", "message", msg ? msg : f->message, "data", "version",
			      (json_int_t)d->aversion, "name", f->pass->name, "fix", fix ? fix : json_null(), "reason", f->reason);
	free(msg);
	if (o && s->rules_dir) {
		char *file = xprintf("%s/%s.md", s->rules_dir, f->pass->code);
		char *uri = server_file_uri(file);
		if (uri)
			json_object_set_new(o, "codeDescription", json_pack("{s:s}", "href", uri));
		free(uri);
		free(file);
	}
	return o;
}

/* The one diagnostic of a document that cannot be analysed: at the error, or on line 1. */
static json_t *failure(const struct server *s, const struct doc *d)
{
	const struct unit *u = &d->unit;
	size_t off = 0;
	if (u->error_has_pos) {
		for (uint32_t row = 0; off < u->len && row < u->error_row; off++)
			if (u->src[off] == '\n')
				row++;
		for (uint32_t c = 0; off < u->len && u->src[off] != '\n' && c < u->error_col; c++)
			off++;
	}
	size_t end = off;
	while (end < u->len && u->src[end] != '\n' && u->src[end] != '\r')
		end++;
	char *msg = xprintf("spipfix cannot analyse this file: %s", u->error ? u->error : "unknown error");
	json_t *o = json_pack("{s:o,s:i,s:s,s:s}", "range", range(s, d, doc_off(d, off), doc_off(d, end)), "severity",
			      u->error_kind == UE_NEWER ? 2 : 1, "source", "spipfix", "message", msg);
	free(msg);
	return o;
}

json_t *actions_diagnostics(struct server *s, struct doc *d)
{
	json_t *out = json_array();
	if (!out || d->excluded)
		return out;
	if (d->arc < 0) {
		json_array_append_new(out, failure(s, d));
		return out;
	}
	for (size_t i = 0; i < d->unit.nfindings; i++)
		json_array_append_new(out, diagnostic(s, d, &d->unit.findings[i]));
	return out;
}

/* ---- edits, checked --------------------------------------------------------------------------- */

/* The safety net, as engine_fix applies it to each round: the text with the edits applied must
 * analyse (parse without an error and compile). */
static bool passes_safety_net(struct server *s, struct doc *d, const struct edit *e, size_t n, const char **why)
{
	size_t len;
	char *text = engine_apply(&d->unit, e, n, &len);
	if (!text) {
		*why = "out of memory";
		return false;
	}
	struct unit v;
	bool ok = engine_analyse(&d->ec, &v, d->name, text, len) == 0;
	if (!ok) {
		server_log(s, "%s: an edit was refused by the safety net: %s", d->name, v.error ? v.error : "?");
		*why = "refused: the result does not pass the safety net (it must parse cleanly and compile)";
	}
	unit_free(&v);
	free(text);
	return ok;
}

/* The quick fix of finding i: its edits as the engine picks them for one fix alone. */
static json_t *fix_edit(struct server *s, struct doc *d, size_t i, const char **why)
{
	bool *skip = calloc(d->unit.nfindings, sizeof *skip);
	struct edit *edits = NULL;
	size_t n = 0;
	if (!skip) {
		*why = "out of memory";
		return NULL;
	}
	for (size_t k = 0; k < d->unit.nfindings; k++)
		skip[k] = k != i;
	int taken = engine_pick(&d->unit, true, skip, NULL, &edits, &n);
	free(skip);
	json_t *r = NULL;
	if (taken != 1)
		*why = taken < 0 ? "out of memory" : "this finding has no fix";
	else if (passes_safety_net(s, d, edits, n, why))
		r = workspace_edit(s, d, text_edits(s, d, edits, n));
	free(edits);
	return r;
}

/* "Disable CODE for this line": the `# noqa` edit --add-noqa would write. check: run it
 * through the safety net (at resolve time) or only see whether there is one (when listing). */
static json_t *noqa_edit(struct server *s, struct doc *d, size_t i, bool check, const char **why)
{
	const struct finding *f = &d->unit.findings[i];
	const char *code = f->pass->code;
	struct edit e;
	int rc = unit_noqa_edit(&d->unit, f->start, &code, 1, &e, why);
	if (rc == 0)
		*why = "a `# noqa` comment of the line covers it already";
	if (rc <= 0)
		return NULL;
	if (!check)
		return json_true();
	if (!passes_safety_net(s, d, &e, 1, why))
		return NULL;
	return workspace_edit(s, d, text_edits(s, d, &e, 1));
}

/* A boundary of a UTF-8 character and of a CRLF, at or before off. */
static size_t boundary(const char *t, size_t off)
{
	while (off > 0 && ((unsigned char)t[off] & 0xC0) == 0x80)
		off--;
	if (off > 0 && t[off - 1] == '\r' && t[off] == '\n')
		off--;
	return off;
}

json_t *actions_fix_all(struct server *s, struct doc *d, const char **why)
{
	server_ensure_analysed(s, d);
	if (!d->analysed || d->arc < 0 || d->excluded) {
		*why = "the document cannot be analysed";
		return NULL;
	}
	struct fix_result fr;
	struct engine_config ec = d->ec;
	ec.release_first = false; /* the analysis stays: it answers the next code actions */
	if (engine_fix(&ec, &d->unit, &fr) < 0) {
		snprintf(s->why, sizeof s->why, "%s", fr.error ? fr.error : "the fixes cannot be applied");
		*why = s->why;
		fix_result_free(&fr);
		return NULL;
	}
	if (!fr.text) {
		*why = "nothing to fix";
		fix_result_free(&fr);
		return NULL;
	}
	/* one TextEdit: what lies between the common prefix and the common suffix */
	const char *a = d->abuf, *b = fr.text;
	size_t na = d->alen, nb = fr.len, p = 0, q = 0;
	while (p < na && p < nb && a[p] == b[p])
		p++;
	p = boundary(a, p);
	while (q < na - p && q < nb - p && a[na - 1 - q] == b[nb - 1 - q])
		q++;
	size_t ea = na - q;
	/* the suffix may only start on a character boundary, and not inside a CRLF */
	while (ea < na && ((unsigned char)a[ea] & 0xC0) == 0x80)
		ea++, q--;
	if (ea > p && ea < na && a[ea - 1] == '\r' && a[ea] == '\n')
		ea++, q--;
	size_t eb = nb - q;
	json_t *te = json_pack("[{s:o,s:s%}]", "range", range(s, d, p, ea), "newText", b + p, eb - p);
	fix_result_free(&fr);
	return workspace_edit(s, d, te);
}

/* ---- code actions --------------------------------------------------------------------------- */

/* Does the client's `only` list let an action of this kind through? */
static bool kind_wanted(json_t *only, const char *kind)
{
	if (!json_is_array(only))
		return true;
	size_t i;
	json_t *k;
	json_array_foreach(only, i, k)
	{
		const char *w = json_string_value(k);
		size_t n = w ? strlen(w) : 0;
		if (w && !strncmp(kind, w, n) && (kind[n] == 0 || kind[n] == '.'))
			return true;
	}
	return false;
}

/* Is finding f one of the diagnostics the client sent in the context? */
static bool in_context(const struct server *s, const struct doc *d, json_t *diags, const struct finding *f)
{
	size_t i;
	json_t *g;
	json_array_foreach(diags, i, g)
	{
		const char *code = jstr(g, "code"), *source = jstr(g, "source");
		if (!code || strcmp(code, f->pass->code) || (source && strcmp(source, "spipfix")))
			continue;
		size_t a, b;
		offsets(s, d, jget(g, "range"), &a, &b);
		if (a == doc_off(d, f->start))
			return true;
	}
	return false;
}

static json_t *action_data(const struct doc *d, const char *what, const struct finding *f)
{
	json_t *o = json_pack("{s:s,s:I,s:s}", "uri", d->uri, "version", (json_int_t)d->version, "action", what);
	if (o && f) {
		json_object_set_new(o, "code", json_string(f->pass->code));
		json_object_set_new(o, "start", json_integer((json_int_t)doc_off(d, f->start)));
		json_object_set_new(o, "end", json_integer((json_int_t)doc_off(d, f->end)));
	}
	return o;
}

/* Give the action its edit now (a client that cannot resolve), or leave it to codeAction/resolve.
 * Returns false when the edit cannot be made (the action is then not offered). */
static bool finish(struct server *s, json_t *action)
{
	if (s->resolve_edit)
		return true;
	int code;
	const char *msg;
	json_t *r = actions_resolve(s, action, &code, &msg);
	if (!r)
		return false;
	json_object_set(action, "edit", jget(r, "edit"));
	json_decref(r);
	return true;
}

static void append(json_t *out, json_t *action, bool keep)
{
	if (keep)
		json_array_append_new(out, action);
	else
		json_decref(action);
}

json_t *actions_code_actions(struct server *s, struct doc *d, json_t *params, int *code, const char **msg)
{
	(void)code;
	(void)msg;
	json_t *out = json_array();
	if (!out || !d->analysed || d->arc < 0 || d->excluded)
		return out;
	json_t *ctx = jget(params, "context"), *only = jget(ctx, "only"), *diags = jget(ctx, "diagnostics");
	size_t ra, rb;
	offsets(s, d, jget(params, "range"), &ra, &rb);
	if (kind_wanted(only, "quickfix"))
		for (size_t i = 0; i < d->unit.nfindings; i++) {
			const struct finding *f = &d->unit.findings[i];
			size_t fs = doc_off(d, f->start), fe = doc_off(d, f->end);
			if (!(fs <= rb && ra <= fe) && !in_context(s, d, diags, f))
				continue;
			if (engine_wants(f, true)) {
				char *title = f->applicability == FIX_SAFE
						      ? xprintf("spipfix (%s): %s", f->pass->code, f->fix_title ? f->fix_title : "fix")
						      : xprintf("spipfix (%s): %s (unsafe fix: %s)", f->pass->code,
								f->fix_title ? f->fix_title : "fix",
								f->reason ? f->reason : "behaviour may change");
				json_t *a = json_pack("{s:s,s:s,s:[o],s:b,s:o}", "title", title, "kind", "quickfix", "diagnostics",
						      diagnostic(s, d, f), "isPreferred", f->applicability == FIX_SAFE, "data",
						      action_data(d, "fix", f));
				free(title);
				if (a)
					append(out, a, finish(s, a));
			}
			const char *why = NULL;
			json_t *can = noqa_edit(s, d, i, false, &why);
			if (can) {
				json_decref(can);
				char *title = xprintf("Disable %s for this line", f->pass->code);
				json_t *a = json_pack("{s:s,s:s,s:[o],s:o}", "title", title, "kind", "quickfix", "diagnostics",
						      diagnostic(s, d, f), "data", action_data(d, "noqa", f));
				free(title);
				if (a)
					append(out, a, finish(s, a));
			}
		}
	bool fixable = false;
	for (size_t i = 0; i < d->unit.nfindings && !fixable; i++)
		fixable = engine_wants(&d->unit.findings[i], d->ec.unsafe);
	if (fixable && kind_wanted(only, "source.fixAll.spipfix")) {
		json_t *a = json_pack("{s:s,s:s,s:o}", "title",
				      d->ec.unsafe ? "spipfix: Apply all fixes (unsafe ones too)" : "spipfix: Apply all safe fixes",
				      "kind", "source.fixAll.spipfix", "data", action_data(d, "fixAll", NULL));
		if (a)
			append(out, a, finish(s, a));
	}
	return out;
}

json_t *actions_resolve(struct server *s, json_t *action, int *code, const char **msg)
{
	json_t *data = jget(action, "data");
	const char *what = jstr(data, "action"), *uri = jstr(data, "uri");
	struct doc *d = server_doc(s, uri);
	if (!what || !d) {
		*code = E_PARAMS;
		*msg = "the code action names no open document of spipfix's";
		return NULL;
	}
	if (json_integer_value(jget(data, "version")) != d->version) {
		*code = E_CONTENT_MODIFIED;
		*msg = "the document changed since the code action was offered";
		return NULL;
	}
	server_ensure_analysed(s, d);
	const char *why = NULL;
	json_t *edit = NULL;
	if (!strcmp(what, "fixAll")) {
		edit = actions_fix_all(s, d, &why);
	} else {
		const char *rule = jstr(data, "code");
		size_t start = (size_t)json_integer_value(jget(data, "start")), end = (size_t)json_integer_value(jget(data, "end"));
		size_t i = 0;
		for (; d->arc == 0 && i < d->unit.nfindings; i++) {
			const struct finding *f = &d->unit.findings[i];
			if (rule && !strcmp(f->pass->code, rule) && doc_off(d, f->start) == start && doc_off(d, f->end) == end)
				break;
		}
		if (d->arc < 0 || i == d->unit.nfindings) {
			*code = E_CONTENT_MODIFIED;
			*msg = "the finding is no longer there";
			return NULL;
		}
		edit = !strcmp(what, "noqa") ? noqa_edit(s, d, i, true, &why) : fix_edit(s, d, i, &why);
	}
	if (!edit) {
		*code = E_REQUEST_FAILED;
		*msg = why ? why : "the edit cannot be made";
		return NULL;
	}
	json_t *r = json_deep_copy(action);
	if (!r) {
		json_decref(edit);
		*code = E_REQUEST_FAILED;
		*msg = "out of memory";
		return NULL;
	}
	json_object_set_new(r, "edit", edit);
	return r;
}
