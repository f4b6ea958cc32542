/* SPF201 constant-argument-call: a call inside a function body whose arguments are all
 * constants and whose callee is a global or builtin name or attribute chain. Reported always;
 * fixed (hoisted to a module constant) only for vetted pure callables with immutable results
 * whose name is the module's own import, never rebound, and whose call evaluated without error
 * at analysis time. */
#include <ctype.h>
#include <string.h>

#include "bridge.h"
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
	f->message = arena_printf(&u->arena, "Call `%s(...)` has only constant arguments and is recomputed on every call of %s",
				  h->callee_text, where);
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

static bool builds_raised_exception(TSNode call)
{
	TSNode p = ts_node_parent(call);
	while (syn_is(p, "parenthesized_expression"))
		p = ts_node_parent(p);
	return syn_is(p, "raise_statement");
}

static int check(struct unit *u, struct finding *f)
{
	struct hoist *h = f->data;
	if (builds_raised_exception(f->node))
		return none(f, "it builds the exception of a `raise`: it runs once per error, and a shared "
			       "exception object would carry one traceback across raises");
	if (module_resolve(u, h->root, &h->ref) < 0)
		return -1;
	const char *qualified = NULL;
	switch (h->ref.kind) {
	case GK_IMPORT:
		qualified = *h->rest ? arena_printf(&u->arena, "%s.%s", h->ref.qualified, h->rest) : h->ref.qualified;
		/* import: `module` is what to import; the attributes follow from what the name is */
		h->module = h->ref.module;
		h->attrs = strlen(h->ref.qualified) > strlen(h->ref.module)
				   ? arena_printf(&u->arena, "%s%s%s", h->ref.qualified + strlen(h->ref.module) + 1,
						  *h->rest ? "." : "", h->rest)
				   : h->rest;
		break;
	case GK_BUILTIN:
		qualified = arena_printf(&u->arena, "builtins.%s%s%s", h->root, *h->rest ? "." : "", h->rest);
		h->module = "builtins";
		h->attrs = arena_printf(&u->arena, "%s%s%s", h->root, *h->rest ? "." : "", h->rest);
		break;
	case GK_STAR:
		return none(f, arena_printf(&u->arena, "the module does `from ... import *`, which may rebind `%s`", h->root));
	case GK_REBOUND:
		return none(f, arena_printf(&u->arena, "`%s` is bound or deleted more than once in the module", h->root));
	case GK_CONDITIONAL:
		return none(f, arena_printf(&u->arena, "`%s` is bound conditionally (inside a compound statement or "
						  "a function)", h->root));
	case GK_UNBOUND:
		return none(f, arena_printf(&u->arena, "`%s` is not defined in the module", h->root));
	case GK_CONSTANT:
	case GK_OTHER:
		return none(f, arena_printf(&u->arena, "`%s` is defined in this module, not imported", h->root));
	}
	if (!qualified || !h->attrs)
		return -1;
	const struct pure_callable *pc = purity_lookup(qualified);
	if (pc && (pc->flags & PURE_IMMUTABLE) && !(pc->flags & PURE_HOIST))
		return none(f, arena_printf(&u->arena, "`%s` is pure but cheap and idiomatic inline; it is not hoisted",
					    qualified));
	if (!pc || !(pc->flags & PURE_HOIST))
		return none(f, arena_printf(&u->arena, "`%s` is not on the allow-list of pure callables with immutable "
						  "results", qualified));
	const char *err;
	if (bridge_eval_call(u, h->module, h->attrs, text_of(u, h->args), &err) < 0) {
		const char *colon = strchr(err, ':');
		bool warns = colon && colon - err >= 7 && !strncmp(colon - 7, "Warning", 7);
		return none(f, warns ? arena_printf(&u->arena, "the call warns at analysis time (%s); hoisted, it would "
								 "warn once at import instead of on every call", err)
				     : arena_printf(&u->arena, "evaluating the call at analysis time failed (%s); hoisted, "
								 "it would fail at import", err));
	}
	f->applicability = FIX_SAFE;
	return 1;
}

/* ---- rewrite: the hoist -------------------------------------------------------------- */

/* Letters and digits of s, upper-cased, runs joined by '_', at most max characters. */
static void upper_words(char *out, size_t cap, size_t *len, const char *s, size_t n, size_t max)
{
	bool sep = *len > 1; /* after the leading '_', words are joined by one '_' */
	size_t start = *len;
	for (size_t i = 0; i < n && *len + 2 < cap && *len - start < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) && c < 128) {
			if (sep && *len > 1) /* never a second leading '_': `__X` is mangled in a class */
				out[(*len)++] = '_';
			sep = false;
			out[(*len)++] = (char)toupper(c);
		} else {
			sep = true;
		}
	}
	out[*len] = 0;
}

/* `_RE_COMPILE_WORD` from re.compile("word"): the callee, then the first argument's text when it
 * is a string or a number. */
static const char *constant_name(struct unit *u, const struct hoist *h)
{
	char buf[64];
	size_t len = 0;
	buf[len++] = '_';
	buf[len] = 0;
	upper_words(buf, sizeof buf, &len, h->callee_text, strlen(h->callee_text), 30);
	TSNode first = ts_node_named_child(h->args, 0);
	if (syn_is(first, "string")) {
		uint32_t k = ts_node_named_child_count(first);
		for (uint32_t i = 0; i < k; i++) {
			TSNode c = ts_node_named_child(first, i);
			if (syn_is(c, "string_content"))
				upper_words(buf, sizeof buf, &len, u->src + ts_node_start_byte(c), syn_len(c), 24);
		}
	} else if (syn_is(first, "integer") || syn_is(first, "float")) {
		upper_words(buf, sizeof buf, &len, u->src + ts_node_start_byte(first), syn_len(first), 12);
	}
	if (isdigit((unsigned char)buf[1]))
		return NULL;
	return arena_strdup(&u->arena, buf);
}

/* An existing top-level `NAME = <the same call text>` bound once, before `before`, that no
 * local of `code` or its enclosing functions shadows: reuse it. */
static const char *existing_constant(struct unit *u, const struct code_info *code, const char *call_text,
				     size_t before)
{
	uint32_t k = ts_node_named_child_count(u->root);
	for (uint32_t i = 0; i < k; i++) {
		TSNode s = ts_node_named_child(u->root, i);
		if (ts_node_start_byte(s) >= before)
			break;
		if (!syn_is(s, "expression_statement") || ts_node_named_child_count(s) != 1)
			continue;
		TSNode a = ts_node_named_child(s, 0);
		TSNode left = syn_field(a, "left"), right = syn_field(a, "right");
		if (!syn_is(a, "assignment") || !syn_is(left, "identifier") || ts_node_is_null(right) ||
		    !syn_text_eq(right, u->src, call_text))
			continue;
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
	size_t at = h->ref.kind == GK_IMPORT ? module_after_import_block(u, h->ref.stmt) : module_head_end(u, true);
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
		const char *base = constant_name(u, h);
		name = base ? unit_reserve_name(u, base) : NULL;
	}
	if (!name) {
		f->applicability = FIX_NONE;
		f->reason = "no module-level name is free for the constant";
		return 0;
	}
	h->name = name;
	size_t n = insert ? 3 : 1;
	f->edits = arena_alloc(&u->arena, n * sizeof *f->edits);
	if (!f->edits)
		return -1;
	f->nedits = 0;
	if (insert) {
		const char *line = arena_printf(&u->arena, "%s = %s", name, call_text);
		const char *t = line ? module_line_text(u, at, line) : NULL;
		if (!t)
			return -1;
		f->edits[f->nedits++] = (struct edit){at, at, t, strlen(t), 0, false};
		if (module_separator(u, at, &f->edits[f->nedits]))
			f->nedits++;
	}
	f->edits[f->nedits++] = (struct edit){h->start, ts_node_end_byte(f->node), name, strlen(name), 0, false};
	f->fix_title = arena_printf(&u->arena, "Hoist to `%s`, a module constant computed once at import "
					       "(a later monkeypatch of `%s` no longer reaches this call)",
				    name, h->callee_text);
	return 0;
}

const struct pass pass_spf201 = {
	.code = "SPF201",
	.name = "constant-argument-call",
	.summary = "a call with only constant arguments is recomputed on every call of its function",
	.query = syn_query_constant_call,
	.find = find,
	.check = check,
	.rewrite = rewrite,
	.doc =
		{
			.what = "A call inside a function body whose every argument is a constant (a literal, or a tuple\n"
				"or frozenset of constants) and whose callee is a global or builtin name or attribute\n"
				"chain, such as `re.compile(\"a+\")` or `struct.Struct(\"<I\")`.",
			.why = "The same value is computed again on every call of the function although nothing it\n"
			       "depends on changes.",
			.fix = "Hoisted to a module constant only for a vetted list of pure callables whose result is\n"
			       "immutable, when the callee resolves to the module import and the call was evaluated\n"
			       "once at analysis time without error. Everything else is reported with no fix.\n"
			       "The hoisted call runs once, at import: a later replacement of the callee (a test\n"
			       "monkeypatching `re.compile`) no longer reaches that call site.",
			.before = "import re\n"
				  "\n"
				  "\n"
				  "def words(text):\n"
				  "    return re.compile(r\"\\w+\").findall(text)\n",
			.after = "import re\n"
				 "_RE_COMPILE_W = re.compile(r\"\\w+\")\n"
				 "\n"
				 "\n"
				 "def words(text):\n"
				 "    return _RE_COMPILE_W.findall(text)\n",
		},
	.bench = BENCH_SITE, /* the constant call vs a load of the hoisted constant */
};
