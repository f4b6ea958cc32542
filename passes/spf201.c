/* SPF201 constant-argument-call: a call inside a function body whose arguments are all
 * constants and whose callee is a global or builtin name or attribute chain. Reported always;
 * fixed (hoisted to a module constant) only for vetted pure callables with immutable results
 * whose name is the module's own import, never rebound, and whose call evaluated without error
 * at analysis time. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "budget.h"
#include "module.h"
#include "pass.h"
#include "purity.h"
#include "scope.h"

struct hoist {
	TSNode callee, args;
	const char *root;     /* the callee's first name */
	const char *rest;     /* the attribute path after it ("" for a bare name) */
	const char *callee_text;
	struct global_ref ref;
	const char *module, *attrs; /* what bridge_eval_call imports and reads */
	const char *name;           /* the module constant chosen by rewrite */
	const char *qualified;      /* the allow-list entry the callee is */
	const char *args_prefix;    /* a method of a module constant: what builds the constant and
				     * names the method, "(r'\\w+').sub", before the call's arguments */
	TSNode after;               /* a method of a module constant: the statement binding it */
	size_t start;               /* where the call's text starts (the callee) */
};

static const char *text_of(struct unit *u, TSNode n)
{
	return arena_strndup(&u->arena, u->src + ts_node_start_byte(n), syn_len(n));
}

/* Number of arguments when every one is a constant (keywords included), else -1. */
static int constant_args(struct unit *u, TSNode args)
{
	int n = 0;
	uint32_t k = ts_node_named_child_count(args);
	for (uint32_t i = 0; i < k; i++) {
		TSNode a = ts_node_named_child(args, i);
		if (syn_is(a, "comment"))
			continue;
		if (syn_is(a, "keyword_argument"))
			a = syn_field(a, "value");
		if (ts_node_is_null(a) || !module_is_constant_expr(u, a))
			return -1;
		n++;
	}
	return n;
}


/* The bytecode's word: a CALL with `nargs` arguments ends where the call ends; the callee is a
 * LOAD_GLOBAL of root followed by attribute loads; every argument is one LOAD_CONST. Returns
 * NULL when it agrees, else what disagrees. */
static const char *cross_check(struct unit *u, const struct code_info *ci, TSNode call, const struct hoist *h, int nargs)
{
	/* the first CALL ending where the call ends (a `finally` body is compiled twice: the
	 * first copy is checked) */
	int call_at = -1;
	for (size_t i = 0; i < ci->ninsns && call_at < 0; i++)
		if (bridge_op_is_call(ci->insns[i].op) && bridge_insn_ends_at(&ci->insns[i], call))
			call_at = (int)i;
	if (call_at < 0)
		return "no CALL instruction ends where the call ends";
	if (ci->insns[call_at].arg != nargs || !bridge_op_is_call_setup(ci->insns[call_at].op))
		return "the CALL's argument count disagrees with the tree";
	/* LOAD_NAME would be a class body: not a function's call */
	if (ci->kind == CK_CLASS || ci->kind == CK_MODULE)
		return "not inside a function";
	TSPoint cs = ts_node_start_point(h->callee), ce = ts_node_end_point(h->callee);
	int first = bridge_next_insn_in(ci, 0, cs, ce);
	if (first < 0 || first > call_at || !bridge_op_is_global_load(ci->insns[first].op))
		return "the callee is not loaded as a global";
	const char *nm = bridge_insn_name(u, ci, &ci->insns[first]);
	if (!nm || strcmp(nm, h->root) != 0)
		return "the global load names another variable";
	for (int i = first + 1; (i = bridge_next_insn_in(ci, i, cs, ce)) >= 0 && i < call_at; i++)
		if (!bridge_op_is_attr_load(ci->insns[i].op) && !bridge_op_is_call_setup(ci->insns[i].op))
			return "the callee is not a plain attribute chain"; /* KW_NAMES may sit on a method */
	int consts = 0;
	TSPoint as = ts_node_start_point(h->args), ae = ts_node_end_point(h->args);
	for (int i = 0; (i = bridge_next_insn_in(ci, i, as, ae)) >= 0 && i < call_at; i++) {
		if (!bridge_op_is_const_load(ci->insns[i].op))
			return arena_printf(&u->arena, "an argument is computed (%s), not a constant",
					    bridge_opname(ci->insns[i].op));
		consts++;
	}
	if (consts != nargs)
		return "the arguments are not one LOAD_CONST each";
	return NULL;
}

/* ---- the pass's memo ------------------------------------------------------------------------ */

struct assigns;

/* u->pass_state while SPF201 runs */
struct state {
	struct assigns *assigns;  /* the module's `NAME = value` statements by value (assigns_of) */
	bool have_aliases;
	struct alias *aliases;    /* the names `import ... as NAME` binds anywhere in the file, sorted */
	size_t naliases, cap;
};

struct alias {
	const char *name;
	size_t len;
};

static int cmp_alias(const void *pa, const void *pb)
{
	const struct alias *a = pa, *b = pb;
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static struct state *state_of(struct unit *u)
{
	if (!u->pass_state) {
		struct state *st = arena_alloc(&u->arena, sizeof *st);
		if (st)
			memset(st, 0, sizeof *st);
		u->pass_state = st;
	}
	return u->pass_state;
}

struct alias_walk {
	struct unit *u;
	struct state *st;
	bool failed;
};

/* Descends statements only: an import is a statement, never inside an expression. */
static int collect_alias(TSNode n, void *ctx)
{
	struct alias_walk *w = ctx;
	const char *t = ts_node_type(n);
	if (!strcmp(t, "aliased_import")) {
		TSNode al = syn_field(n, "alias");
		struct state *st = w->st;
		if (ts_node_is_null(al))
			return 0;
		if (st->naliases == st->cap) {
			size_t ncap = st->cap ? st->cap * 2 : 16;
			struct alias *nv = arena_grow(&w->u->arena, st->aliases, sizeof *nv, st->naliases, ncap);
			if (!nv) {
				w->failed = true;
				return -1;
			}
			st->aliases = nv;
			st->cap = ncap;
		}
		st->aliases[st->naliases++] = (struct alias){w->u->src + ts_node_start_byte(al), syn_len(al)};
		return 0;
	}
	return !strcmp(t, "module") || !strcmp(t, "block") || strstr(t, "statement") || strstr(t, "definition") ||
	       strstr(t, "clause");
}

/* Could the callee resolve to a callable SPF201 reports? Its last name is the last name of such
 * a callable, or (a bare name) an alias an import binds: `from re import compile as rc`. What
 * fails here check would drop after resolving the name; asked before any bytecode, it keeps a
 * file without such a call from being compiled. */
static bool maybe_hoistable(struct unit *u, const struct hoist *h, TSNode root)
{
	const char *last = *h->rest ? strrchr(h->rest, '.') : NULL;
	const char *name = *h->rest ? (last ? last + 1 : h->rest) : u->src + ts_node_start_byte(root);
	size_t len = *h->rest ? strlen(name) : syn_len(root);
	if (purity_hoistable_name(name, len))
		return true;
	if (*h->rest)
		return false;
	struct state *st = state_of(u);
	if (!st)
		return true;
	if (!st->have_aliases) {
		struct alias_walk w = {u, st, false};
		syn_walk(u->root, collect_alias, &w);
		if (w.failed)
			return true; /* out of memory: ask the bytecode */
		if (st->naliases > 1)
			qsort(st->aliases, st->naliases, sizeof *st->aliases, cmp_alias);
		st->have_aliases = true;
	}
	struct alias key = {name, len};
	return st->naliases && bsearch(&key, st->aliases, st->naliases, sizeof *st->aliases, cmp_alias);
}

static int find(struct unit *u, const struct pass *self, TSNode call)
{
	TSNode scope = scope_parent(u, call);
	if (!scope_is_function_like(u, scope))
		return 0;
	struct hoist *h = arena_alloc(&u->arena, sizeof *h);
	if (!h)
		return -1;
	h->callee = syn_field(call, "function");
	/* the grammar reads `*f(x)` in a display as a call whose function is `*f`: the call is
	 * f(x), starting at f */
	if (syn_is(h->callee, "list_splat"))
		h->callee = ts_node_named_child(h->callee, 0);
	h->start = ts_node_start_byte(h->callee);
	h->args = syn_field(call, "arguments");
	int nargs = constant_args(u, h->args);
	TSNode root;
	if (nargs <= 0 || !module_name_chain(u, h->callee, &root, &h->rest) || !(h->root = text_of(u, root)))
		return 0;
	if (!maybe_hoistable(u, h, root))
		return 0;
	TSPoint at = ts_node_start_point(call);
	struct code_info *ci = bridge_code_of(u, scope);
	const char *why = ci ? cross_check(u, ci, call, h, nargs) : "the enclosing code object is not unique";
	if (why) {
		unit_debug(u, self, "%u:%u: dropped call: %s", at.row + 1, at.column + 1, why);
		return 0;
	}
	struct finding *f = unit_add_finding(u, self, call);
	if (!f)
		return -1;
	f->start = h->start;
	unit_position(u, f->start, &f->row, &f->col);
	h->callee_text = text_of(u, h->callee);
	f->node = call;
	f->code = ci;
	f->data = h;
	f->key = arena_strndup(&u->arena, u->src + h->start, ts_node_end_byte(call) - h->start);
	TSNode outer = scope_enclosing_def(u, call);
	const char *where = ts_node_is_null(outer) ? "a lambda" :
			    arena_printf(&u->arena, "`%.*s`", (int)syn_len(syn_field(outer, "name")),
					 u->src + ts_node_start_byte(syn_field(outer, "name")));
	f->message = arena_printf(&u->arena, "Call `%s` computes the same value on every call of %s",
				  module_excerpt_text(u, f->key, strlen(f->key), 48), where);
	f->facts = arena_printf(&u->arena, "code=%s CALL argc=%d callee=LOAD_GLOBAL %s%s%s args=LOAD_CONST x%d",
				ci->qualname, nargs, h->root, *h->rest ? " ." : "", h->rest, nargs);
	return 0;
}

static int none(struct finding *f, const char *why)
{
	f->applicability = FIX_NONE;
	f->reason = why;
	return 1;
}

/* Not a finding: the call is not waste (or not known to be). */
static int drop(struct unit *u, struct finding *f, const char *why)
{
	unit_debug(u, f->pass, "%u:%u: not reported: %s", f->row + 1, f->col + 1, why);
	return 0;
}

static bool builds_raised_exception(TSNode call)
{
	TSNode p = ts_node_parent(call);
	while (syn_is(p, "parenthesized_expression"))
		p = ts_node_parent(p);
	return syn_is(p, "raise_statement");
}

/* The arguments of a module constant's call, `(<constants>)`, when each one is a literal
 * constant (what bridge_eval_call can evaluate); NULL otherwise. */
static const char *literal_args(struct unit *u, TSNode call)
{
	TSNode args = syn_field(call, "arguments");
	return constant_args(u, args) >= 0 ? text_of(u, args) : NULL;
}

/* What the callee is: its qualified name (NULL when it is not known), with h->module/h->attrs
 * set for bridge_eval_call; *no_fix says why a known callee cannot be hoisted as bound. */
static const char *callee_of(struct unit *u, struct hoist *h, const char **no_fix)
{
	*no_fix = NULL;
	const char *dot = *h->rest ? "." : "";
	switch (h->ref.kind) {
	case GK_IMPORT:
		/* import: `module` is what to import; the attributes follow from what the name is */
		h->module = h->ref.module;
		h->attrs = strlen(h->ref.qualified) > strlen(h->ref.module)
				   ? arena_printf(&u->arena, "%s%s%s", h->ref.qualified + strlen(h->ref.module) + 1, dot, h->rest)
				   : h->rest;
		return *h->rest ? arena_printf(&u->arena, "%s.%s", h->ref.qualified, h->rest) : h->ref.qualified;
	case GK_BUILTIN:
		h->module = "builtins";
		h->attrs = arena_printf(&u->arena, "%s%s%s", h->root, dot, h->rest);
		return arena_printf(&u->arena, "builtins.%s%s%s", h->root, dot, h->rest);
	case GK_OTHER: {
		/* a method of a module constant of known type: `_WORD_RE.sub(...)` */
		const char *type = module_constant_type(u, &h->ref);
		if (!type || !*h->rest || strchr(h->rest, '.'))
			return NULL;
		TSNode value = h->ref.value, croot;
		const char *crest;
		struct global_ref cref;
		const char *cname;
		if (!module_name_chain(u, syn_field(value, "function"), &croot, &crest) || !(cname = text_of(u, croot)) ||
		    module_resolve(u, cname, &cref) < 0 || cref.kind != GK_IMPORT)
			return NULL;
		const char *pattern = literal_args(u, value);
		if (!pattern)
			*no_fix = arena_printf(&u->arena, "`%s` is built from arguments that are not all literal constants, "
							  "so the call cannot be evaluated at analysis time", h->root);
		h->module = cref.module;
		h->attrs = strlen(cref.qualified) > strlen(cref.module) ? cref.qualified + strlen(cref.module) + 1 : crest;
		h->args_prefix = pattern ? arena_printf(&u->arena, "%s.%s", pattern, h->rest) : NULL;
		h->after = h->ref.stmt;
		return arena_printf(&u->arena, "%s.%s", type, h->rest);
	}
	case GK_STAR:
	case GK_REBOUND:
	case GK_CONDITIONAL: {
		/* known only if an import binds it: say why it is not hoisted */
		const char *guess = module_import_guess(u, h->root);
		if (!guess && h->ref.kind == GK_STAR && bridge_is_builtin(h->root))
			guess = arena_printf(&u->arena, "builtins.%s", h->root);
		if (!guess)
			return NULL;
		if (h->ref.kind == GK_STAR)
			*no_fix = arena_printf(&u->arena, "the module does `from ... import *`, which may rebind `%s`", h->root);
		else if (h->ref.kind == GK_REBOUND)
			*no_fix = arena_printf(&u->arena, "`%s` is bound or deleted more than once in the module", h->root);
		else
			*no_fix = arena_printf(&u->arena, "`%s` is imported inside a compound statement (if, try, ...) or "
							  "a function, so it may be something else when the call runs", h->root);
		return *h->rest ? arena_printf(&u->arena, "%s.%s", guess, h->rest) : guess;
	}
	case GK_RELATIVE:
	case GK_UNBOUND:
	case GK_CONSTANT:
		return NULL;
	}
	return NULL;
}

static void demote_unsafe(struct finding *f, const char *why)
{
	f->applicability = FIX_UNSAFE;
	f->reason = why;
}

/* Where the constant goes: after the import block that binds the callee, after the statement
 * binding the module constant whose method it calls, or after the leading imports for a
 * builtin. */
static size_t insertion_point(struct unit *u, const struct hoist *h)
{
	if (!ts_node_is_null(h->after))
		return unit_line_end(u, ts_node_end_byte(h->after) ? ts_node_end_byte(h->after) - 1 : 0);
	return h->ref.kind == GK_IMPORT ? module_after_import_block(u, h->ref.stmt) : module_head_end(u, true);
}

static int check(struct unit *u, struct finding *f)
{
	struct hoist *h = f->data;
	if (builds_raised_exception(f->node))
		return drop(u, f, "it builds the exception of a `raise`, which runs once per error");
	if (module_resolve(u, h->root, &h->ref) < 0)
		return -1;
	const char *no_fix;
	const char *qualified = callee_of(u, h, &no_fix);
	if (!qualified)
		return drop(u, f, arena_printf(&u->arena, "`%s` is not a known callable", h->callee_text));
	const struct pure_callable *pc = purity_lookup(qualified);
	if (!pc || !(pc->flags & PURE_HOIST))
		return drop(u, f, arena_printf(&u->arena, "`%s` is not on the allow-list of pure callables with "
						     "immutable results", qualified));
	if (pc->flags & PURE_CHEAP)
		return drop(u, f, arena_printf(&u->arena, "`%s` costs about as much as the global load that would "
						     "replace it", qualified));
	h->qualified = qualified;
	if (no_fix)
		return none(f, no_fix);
	if (!h->attrs || !h->module)
		return -1;
	const char *err;
	const char *args = text_of(u, h->args);
	if (h->args_prefix)
		args = arena_printf(&u->arena, "%s%s", h->args_prefix, args);
	if (!args)
		return -1;
	if (bridge_eval_call(u, h->module, h->attrs, args, &err) < 0) {
		const char *colon = strchr(err, ':');
		bool warns = colon && colon - err >= 7 && !strncmp(colon - 7, "Warning", 7);
		switch (budget_outcome_of(err)) {
		case BUDGET_EXCEEDED:
			return none(f, arena_printf(&u->arena, "evaluating the call at analysis time went over its budget "
								 "(%s); hoisted, it would cost as much at import",
						    strstr(err, ": budget: ") + 10));
		case BUDGET_NOT_IMMUTABLE:
			return none(f, arena_printf(&u->arena, "its value is not proven immutable (%s); one shared object "
								 "would carry state from caller to caller",
						    strstr(err, ": not immutable: ") + 17));
		case BUDGET_CALL_FAILED:
			break;
		}
		if (strstr(err, "not equal to itself"))
			return none(f, "its value is not equal to itself (a NaN): one shared object would compare equal "
				       "to itself where the values built on each call did not");
		return none(f, warns ? arena_printf(&u->arena, "the call warns at analysis time (%s); hoisted, it would "
								 "warn once at import instead of on every call", err)
				     : arena_printf(&u->arena, "evaluating the call at analysis time failed (%s); hoisted, "
								 "it would fail at import", err));
	}
	f->applicability = FIX_SAFE;
	/* what a hoist cannot see: a patch of the callee at run time, a lookup of it by name, a
	 * module that deletes or replaces its names after the constant is defined */
	const char *last = strrchr(h->callee_text, '.') ? strrchr(h->callee_text, '.') + 1 : h->callee_text;
	if (module_patches(u))
		demote_unsafe(f, arena_printf(&u->arena, "the module patches names at run time (mock `patch`, "
							  "`monkeypatch`); hoisted, the call runs once at import and a "
							  "patch of `%s` no longer reaches it", h->callee_text));
	else if (module_names_in_string(u, last))
		demote_unsafe(f, arena_printf(&u->arena, "a string of the module names `%s`, which may look it up "
							  "or replace it by name; hoisted, the call runs once at import",
					      last));
	else {
		const char *bulk = module_bulk_rebind_after(u, insertion_point(u, h));
		if (bulk)
			demote_unsafe(f, arena_printf(&u->arena, "%s; the new module constant would survive it "
								  "(dir() and `import *` of the module change)",
						      bulk));
	}
	return 1;
}

/* ---- rewrite: the hoist -------------------------------------------------------------- */

struct words {
	char buf[48];
	size_t len;
	int count;
	bool full;
	bool dedupe; /* a pattern's words: one DIGIT for \\d+|\\d*\\.\\d+ (a value's digits all count) */
};

/* Add one word (letters and digits of s[0, n), upper-cased) to the name, unless it is full. */
static void add_word(struct words *w, const char *s, size_t n)
{
	char word[49];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof word; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 128 && isalnum(c))
			word[k++] = (char)toupper(c);
	}
	if (!k || w->full)
		return;
	/* a word already in the name says nothing new (`\d+|\d*\.\d+`: DIGIT once) */
	word[k] = 0;
	for (const char *at = w->buf; w->dedupe && (at = strstr(at, word)) != NULL; at++) {
		if (at[-1] == '_' && (at[k] == '_' || at[k] == 0))
			return;
	}
	if (w->len + 1 + k >= 40 || w->count >= (w->dedupe ? 3 : 6)) {
		w->full = true;
		return;
	}
	w->buf[w->len++] = '_';
	memcpy(w->buf + w->len, word, k);
	w->len += k;
	w->buf[w->len] = 0;
	w->count++;
}

/* Each run of letters and digits of s[0, n) is a word. */
static void add_words(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		while (i < n && !(isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 128))
			i++;
		size_t j = i;
		while (j < n && isalnum((unsigned char)s[j]) && (unsigned char)s[j] < 128)
			j++;
		if (j > i)
			add_word(w, s + i, j - i);
		i = j;
	}
}

/* The words a regular expression spells: its literal letters and digits, and the classes \w
 * (WORD), \d (DIGIT), \s (SPACE); other escapes, metacharacters, character sets ([A-Za-z])
 * and group options are skipped. */
static void add_pattern_words(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		if (s[i] == '[') { /* a set: to its closing bracket (a first `]` or `^]` is literal) */
			size_t j = i + 1;
			if (j < n && s[j] == '^')
				j++;
			if (j < n && s[j] == ']')
				j++;
			while (j < n && s[j] != ']')
				j += s[j] == '\\' ? 2 : 1;
			i = j + 1;
			continue;
		}
		if (s[i] == '(' && i + 1 < n && s[i + 1] == '?') {
			/* a named group's name is a word; flags (?i), (?:, (?= are not */
			i += 2;
			if (i + 1 < n && s[i] == 'P' && s[i + 1] == '<') {
				size_t j = i + 2;
				while (j < n && s[j] != '>')
					j++;
				add_words(w, s + i + 2, j - i - 2);
				i = j + 1;
				continue;
			}
			while (i < n && (isalpha((unsigned char)s[i]) || s[i] == '<' || s[i] == '>' || s[i] == ':' ||
					 s[i] == '=' || s[i] == '!'))
				i++;
			continue;
		}
		if (s[i] == '{') { /* a repetition count */
			while (i < n && s[i] != '}')
				i++;
			i++;
			continue;
		}
		if (s[i] == '\\' && i + 1 < n) {
			char c = s[i + 1];
			if (c == 'w' || c == 'W')
				add_word(w, "WORD", 4);
			else if (c == 'd' || c == 'D')
				add_word(w, "DIGIT", 5);
			else if (c == 's' || c == 'S')
				add_word(w, "SPACE", 5);
			i += 2;
			continue;
		}
		size_t j = i;
		while (j < n && isalnum((unsigned char)s[j]) && (unsigned char)s[j] < 128)
			j++;
		if (j > i + 1) /* one letter says nothing */
			add_word(w, s + i, j - i);
		i = j > i ? j : i + 1;
	}
}

/* The words of a constant argument: a string's letters and digits, a number's digits, a tuple's
 * items. */
static void add_constant_words(struct unit *u, struct words *w, TSNode a, bool pattern)
{
	if (syn_is(a, "string")) {
		uint32_t k = ts_node_named_child_count(a);
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(a, i);
			if (!syn_is(c, "string_content"))
				continue;
			if (pattern)
				add_pattern_words(w, u->src + ts_node_start_byte(c), syn_len(c));
			else
				add_words(w, u->src + ts_node_start_byte(c), syn_len(c));
		}
	} else if (syn_is(a, "concatenated_string") || syn_is(a, "tuple") || syn_is(a, "parenthesized_expression")) {
		uint32_t k = ts_node_named_child_count(a);
		for (uint32_t i = 0; i < k; i++)
			add_constant_words(u, w, ts_node_named_child(a, i), pattern);
	} else if (syn_is(a, "integer") || syn_is(a, "float")) {
		add_words(w, u->src + ts_node_start_byte(a), syn_len(a));
	} else if (syn_is(a, "unary_operator")) {
		if (u->src[ts_node_start_byte(a)] == '-')
			add_word(w, "MINUS", 5);
		add_constant_words(u, w, syn_field(a, "argument"), pattern);
	} else if (syn_is(a, "true") || syn_is(a, "false") || syn_is(a, "none")) {
		add_words(w, u->src + ts_node_start_byte(a), syn_len(a));
	}
}

/* Callee names that say little without their module: the constant keeps the module's word. */
static bool generic_callee(const char *last)
{
	static const char *const generic[] = {"join", "pack", "unpack", "split", "sub", "subn", "name", "lookup",
					      "escape", "normalize", "crc32", "adler32", "hexlify", "unhexlify",
					      "dirname", "basename", "splitext", "normpath", "fromhex", "from_bytes",
					      NULL};
	for (const char *const *g = generic; *g; g++)
		if (!strcmp(*g, last))
			return true;
	return false;
}

/* The names of a pattern's named groups, `(?P<name>...)`, in order. */
static void add_group_names(struct unit *u, struct words *w, TSNode a)
{
	if (syn_is(a, "concatenated_string") || syn_is(a, "parenthesized_expression")) {
		uint32_t k = ts_node_named_child_count(a);
		for (uint32_t i = 0; i < k; i++)
			add_group_names(u, w, ts_node_named_child(a, i));
		return;
	}
	if (!syn_is(a, "string"))
		return;
	uint32_t k = ts_node_named_child_count(a);
	for (uint32_t i = 0; i < k; i++) {
		TSNode c = ts_node_named_child(a, i);
		if (!syn_is(c, "string_content"))
			continue;
		const char *t = u->src + ts_node_start_byte(c);
		size_t n = syn_len(c);
		for (size_t j = 0; j + 4 < n; j++) {
			if (memcmp(t + j, "(?P<", 4) != 0)
				continue;
			size_t e = j + 4;
			while (e < n && t[e] != '>')
				e++;
			add_words(w, t + j + 4, e - j - 4);
			j = e;
		}
	}
}

/* The words of the name a call's value is assigned to (`x = call`, `obj.attr = call`), without
 * what only says "a pattern" (re_, _re, _regex, _pattern, _matcher, ...). */
static void add_assigned_words(struct unit *u, struct words *w, TSNode call)
{
	TSNode parent = ts_node_parent(call);
	if (!syn_is(parent, "assignment") || !ts_node_eq(syn_field(parent, "right"), call))
		return;
	TSNode target = syn_field(parent, "left");
	if (syn_is(target, "attribute"))
		target = syn_field(target, "attribute");
	if (!syn_is(target, "identifier"))
		return;
	static const char *const noise[] = {"RE", "REGEX", "REGEXP", "PATTERN", "PAT", "MATCHER", "RX", "COMPILED", NULL};
	char word[48][48];
	size_t nw = 0;
	const char *t = u->src + ts_node_start_byte(target);
	size_t n = syn_len(target);
	for (size_t i = 0; i < n && nw < 48;) {
		while (i < n && !isalnum((unsigned char)t[i]))
			i++;
		size_t j = i, k = 0;
		while (j < n && isalnum((unsigned char)t[j]) && (unsigned char)t[j] < 128) {
			if (k + 1 < sizeof word[0])
				word[nw][k++] = (char)toupper((unsigned char)t[j]);
			j++;
		}
		if (k) {
			word[nw][k] = 0;
			nw++;
		}
		i = j > i ? j : i + 1;
	}
	size_t from = 0, to = nw;
	for (bool again = true; again && to > from;) {
		again = false;
		for (const char *const *q = noise; *q; q++) {
			if (to > from && !strcmp(word[to - 1], *q)) {
				to--;
				again = true;
			}
			if (to > from + 1 && !strcmp(word[from], *q) && (!strcmp(*q, "RE") || !strcmp(*q, "RX"))) {
				from++; /* re_indent: INDENT; regex_chars keeps its REGEX */
				again = true;
			}
		}
	}
	for (size_t i = from; i < to; i++)
		add_word(w, word[i], strlen(word[i]));
}

/* A name after what the constant holds: `_WORD_RE` for re.compile(r"\w+"), `_TIMEDELTA_DAYS_365`
 * for timedelta(days=365), `_ITEMGETTER_0_1` for itemgetter(0, 1). A pattern that spells no
 * word is named after its function (`_SPLIT_INDENT_RE`). */
static const char *constant_name(struct unit *u, struct finding *f, const struct hoist *h)
{
	bool pattern = h->qualified && !strcmp(h->qualified, "re.compile");
	struct words w = {{0}, 0, 0, false, pattern};
	const char *callee = h->callee_text;
	const char *last = strrchr(callee, '.') ? strrchr(callee, '.') + 1 : callee;
	if (!pattern) {
		if (last != callee && generic_callee(last))
			add_words(&w, callee, strlen(callee));
		else
			add_words(&w, last, strlen(last));
	}
	uint32_t k = ts_node_named_child_count(h->args);
	for (uint32_t i = 0; i < k; i++) {
		TSNode a = ts_node_named_child(h->args, i);
		if (syn_is(a, "keyword_argument")) {
			TSNode nm = syn_field(a, "name");
			add_words(&w, u->src + ts_node_start_byte(nm), syn_len(nm));
			a = syn_field(a, "value");
		}
		add_constant_words(u, &w, a, pattern && i == 0);
		if (pattern) /* the flags say less than the function's name */
			break;
	}
	if (pattern && k > 0) {
		/* the names of its groups, `(?P<date>...)`, say what a pattern matches */
		struct words groups = {{0}, 0, 0, false, true};
		add_group_names(u, &groups, ts_node_named_child(h->args, 0));
		if (groups.count)
			w = groups;
	}
	if (pattern) {
		/* `re_indent = re.compile(...)`, `self._negative_number_matcher = re.compile(...)`: the
		 * name the author gave the pattern says what it is for, better than its letters */
		struct words named = {{0}, 0, 0, false, false};
		add_assigned_words(u, &named, f->node);
		if (named.count)
			w = named;
	}
	if (pattern && !w.count) {
		TSNode outer = scope_enclosing_def(u, f->node);
		if (!ts_node_is_null(outer)) {
			TSNode nm = syn_field(outer, "name");
			add_words(&w, u->src + ts_node_start_byte(nm), syn_len(nm));
		}
	}
	if (pattern) {
		w.full = false;
		if (w.len + 3 < sizeof w.buf) {
			memcpy(w.buf + w.len, "_RE", 4);
			w.len += 3;
		}
	}
	if (!w.len || isdigit((unsigned char)w.buf[1]))
		return NULL;
	return arena_strdup(&u->arena, w.buf);
}

/* The module's top-level `NAME = <value>` statements, sorted by the value's text (then by
 * position), made once per run of the pass: a hoist looks its call text up instead of reading
 * every statement before it. */
struct assigns {
	const char *src;
	TSNode *stmt; /* expression_statement; its assignment's right side is the value */
	size_t n;
};

static TSNode value_of(TSNode stmt) { return syn_field(ts_node_named_child(stmt, 0), "right"); }

static int cmp_value(const char *src, TSNode a, TSNode b)
{
	TSNode va = value_of(a), vb = value_of(b);
	size_t la = syn_len(va), lb = syn_len(vb);
	int c = memcmp(src + ts_node_start_byte(va), src + ts_node_start_byte(vb), la < lb ? la : lb);
	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return ts_node_start_byte(a) < ts_node_start_byte(b) ? -1 : ts_node_start_byte(a) > ts_node_start_byte(b);
}

/* merge sort (qsort has no context for the source text) */
static void sort_assigns(const char *src, TSNode *v, TSNode *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_assigns(src, v, tmp, h);
	sort_assigns(src, v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp_value(src, v[i], v[j]) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static struct assigns *assigns_of(struct unit *u)
{
	struct state *st = state_of(u);
	if (!st)
		return NULL;
	if (st->assigns)
		return st->assigns;
	struct assigns *as = arena_alloc(&u->arena, sizeof *as);
	uint32_t k;
	const TSNode *top = unit_statements(u, &k);
	TSNode *v = as ? arena_alloc(&u->arena, ((size_t)k + 1) * sizeof *v) : NULL;
	TSNode *tmp = v ? malloc(((size_t)k + 1) * sizeof *tmp) : NULL;
	if (!tmp)
		return NULL;
	as->src = u->src;
	as->stmt = v;
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = top[i];
		if (!syn_is(s, "expression_statement") || ts_node_named_child_count(s) != 1)
			continue;
		TSNode a = ts_node_named_child(s, 0);
		TSNode left = syn_field(a, "left"), right = syn_field(a, "right");
		if (syn_is(a, "assignment") && syn_is(left, "identifier") && !ts_node_is_null(right))
			v[as->n++] = s;
	}
	sort_assigns(u->src, v, tmp, as->n);
	free(tmp);
	st->assigns = as;
	return as;
}

/* An existing top-level `NAME = <the same call text>` bound once, before `before`, that no
 * local of `code` or its enclosing functions shadows: reuse it. */
static const char *existing_constant(struct unit *u, const struct code_info *code, const char *call_text,
				     size_t before)
{
	struct assigns *as = assigns_of(u);
	if (!as)
		return NULL;
	size_t cl = strlen(call_text), lo = 0, hi = as->n;
	/* the first statement whose value's text is not below call_text */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		TSNode v = value_of(as->stmt[mid]);
		size_t vl = syn_len(v);
		int c = memcmp(u->src + ts_node_start_byte(v), call_text, vl < cl ? vl : cl);
		if (c < 0 || (c == 0 && vl < cl))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < as->n; i++) {
		TSNode s = as->stmt[i], a = ts_node_named_child(s, 0);
		TSNode left = syn_field(a, "left");
		if (!syn_text_eq(value_of(s), u->src, call_text) || ts_node_start_byte(s) >= before)
			break; /* past the equal values, or past `before` (equal values are in position order) */
		const char *name = text_of(u, left);
		struct global_ref ref;
		if (!name || module_resolve(u, name, &ref) < 0 || ref.kind != GK_OTHER || ref.bindings != 1)
			continue;
		bool shadowed = false;
		for (const struct code_info *c = code; c && c->kind != CK_MODULE; c = c->parent)
			shadowed |= bridge_local_kind(c, name) != 0;
		if (!shadowed)
			return name;
	}
	return NULL;
}

static int rewrite(struct unit *u, struct finding *f)
{
	struct hoist *h = f->data;
	const char *call_text = f->key;
	size_t at = insertion_point(u, h);
	size_t top = ts_node_start_byte(scope_toplevel_statement(f->node));
	const char *name = existing_constant(u, f->code, call_text, top);
	bool insert = name == NULL;
	/* the same call elsewhere in this file shares the constant (identical insertions are
	 * applied once) */
	for (size_t i = 0; !name && i < u->nfindings; i++) {
		struct finding *g = &u->findings[i];
		if (g != f && g->pass == f->pass && g->nedits && !strcmp(g->key, call_text))
			name = ((struct hoist *)g->data)->name;
	}
	if (!name) {
		const char *base = constant_name(u, f, h);
		name = base ? unit_reserve_name(u, base) : NULL;
	}
	if (!name) {
		f->applicability = FIX_NONE;
		f->reason = "no module-level name is free for the constant";
		return 0;
	}
	h->name = name;
	f->edits = arena_alloc(&u->arena, 4 * sizeof *f->edits);
	if (!f->edits)
		return -1;
	f->nedits = 0;
	if (insert) {
		const char *line = module_assignment_text(u, name, h->callee_text, h->args);
		if (!line)
			return -1;
		f->nedits += module_insertion(u, at, line, f->edits);
	}
	/* a statement black split only for want of room is joined once the call is a name */
	size_t ss, se;
	const char *joined = module_joined_statement(u, f->node, h->start, ts_node_end_byte(f->node), name, &ss, &se);
	if (joined)
		f->edits[f->nedits++] = (struct edit){ss, se, joined, strlen(joined), 0, false};
	else
		f->edits[f->nedits++] = (struct edit){h->start, ts_node_end_byte(f->node), name, strlen(name), 0, false};
	f->fix_title = arena_printf(&u->arena, "Hoist to `%s`, a module constant computed once at import "
					       "(a later monkeypatch of `%s` no longer reaches this call)",
				    name, module_excerpt_text(u, h->callee_text, strlen(h->callee_text), 40));
	return 0;
}

const struct pass pass_spf201 = {
	.code = "SPF201",
	.name = "constant-argument-call",
	.summary = "a pure, costly call with only constant arguments is rebuilt on every call of its function",
	.query = syn_query_constant_call,
	.find = find,
	.check = check,
	.rewrite = rewrite,
	.doc =
		{
			.what = "A call inside a function body of a known pure, deterministic callable that costs something\n"
				"to build, whose every argument is a constant (a literal, or a tuple of constants) and whose\n"
				"callee is the module's import or a builtin: `re.compile(r\"\\w+\")`, `struct.Struct(\"<I\")`,\n"
				"`frozenset((\"a\", \"b\"))`, `datetime.timedelta(days=365)`, `operator.itemgetter(0, 1)`,\n"
				"`decimal.Decimal(\"0.01\")`, and the methods of a module constant bound once to\n"
				"`re.compile(...)` or `struct.Struct(...)` (`_WORD_RE.sub(\" \", \"a  b\")`). The allow-list is\n"
				"one table in passes/purity.c, with a comment per entry.\n"
				"Not reported: calls with effects or changing results (`print`, `open`, `sys.exit`,\n"
				"`os.environ.get`, `random.*`, `time.*`, `logging.getLogger`, ...), calls that are not on the\n"
				"allow-list, the exception built for a `raise` (it runs once per error), calls that build a\n"
				"new mutable object (`list`, `dict`, `sorted`, ...), and cheap builtins that cost about as\n"
				"much as the global load that would replace them (`ord`, `chr`, `int`, `float`, `tuple`,\n"
				"`math.sqrt`, ...). Test code is not analysed unless `include-tests` is set.",
			.why = "Every call of the function builds the same immutable value again. Built once, at import, it\n"
				"costs one global load per call.",
			.fix = "Hoisted to a module constant named after what it holds (`_WORD_RE`, `_TIMEDELTA_DAYS_365`,\n"
				"`_ITEMGETTER_0_1`), placed after the import block that binds the callee (with the blank lines\n"
				"PEP 8, black and isort want, split as black splits a long line), or an existing identical\n"
				"module constant is reused. Safe only when the callee's name is the module's own\n"
				"unconditional import (or an unshadowed builtin), bound once, and the embedded interpreter\n"
				"evaluated that exact call once at analysis time -- within a budget of CPU time (100 ms) and\n"
				"memory (64 MiB), whatever the arguments -- without error or warning, to a value proven\n"
				"immutable (of a vetted type, hashable, no instance `__dict__`, no `cached_property`).\n"
				"Otherwise the finding says why there is no fix (over the budget, not immutable, fails or\n"
				"warns at import, the name rebound or bound conditionally).\n"
				"Unsafe: a module that patches names at run time (mock `patch`/`patch.object`, pytest\n"
				"`monkeypatch`) or names the callee in a string (`patch(__name__ + \".ord\")`) -- hoisted, the\n"
				"call runs once at import and a later patch no longer reaches it; a module that deletes its\n"
				"helpers or does `import *` after the constant (the new name would survive).",
			.before = "import re\n"
				"\n"
				"\n"
				"def words(text):\n"
				"    return re.compile(r\"\\w+\").findall(text)\n",
			.after = "import re\n"
				"\n"
				"_WORD_RE = re.compile(r\"\\w+\")\n"
				"\n"
				"\n"
				"def words(text):\n"
				"    return _WORD_RE.findall(text)\n",
		},
	.bench = BENCH_SITE, /* the constant call vs a load of the hoisted constant */
};
