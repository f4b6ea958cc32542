/* Unit tests for the CPython bridge (passes/bridge.h) and the unit (passes/unit.h): the code
 * object index, narrow bytecode facts, and the SPF101 verdicts built on them. CI runs them under
 * every version built (SPIPFIX_TARGET_VERSION); the facts that differ by version are asserted
 * for each (V below: the target's minor version). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "engine.h"
#include "pass.h"
#include "unit.h"

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }

#define V (bridge_target())
static void teardown(void) { bridge_fini(); }

TestSuite(bridge, .init = setup, .fini = teardown);

/* Analyse src (NUL-terminated, must outlive the unit) and require success. */
static void analyse(struct unit *u, const char *src)
{
	int rc = engine_analyse(&(struct engine_config){0}, u, "t.py", src, strlen(src));
	cr_assert_eq(rc, 0, "unit_analyse failed: %s", u->error ? u->error : "(no error)");
	/* a file without a candidate is compiled when first asked */
	cr_assert_eq(bridge_need_code(u), 0, "%s", u->error ? u->error : "");
	cr_assert_gt(u->ncodes, 0);
}

/* The one code object with this qualname (any first line); fails the test unless exactly one. */
static struct code_info *code_named(struct unit *u, const char *qualname)
{
	struct code_info *hit = NULL;
	int n = 0;
	for (size_t i = 0; i < u->ncodes; i++)
		if (!strcmp(u->codes[i].qualname, qualname)) {
			hit = &u->codes[i];
			n++;
		}
	cr_assert_eq(n, 1, "%d code objects named %s", n, qualname);
	return hit;
}

static size_t count_findings(const struct unit *u, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < u->nfindings; i++)
		if (!strcmp(u->findings[i].pass->code, code))
			n++;
	return n;
}

static const struct finding *only_finding(const struct unit *u, const char *code)
{
	cr_assert_eq(count_findings(u, code), 1, "expected exactly one %s finding, got %zu", code,
		     count_findings(u, code));
	for (size_t i = 0; i < u->nfindings; i++)
		if (!strcmp(u->findings[i].pass->code, code))
			return &u->findings[i];
	return NULL;
}

/* ---- the code-object index ------------------------------------------------------------- */

static const char NESTED[] =
	"def outer(x):\n"          /* 1 */
	"    def inner(a):\n"      /* 2 */
	"        return a\n"       /* 3 */
	"    def clo():\n"         /* 4 */
	"        return x\n"       /* 5 */
	"    return inner(clo())\n"; /* 6 */

Test(bridge, module_code_is_first_and_kind_module)
{
	struct unit u;
	analyse(&u, NESTED);
	cr_assert_not_null(u.module_code);
	cr_assert_eq(u.codes[0].kind, CK_MODULE);
	cr_assert_null(u.codes[0].parent);
	cr_assert_eq(u.codes[0].site, -1);
	cr_assert_str_eq(u.codes[0].qualname, "<module>");
	cr_assert_eq(u.ncodes, 4); /* <module>, outer, inner, clo */
	unit_free(&u);
}

Test(bridge, find_by_qualname_and_first_line)
{
	struct unit u;
	analyse(&u, NESTED);
	struct code_info *ci = bridge_find(&u, "outer.<locals>.inner", 2, 2, 4);
	cr_assert_not_null(ci);
	cr_assert_str_eq(ci->qualname, "outer.<locals>.inner");
	cr_assert_str_eq(ci->name, "inner");
	cr_assert_eq(ci->firstlineno, 2);
	cr_assert_eq(ci->kind, CK_FUNCTION);
	cr_assert_not_null(ci->parent);
	cr_assert_str_eq(ci->parent->qualname, "outer");
	cr_assert_eq(ci->parent->kind, CK_FUNCTION);
	cr_assert_str_eq(ci->parent->parent->qualname, "<module>");
	cr_assert_eq(ci, code_named(&u, "outer.<locals>.inner"));
	unit_free(&u);
}

Test(bridge, find_misses_wrong_line_or_name)
{
	struct unit u;
	analyse(&u, NESTED);
	cr_assert_null(bridge_find(&u, "outer.<locals>.inner", 3, 3, 4));
	cr_assert_null(bridge_find(&u, "inner", 2, 2, 4));
	cr_assert_null(bridge_find(&u, "outer.<locals>.nope", 2, 2, 4));
	cr_assert_not_null(bridge_find(&u, "outer", 1, 1, 0));
	unit_free(&u);
}

Test(bridge, find_disambiguates_same_line_by_site_column)
{
	/* two lambdas share qualname and first line: the site column picks one */
	static const char src[] =
		"def f():\n"
		"    return (lambda: 1, lambda: 2)\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *a = bridge_find(&u, "f.<locals>.<lambda>", 2, 2, 12);
	struct code_info *b = bridge_find(&u, "f.<locals>.<lambda>", 2, 2, 23);
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_neq(a, b);
	cr_assert_eq(a->site_col, 12);
	cr_assert_eq(b->site_col, 23);
	/* ambiguous and no site there: none */
	cr_assert_null(bridge_find(&u, "f.<locals>.<lambda>", 2, 2, 5));
	unit_free(&u);
}

Test(bridge, freevars_empty_for_closure_free_inner)
{
	struct unit u;
	analyse(&u, NESTED);
	struct code_info *ci = code_named(&u, "outer.<locals>.inner");
	cr_assert_eq(ci->nfreevars, 0);
	cr_assert_str_eq(ci->freevars, "");
	cr_assert_eq(ci->make_flags & 8, 0);
	unit_free(&u);
}

Test(bridge, freevars_one_for_closure)
{
	struct unit u;
	analyse(&u, NESTED);
	struct code_info *ci = code_named(&u, "outer.<locals>.clo");
	cr_assert_eq(ci->nfreevars, 1);
	cr_assert_str_eq(ci->freevars, "x");
	cr_assert_eq(ci->make_flags, 8);
	unit_free(&u);
}

Test(bridge, freevars_two_comma_separated)
{
	static const char src[] =
		"def t(x, y):\n"
		"    def two():\n"
		"        return y + x\n"
		"    return two\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *ci = code_named(&u, "t.<locals>.two");
	cr_assert_eq(ci->nfreevars, 2);
	cr_assert_str_eq(ci->freevars, "x,y");
	unit_free(&u);
}

/* ---- MAKE_FUNCTION flags ------------------------------------------------------------------ */

static const char FLAGS[] =
	"def outer(x):\n"                      /* 1 */
	"    def plain(a):\n"                  /* 2 */
	"        pass\n"                       /* 3 */
	"    def pos(a, b=1):\n"               /* 4 */
	"        pass\n"                       /* 5 */
	"    def kwo(a, *, c=2):\n"            /* 6 */
	"        pass\n"                       /* 7 */
	"    def both(a, b=1, *, c=2):\n"      /* 8 */
	"        pass\n"                       /* 9 */
	"    def ann(a: int) -> int:\n"        /* 10 */
	"        pass\n"                       /* 11 */
	"    def ret() -> int:\n"              /* 12 */
	"        pass\n"                       /* 13 */
	"    def clo(b=1):\n"                  /* 14 */
	"        return x + b\n"               /* 15 */
	"    return plain, pos, kwo, both, ann, ret, clo\n";

Test(bridge, make_flags_none)
{
	struct unit u;
	analyse(&u, FLAGS);
	cr_assert_eq(code_named(&u, "outer.<locals>.plain")->make_flags, 0);
	unit_free(&u);
}

Test(bridge, make_flags_positional_defaults)
{
	struct unit u;
	analyse(&u, FLAGS);
	cr_assert_eq(code_named(&u, "outer.<locals>.pos")->make_flags, 1);
	unit_free(&u);
}

Test(bridge, make_flags_kwonly_defaults)
{
	struct unit u;
	analyse(&u, FLAGS);
	cr_assert_eq(code_named(&u, "outer.<locals>.kwo")->make_flags, 2);
	cr_assert_eq(code_named(&u, "outer.<locals>.both")->make_flags, 3);
	unit_free(&u);
}

Test(bridge, make_flags_annotations)
{
	struct unit u;
	analyse(&u, FLAGS);
	cr_assert_eq(code_named(&u, "outer.<locals>.ann")->make_flags, 4);
	cr_assert_eq(code_named(&u, "outer.<locals>.ret")->make_flags, 4);
	unit_free(&u);
}

Test(bridge, make_flags_closure_with_defaults)
{
	struct unit u;
	analyse(&u, FLAGS);
	cr_assert_eq(code_named(&u, "outer.<locals>.clo")->make_flags, 9);
	unit_free(&u);
}

Test(bridge, site_is_make_function_in_parent)
{
	struct unit u;
	analyse(&u, FLAGS);
	struct code_info *ci = code_named(&u, "outer.<locals>.pos");
	cr_assert_geq(ci->site, 1);
	cr_assert_lt((size_t)ci->site, ci->parent->ninsns);
	cr_assert_str_eq(bridge_opname(ci->parent->insns[ci->site].op), "MAKE_FUNCTION");
	cr_assert_str_eq(bridge_opname(ci->parent->insns[ci->site - 1].op), "LOAD_CONST");
	if (V >= 13) {
		/* 3.13: MAKE_FUNCTION has no argument; one SET_FUNCTION_ATTRIBUTE per flag follows */
		cr_assert_str_eq(bridge_opname(ci->parent->insns[ci->site + 1].op), "SET_FUNCTION_ATTRIBUTE");
		cr_assert_eq(ci->parent->insns[ci->site + 1].arg, 1);
	} else {
		cr_assert_eq(ci->parent->insns[ci->site].arg, 1);
	}
	cr_assert_eq(ci->make_flags, 1);
	unit_free(&u);
}

/* ---- site_in_loop ------------------------------------------------------------------------- */

static const char LOOPS[] =
	"def outer(n, xs):\n"                  /* 1 */
	"    def before():\n"                  /* 2 */
	"        pass\n"                       /* 3 */
	"    for i in xs:\n"                   /* 4 */
	"        def infor():\n"               /* 5 */
	"            pass\n"                   /* 6 */
	"    while n:\n"                       /* 7 */
	"        def inwhile():\n"             /* 8 */
	"            pass\n"                   /* 9 */
	"        n -= 1\n"                     /* 10 */
	"    ys = [lambda: 0 for _ in xs]\n"   /* 11 */
	"    def after():\n"                   /* 12 */
	"        pass\n"                       /* 13 */
	"    if n:\n"                          /* 14 */
	"        def inif():\n"                /* 15 */
	"            pass\n"                   /* 16 */
	"    return ys\n";

Test(bridge, site_in_loop_false_outside_loops)
{
	struct unit u;
	analyse(&u, LOOPS);
	cr_assert_not(code_named(&u, "outer.<locals>.before")->site_in_loop);
	cr_assert_not(code_named(&u, "outer.<locals>.after")->site_in_loop);
	cr_assert_not(code_named(&u, "outer.<locals>.inif")->site_in_loop);
	cr_assert_not(code_named(&u, "outer")->site_in_loop);
	unit_free(&u);
}

Test(bridge, site_in_loop_true_in_for)
{
	struct unit u;
	analyse(&u, LOOPS);
	cr_assert(code_named(&u, "outer.<locals>.infor")->site_in_loop);
	unit_free(&u);
}

Test(bridge, site_in_loop_true_in_while)
{
	struct unit u;
	analyse(&u, LOOPS);
	cr_assert(code_named(&u, "outer.<locals>.inwhile")->site_in_loop);
	unit_free(&u);
}

Test(bridge, site_after_try_except_is_not_in_a_loop)
{
	/* 3.12+ puts the handler after the function's code and jumps back from it to the `if`:
	 * a backward jump around the def that closes no loop */
	static const char src[] = "def f(d, k):\n"
				  "    try:\n"
				  "        c = d.get(k)\n"
				  "    except Exception:\n"
				  "        c = None\n"
				  "    if c is not None:\n"
				  "        return c\n"
				  "    def g():\n"
				  "        return 1\n"
				  "    return g\n";
	struct unit u;
	analyse(&u, src);
	cr_assert_not(code_named(&u, "f.<locals>.g")->site_in_loop);
	unit_free(&u);
}

Test(bridge, site_in_loop_with_a_handler_inside_the_loop)
{
	static const char src[] = "def f(xs):\n"
				  "    for x in xs:\n"
				  "        try:\n"
				  "            x()\n"
				  "        except Exception:\n"
				  "            continue\n"
				  "        def g():\n"
				  "            return 1\n"
				  "    return 0\n";
	struct unit u;
	analyse(&u, src);
	cr_assert(code_named(&u, "f.<locals>.g")->site_in_loop);
	unit_free(&u);
}

Test(bridge, site_in_loop_true_in_comprehension)
{
	struct unit u;
	analyse(&u, LOOPS);
	if (V >= 12) {
		/* PEP 709: the comprehension runs inline, its loop is outer's own */
		struct code_info *ci = code_named(&u, "outer.<locals>.<lambda>");
		cr_assert(ci->site_in_loop);
		cr_assert_eq(ci->parent->kind, CK_FUNCTION);
		cr_assert_str_eq(ci->parent->qualname, "outer");
	} else {
		struct code_info *ci = code_named(&u, "outer.<locals>.<listcomp>.<lambda>");
		cr_assert(ci->site_in_loop);
		cr_assert_eq(ci->parent->kind, CK_COMPREHENSION);
		/* the comprehension itself is built once, outside any loop of outer */
		cr_assert_not(code_named(&u, "outer.<locals>.<listcomp>")->site_in_loop);
	}
	unit_free(&u);
}

/* ---- positions ------------------------------------------------------------------------------ */

static const char POS[] =
	"def outer():\n"                       /* 1 */
	"    def inner():\n"                   /* 2 */
	"        pass\n"                       /* 3 */
	"    @staticmethod\n"                  /* 4 */
	"    @staticmethod\n"                  /* 5 */
	"    def deco():\n"                    /* 6 */
	"        pass\n"                       /* 7 */
	"    f = lambda y: y\n"                /* 8 */
	"    if True:\n"                       /* 9 */
	"        g = [1, lambda: 2]\n"         /* 10 */
	"    async def co():\n"                /* 11 */
	"        pass\n"                       /* 12 */
	"    return inner, deco, f, g, co\n";

Test(bridge, site_position_of_def_keyword)
{
	struct unit u;
	analyse(&u, POS);
	struct code_info *ci = code_named(&u, "outer.<locals>.inner");
	cr_assert_eq(ci->site_line, 2);
	cr_assert_eq(ci->site_col, 4);
	struct code_info *o = code_named(&u, "outer");
	cr_assert_eq(o->site_line, 1);
	cr_assert_eq(o->site_col, 0);
	unit_free(&u);
}

Test(bridge, site_position_of_lambda_keyword)
{
	struct unit u;
	analyse(&u, POS);
	struct code_info *f = bridge_find(&u, "outer.<locals>.<lambda>", 8, 8, 8);
	cr_assert_not_null(f);
	cr_assert_eq(f->kind, CK_LAMBDA);
	cr_assert_eq(f->site_line, 8);
	cr_assert_eq(f->site_col, 8);
	struct code_info *g = bridge_find(&u, "outer.<locals>.<lambda>", 10, 10, 16);
	cr_assert_not_null(g);
	cr_assert_eq(g->site_line, 10);
	cr_assert_eq(g->site_col, 16);
	unit_free(&u);
}

Test(bridge, site_position_of_async_def)
{
	struct unit u;
	analyse(&u, POS);
	struct code_info *ci = code_named(&u, "outer.<locals>.co");
	cr_assert_eq(ci->firstlineno, 11);
	cr_assert_eq(ci->site_line, 11);
	cr_assert_eq(ci->site_col, 4);
	unit_free(&u);
}

Test(bridge, decorated_def_firstlineno_is_decorator_line)
{
	struct unit u;
	analyse(&u, POS);
	struct code_info *ci = code_named(&u, "outer.<locals>.deco");
	cr_assert_eq(ci->firstlineno, 4);
	/* the site is still the def keyword */
	cr_assert_eq(ci->site_line, 6);
	cr_assert_eq(ci->site_col, 4);
	cr_assert_eq(bridge_find(&u, "outer.<locals>.deco", 4, 6, 4), ci);
	cr_assert_null(bridge_find(&u, "outer.<locals>.deco", 6, 6, 4));
	unit_free(&u);
}

Test(bridge, positions_are_byte_columns)
{
	/* a two-byte character before the lambda: the column counts bytes, not characters */
	static const char src[] =
		"def f():\n"
		"    s = '\xc3\xa9'; g = lambda: 1\n"
		"    return s, g\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *ci = code_named(&u, "f.<locals>.<lambda>");
	cr_assert_eq(ci->site_line, 2);
	cr_assert_eq(ci->site_col, 18);
	unit_free(&u);
}

/* ---- kinds ------------------------------------------------------------------------------- */

static const char KINDS[] =
	"def f(xs):\n"
	"    a = [x for x in xs]\n"
	"    b = {x for x in xs}\n"
	"    c = {x: x for x in xs}\n"
	"    d = (x for x in xs)\n"
	"    e = lambda: 0\n"
	"    class K:\n"
	"        def m(self):\n"
	"            pass\n"
	"    return a, b, c, d, e, K\n";

Test(bridge, kind_comprehension)
{
	struct unit u;
	analyse(&u, KINDS);
	static const char *const inlined[] = {"f.<locals>.<listcomp>", "f.<locals>.<setcomp>", "f.<locals>.<dictcomp>"};
	for (size_t k = 0; k < 3; k++) {
		size_t n = 0;
		for (size_t i = 0; i < u.ncodes; i++)
			if (!strcmp(u.codes[i].qualname, inlined[k])) {
				n++;
				cr_assert_eq(u.codes[i].kind, CK_COMPREHENSION);
			}
		/* 3.12+ (PEP 709): list, set and dict comprehensions have no code object */
		cr_assert_eq(n, V >= 12 ? 0u : 1u, "%zu code objects %s under 3.%d", n, inlined[k], V);
	}
	cr_assert_eq(code_named(&u, "f.<locals>.<genexpr>")->kind, CK_COMPREHENSION);
	/* the comprehensions' variable: 3.11 binds it in each comprehension's own code object;
	 * 3.12+ inlines them, and x is a local of f (saved and restored around each) */
	cr_assert_eq(bridge_local_kind(code_named(&u, "f"), "x"), V >= 12 ? 1 : 0);
	unit_free(&u);
}

Test(bridge, kind_lambda)
{
	struct unit u;
	analyse(&u, KINDS);
	struct code_info *ci = code_named(&u, "f.<locals>.<lambda>");
	cr_assert_eq(ci->kind, CK_LAMBDA);
	cr_assert_str_eq(ci->name, "<lambda>");
	unit_free(&u);
}

Test(bridge, kind_class_and_method)
{
	struct unit u;
	analyse(&u, KINDS);
	struct code_info *k = code_named(&u, "f.<locals>.K");
	cr_assert_eq(k->kind, CK_CLASS);
	struct code_info *m = code_named(&u, "f.<locals>.K.m");
	cr_assert_eq(m->kind, CK_FUNCTION);
	cr_assert_eq(m->parent, k);
	cr_assert_eq(code_named(&u, "f")->kind, CK_FUNCTION);
	unit_free(&u);
}

/* ---- names --------------------------------------------------------------------------------- */

Test(bridge, local_kind_local_cell_free_and_absent)
{
	struct unit u;
	analyse(&u, NESTED);
	struct code_info *outer = code_named(&u, "outer");
	struct code_info *clo = code_named(&u, "outer.<locals>.clo");
	struct code_info *inner = code_named(&u, "outer.<locals>.inner");
	cr_assert_eq(bridge_local_kind(outer, "x"), 1);     /* a cell: still local */
	cr_assert_eq(bridge_local_kind(outer, "inner"), 1);
	cr_assert_eq(bridge_local_kind(outer, "clo"), 1);
	cr_assert_eq(bridge_local_kind(clo, "x"), 2);       /* free */
	cr_assert_eq(bridge_local_kind(inner, "a"), 1);
	cr_assert_eq(bridge_local_kind(inner, "x"), 0);
	cr_assert_eq(bridge_local_kind(outer, "a"), 0);
	cr_assert_eq(bridge_local_kind(outer, "len"), 0);
	unit_free(&u);
}

Test(bridge, insn_name_of_global_load)
{
	static const char src[] =
		"def f(s):\n"
		"    return len(s)\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *ci = code_named(&u, "f");
	int globals = 0;
	for (size_t i = 0; i < ci->ninsns; i++)
		if (bridge_op_is_global_load(ci->insns[i].op)) {
			cr_assert_str_eq(bridge_insn_name(&u, ci, &ci->insns[i]), "len");
			cr_assert_eq(ci->insns[i].line, 2);
			globals++;
		}
	cr_assert_eq(globals, 1);
	unit_free(&u);
}

Test(bridge, global_bindings_counts_module_stores)
{
	static const char src[] =
		"a = 1\n"      /* 1 */
		"b = 2\n"      /* 2 */
		"a = 3\n"      /* 3 */
		"def f():\n"   /* 4 */
		"    c = 1\n"  /* 5: a local, not a module binding */
		"    return c\n";
	struct unit u;
	analyse(&u, src);
	int first = -7;
	cr_assert_eq(bridge_global_bindings(&u, "a", &first), 2);
	cr_assert_eq(first, 1);
	cr_assert_eq(bridge_global_bindings(&u, "b", &first), 1);
	cr_assert_eq(first, 2);
	cr_assert_eq(bridge_global_bindings(&u, "f", &first), 1);
	cr_assert_eq(first, 4);
	cr_assert_eq(bridge_global_bindings(&u, "c", &first), 0);
	cr_assert_eq(first, 0);
	cr_assert_eq(bridge_global_bindings(&u, "nope", &first), 0);
	cr_assert_eq(first, 0);
	unit_free(&u);
}

Test(bridge, global_bindings_first_line_skips_earlier_reads)
{
	static const char src[] =
		"print(x if 0 else 1)\n"  /* 1: a read */
		"import os\n"             /* 2 */
		"x = 1\n"                 /* 3 */
		"del x\n";                /* 4 */
	struct unit u;
	analyse(&u, src);
	int first = 0;
	cr_assert_eq(bridge_global_bindings(&u, "x", &first), 2);
	cr_assert_eq(first, 3);
	cr_assert_eq(bridge_global_bindings(&u, "os", &first), 1);
	cr_assert_eq(first, 2);
	unit_free(&u);
}

Test(bridge, global_bindings_counts_global_statement_stores)
{
	static const char src[] =
		"def f():\n"
		"    global g\n"
		"    g = 1\n"
		"g = 0\n";
	struct unit u;
	analyse(&u, src);
	int first = 0;
	cr_assert_eq(bridge_global_bindings(&u, "g", &first), 2);
	cr_assert_eq(first, 4, "first_line %d, want 4 (the module-level `g = 0`)", first);
	unit_free(&u);
}

Test(bridge, global_bindings_first_line_when_a_function_declares_global)
{
	/* `global g` in any function makes CPython store module-level `g` with STORE_GLOBAL too:
	 * it is still a module-level store */
	static const char src[] =
		"def read():\n"        /* 1 */
		"    global g\n"       /* 2 */
		"    return g\n"       /* 3 */
		"g = 0\n";             /* 4 */
	struct unit u;
	analyse(&u, src);
	int first = 0;
	cr_assert_eq(bridge_global_bindings(&u, "g", &first), 1);
	cr_assert_eq(first, 4, "first_line %d, want 4 (the module-level `g = 0`)", first);
	unit_free(&u);
}

Test(bridge, global_bindings_import_star)
{
	static const char src[] =
		"a = 1\n"
		"from os.path import *\n";
	struct unit u;
	analyse(&u, src);
	int first = 0;
	cr_assert_eq(bridge_global_bindings(&u, "a", &first), -1);
	cr_assert_eq(bridge_global_bindings(&u, "unrelated", &first), -1);
	unit_free(&u);
}

Test(bridge, is_builtin)
{
	cr_assert(bridge_is_builtin("len"));
	cr_assert(bridge_is_builtin("print"));
	cr_assert(bridge_is_builtin("ValueError"));
	cr_assert_not(bridge_is_builtin("nope_xyz"));
	cr_assert_not(bridge_is_builtin(""));
}

/* ---- compile errors ---------------------------------------------------------------------- */

Test(bridge, python312_syntax_cannot_compile)
{
	static const char src[] = "type X = int\n";
	struct unit u;
	int rc = engine_analyse(&(struct engine_config){0}, &u, "t.py", src, strlen(src));
	if (V >= 12) {
		cr_assert_eq(rc, 0, "3.%d: %s", V, u.error);
		unit_free(&u);
		return;
	}
	cr_assert_eq(rc, -1);
	cr_assert_not_null(u.error);
	cr_assert_not_null(strstr(u.error, "Python 3.11 cannot compile"), "error was: %s", u.error);
	cr_assert_not_null(strstr(u.error, "needs Python 3.12 or newer (PEP 695"), "error was: %s", u.error);
	cr_assert_eq(u.error_kind, UE_INPUT, "an error, not a note");
	cr_assert(u.error_has_pos);
	cr_assert_eq(u.error_row, 0);
	cr_assert_eq(u.nfindings, 0);
	unit_free(&u);
}

/* ---- what changes between versions --------------------------------------------------------- */

Test(bridge, generic_function_is_built_in_an_annotation_scope)
{
	static const char src[] = "def first[T](xs):\n    def key(x):\n        return x\n    return key(xs[0])\n";
	struct unit u;
	if (V < 12) {
		cr_assert_eq(engine_analyse(&(struct engine_config){0}, &u, "t.py", src, strlen(src)), -1);
		unit_free(&u);
		return;
	}
	analyse(&u, src);
	struct code_info *first = code_named(&u, "first");
	cr_assert_eq(first->kind, CK_FUNCTION);
	cr_assert_eq(first->parent->kind, CK_ANNOTATION);
	cr_assert_str_eq(first->parent->qualname, "<generic parameters of first>");
	cr_assert_geq(first->site, 0);
	/* the nested def is still first's, and found */
	cr_assert_eq(code_named(&u, "first.<locals>.key")->parent, first);
	cr_assert_eq(count_findings(&u, "SPF101"), 1);
	unit_free(&u);
}

Test(bridge, two_local_instructions_are_split)
{
	/* 3.13 compiles `a + b` of two locals to LOAD_FAST_LOAD_FAST; the index shows its halves */
	static const char src[] = "def f(a, b):\n    x, y = a, b\n    return a + b\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *f = code_named(&u, "f");
	const char *want[] = {"a", "b", NULL};
	size_t k = 0, stores = 0;
	for (size_t i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];
		const char *op = bridge_opname(in->op);
		cr_assert(strstr(op, "FAST_LOAD_FAST") == NULL && strstr(op, "FAST_STORE_FAST") == NULL, "%s", op);
		if (!strcmp(op, "STORE_FAST"))
			stores++;
		if (!strcmp(op, "LOAD_FAST") && in->line == 3 && want[k]) {
			cr_assert_str_eq(bridge_insn_name(&u, f, in), want[k]);
			k++;
		}
	}
	cr_assert_eq(k, 2);
	cr_assert_eq(stores, 2);
	unit_free(&u);
}

Test(bridge, names_of_attribute_method_and_global_loads)
{
	/* the name index without the flag bits: LOAD_GLOBAL (3.11+), LOAD_ATTR (3.12+ method bit) */
	static const char src[] = "def f(xs):\n    xs.append(len(xs))\n    return xs.real\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *f = code_named(&u, "f");
	bool append = false, real = false, len = false;
	for (size_t i = 0; i < f->ninsns; i++) {
		const char *nm = bridge_insn_name(&u, f, &f->insns[i]);
		if (!nm)
			continue;
		if (bridge_op_is_attr_load(f->insns[i].op))
			append |= !strcmp(nm, "append"), real |= !strcmp(nm, "real");
		if (bridge_op_is_global_load(f->insns[i].op))
			len |= !strcmp(nm, "len");
	}
	cr_assert(append && real && len);
	unit_free(&u);
}

Test(bridge, a_function_built_at_two_sites_is_one_code_object)
{
	/* 3.12+ copies the def that ends the module into both branches of the `if` before it */
	static const char src[] = "if X:\n    a = 1\nelse:\n    a = 2\ndef f():\n    def g():\n        return 1\n    return g\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *f = code_named(&u, "f");
	cr_assert_geq(f->site, 0);
	cr_assert_eq(count_findings(&u, "SPF101"), 1);
	unit_free(&u);
}

Test(bridge, equal_lambdas_are_two_functions)
{
	/* 3.12+ merges the two equal code objects into one constant, built at two sites */
	static const char src[] = "def f(g):\n    return g(lambda x: 0, lambda x: 0)\n";
	struct unit u;
	analyse(&u, src);
	size_t n = 0;
	for (size_t i = 0; i < u.ncodes; i++)
		n += !strcmp(u.codes[i].qualname, "f.<locals>.<lambda>");
	cr_assert_eq(n, 2);
	cr_assert_eq(count_findings(&u, "SPF101"), 2);
	unit_free(&u);
}

Test(bridge, keyword_names_are_call_setup)
{
	/* 3.11/3.12: KW_NAMES; 3.13: the LOAD_CONST of CALL_KW's names, shown as KW_NAMES */
	static const char src[] = "import re\ndef f():\n    return re.compile('a+', flags=2)\n";
	struct unit u;
	analyse(&u, src);
	struct code_info *f = code_named(&u, "f");
	size_t kw = 0;
	for (size_t i = 0; i < f->ninsns; i++)
		if (!strcmp(bridge_opname(f->insns[i].op), "KW_NAMES")) {
			kw++;
			cr_assert(bridge_op_is_call_setup(f->insns[i].op));
		}
	cr_assert_eq(kw, 1);
	cr_assert_eq(count_findings(&u, "SPF201"), 1);
	unit_free(&u);
}

Test(bridge, import_star_makes_every_name_rebindable)
{
	/* 3.11: IMPORT_STAR; 3.12+: CALL_INTRINSIC_1 INTRINSIC_IMPORT_STAR */
	static const char src[] = "a = 1\nfrom os.path import *\nb = 2\n";
	struct unit u;
	analyse(&u, src);
	int first;
	cr_assert_eq(bridge_global_bindings(&u, "b", &first), -1);
	cr_assert_eq(bridge_global_bindings(&u, "a", &first), -1);
	cr_assert_eq(first, 1);
	cr_assert_geq(u.codes[0].star_at, 0);
	unit_free(&u);
}

Test(bridge, the_version_that_runs_is_the_target)
{
	char want[16];
	snprintf(want, sizeof want, "3.%d.", V);
	cr_assert_eq(strncmp(bridge_python_version(), want, strlen(want)), 0, "%s, target %s", bridge_python_version(),
		     bridge_target_name());
}

Test(bridge, syntax_error_position)
{
	static const char src[] = "x = 1\ndef f(:\n    pass\n";
	struct unit u;
	cr_assert_eq(engine_analyse(&(struct engine_config){0}, &u, "t.py", src, strlen(src)), -1);
	cr_assert_not_null(u.error);
	cr_assert_not_null(strstr(u.error, "cannot compile"), "error was: %s", u.error);
	cr_assert(u.error_has_pos);
	cr_assert_eq(u.error_row, 1);
	unit_free(&u);
}

Test(bridge, compiles_valid_text)
{
	struct unit u;
	static const char src[] = "def f(x):\n    return x + 1\n";
	unit_init(&u, "t.py", src, strlen(src));
	cr_assert_eq(bridge_compile(&u), 0, "%s", u.error ? u.error : "");
	cr_assert_null(u.error);
	cr_assert_not_null(u.module_code);
	unit_free(&u);
}

Test(bridge, compiles_invalid_text)
{
	struct unit u;
	static const char src[] = "def f(x)\n    return x +\n";
	unit_init(&u, "t.py", src, strlen(src));
	cr_assert_eq(bridge_compile(&u), -1);
	cr_assert_not_null(u.error);
	cr_assert_gt(strlen(u.error), 0);
	unit_free(&u);
}

Test(bridge, compiles_does_not_execute)
{
	/* compiling only: a raise at module level is not an error */
	struct unit u;
	static const char src[] = "raise SystemExit(3)\n";
	unit_init(&u, "t.py", src, strlen(src));
	cr_assert_eq(bridge_compile(&u), 0, "%s", u.error ? u.error : "");
	unit_free(&u);
}

/* ---- SPF101 findings ------------------------------------------------------------------------ */

Test(bridge, spf101_safe_for_called_closure_free_def)
{
	static const char src[] =
		"def outer(a):\n"
		"    def inner(b):\n"
		"        return b + 1\n"
		"    return inner(a)\n";
	struct unit u;
	analyse(&u, src);
	const struct finding *f = only_finding(&u, "SPF101");
	cr_assert_str_eq(f->pass->code, "SPF101");
	cr_assert_eq(f->applicability, FIX_SAFE, "applicability %d, reason %s", f->applicability,
		     f->reason ? f->reason : "(none)");
	cr_assert_null(f->reason);
	cr_assert_eq(f->nedits, 3); /* the lifted def, the def removed, the one use renamed */
	cr_assert_not_null(f->edits);
	cr_assert_not_null(f->code);
	cr_assert_str_eq(f->code->qualname, "outer.<locals>.inner");
	/* reported at the def's name */
	cr_assert_eq(f->row, 1);
	cr_assert_eq(f->col, 8);
	unit_free(&u);
}

Test(bridge, spf101_closure_is_not_a_finding)
{
	static const char src[] =
		"def outer(a):\n"
		"    def inner(b):\n"
		"        return a + b\n"
		"    return inner(1)\n";
	struct unit u;
	analyse(&u, src);
	cr_assert_eq(count_findings(&u, "SPF101"), 0);
	unit_free(&u);
}

Test(bridge, spf101_module_level_def_is_not_a_finding)
{
	static const char src[] =
		"def top(b):\n"
		"    return b + 1\n";
	struct unit u;
	analyse(&u, src);
	cr_assert_eq(count_findings(&u, "SPF101"), 0);
	unit_free(&u);
}

Test(bridge, spf101_unsafe_when_returned)
{
	static const char src[] =
		"def outer():\n"
		"    def inner():\n"
		"        return 1\n"
		"    return inner\n";
	struct unit u;
	analyse(&u, src);
	const struct finding *f = only_finding(&u, "SPF101");
	cr_assert_eq(f->applicability, FIX_UNSAFE, "applicability %d, reason %s", f->applicability,
		     f->reason ? f->reason : "(none)");
	cr_assert_not_null(f->reason);
	cr_assert_not_null(strstr(f->reason, "escapes (it is returned)"), "reason was: %s", f->reason);
	unit_free(&u);
}

Test(bridge, spf101_none_when_default_reads_parent_local)
{
	static const char src[] =
		"def outer(n):\n"
		"    def inner(x, n=n):\n"
		"        return x + n\n"
		"    return inner(1)\n";
	struct unit u;
	analyse(&u, src);
	const struct finding *f = only_finding(&u, "SPF101");
	cr_assert_eq(f->applicability, FIX_NONE, "applicability %d, reason %s", f->applicability,
		     f->reason ? f->reason : "(none)");
	cr_assert_not_null(f->reason);
	cr_assert_not_null(strstr(f->reason, "reads `n` of the enclosing function"), "reason was: %s", f->reason);
	cr_assert_eq(f->nedits, 0);
	unit_free(&u);
}

Test(bridge, select_other_pass_skips_spf101)
{
	static const char src[] =
		"def outer(a):\n"
		"    def inner(b):\n"
		"        return b + 1\n"
		"    return inner(a)\n";
	static const char *const select[] = {"SPF102", NULL};
	struct unit u;
	cr_assert_eq(engine_analyse(&(struct engine_config){.select = select}, &u, "t.py", src, strlen(src)), 0);
	cr_assert_eq(count_findings(&u, "SPF101"), 0);
	unit_free(&u);
}

Test(bridge, spf101_none_when_default_global_is_bound_after_outer)
{
	/* the lifted def would read `g` at import, before `g = 0` runs: NameError. That `read`
	 * declares `global g` must not hide the late binding. */
	static const char src[] =
		"def outer():\n"          /* 1 */
		"    def inner(k=g):\n"   /* 2 */
		"        return k\n"      /* 3 */
		"    return inner(1)\n"   /* 4 */
		"def read():\n"           /* 5 */
		"    global g\n"          /* 6 */
		"    return g\n"          /* 7 */
		"g = 0\n";                /* 8 */
	struct unit u;
	analyse(&u, src);
	const struct finding *f = only_finding(&u, "SPF101");
	cr_assert_eq(f->applicability, FIX_NONE, "applicability %d, reason %s", f->applicability,
		     f->reason ? f->reason : "(none)");
	cr_assert_not_null(f->reason);
	cr_assert_not_null(strstr(f->reason, "defined after the enclosing function"), "reason was: %s", f->reason);
	unit_free(&u);
}

Test(bridge, spf101_none_when_default_global_is_bound_after_outer_plain)
{
	/* the same without any `global` statement */
	static const char src[] =
		"def outer():\n"
		"    def inner(k=g):\n"
		"        return k\n"
		"    return inner(1)\n"
		"g = 0\n";
	struct unit u;
	analyse(&u, src);
	const struct finding *f = only_finding(&u, "SPF101");
	cr_assert_eq(f->applicability, FIX_NONE, "applicability %d, reason %s", f->applicability,
		     f->reason ? f->reason : "(none)");
	cr_assert_not_null(strstr(f->reason, "defined after the enclosing function"), "reason was: %s", f->reason);
	unit_free(&u);
}
