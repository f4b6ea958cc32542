/* `spipfix server`: the Language Server Protocol 3.17 over stdio. One thread: the loop reads
 * what the client sent (message.c), handles it in order, and analyses the documents whose
 * change has settled (the debounce); an analysis whose document changed again while it ran is
 * dropped unpublished. Every analysis and fix is the engine's (engine_analyse, engine_fix,
 * engine_pick); the settings are the project's pyproject.toml (cmd/check/config.c) with the
 * editor's settings over it, as the command line is over it. stdout carries the protocol only:
 * fd 1 is pointed at stderr, where the log goes, and the protocol keeps its own copy. */
#define _GNU_SOURCE /* strndup */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cli.h"
#include "config.h"
#include "pass.h"
#include "server.h"

#define DEBOUNCE 0.025 /* seconds: changes closer than this are a burst, analysed once it pauses */

/* JSON-RPC and LSP error codes */
enum {
	E_PARSE = -32700,
	E_INVALID_REQUEST = -32600,
	E_METHOD = -32601,
	E_PARAMS = -32602,
	E_INTERNAL = -32603,
	E_NOT_INITIALIZED = -32002,
	E_CANCELLED = -32800,
	E_CONTENT_MODIFIED = -32801,
};

/* ---- JSON helpers --------------------------------------------------------------------------- */

static json_t *jget(json_t *o, const char *key) { return json_is_object(o) ? json_object_get(o, key) : NULL; }
static const char *jstr(json_t *o, const char *key) { return json_string_value(jget(o, key)); }
static bool jtrue(json_t *o, const char *key) { return json_is_true(jget(o, key)); }

/* Does the JSON array a hold the string s? */
static bool jarray_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), s)) return true;
	return false;
}

/* ---- output --------------------------------------------------------------------------------- */

void server_send(struct server *s, json_t *msg)
{
	char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!body) {
		server_log(s, "cannot encode a message (out of memory)");
		return;
	}
	size_t n = strlen(body);
	char head[64];
	int h = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
	if (fd_write_all(s->out, head, (size_t)h) < 0 || fd_write_all(s->out, body, n) < 0) {
		/* the client is gone */
		server_log(s, "cannot write to the client: %s; exiting", strerror(errno));
		free(body);
		exit(1);
	}
	free(body);
}

void server_log(struct server *s, const char *fmt, ...)
{
	(void)s;
	va_list ap;
	va_start(ap, fmt);
	fputs("spipfix server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void notify(struct server *s, const char *method, json_t *params)
{
	server_send(s, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", method, "params", params));
}

void server_show(struct server *s, int type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = NULL;
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	if (!m)
		return;
	server_log(s, "%s", m);
	notify(s, "window/showMessage", json_pack("{s:i,s:s}", "type", type, "message", m));
	free(m);
}

static void respond(struct server *s, json_t *id, json_t *result)
{
	server_send(s, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
				 result ? result : json_null()));
}

static void respond_error(struct server *s, json_t *id, int code, const char *message)
{
	server_send(s, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code",
				 code, "message", message));
}

static void request(struct server *s, const char *method, json_t *params, int kind)
{
	struct pending *np = realloc(s->pending, (s->npending + 1) * sizeof *np);
	if (!np) {
		json_decref(params);
		return;
	}
	s->pending = np;
	long id = ++s->next_id;
	s->pending[s->npending++] = (struct pending){id, kind};
	server_send(s, json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method, "params",
				 params));
}

/* ---- URIs ----------------------------------------------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The path of a file: URI (malloc'd), or NULL for any other URI. */
static char *uri_path(const char *uri)
{
	if (strncasecmp(uri, "file://", 7))
		return NULL;
	const char *p = uri + 7;
	if (!strncasecmp(p, "localhost/", 10))
		p += 9;
	if (*p != '/')
		return NULL;
	char *out = malloc(strlen(p) + 1), *w = out;
	if (!out)
		return NULL;
	for (; *p && *p != '?' && *p != '#'; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			if (!c) {
				free(out);
				return NULL;
			}
			*w++ = c;
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
	return out;
}

char *server_file_uri(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(3 * n + 8), *w = out;
	if (!out)
		return NULL;
	w += sprintf(w, "file://");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			*w++ = (char)*p;
		else
			w += sprintf(w, "%%%02X", *p);
	}
	*w = 0;
	return out;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* ---- settings ------------------------------------------------------------------------------- */

static void settings_free(struct settings *st)
{
	strlist_free(&st->select);
	strlist_free(&st->ignore);
	free(st->target_version);
	memset(st, 0, sizeof *st);
	st->unsafe_fixes = -1;
}

/* A list of rule selectors from the settings; unknown ones are left out with a warning. */
static void rule_list(struct server *s, json_t *v, const char *key, const char *where, struct strlist *l)
{
	if (!json_is_array(v)) {
		server_show(s, 2, "spipfix: %s: `%s` must be a list of rule codes; ignored", where, key);
		return;
	}
	size_t i;
	json_t *it;
	json_array_foreach(v, i, it)
	{
		const char *code = json_string_value(it);
		if (!code || !pass_selector_known(code)) {
			const char *near = code ? cli_nearest_rule(code) : NULL;
			server_show(s, 2, "spipfix: %s: `%s`: unknown rule `%s`%s%s%s; ignored", where, key, code ? code : "?",
				    near ? " (did you mean `" : "", near ? near : "", near ? "`?)" : "");
			continue;
		}
		strlist_split(l, code);
	}
}

/* Parse the editor's settings: flat, or under "spipfix" or "settings" (as clients nest them).
 * Keys: select, ignore, unsafe-fixes (unsafeFixes), target-version (targetVersion). */
static void settings_parse(struct server *s, json_t *v, struct settings *st, const char *where)
{
	settings_free(st);
	if (json_is_object(jget(v, "spipfix")))
		v = jget(v, "spipfix");
	else if (json_is_object(jget(v, "settings")))
		v = jget(v, "settings");
	if (!json_is_object(v))
		return;
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val)
	{
		if (!strcmp(key, "select")) {
			st->have_select = true;
			rule_list(s, val, key, where, &st->select);
		} else if (!strcmp(key, "ignore")) {
			rule_list(s, val, key, where, &st->ignore);
		} else if (!strcmp(key, "unsafe-fixes") || !strcmp(key, "unsafeFixes")) {
			if (json_is_boolean(val))
				st->unsafe_fixes = json_is_true(val);
			else
				server_show(s, 2, "spipfix: %s: `%s` must be true or false; ignored", where, key);
		} else if (!strcmp(key, "target-version") || !strcmp(key, "targetVersion")) {
			const char *t = json_string_value(val);
			int minor = t ? bridge_parse_version(t) : -1;
			if (minor > 0) {
				st->target_version = xstrdup(t);
				/* one CPython per process (passes/pyrt.h): the first settings that name a
				 * built version before any analysis choose the server's */
				if (minor != bridge_target() && !bridge_loaded() && bridge_built(minor))
					bridge_select(minor);
				if (minor != bridge_target())
					server_show(s, 2, "spipfix: %s: target-version %s: this server proves findings on Python 3.%d "
						    "(built: %s; one version per server process); analysed as %s", where, t,
						    bridge_target(), bridge_built_list(), bridge_target_name());
			} else
				server_show(s, 2, "spipfix: %s: `%s` must be py311, py312 or py313; ignored", where, key);
		} else {
			server_show(s, 2, "spipfix: %s: unknown setting `%s` (known: select, ignore, unsafe-fixes, target-version)",
				    where, key);
		}
	}
}

/* The settings of the workspace folder holding d (the deepest one), else the global ones. */
static const struct settings *settings_for(struct server *s, const struct doc *d)
{
	const struct folder *best = NULL;
	for (size_t i = 0; i < s->nfolders; i++) {
		const struct folder *f = &s->folders[i];
		size_t n = strlen(f->uri);
		if (f->have_settings && !strncmp(d->uri, f->uri, n) && (d->uri[n] == '/' || f->uri[n - 1] == '/') &&
		    (!best || n > strlen(best->uri)))
			best = f;
	}
	return best ? &best->settings : &s->global;
}

static void copy_list(struct strlist *to, const struct strlist *from)
{
	for (size_t i = 0; i < from->n; i++)
		strlist_split(to, from->v[i]);
}

/* ---- projects: the pyproject.toml of a folder ---------------------------------------------- */

static void projects_flush(struct server *s)
{
	for (size_t i = 0; i < s->nprojects; i++) {
		free(s->projects[i].start);
		free(s->projects[i].error);
		config_free(&s->projects[i].cfg);
	}
	free(s->projects);
	s->projects = NULL;
	s->nprojects = 0;
}

/* config_load, with what it writes on stderr captured into *error (and logged). */
static int load_config(struct server *s, const char *start, struct config *cfg, char **error)
{
	fflush(stderr);
	FILE *t = tmpfile();
	int saved = t ? dup(STDERR_FILENO) : -1;
	if (saved >= 0)
		dup2(fileno(t), STDERR_FILENO);
	int rc = config_load(NULL, start, cfg);
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	*error = NULL;
	if (t) {
		long n = ftell(t);
		if (n > 0 && (*error = calloc(1, (size_t)n + 1))) {
			rewind(t);
			size_t got = fread(*error, 1, (size_t)n, t);
			while (got && ((*error)[got - 1] == '\n'))
				got--;
			(*error)[got] = 0;
			server_log(s, "%s", *error);
		}
		fclose(t);
	}
	return rc;
}

static struct timespec mtime_of(const char *path)
{
	struct stat st;
	struct timespec z = {0, 0};
	return path && stat(path, &st) == 0 ? st.st_mtim : z;
}

/* The configuration found from folder `start`, read again when its file changed. */
static const struct project *project_for(struct server *s, const char *start)
{
	for (size_t i = 0; i < s->nprojects; i++) {
		struct project *p = &s->projects[i];
		if (strcmp(p->start, start))
			continue;
		struct timespec m = mtime_of(p->cfg.path);
		if (!p->cfg.found || (m.tv_sec == p->mtime.tv_sec && m.tv_nsec == p->mtime.tv_nsec))
			return p;
		/* the file changed: read it again */
		free(p->start);
		free(p->error);
		config_free(&p->cfg);
		s->projects[i] = s->projects[--s->nprojects];
		break;
	}
	struct project *np = realloc(s->projects, (s->nprojects + 1) * sizeof *np);
	if (!np)
		return NULL;
	s->projects = np;
	struct project *p = &s->projects[s->nprojects++];
	memset(p, 0, sizeof *p);
	p->start = xstrdup(start);
	p->ok = load_config(s, start, &p->cfg, &p->error) == 0;
	p->mtime = mtime_of(p->cfg.path);
	if (!p->ok)
		server_show(s, 1, "spipfix: the configuration cannot be used (the defaults apply until it is fixed): %s",
			    p->error ? p->error : "see the server log");
	return p;
}

/* ---- documents ------------------------------------------------------------------------------ */

struct doc *server_doc(struct server *s, const char *uri)
{
	for (size_t i = 0; uri && i < s->ndocs; i++)
		if (!strcmp(s->docs[i]->uri, uri))
			return s->docs[i];
	return NULL;
}

static void release_analysis(struct doc *d)
{
	if (d->analysed)
		unit_free(&d->unit);
	free(d->abuf);
	d->abuf = NULL;
	lsp_lines_free(&d->lines);
	d->analysed = false;
}

static void doc_free(struct doc *d)
{
	release_analysis(d);
	free(d->uri);
	free(d->path);
	free(d->name);
	free(d->text);
	free(d);
}

/* Analyse d's text as it is now, with the settings that apply to it. */
/* CPU seconds of this process (the -v log gives both: the machine may be busy). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void analyse(struct server *s, struct doc *d)
{
	double t0 = cli_now(), c0 = cpu_now();
	release_analysis(d);
	/* the project: the pyproject.toml above the file (else above the first workspace folder) */
	char *start = NULL;
	if (d->path) {
		start = xstrdup(d->path);
		char *slash = strrchr(start, '/');
		if (slash)
			slash[slash == start ? 1 : 0] = 0;
	} else {
		start = xstrdup(s->nfolders && s->folders[0].path ? s->folders[0].path : ".");
	}
	const struct project *p = project_for(s, start);
	free(start);
	struct config none = {.unsafe_fixes = -1, .respect_gitignore = -1, .force_exclude = -1};
	/* the editor's settings over it, as a command line */
	const struct settings *st = settings_for(s, d);
	struct cli cl = {.unsafe_fixes = st->unsafe_fixes, .respect_gitignore = -1, .force_exclude = -1, .include_tests = -1};
	cl.have_select = st->have_select;
	copy_list(&cl.select, &st->select);
	copy_list(&cl.ignore, &st->ignore);
	struct options o = {.mode = MODE_REPORT};
	if (options_resolve(&o, &cl, p && p->ok ? &p->cfg : &none) < 0)
		server_log(s, "out of memory while resolving the settings");
	d->excluded = o.force_exclude && d->path && path_excluded(&o, d->path);
	select_for(&o, d->name, d->sel);
	d->ec = check_engine_config(&o, d->sel);
	options_release(&o);
	cli_free(&cl);

	d->abuf = malloc(d->len + 1);
	if (!d->abuf || lsp_lines_build(&d->lines, d->text, d->len) < 0) {
		server_log(s, "out of memory analysing %s", d->uri);
		free(d->abuf);
		d->abuf = NULL;
		d->dirty = false; /* not again until it changes */
		return;
	}
	memcpy(d->abuf, d->text, d->len + 1);
	d->alen = d->len;
	d->aversion = d->version;
	if (d->excluded)
		d->arc = unit_init(&d->unit, d->name, d->abuf, d->alen);
	else
		d->arc = engine_analyse(&d->ec, &d->unit, d->name, d->abuf, d->alen);
	d->analysed = true;
	d->dirty = false;
	if (s->verbose)
		server_log(s, "analysed %s version %ld in %.1f ms (%.1f ms CPU): %s", d->name, d->version,
			   (cli_now() - t0) * 1e3, (cpu_now() - c0) * 1e3,
			   d->excluded ? "excluded" : d->arc < 0 ? (d->unit.error ? d->unit.error : "failed") : "ok");
}

static void publish(struct server *s, struct doc *d)
{
	json_t *diags = d->analysed ? actions_diagnostics(s, d) : json_array();
	notify(s, "textDocument/publishDiagnostics",
	       json_pack("{s:s,s:I,s:o}", "uri", d->uri, "version", (json_int_t)d->aversion, "diagnostics",
			 diags ? diags : json_array()));
}

void server_ensure_analysed(struct server *s, struct doc *d)
{
	if (!d->analysed || d->dirty) {
		analyse(s, d);
		publish(s, d);
	}
}

static void mark_all_dirty(struct server *s)
{
	double now = cli_now();
	for (size_t i = 0; i < s->ndocs; i++)
		if (s->docs[i]->python) {
			s->docs[i]->dirty = true;
			s->docs[i]->due = now;
		}
}

/* Replace [a, b) of d's text with t[0, n). */
static int text_splice(struct doc *d, size_t a, size_t b, const char *t, size_t n)
{
	size_t len = d->len - (b - a) + n;
	char *nt = malloc(len + 1);
	if (!nt)
		return -1;
	memcpy(nt, d->text, a);
	memcpy(nt + a, t, n);
	memcpy(nt + a + n, d->text + b, d->len - b);
	nt[len] = 0;
	free(d->text);
	d->text = nt;
	d->len = len;
	return 0;
}

/* ---- the rule texts that codeDescription links to ------------------------------------------ */

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			int rc = mkdir(path, 0755);
			*p = '/';
			if (rc < 0 && errno != EEXIST)
				return -1;
		}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Write `spipfix rule CODE` of every rule as <cache>/spipfix/<version>/rules/CODE.md; the
 * folder, or NULL when it cannot be written (diagnostics then carry no codeDescription). */
static char *write_rule_texts(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *dir = xdg && *xdg ? xprintf("%s/spipfix/%s/rules", xdg, SPIPFIX_VERSION)
		    : home && *home ? xprintf("%s/.cache/spipfix/%s/rules", home, SPIPFIX_VERSION)
				    : NULL;
	if (!dir || mkdirs(dir) < 0) {
		free(dir);
		return NULL;
	}
	for (const struct pass *const *p = pass_registry; *p; p++) {
		char *file = xprintf("%s/%s.md", dir, (*p)->code), *tmp = xprintf("%s.%ld", file, (long)getpid());
		FILE *f = fopen(tmp, "w");
		bool ok = f != NULL;
		if (f) {
			rule_print_text(f, *p);
			ok = fclose(f) == 0 && rename(tmp, file) == 0;
		}
		if (!ok)
			unlink(tmp);
		free(file);
		free(tmp);
		if (!ok) {
			free(dir);
			return NULL;
		}
	}
	return dir;
}

/* ---- the lifecycle -------------------------------------------------------------------------- */

static void add_folder(struct server *s, const char *uri)
{
	for (size_t i = 0; i < s->nfolders; i++)
		if (!strcmp(s->folders[i].uri, uri))
			return;
	struct folder *nf = realloc(s->folders, (s->nfolders + 1) * sizeof *nf);
	if (!nf)
		return;
	s->folders = nf;
	struct folder *f = &s->folders[s->nfolders++];
	memset(f, 0, sizeof *f);
	f->uri = xstrdup(uri);
	f->path = uri_path(uri);
	f->settings.unsafe_fixes = -1;
}

static void remove_folder(struct server *s, const char *uri)
{
	for (size_t i = 0; i < s->nfolders; i++)
		if (!strcmp(s->folders[i].uri, uri)) {
			free(s->folders[i].uri);
			free(s->folders[i].path);
			settings_free(&s->folders[i].settings);
			s->folders[i] = s->folders[--s->nfolders];
			return;
		}
}

/* Ask the client for the settings of each workspace folder (workspace/configuration). */
static void ask_configuration(struct server *s)
{
	if (!s->client_configuration || s->state != S_RUNNING)
		return;
	json_t *items = json_array();
	for (size_t i = 0; i < s->nfolders; i++)
		json_array_append_new(items, json_pack("{s:s,s:s}", "scopeUri", s->folders[i].uri, "section", "spipfix"));
	json_array_append_new(items, json_pack("{s:s}", "section", "spipfix")); /* the global ones, last */
	request(s, "workspace/configuration", json_pack("{s:o}", "items", items), PENDING_CONFIGURATION);
}

static json_t *initialize(struct server *s, json_t *params)
{
	json_t *caps = jget(params, "capabilities");
	json_t *encodings = jget(jget(caps, "general"), "positionEncodings");
	bool clangd_utf8 = jarray_has(jget(caps, "offsetEncoding"), "utf-8"); /* the extension before 3.17 */
	s->enc = jarray_has(encodings, "utf-8") || clangd_utf8 ? LSP_UTF8 : LSP_UTF16;
	s->client_configuration = jtrue(jget(caps, "workspace"), "configuration");
	s->document_changes = jtrue(jget(jget(caps, "workspace"), "workspaceEdit"), "documentChanges");
	s->resolve_edit = jarray_has(jget(jget(jget(jget(caps, "textDocument"), "codeAction"), "resolveSupport"), "properties"),
				     "edit");
	json_t *folders = jget(params, "workspaceFolders");
	size_t i;
	json_t *f;
	json_array_foreach(folders, i, f) if (jstr(f, "uri")) add_folder(s, jstr(f, "uri"));
	if (!s->nfolders && jstr(params, "rootUri"))
		add_folder(s, jstr(params, "rootUri"));
	else if (!s->nfolders && jstr(params, "rootPath")) {
		char *u = server_file_uri(jstr(params, "rootPath"));
		if (u)
			add_folder(s, u);
		free(u);
	}
	settings_parse(s, jget(params, "initializationOptions"), &s->global, "initializationOptions");
	s->rules_dir = write_rule_texts();
	s->state = S_RUNNING;
	const char *enc = s->enc == LSP_UTF8 ? "utf-8" : "utf-16";
	json_t *result = json_pack(
		"{s:{s:s,s:{s:b,s:i,s:{s:b}},s:{s:[s,s,s],s:b},s:{s:[s]},s:{s:{s:b,s:b}}},s:{s:s,s:s}}", "capabilities",
		"positionEncoding", enc, "textDocumentSync", "openClose", 1, "change", 2, "save", "includeText", 0,
		"codeActionProvider", "codeActionKinds", "quickfix", "source.fixAll", "source.fixAll.spipfix",
		"resolveProvider", 1, "executeCommandProvider", "commands", "spipfix.applyAutofix", "workspace",
		"workspaceFolders", "supported", 1, "changeNotifications", 1, "serverInfo", "name", "spipfix", "version",
		SPIPFIX_VERSION);
	if (clangd_utf8 && result)
		json_object_set_new(result, "offsetEncoding", json_string(enc));
	return result;
}

/* ---- the handlers --------------------------------------------------------------------------- */

static void did_open(struct server *s, json_t *p)
{
	json_t *td = jget(p, "textDocument");
	const char *uri = jstr(td, "uri");
	json_t *text = jget(td, "text");
	if (!uri || !json_is_string(text)) {
		server_log(s, "didOpen without a textDocument uri and text; ignored");
		return;
	}
	struct doc *d = server_doc(s, uri);
	if (!d) {
		struct doc **nd = realloc(s->docs, (s->ndocs + 1) * sizeof *nd);
		d = xcalloc(1, sizeof *d);
		if (!nd) {
			free(d);
			return;
		}
		s->docs = nd;
		s->docs[s->ndocs++] = d;
		d->uri = xstrdup(uri);
		d->path = uri_path(uri);
		d->name = xstrdup(d->path ? d->path : uri);
	}
	free(d->text);
	d->len = json_string_length(text);
	d->text = xcalloc(1, d->len + 1);
	memcpy(d->text, json_string_value(text), d->len);
	d->version = (long)json_integer_value(jget(td, "version"));
	const char *lang = jstr(td, "languageId");
	d->python = (lang && !strcmp(lang, "python")) || (d->path && (ends_with(d->path, ".py") || ends_with(d->path, ".pyi")));
	d->dirty = d->python;
	d->due = cli_now(); /* opening a file: analysed at once */
}

static void did_change(struct server *s, json_t *p)
{
	json_t *td = jget(p, "textDocument");
	struct doc *d = server_doc(s, jstr(td, "uri"));
	json_t *changes = jget(p, "contentChanges");
	if (!d || !json_is_array(changes)) {
		server_log(s, "didChange of a document that is not open, or without contentChanges; ignored");
		return;
	}
	size_t i;
	json_t *c;
	json_array_foreach(changes, i, c)
	{
		json_t *text = jget(c, "text"), *range = jget(c, "range");
		if (!json_is_string(text))
			continue;
		const char *t = json_string_value(text);
		size_t n = json_string_length(text);
		if (!json_is_object(range)) { /* the whole text */
			if (text_splice(d, 0, d->len, t, n) < 0)
				server_log(s, "out of memory");
			continue;
		}
		struct lsp_lines l = {0};
		if (lsp_lines_build(&l, d->text, d->len) < 0)
			continue;
		json_t *a = jget(range, "start"), *b = jget(range, "end");
		size_t x = lsp_offset(&l, d->text, d->len, (unsigned long)json_integer_value(jget(a, "line")),
				      (unsigned long)json_integer_value(jget(a, "character")), s->enc);
		size_t y = lsp_offset(&l, d->text, d->len, (unsigned long)json_integer_value(jget(b, "line")),
				      (unsigned long)json_integer_value(jget(b, "character")), s->enc);
		lsp_lines_free(&l);
		if (y < x) {
			size_t z = x;
			x = y;
			y = z;
		}
		if (text_splice(d, x, y, t, n) < 0)
			server_log(s, "out of memory");
	}
	if (json_is_integer(jget(td, "version")))
		d->version = (long)json_integer_value(jget(td, "version"));
	/* a change after a pause is analysed at once; one that follows another within the debounce
	 * (a burst: typing fast, a paste, an editor's several edits) waits until the burst pauses */
	double now = cli_now();
	d->due = now - d->last_change < s->debounce ? now + s->debounce : now;
	d->last_change = now;
	d->dirty = d->python;
}

static void did_close(struct server *s, json_t *p)
{
	const char *uri = jstr(jget(p, "textDocument"), "uri");
	for (size_t i = 0; uri && i < s->ndocs; i++)
		if (!strcmp(s->docs[i]->uri, uri)) {
			notify(s, "textDocument/publishDiagnostics", json_pack("{s:s,s:[]}", "uri", uri, "diagnostics"));
			doc_free(s->docs[i]);
			s->docs[i] = s->docs[--s->ndocs];
			return;
		}
}

static void did_save(struct server *s, json_t *p)
{
	const char *uri = jstr(jget(p, "textDocument"), "uri");
	if (uri && ends_with(uri, "/pyproject.toml")) {
		projects_flush(s);
		mark_all_dirty(s);
		return;
	}
	struct doc *d = server_doc(s, uri);
	if (d && d->python) {
		d->dirty = true;
		d->due = cli_now();
	}
}

static void did_change_configuration(struct server *s, json_t *p)
{
	json_t *v = jget(p, "settings");
	if (json_is_object(v))
		settings_parse(s, v, &s->global, "settings");
	ask_configuration(s);
	mark_all_dirty(s);
}

static void did_change_folders(struct server *s, json_t *p)
{
	json_t *ev = jget(p, "event");
	size_t i;
	json_t *f;
	json_array_foreach(jget(ev, "removed"), i, f) if (jstr(f, "uri")) remove_folder(s, jstr(f, "uri"));
	json_array_foreach(jget(ev, "added"), i, f) if (jstr(f, "uri")) add_folder(s, jstr(f, "uri"));
	ask_configuration(s);
	mark_all_dirty(s);
}

static void did_change_watched(struct server *s, json_t *p)
{
	size_t i;
	json_t *c;
	json_array_foreach(jget(p, "changes"), i, c) if (jstr(c, "uri") && ends_with(jstr(c, "uri"), "/pyproject.toml"))
	{
		projects_flush(s);
		mark_all_dirty(s);
		return;
	}
}

/* A response to a request of ours. */
static void handle_response(struct server *s, json_t *m)
{
	json_t *id = jget(m, "id");
	for (size_t i = 0; i < s->npending; i++) {
		if (!json_is_integer(id) || json_integer_value(id) != s->pending[i].id)
			continue;
		struct pending pd = s->pending[i];
		s->pending[i] = s->pending[--s->npending];
		json_t *err = jget(m, "error");
		if (err) {
			server_log(s, "the client answered request %ld with an error: %s", pd.id,
				   jstr(err, "message") ? jstr(err, "message") : "?");
			return;
		}
		json_t *res = jget(m, "result");
		if (pd.kind == PENDING_CONFIGURATION && json_is_array(res)) {
			/* one item per folder (as they were when asked), then the global one */
			size_t n = json_array_size(res);
			for (size_t k = 0; k < s->nfolders && k + 1 < n; k++) {
				struct folder *f = &s->folders[k];
				json_t *v = json_array_get(res, k);
				f->have_settings = json_is_object(v);
				settings_parse(s, v, &f->settings, "workspace/configuration");
			}
			if (n && json_is_object(json_array_get(res, n - 1)))
				settings_parse(s, json_array_get(res, n - 1), &s->global, "workspace/configuration");
			mark_all_dirty(s);
		} else if (pd.kind == PENDING_APPLY_EDIT && !jtrue(res, "applied")) {
			server_log(s, "the client did not apply the edit: %s",
				   jstr(res, "failureReason") ? jstr(res, "failureReason") : "no reason given");
		}
		return;
	}
	server_log(s, "a response to no request of ours; ignored");
}

/* Was request `id` cancelled by a $/cancelRequest still in the queue? */
static bool cancelled(struct server *s, json_t *id)
{
	for (size_t i = 0; i < s->nqueue; i++) {
		json_t *m = s->queue[i];
		const char *method = jstr(m, "method");
		if (method && !strcmp(method, "$/cancelRequest") && json_equal(jget(jget(m, "params"), "id"), id))
			return true;
	}
	return false;
}

static void execute_command(struct server *s, json_t *id, json_t *p)
{
	const char *cmd = jstr(p, "command");
	if (!cmd || strcmp(cmd, "spipfix.applyAutofix")) {
		respond_error(s, id, E_PARAMS, "unknown command (spipfix.applyAutofix is the one)");
		return;
	}
	json_t *arg = json_array_get(jget(p, "arguments"), 0);
	struct doc *d = server_doc(s, jstr(arg, "uri"));
	if (!d) {
		respond_error(s, id, E_PARAMS, "spipfix.applyAutofix: arguments[0].uri names no open document");
		return;
	}
	if (json_is_integer(jget(arg, "version")) && json_integer_value(jget(arg, "version")) != d->version) {
		respond_error(s, id, E_CONTENT_MODIFIED, "the document changed");
		return;
	}
	const char *why = NULL;
	json_t *edit = actions_fix_all(s, d, &why);
	respond(s, id, NULL);
	if (edit)
		request(s, "workspace/applyEdit", json_pack("{s:s,s:o}", "label", "spipfix: apply all fixes", "edit", edit),
			PENDING_APPLY_EDIT);
	else if (why)
		server_show(s, 3, "spipfix: %s", why);
}

static void handle_request(struct server *s, json_t *id, const char *method, json_t *params)
{
	if (cancelled(s, id)) {
		respond_error(s, id, E_CANCELLED, "cancelled");
		return;
	}
	if (!strcmp(method, "initialize")) {
		if (s->state != S_NEW) {
			respond_error(s, id, E_INVALID_REQUEST, "initialize was already received");
			return;
		}
		if (!json_is_object(params)) {
			respond_error(s, id, E_PARAMS, "initialize needs its params object");
			return;
		}
		respond(s, id, initialize(s, params));
		return;
	}
	if (s->state == S_NEW) {
		respond_error(s, id, E_NOT_INITIALIZED, "the server is not initialized yet");
		return;
	}
	if (s->state == S_SHUTDOWN) {
		respond_error(s, id, E_INVALID_REQUEST, "the server is shutting down");
		return;
	}
	if (!strcmp(method, "shutdown")) {
		s->state = S_SHUTDOWN;
		respond(s, id, NULL);
	} else if (!strcmp(method, "textDocument/codeAction")) {
		const char *uri = jstr(jget(params, "textDocument"), "uri");
		if (!uri || !json_is_object(jget(params, "range"))) {
			respond_error(s, id, E_PARAMS, "textDocument/codeAction needs textDocument.uri and range");
			return;
		}
		struct doc *d = server_doc(s, uri);
		if (!d || !d->python) {
			respond(s, id, json_array());
			return;
		}
		server_ensure_analysed(s, d);
		int code = 0;
		const char *msg = NULL;
		json_t *r = actions_code_actions(s, d, params, &code, &msg);
		if (r)
			respond(s, id, r);
		else
			respond_error(s, id, code ? code : E_INTERNAL, msg ? msg : "cannot compute the code actions");
	} else if (!strcmp(method, "codeAction/resolve")) {
		int code = 0;
		const char *msg = NULL;
		json_t *r = json_is_object(params) ? actions_resolve(s, params, &code, &msg) : NULL;
		if (r)
			respond(s, id, r);
		else
			respond_error(s, id, code ? code : E_PARAMS, msg ? msg : "codeAction/resolve needs a code action");
	} else if (!strcmp(method, "workspace/executeCommand")) {
		execute_command(s, id, params);
	} else {
		char m[160];
		snprintf(m, sizeof m, "unknown method `%.100s`", method);
		respond_error(s, id, E_METHOD, m);
	}
}

static void handle_notification(struct server *s, const char *method, json_t *params)
{
	if (s->state != S_RUNNING)
		return; /* before initialize, or after shutdown: only exit counts */
	if (!strcmp(method, "initialized")) {
		char *m = xprintf("spipfix %s, %zu workspace folder(s), positions in %s", SPIPFIX_VERSION, s->nfolders,
				  s->enc == LSP_UTF8 ? "UTF-8" : "UTF-16");
		notify(s, "window/logMessage", json_pack("{s:i,s:s}", "type", 3, "message", m));
		if (s->verbose)
			server_log(s, "%s", m);
		free(m);
		ask_configuration(s);
	} else if (!strcmp(method, "textDocument/didOpen"))
		did_open(s, params);
	else if (!strcmp(method, "textDocument/didChange"))
		did_change(s, params);
	else if (!strcmp(method, "textDocument/didSave"))
		did_save(s, params);
	else if (!strcmp(method, "textDocument/didClose"))
		did_close(s, params);
	else if (!strcmp(method, "workspace/didChangeConfiguration"))
		did_change_configuration(s, params);
	else if (!strcmp(method, "workspace/didChangeWorkspaceFolders"))
		did_change_folders(s, params);
	else if (!strcmp(method, "workspace/didChangeWatchedFiles"))
		did_change_watched(s, params);
	/* $/cancelRequest is read from the queue; $/setTrace and the rest need nothing */
}

/* One message; returns false when the server is to exit (*rc set). */
static bool handle(struct server *s, json_t *m, int *rc)
{
	if (!json_is_object(m)) {
		respond_error(s, NULL, E_INVALID_REQUEST, "a JSON-RPC message is an object");
		return true;
	}
	json_t *id = jget(m, "id");
	const char *method = jstr(m, "method");
	const char *version = jstr(m, "jsonrpc");
	bool id_ok = id && (json_is_integer(id) || json_is_string(id));
	if ((jget(m, "jsonrpc") && (!version || strcmp(version, "2.0"))) || (id && !id_ok && !json_is_null(id))) {
		respond_error(s, id_ok ? id : NULL, E_INVALID_REQUEST, "not a JSON-RPC 2.0 message");
		return true;
	}
	if (!method) {
		if (id && (jget(m, "result") || jget(m, "error")))
			handle_response(s, m);
		else
			respond_error(s, id_ok ? id : NULL, E_INVALID_REQUEST, "a request or notification needs a method");
		return true;
	}
	if (!strcmp(method, "exit")) {
		*rc = s->state == S_SHUTDOWN ? 0 : 1;
		return false;
	}
	if (id_ok)
		handle_request(s, id, method, jget(m, "params"));
	else
		handle_notification(s, method, jget(m, "params"));
	return true;
}

/* ---- the loop ------------------------------------------------------------------------------- */

/* Parse what was read into the queue; malformed messages are answered at once. */
static void read_messages(struct server *s)
{
	for (;;) {
		json_t *m;
		struct lsp_frame_error err;
		enum lsp_frame f = lsp_reader_next(&s->in, &m, &err);
		if (f == LSP_FRAME_MORE)
			return;
		if (f == LSP_FRAME_ERROR) {
			server_log(s, "malformed message: %s", err.message);
			respond_error(s, NULL, err.code, err.message);
			continue;
		}
		if (s->nqueue == s->capqueue) {
			size_t cap = s->capqueue ? s->capqueue * 2 : 16;
			json_t **nq = realloc(s->queue, cap * sizeof *nq);
			if (!nq) {
				json_decref(m);
				continue;
			}
			s->queue = nq;
			s->capqueue = cap;
		}
		s->queue[s->nqueue++] = m;
	}
}

/* Read what the client has sent, waiting at most timeout ms (-1: until something comes), then
 * all that is there without waiting. */
static void receive(struct server *s, int timeout)
{
	for (int round = 0; !s->in.eof && round < 256; round++) {
		struct pollfd pf = {.fd = s->in.fd, .events = POLLIN};
		if (poll(&pf, 1, round ? 0 : timeout) <= 0)
			break;
		if (lsp_reader_fill(&s->in) > 0)
			s->last_input = cli_now();
	}
	read_messages(s);
}

/* Is part of a message read and the rest still coming (bytes arrived lately)? */
static bool arriving(const struct server *s)
{
	return !s->in.eof && (s->in.start < s->in.len || s->in.skip) && cli_now() - s->last_input < 0.5;
}

/* Has a change or close of d come in (while it was analysed)? A message still arriving is read
 * to its end first. */
static bool superseded(struct server *s, const struct doc *d)
{
	receive(s, 0);
	for (double until = cli_now() + 2.0; arriving(s) && cli_now() < until;)
		receive(s, 20);
	for (size_t i = 0; i < s->nqueue; i++) {
		const char *method = jstr(s->queue[i], "method");
		const char *uri = jstr(jget(jget(s->queue[i], "params"), "textDocument"), "uri");
		if (method && uri && (!strcmp(method, "textDocument/didChange") || !strcmp(method, "textDocument/didClose")) &&
		    !strcmp(uri, d->uri))
			return true;
	}
	return false;
}

static void server_free(struct server *s)
{
	for (size_t i = 0; i < s->ndocs; i++)
		doc_free(s->docs[i]);
	free(s->docs);
	for (size_t i = 0; i < s->nfolders; i++) {
		free(s->folders[i].uri);
		free(s->folders[i].path);
		settings_free(&s->folders[i].settings);
	}
	free(s->folders);
	settings_free(&s->global);
	projects_flush(s);
	for (size_t i = 0; i < s->nqueue; i++)
		json_decref(s->queue[i]);
	free(s->queue);
	free(s->pending);
	free(s->rules_dir);
	lsp_reader_free(&s->in);
}

static int usage(FILE *out, int rc)
{
	fputs("Usage: spipfix server [-v]\n\n"
	      "A language server (LSP 3.17) on stdin and stdout: diagnostics as you type, quick fixes and\n"
	      "`source.fixAll.spipfix` as code actions, settings from each workspace folder's pyproject.toml\n"
	      "and from the editor (select, ignore, unsafe-fixes, target-version). The log goes to stderr.\n\n"
	      "  -v, --verbose   Log each analysis and its time\n"
	      "  -h, --help      Print this help\n",
	      out);
	return rc;
}

int server_main(int argc, char **argv)
{
	struct server s = {.in = {.fd = STDIN_FILENO}, .debounce = DEBOUNCE, .global = {.unsafe_fixes = -1}};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			s.verbose = true;
		else {
			fprintf(stderr, "error: server: unexpected argument `%s`\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* the protocol keeps stdout; anything else written to fd 1 goes to stderr */
	fflush(stdout);
	s.out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (s.out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		fprintf(stderr, "error: server: cannot set up stdout: %s\n", strerror(errno));
		return 2;
	}
	int rc = 1;
	for (;;) {
		/* wait for input until the earliest analysis is due */
		double now = cli_now();
		struct doc *next = NULL;
		for (size_t i = 0; s.state == S_RUNNING && i < s.ndocs; i++)
			if (s.docs[i]->dirty && (!next || s.docs[i]->due < next->due))
				next = s.docs[i];
		int timeout = s.nqueue ? 0 : next ? (next->due > now ? (int)((next->due - now) * 1000) + 1 : 0) : -1;
		if (arriving(&s) && (timeout < 0 || timeout > 20))
			timeout = 20; /* a message is half read: finish it before anything is analysed */
		receive(&s, timeout);
		if (s.in.eof && !s.nqueue) {
			server_log(&s, "the client closed the input without `exit`");
			break;
		}
		if (s.nqueue) {
			json_t *m = s.queue[0];
			memmove(s.queue, s.queue + 1, (--s.nqueue) * sizeof *s.queue);
			bool go_on = handle(&s, m, &rc);
			json_decref(m);
			if (!go_on)
				break;
			continue; /* everything that came in before any analysis */
		}
		now = cli_now();
		if (next && next->due <= now && s.state == S_RUNNING && !arriving(&s)) {
			analyse(&s, next);
			if (superseded(&s, next)) {
				if (s.verbose)
					server_log(&s, "analysis of %s version %ld superseded by a newer change; not published",
						   next->name, next->aversion);
				next->dirty = true;
			} else {
				publish(&s, next);
			}
		}
	}
	server_free(&s);
	bridge_fini();
	close(s.out);
	return rc;
}
