/* `spipfix server`: the Language Server Protocol 3.17 over stdio, on the engine. server.c holds
 * the loop, the lifecycle, the documents and their settings; actions.c turns an analysis into
 * diagnostics, code actions and edits. */
#ifndef SPIPFIX_SERVER_H
#define SPIPFIX_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "engine.h"
#include "message.h"
#include "position.h"
#include "unit.h"

/* What an editor's settings say (initializationOptions, workspace/configuration), applied over
 * the project's pyproject.toml as the command line is. */
struct settings {
	bool have_select;
	struct strlist select, ignore;
	int unsafe_fixes;    /* -1 unset */
	char *target_version;
};

struct folder {
	char *uri, *path;    /* path NULL when the URI is not file: */
	struct settings settings;
	bool have_settings;  /* from workspace/configuration */
};

/* One open document and its last analysis. */
struct doc {
	char *uri;
	char *path;          /* the file's absolute path, or NULL (an untitled buffer) */
	char *name;          /* what the engine calls it: the path, else the URI */
	bool python;
	char *text;          /* the editor's text (UTF-8), NUL-terminated */
	size_t len;
	long version;
	bool dirty;          /* text or settings changed since the last analysis */
	double due;          /* when to analyse it (debounce) */
	double last_change;  /* when the last didChange came */
	/* the last analysis, of abuf (a copy of text at version aversion) */
	bool analysed;
	int arc;             /* engine_analyse's result: 0, or -1 with unit.error */
	bool excluded;       /* force-exclude: analysed as nothing */
	struct unit unit;
	char *abuf;
	size_t alen;
	long aversion;
	struct lsp_lines lines; /* of abuf */
	const char *sel[MAX_PASSES + 1];
	struct engine_config ec;
};

/* A request of ours the client has not answered yet. */
struct pending {
	long id;
	enum { PENDING_CONFIGURATION, PENDING_APPLY_EDIT } kind;
};

/* A pyproject.toml as read from one folder, kept while the file does not change. */
struct project {
	char *start;         /* the folder the search started from */
	struct config cfg;
	bool ok;             /* false: the configuration has an error (defaults used) */
	char *error;         /* what config_load said */
	struct timespec mtime;
};

struct server {
	struct lsp_reader in;
	int out;             /* the protocol's descriptor (stdout; fd 1 itself now points at stderr) */
	enum { S_NEW, S_RUNNING, S_SHUTDOWN } state;
	bool verbose;
	enum lsp_encoding enc;
	/* what the client can do */
	bool client_configuration, resolve_edit, document_changes;
	struct settings global;
	struct folder *folders;
	size_t nfolders;
	struct doc **docs;
	size_t ndocs;
	struct project *projects;
	size_t nprojects;
	json_t **queue;      /* messages read, not yet handled */
	size_t nqueue, capqueue;
	struct pending *pending;
	size_t npending;
	long next_id;
	char *rules_dir;     /* where the text of `spipfix rule CODE` is written, for codeDescription */
	double debounce;     /* seconds between a change and its analysis */
	double last_input;   /* when bytes last came in */
	char why[300];       /* the reason of the last refused edit */
};

/* server.c */
void server_send(struct server *s, json_t *msg);          /* steals msg */
void server_log(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void server_show(struct server *s, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Analyse d now if it is not up to date (and publish its diagnostics). */
void server_ensure_analysed(struct server *s, struct doc *d);
struct doc *server_doc(struct server *s, const char *uri);
char *server_file_uri(const char *path);

/* actions.c */
/* The diagnostics of d's analysis, as publishDiagnostics carries them. New reference. */
json_t *actions_diagnostics(struct server *s, struct doc *d);
/* textDocument/codeAction: the result (a new reference), or NULL with *code and *msg set. */
json_t *actions_code_actions(struct server *s, struct doc *d, json_t *params, int *code, const char **msg);
/* codeAction/resolve: the action with its edit (a new reference), or NULL with *code and *msg. */
json_t *actions_resolve(struct server *s, json_t *action, int *code, const char **msg);
/* The WorkspaceEdit of every fix --fix applies to d, NULL when there is none (with *why). New
 * reference. */
json_t *actions_fix_all(struct server *s, struct doc *d, const char **why);

#endif
