/* Configuration: the `[tool.spipfix]` table of the nearest pyproject.toml, read with the target
 * version's tomllib through the Python boundary (bridge_toml: no TOML parser of our own), as
 * JSON. Keys, as in Ruff:
 *   select, ignore            lists of rule codes or prefixes
 *   exclude, extend-exclude   lists of file patterns (exclude replaces the defaults)
 *   per-file-ignores          table: file pattern -> list of rule codes
 *   unsafe-fixes, respect-gitignore, force-exclude, include-tests   booleans
 *   min-executions            integer >= 0: with --trace-profile, fix only what ran that often
 *   lift-name                 the template of lifted names ("_{scope}_{name}")
 *   target-version            "py311", "py312" or "py313"
 *   max-file-size             the largest file analysed: bytes, or a string such as "8M"
 *   max-nesting               the deepest nesting of brackets or indentation analysed
 * and `requires-python` of the [project] table, whose lower bound is the default target version,
 * and the line length fixes write to, from [tool.black] (else [tool.ruff]) `line-length` of the
 * same file, or of the nearest pyproject.toml when no file has a [tool.spipfix] table.
 * An unknown key or a value of the wrong type is an error naming the file and the key. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "config.h"
#include "pass.h"

static const char *const known_keys =
	"select, ignore, exclude, extend-exclude, per-file-ignores, unsafe-fixes, respect-gitignore, force-exclude, "
	"min-executions, include-tests, lift-name, target-version, max-file-size, max-nesting";

/* The Python type name of a value of bridge_toml's JSON: what tomllib gave. */
static const char *type_name(const json_t *v)
{
	if (json_is_string(v))
		return "str";
	if (json_is_boolean(v))
		return "bool";
	if (json_is_array(v))
		return "list";
	if (json_is_integer(v))
		return "int";
	const json_t *t = json_is_object(v) ? json_object_get(v, "\001type") : NULL;
	if (json_is_string(t))
		return json_string_value(t);
	return "dict";
}

static bool is_table(const json_t *v) { return json_is_object(v) && !json_object_get(v, "\001type"); }
void config_free(struct config *c)
{
	free(c->path);
	free(c->dir);
	for (struct strlist *l = &c->select; l <= &c->extend_exclude; l++) {
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i]);
		free(l->v);
	}
	for (size_t i = 0; i < c->npfi; i++) {
		free(c->pfi[i].pattern);
		for (size_t k = 0; k < c->pfi[i].codes.n; k++)
			free(c->pfi[i].codes.v[k]);
		free(c->pfi[i].codes.v);
	}
	free(c->pfi);
	free(c->lift_name);
	free(c->requires_python);
	free(c->requires_path);
	memset(c, 0, sizeof *c);
}

/* A list of str copied into l (NULL-terminated); -1 with a message when v is not a list of
 * strings, or when `codes` and an entry is no known rule. */
static int to_strlist(const json_t *v, struct strlist *l, bool codes, const char *file, const char *key)
{
	if (!json_is_array(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be a list of strings, not %s\n", file, key,
			type_name(v));
		return -1;
	}
	size_t n = json_array_size(v);
	l->v = calloc(n + 1, sizeof *l->v);
	if (!l->v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(v, i);
		const char *s = json_string_value(it);
		if (!s) {
			fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be a list of strings, but item %zd is %s\n",
				file, key, i + 1, type_name(it));
			return -1;
		}
		if (codes && !pass_selector_known(s)) {
			const char *near = cli_nearest_rule(s);
			fprintf(stderr, "error: %s: [tool.spipfix] `%s`: unknown rule `%s`", file, key, s);
			if (near)
				fprintf(stderr, " (did you mean `%s`?)", near);
			fputc('\n', stderr);
			return -1;
		}
		if (!(l->v[l->n] = strdup(s)))
			return -1;
		l->n++;
	}
	return 0;
}

static int to_bool(const json_t *v, int *out, const char *file, const char *key)
{
	if (!json_is_boolean(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be true or false, not %s\n", file, key,
			type_name(v));
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int to_count(const json_t *v, long long *out, const char *file, const char *key)
{
	long long n = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	if (n < 0) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be an integer >= 0, not %s\n", file, key,
			json_is_integer(v) ? "a negative number" : type_name(v));
		return -1;
	}
	*out = n;
	return 0;
}

/* An integer, or (sizes) a string such as "8M": values as --max-file-size and --max-nesting
 * take them. */
static int to_limit(const json_t *v, bool size, size_t *bytes, unsigned *count, const char *file, const char *key)
{
	char where[600], num[32];
	snprintf(where, sizeof where, "%s: [tool.spipfix] `%s`", file, key);
	const char *arg = NULL;
	if (json_is_integer(v)) {
		snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
		arg = num;
	} else if (size && json_is_string(v)) {
		arg = json_string_value(v);
	}
	if (!arg) {
		fprintf(stderr, "error: %s must be %s, not %s\n", where,
			size ? "a number of bytes or a string such as \"8M\"" : "a number", type_name(v));
		return -1;
	}
	return size ? cli_size(where, arg, CLI_MAX_FILE, bytes) : cli_count(where, arg, 100000, count);
}

/* the per-file-ignores table */
static int to_pfi(const json_t *v, struct config *c, const char *file)
{
	if (!is_table(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `per-file-ignores` must be a table of pattern = [codes], not %s\n",
			file, type_name(v));
		return -1;
	}
	c->pfi = calloc(json_object_size(v) + 1, sizeof *c->pfi);
	if (!c->pfi)
		return -1;
	c->has_pfi = true;
	const char *pat;
	json_t *val;
	json_object_foreach((json_t *)v, pat, val) {
		char key[512];
		snprintf(key, sizeof key, "per-file-ignores.\"%s\"", pat);
		struct per_file_ignore *e = &c->pfi[c->npfi];
		if (!(e->pattern = strdup(pat)))
			return -1;
		c->npfi++;
		if (to_strlist(val, &e->codes, true, file, key) < 0)
			return -1;
	}
	return 0;
}

static int to_version(const json_t *v, int *minor, const char *file, const char *key)
{
	const char *s = json_string_value(v);
	int m = s ? bridge_parse_version(s) : -1;
	if (m < 0) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be one of py3%d to py3%d, not %s%s%s\n", file, key,
			BRIDGE_MINOR_OLDEST, BRIDGE_MINOR_NEWEST, s ? "`" : "", s ? s : type_name(v), s ? "`" : "");
		return -1;
	}
	*minor = m;
	return 0;
}

/* lift-name: a string of identifier characters and the placeholders {name} (required),
 * {function}, {class}, {scope}. */
static int to_template(const json_t *v, char **out, const char *file, const char *key)
{
	const char *s = json_string_value(v);
	bool ok = s && strstr(s, "{name}");
	for (const char *p = s; ok && *p;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t k = close ? (size_t)(close - p - 1) : 0;
			ok = close && ((k == 4 && !strncmp(p + 1, "name", 4)) || (k == 8 && !strncmp(p + 1, "function", 8)) ||
				       (k == 5 && !strncmp(p + 1, "class", 5)) || (k == 5 && !strncmp(p + 1, "scope", 5)));
			p = close ? close + 1 : p + 1;
			continue;
		}
		unsigned char c = (unsigned char)*p++;
		ok = c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
	}
	if (!ok) {
		fprintf(stderr, "error: %s: [tool.spipfix]: `%s` must be a string of letters, digits, `_` and the "
				"placeholders {name}, {function}, {class}, {scope}, with {name} (as \"_{scope}_{name}\")\n",
			file, key);
		return -1;
	}
	free(*out);
	return (*out = strdup(s)) ? 0 : -1;
}

/* The line length of [tool.black], else [tool.ruff], of a parsed pyproject.toml, or 0. */
static int read_line_length(const json_t *doc)
{
	int found = 0;
	const json_t *tool = json_object_get(doc, "tool");
	static const char *const tables[] = {"black", "ruff", NULL};
	for (const char *const *t = tables; is_table(tool) && *t && !found; t++) {
		const json_t *tbl = json_object_get(tool, *t);
		const json_t *ll = is_table(tbl) ? json_object_get(tbl, "line-length") : NULL;
		json_int_t n = json_is_integer(ll) ? json_integer_value(ll) : 0;
		if (n > 0 && n < 10000)
			found = (int)n;
	}
	return found;
}

/* the [tool.spipfix] table */
static int load_table(const json_t *tbl, struct config *c)
{
	const char *file = c->path;
	if (!is_table(tbl)) {
		fprintf(stderr, "error: %s: `tool.spipfix` must be a table\n", file);
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)tbl, key, v) {
		int rc;
		if (!strcmp(key, "select"))
			rc = to_strlist(v, &c->select, true, file, key), c->has_select = true;
		else if (!strcmp(key, "ignore"))
			rc = to_strlist(v, &c->ignore, true, file, key);
		else if (!strcmp(key, "exclude"))
			rc = to_strlist(v, &c->exclude, false, file, key), c->has_exclude = true;
		else if (!strcmp(key, "extend-exclude"))
			rc = to_strlist(v, &c->extend_exclude, false, file, key);
		else if (!strcmp(key, "per-file-ignores"))
			rc = to_pfi(v, c, file);
		else if (!strcmp(key, "unsafe-fixes"))
			rc = to_bool(v, &c->unsafe_fixes, file, key);
		else if (!strcmp(key, "respect-gitignore"))
			rc = to_bool(v, &c->respect_gitignore, file, key);
		else if (!strcmp(key, "force-exclude"))
			rc = to_bool(v, &c->force_exclude, file, key);
		else if (!strcmp(key, "min-executions"))
			rc = to_count(v, &c->min_executions, file, key);
		else if (!strcmp(key, "include-tests"))
			rc = to_bool(v, &c->include_tests, file, key);
		else if (!strcmp(key, "lift-name"))
			rc = to_template(v, &c->lift_name, file, key);
		else if (!strcmp(key, "target-version"))
			rc = to_version(v, &c->target_minor, file, key);
		else if (!strcmp(key, "max-file-size"))
			rc = to_limit(v, true, &c->max_bytes, NULL, file, key);
		else if (!strcmp(key, "max-nesting"))
			rc = to_limit(v, false, NULL, &c->max_nesting, file, key);
		else {
			fprintf(stderr, "error: %s: [tool.spipfix]: unknown key `%s` (known: %s)\n", file, key, known_keys);
			rc = -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One clause's version "3.X[.Y][.*]": 0 with major and minor set, -1 when not a version. */
static int parse_release(const char *p, const char *end, long *major, long *minor)
{
	char *e;
	*major = strtol(p, &e, 10);
	if (e == p)
		return -1;
	*minor = 0;
	if (e < end && *e == '.') {
		p = e + 1;
		if (p < end && *p == '*')
			return 0;
		*minor = strtol(p, &e, 10);
		if (e == p)
			return -1;
	}
	return 0;
}

int config_requires_minor(const char *spec, int *minor)
{
	*minor = 0;
	long best_major = -1, best_minor = -1;
	for (const char *p = spec; *p;) {
		const char *end = strchr(p, ',');
		end = end ? end : p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		static const char *const ops[] = {"===", "~=", "==", "!=", ">=", "<=", ">", "<"};
		const char *op = NULL;
		for (size_t i = 0; i < sizeof ops / sizeof *ops && !op; i++)
			if (!strncmp(p, ops[i], strlen(ops[i])))
				op = ops[i];
		if (!op)
			return -1;
		p += strlen(op);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		long ma, mi;
		if (parse_release(p, end, &ma, &mi) < 0)
			return -1;
		/* a lower bound: >=, >, ~=, ==, === (">3.11" still admits 3.11.1) */
		if (strcmp(op, "!=") && strcmp(op, "<=") && strcmp(op, "<") &&
		    (ma > best_major || (ma == best_major && mi > best_minor))) {
			best_major = ma;
			best_minor = mi;
		}
		p = *end ? end + 1 : end;
	}
	if (best_major < 0)
		return 0;
	*minor = best_major < 3 ? 0 : best_major > 3 ? 99 : (int)(best_minor > 99 ? 99 : best_minor);
	return 0;
}

/* [project] requires-python of a parsed file, when it has one: copied into c (the first found
 * wins). Returns 0 / -1 (printed). */
static int load_requires(const json_t *doc, const char *path, struct config *c)
{
	if (c->requires_python)
		return 0;
	const json_t *project = json_object_get(doc, "project");
	const json_t *rp = is_table(project) ? json_object_get(project, "requires-python") : NULL;
	if (!rp)
		return 0;
	if (!json_is_string(rp)) {
		fprintf(stderr, "error: %s: [project] `requires-python` must be a string, not %s\n", path, type_name(rp));
		return -1;
	}
	int minor;
	if (config_requires_minor(json_string_value(rp), &minor) < 0) {
		fprintf(stderr, "error: %s: [project] `requires-python`: `%s` is not a version specifier\n", path,
			json_string_value(rp));
		return -1;
	}
	c->requires_python = strdup(json_string_value(rp));
	c->requires_path = path_absolute(path);
	c->requires_minor = minor;
	return c->requires_python && c->requires_path ? 0 : -1;
}

/* Parse one TOML file. Returns 1 when it has a [tool.spipfix] table (loaded into c), 0 when not,
 * -1 on an error (printed). */
static int load_file(const char *path, struct config *c, bool must_have)
{
	struct stat st;
	size_t len;
	char *buf = read_whole_file(path, &len, &st);
	if (!buf) {
		fprintf(stderr, "error: %s: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	/* a file that never names us needs no interpreter, unless it has the line length or the
	 * Python the project needs, not yet found nearer */
	bool ours = must_have || memmem(buf, len, "spipfix", 7);
	if (!ours && (c->line_length || !memmem(buf, len, "line-length", 11)) &&
	    (c->requires_python || !memmem(buf, len, "requires-python", 15))) {
		free(buf);
		return 0;
	}
	int rc = -1;
	char *err = NULL;
	json_t *doc = NULL;
	char *text = bridge_toml(buf, len, &err);
	if (text) {
		doc = json_loads(text, 0, NULL);
		free(text);
	}
	if (!doc && !ours) { /* not ours to judge: read for the line length only */
		rc = 0;
		goto out;
	}
	if (!doc) {
		fprintf(stderr, "error: %s: invalid TOML: %s\n", path, err ? err : "cannot be read");
		goto out;
	}
	if (load_requires(doc, path, c) < 0)
		goto out;
	const json_t *tool = json_object_get(doc, "tool");
	const json_t *tbl = is_table(tool) ? json_object_get(tool, "spipfix") : NULL;
	int ll = read_line_length(doc);
	if (ll && (tbl || !c->line_length)) /* the file with the table decides, else the nearest */
		c->line_length = ll;
	if (!tbl) {
		if (must_have) {
			fprintf(stderr, "error: %s: no [tool.spipfix] table\n", path);
			goto out;
		}
		rc = 0;
		goto out;
	}
	c->path = path_absolute(path);
	if (!c->path)
		goto out;
	c->dir = strdup(c->path);
	if (!c->dir)
		goto out;
	char *slash = strrchr(c->dir, '/');
	if (slash)
		slash[slash == c->dir ? 1 : 0] = 0;
	c->unsafe_fixes = c->respect_gitignore = c->force_exclude = c->include_tests = -1;
	c->min_executions = -1;
	c->found = true;
	rc = load_table(tbl, c) < 0 ? -1 : 1;
out:
	json_decref(doc);
	free(err);
	free(buf);
	return rc;
}

int config_load(const char *explicit_path, const char *start, struct config *c)
{
	memset(c, 0, sizeof *c);
	c->unsafe_fixes = c->respect_gitignore = c->force_exclude = c->include_tests = -1;
	c->min_executions = -1;
	if (explicit_path)
		return load_file(explicit_path, c, true) < 0 ? -1 : 0;
	char *dir = path_absolute(start);
	if (!dir)
		return 0;
	for (;;) {
		char file[4096];
		snprintf(file, sizeof file, "%s/pyproject.toml", strcmp(dir, "/") ? dir : "");
		if (access(file, F_OK) == 0) {
			int r = load_file(file, c, false);
			if (r != 0) {
				free(dir);
				return r < 0 ? -1 : 0;
			}
		}
		char *slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/"))
			break;
		slash[slash == dir ? 1 : 0] = 0;
	}
	free(dir);
	return 0;
}
