/* Configuration: the `[tool.spipfix]` table of the nearest pyproject.toml, read with the embedded
 * interpreter's tomllib (no TOML parser of our own). Keys, as in Ruff:
 *   select, ignore            lists of rule codes or prefixes
 *   exclude, extend-exclude   lists of file patterns (exclude replaces the defaults)
 *   per-file-ignores          table: file pattern -> list of rule codes
 *   unsafe-fixes, respect-gitignore, force-exclude, include-tests   booleans
 *   min-executions            integer >= 0: with --trace-profile, fix only what ran that often
 *   lift-name                 the template of lifted names ("_{scope}_{name}")
 *   max-file-size             the largest file analysed: bytes, or a string such as "8M"
 *   max-nesting               the deepest nesting of brackets or indentation analysed
 * and the line length fixes write to, from [tool.black] (else [tool.ruff]) `line-length` of the
 * same file, or of the nearest pyproject.toml when no file has a [tool.spipfix] table.
 * An unknown key or a value of the wrong type is an error naming the file and the key. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "config.h"
#include "pass.h"

static const char *const known_keys =
	"select, ignore, exclude, extend-exclude, per-file-ignores, unsafe-fixes, respect-gitignore, force-exclude, "
	"min-executions, include-tests, lift-name, max-file-size, max-nesting";

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
	memset(c, 0, sizeof *c);
}

/* Borrows v. A list of str copied into l (NULL-terminated); -1 with a message when v is not a
 * list of strings, or when `codes` and an entry is no known rule. */
static int to_strlist(PyObject *v, struct strlist *l, bool codes, const char *file, const char *key)
{
	if (!PyList_Check(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be a list of strings, not %s\n", file, key,
			Py_TYPE(v)->tp_name);
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(v);
	l->v = calloc((size_t)n + 1, sizeof *l->v);
	if (!l->v)
		return -1;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *it = PyList_GET_ITEM(v, i); /* borrowed */
		const char *s = PyUnicode_Check(it) ? PyUnicode_AsUTF8(it) : NULL;
		if (!s) {
			PyErr_Clear();
			fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be a list of strings, but item %zd is %s\n",
				file, key, (size_t)i + 1, Py_TYPE(it)->tp_name);
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

/* Borrows v. */
static int to_bool(PyObject *v, int *out, const char *file, const char *key)
{
	if (!PyBool_Check(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be true or false, not %s\n", file, key,
			Py_TYPE(v)->tp_name);
		return -1;
	}
	*out = v == Py_True;
	return 0;
}

/* Borrows v. */
static int to_count(PyObject *v, long long *out, const char *file, const char *key)
{
	long long n = PyLong_Check(v) && !PyBool_Check(v) ? PyLong_AsLongLong(v) : -1;
	if (n < 0) {
		PyErr_Clear();
		fprintf(stderr, "error: %s: [tool.spipfix] `%s` must be an integer >= 0, not %s\n", file, key,
			PyLong_Check(v) && !PyBool_Check(v) ? "a negative number" : Py_TYPE(v)->tp_name);
		return -1;
	}
	*out = n;
	return 0;
}

/* Borrows v: an integer, or (sizes) a string such as "8M". Values as --max-file-size and
 * --max-nesting take them. */
static int to_limit(PyObject *v, bool size, size_t *bytes, unsigned *count, const char *file, const char *key)
{
	char where[600], num[32];
	snprintf(where, sizeof where, "%s: [tool.spipfix] `%s`", file, key);
	const char *arg = NULL;
	if (PyLong_Check(v) && !PyBool_Check(v)) {
		long long n = PyLong_AsLongLong(v);
		if (n == -1 && PyErr_Occurred()) {
			PyErr_Clear();
			n = -1;
		}
		snprintf(num, sizeof num, "%lld", n);
		arg = num;
	} else if (size && PyUnicode_Check(v)) {
		arg = PyUnicode_AsUTF8(v);
		if (!arg)
			PyErr_Clear();
	}
	if (!arg) {
		fprintf(stderr, "error: %s must be %s, not %s\n", where,
			size ? "a number of bytes or a string such as \"8M\"" : "a number", Py_TYPE(v)->tp_name);
		return -1;
	}
	return size ? cli_size(where, arg, CLI_MAX_FILE, bytes) : cli_count(where, arg, 100000, count);
}

/* Borrows v: the per-file-ignores table. */
static int to_pfi(PyObject *v, struct config *c, const char *file)
{
	if (!PyDict_Check(v)) {
		fprintf(stderr, "error: %s: [tool.spipfix] `per-file-ignores` must be a table of pattern = [codes], not %s\n",
			file, Py_TYPE(v)->tp_name);
		return -1;
	}
	c->pfi = calloc((size_t)PyDict_Size(v) + 1, sizeof *c->pfi);
	if (!c->pfi)
		return -1;
	c->has_pfi = true;
	PyObject *k, *val; /* borrowed */
	Py_ssize_t pos = 0;
	while (PyDict_Next(v, &pos, &k, &val)) {
		const char *pat = PyUnicode_AsUTF8(k);
		if (!pat)
			return -1;
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

/* lift-name: a string of identifier characters and the placeholders {name} (required),
 * {function}, {class}, {scope}. Borrows v. */
static int to_template(PyObject *v, char **out, const char *file, const char *key)
{
	const char *s = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
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
		PyErr_Clear();
		fprintf(stderr, "error: %s: [tool.spipfix]: `%s` must be a string of letters, digits, `_` and the "
				"placeholders {name}, {function}, {class}, {scope}, with {name} (as \"_{scope}_{name}\")\n",
			file, key);
		return -1;
	}
	free(*out);
	return (*out = strdup(s)) ? 0 : -1;
}

/* The line length of [tool.black], else [tool.ruff], of a parsed pyproject.toml (borrowed), or 0. */
static int read_line_length(PyObject *doc)
{
	int found = 0;
	PyObject *tool = PyDict_GetItemString(doc, "tool"); /* borrowed */
	static const char *const tables[] = {"black", "ruff", NULL};
	for (const char *const *t = tables; tool && PyDict_Check(tool) && *t && !found; t++) {
		PyObject *tbl = PyDict_GetItemString(tool, *t);                                   /* borrowed */
		PyObject *ll = tbl && PyDict_Check(tbl) ? PyDict_GetItemString(tbl, "line-length") : NULL; /* borrowed */
		long n = ll && PyLong_Check(ll) ? PyLong_AsLong(ll) : 0;
		if (n > 0 && n < 10000)
			found = (int)n;
	}
	PyErr_Clear();
	return found;
}

/* Borrows tbl: the [tool.spipfix] table. */
static int load_table(PyObject *tbl, struct config *c)
{
	const char *file = c->path;
	if (!PyDict_Check(tbl)) {
		fprintf(stderr, "error: %s: `tool.spipfix` must be a table\n", file);
		return -1;
	}
	PyObject *k, *v; /* borrowed */
	Py_ssize_t pos = 0;
	while (PyDict_Next(tbl, &pos, &k, &v)) {
		const char *key = PyUnicode_AsUTF8(k);
		if (!key)
			return -1;
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
	/* a file that never names us needs no interpreter, unless it has the line length */
	bool ours = must_have || memmem(buf, len, "spipfix", 7);
	if (!ours && (c->line_length || !memmem(buf, len, "line-length", 11))) {
		free(buf);
		return 0;
	}
	int rc = -1;
	PyObject *mod = NULL, *text = NULL, *doc = NULL; /* new references */
	if (bridge_init() < 0)
		goto out;
	mod = PyImport_ImportModule("tomllib");
	text = mod ? PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "strict") : NULL;
	doc = text ? PyObject_CallMethod(mod, "loads", "O", text) : NULL;
	if (!doc && !ours) { /* not ours to judge: read for the line length only */
		PyErr_Clear();
		rc = 0;
		goto out;
	}
	if (!doc) {
		PyObject *type, *value, *tb; /* new references (fetched) */
		PyErr_Fetch(&type, &value, &tb);
		PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
		const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
		fprintf(stderr, "error: %s: invalid TOML: %s\n", path, msg ? msg : "cannot be read");
		Py_XDECREF(s);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
		PyErr_Clear();
		goto out;
	}
	PyObject *tool = PyDict_GetItemString(doc, "tool"); /* borrowed */
	PyObject *tbl = tool && PyDict_Check(tool) ? PyDict_GetItemString(tool, "spipfix") : NULL; /* borrowed */
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
	PyErr_Clear();
out:
	Py_XDECREF(doc);
	Py_XDECREF(text);
	Py_XDECREF(mod);
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
