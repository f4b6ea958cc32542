/* JSON output in Ruff's shape, built with jansson (keys sorted, as Ruff prints them):
 *   {cell, code, name, message, filename, location{row,column}, end_location, noqa_row, url,
 *    fix: null | {applicability, message, edits:[{content, location, end_location}]},
 *    spipfix: {facts, reason, code_object}}
 * Rows are 1-based, columns 1-based in Unicode characters. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "cli.h"
#include "pass.h"
#include "render.h"
#include "trace.h"

/* {row, column} of a byte offset in u->src. Returns a new jansson reference or NULL. */
static json_t *location(const struct unit *u, size_t off)
{
	uint32_t row, col;
	unit_position(u, off, &row, &col);
	return json_pack("{s:I,s:I}", "row", (json_int_t)row + 1, "column",
			 (json_int_t)render_char_column(u->src, u->len, row, col));
}

static json_t *fix_object(const struct unit *u, const struct finding *f)
{
	if (!f->nedits || f->applicability == FIX_NONE)
		return json_null();
	/* in the applier's order (the engine sorts them): applied one after the other, they give
	 * what --fix writes */
	const struct edit *sorted = f->edits;
	json_t *edits = json_array();
	for (size_t i = 0; edits && i < f->nedits; i++) {
		json_t *e = json_pack("{s:s%,s:o,s:o}", "content", sorted[i].text ? sorted[i].text : "", sorted[i].len,
				      "location", location(u, sorted[i].start), "end_location",
				      location(u, sorted[i].end));
		if (!e || json_array_append_new(edits, e) < 0) {
			json_decref(edits);
			edits = NULL;
		}
	}
	if (!edits)
		return NULL;
	return json_pack("{s:s,s:s?,s:o}", "applicability", f->applicability == FIX_SAFE ? "safe" : "unsafe",
			 "message", f->fix_title, "edits", edits);
}

static const char *kind_name(enum code_kind k)
{
	switch (k) {
	case CK_MODULE: return "module";
	case CK_CLASS: return "class";
	case CK_FUNCTION: return "function";
	case CK_LAMBDA: return "lambda";
	case CK_COMPREHENSION: return "comprehension";
	case CK_ANNOTATION: return "annotation scope";
	}
	return "?";
}

/* The bytecode facts behind a finding. */
static json_t *spipfix_object(const struct render_run *run, const struct finding *f)
{
	json_t *code = json_null();
	const struct code_info *ci = f->code;
	if (ci) {
		json_t *fv = json_array();
		if (fv && ci->freevars && *ci->freevars) {
			char *copy = strdup(ci->freevars);
			for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
			     tok = strtok_r(NULL, ",", &save))
				json_array_append_new(fv, json_string(tok));
			free(copy);
		}
		code = json_pack("{s:s?,s:s,s:i,s:o,s:s?,s:i,s:b,s:i}", "qualname", ci->qualname, "kind",
				 kind_name(ci->kind), "firstlineno", ci->firstlineno, "co_freevars", fv ? fv : json_null(),
				 "parent", ci->parent ? ci->parent->qualname : NULL, "make_function_flags",
				 ci->make_flags, "built_in_loop", ci->site_in_loop, "site_line", ci->site_line);
	}
	json_t *o = json_pack("{s:s?,s:s?,s:o,s:s}", "facts", f->facts, "reason", f->reason, "code_object",
			      code ? code : json_null(), "target_version", bridge_target_name());
	if (o && run->traced) {
		json_object_set_new(o, "executions", f->executions >= 0 ? json_integer(f->executions) : json_null());
		/* executions x the per-rule saving of the fix (trace/saving.c), in ns */
		json_object_set_new(o, "estimated_saving_ns", json_real(trace_estimate_ns(f)));
	}
	return o;
}

/* One finding in Ruff's shape. Returns a new reference or NULL. */
static json_t *finding_object(const struct render_run *run, const struct unit *u, const struct finding *f)
{
	char *abs = strcmp(u->path, "-") ? path_absolute(u->path) : NULL;
	json_t *fix = fix_object(u, f);
	json_t *obj = fix ? json_pack("{s:n,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:n,s:o,s:o}", "cell", "code", f->pass->code,
				      "name", f->pass->name, "message", f->message, "filename", abs ? abs : u->path,
				      "location", location(u, f->start), "end_location", location(u, f->end),
				      "noqa_row", (json_int_t)f->row + 1, "url", "fix", fix, "spipfix",
				      spipfix_object(run, f))
			  : NULL;
	free(abs);
	return obj;
}

static void oom(const struct unit *u) { fprintf(stderr, "error: %s: cannot render a finding as JSON (out of memory?)\n", u->path); }

/* An element of the run's array: a newline and two more spaces of indent first. */
static void json_finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	json_t *obj = finding_object(run, u, f);
	char *s = obj ? json_dumps(obj, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
	json_decref(obj);
	if (!s) {
		oom(u);
		return;
	}
	fputs("\n  ", out);
	for (const char *p = s; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fputs("  ", out);
	}
	free(s);
}

static void json_begin(FILE *out, const struct render_run *run)
{
	(void)run;
	fputc('[', out);
}

static void json_end(FILE *out, const struct render_run *run) { fputs(run->findings ? "\n]\n" : "]\n", out); }

static void jsonl_finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	json_t *obj = finding_object(run, u, f);
	if (!obj || json_dumpf(obj, out, JSON_SORT_KEYS | JSON_COMPACT) < 0)
		oom(u);
	json_decref(obj);
	fputc('\n', out);
}

const struct renderer render_json = {
	.name = "json", .separator = ",", .machine = true, .document = true, .begin = json_begin, .finding = json_finding, .end = json_end,
};

const struct renderer render_jsonl = {
	.name = "jsonl", .alias = "json-lines", .separator = "", .machine = true, .document = true, .finding = jsonl_finding,
};
