/* SARIF 2.1.0, what GitHub code scanning uploads: one run whose tool lists every rule with its
 * documentation (from the pass table), and one result per finding with its region and, when
 * the finding has a fix, the fix as replacements. Columns are Unicode code points
 * (run.columnKind), 1-based as SARIF counts them. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pass.h"
#include "render.h"

/* 0-based finding or edit offsets as a SARIF region. Returns a new reference. */
static json_t *region(const struct unit *u, size_t start, size_t end)
{
	uint32_t r0, c0, r1, c1;
	unit_position(u, start, &r0, &c0);
	unit_position(u, end, &r1, &c1);
	return json_pack("{s:I,s:I,s:I,s:I}", "startLine", (json_int_t)r0 + 1, "startColumn",
			 (json_int_t)render_char_column(u->src, u->len, r0, c0), "endLine", (json_int_t)r1 + 1,
			 "endColumn", (json_int_t)render_char_column(u->src, u->len, r1, c1));
}

/* The path as a URI reference: relative paths stay relative (to the folder spipfix ran in, the
 * repository root under code scanning), reserved characters percent-encoded. malloc'd. */
static char *uri_of(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(3 * n + 8), *o = out;
	if (!out)
		return NULL;
	if (path[0] == '/') {
		memcpy(o, "file://", 7);
		o += 7;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = 0;
	return out;
}

static json_t *rule_object(const struct pass *p)
{
	char *help = xprintf("%s\n\nWhy: %s\n\nFix: %s", p->doc.what ? p->doc.what : p->summary, p->doc.why ? p->doc.why : "",
			     p->doc.fix ? p->doc.fix : "");
	char *md = xprintf("%s\n\n**Why.** %s\n\n**Fix.** %s\n\nBefore:\n\n```python\n%s```\n\nAfter `spipfix --fix`:\n\n```python\n%s```\n",
			   p->doc.what ? p->doc.what : p->summary, p->doc.why ? p->doc.why : "", p->doc.fix ? p->doc.fix : "",
			   p->doc.before ? p->doc.before : "", p->doc.after ? p->doc.after : "");
	json_t *o = json_pack("{s:s,s:s,s:{s:s},s:{s:s},s:{s:s,s:s},s:{s:s},s:{s:[s]}}", "id", p->code, "name", p->name,
			      "shortDescription", "text", p->summary, "fullDescription", "text",
			      p->doc.what ? p->doc.what : p->summary, "help", "text", help, "markdown", md,
			      "defaultConfiguration", "level", "warning", "properties", "tags", "performance");
	free(help);
	free(md);
	return o;
}

static void begin(FILE *out, const struct render_run *run)
{
	(void)run;
	json_t *rules = json_array();
	for (const struct pass *const *p = pass_registry; *p; p++)
		json_array_append_new(rules, rule_object(*p));
	json_t *driver = json_pack("{s:s,s:s,s:s,s:o}", "name", "spipfix", "version", SPIPFIX_VERSION, "informationUri",
				   "https://github.com/spipfix/spipfix", "rules", rules);
	char *d = json_dumps(driver, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(driver);
	fprintf(out,
		"{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{"
		"\"tool\":{\"driver\":%s},\"columnKind\":\"unicodeCodePoints\",\"results\":[",
		d ? d : "{}");
	free(d);
}

static json_t *fix_object(const struct unit *u, const struct finding *f, const char *uri)
{
	json_t *repl = json_array();
	for (size_t i = 0; i < f->nedits; i++) {
		const struct edit *e = &f->edits[i];
		json_array_append_new(repl, json_pack("{s:o,s:{s:s%}}", "deletedRegion", region(u, e->start, e->end),
						      "insertedContent", "text", e->text ? e->text : "", e->len));
	}
	return json_pack("{s:{s:s},s:[{s:{s:s},s:o}]}", "description", "text", f->fix_title ? f->fix_title : "fix",
			 "artifactChanges", "artifactLocation", "uri", uri, "replacements", repl);
}

static void finding(FILE *out, const struct render_run *run, const struct unit *u, const struct finding *f)
{
	(void)run;
	char *uri = uri_of(u->path);
	bool fixable = f->applicability != FIX_NONE && f->nedits;
	char *msg = f->reason ? xprintf("%s (%s fix: %s)", f->message, fixable ? "unsafe" : "no", f->reason)
			      : xstrdup(f->message);
	json_t *res = json_pack("{s:s,s:I,s:s,s:{s:s},s:[{s:{s:{s:s},s:o}}]}", "ruleId", f->pass->code, "ruleIndex",
				(json_int_t)pass_index(f->pass), "level", fixable ? "warning" : "note", "message", "text", msg,
				"locations", "physicalLocation", "artifactLocation", "uri", uri ? uri : u->path, "region",
				region(u, f->start, f->end));
	if (res && fixable)
		json_object_set_new(res, "fixes", json_pack("[o]", fix_object(u, f, uri ? uri : u->path)));
	if (res)
		json_object_set_new(res, "properties",
				    json_pack("{s:s}", "applicability",
					      f->applicability == FIX_SAFE ? "safe" : f->applicability == FIX_UNSAFE ? "unsafe" : "none"));
	char *s = res ? json_dumps(res, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	if (s)
		fprintf(out, "\n%s", s);
	else
		fprintf(stderr, "error: %s: cannot render a finding as SARIF (out of memory?)\n", u->path);
	free(s);
	free(msg);
	free(uri);
	json_decref(res);
}

static void end(FILE *out, const struct render_run *run)
{
	(void)run;
	fputs("\n]}]}\n", out);
}

const struct renderer render_sarif = {
	.name = "sarif", .separator = ",", .machine = true, .document = true, .begin = begin, .finding = finding, .end = end,
};
