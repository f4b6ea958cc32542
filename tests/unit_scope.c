/* Unit tests for the tree scope helpers (passes/scope.h): scope parents, CPython qualnames,
 * function-likeness, first lines, dynamic namespace calls and top-level statements. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "engine.h"
#include "scope.h"
#include "syntax.h"
#include "unit.h"

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }
static void teardown(void) { bridge_fini(); }

TestSuite(scope, .init = setup, .fini = teardown);

static void analyse(struct unit *u, const char *src)
{
	int rc = engine_analyse(&(struct engine_config){0}, u, "t.py", src, strlen(src));
	cr_assert_eq(rc, 0, "unit_analyse failed: %s", u->error ? u->error : "(no error)");
	cr_assert_not(ts_node_is_null(u->root));
}

/* The nearest node of `type` that contains the start of the `nth` (0-based) occurrence of
 * `needle` in the source. Fails the test when there is none. */
static TSNode node_at(const struct unit *u, const char *needle, int nth, const char *type)
{
	const char *p = u->src;
	for (int i = 0; i <= nth; i++) {
		p = strstr(i ? p + 1 : p, needle);
		cr_assert_not_null(p, "occurrence %d of \"%s\" not found", nth, needle);
	}
	uint32_t off = (uint32_t)(p - u->src);
	TSNode n = ts_node_descendant_for_byte_range(u->root, off, off);
	while (!ts_node_is_null(n) && strcmp(ts_node_type(n), type) != 0)
		n = ts_node_parent(n);
	cr_assert_not(ts_node_is_null(n), "no %s around \"%s\"", type, needle);
	return n;
}

static uint32_t line_of(TSNode n) { return ts_node_start_point(n).row + 1; }

static void assert_same_node(TSNode got, TSNode want, const char *what)
{
	cr_assert_not(ts_node_is_null(got), "%s: got the module (null node)", what);
	cr_assert(ts_node_eq(got, want), "%s: got %s at line %u, want %s at line %u", what, ts_node_type(got),
		  line_of(got), ts_node_type(want), line_of(want));
}

/* The tree and the bytecode agree: exactly one code object for this node. */
static void assert_code_matches(struct unit *u, TSNode n, const char *qualname)
{
	TSPoint at = ts_node_start_point(n);
	struct code_info *ci = bridge_find(u, qualname, scope_firstlineno(n), (int)at.row + 1, (int)at.column);
	cr_assert_not_null(ci, "no code object %s at line %d", qualname, scope_firstlineno(n));
	cr_assert_str_eq(ci->qualname, qualname);
}

/* ---- scope_qualname ------------------------------------------------------------------------ */

static const char QUAL[] =
	"def outer():\n"                           /* 1 */
	"    def inner():\n"                       /* 2 */
	"        pass\n"                           /* 3 */
	"    return inner\n"                       /* 4 */
	"class C:\n"                               /* 5 */
	"    def m(self):\n"                       /* 6 */
	"        pass\n"                           /* 7 */
	"    class D:\n"                           /* 8 */
	"        def dm(self):\n"                  /* 9 */
	"            pass\n"                       /* 10 */
	"def f(xs):\n"                             /* 11 */
	"    h = lambda: 0\n"                      /* 12 */
	"    fs = [lambda: x for x in xs]\n"       /* 13 */
	"    class K:\n"                           /* 14 */
	"        def km(self):\n"                  /* 15 */
	"            return [y for y in ()]\n"     /* 16 */
	"    return h, fs, K\n"                    /* 17 */
	"def g():\n"                               /* 18 */
	"    global lifted\n"                      /* 19 */
	"    def lifted():\n"                      /* 20 */
	"        pass\n"                           /* 21 */
	"    def nested():\n"                      /* 22 */
	"        pass\n"                           /* 23 */
	"    return nested\n"                      /* 24 */
	"top = [z for z in range(3)]\n";           /* 25 */

Test(scope, qualname_module_level_def)
{
	struct unit u;
	analyse(&u, QUAL);
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "def outer", 0, "function_definition")), "outer");
	unit_free(&u);
}

Test(scope, qualname_nested_def)
{
	struct unit u;
	analyse(&u, QUAL);
	TSNode n = node_at(&u, "def inner", 0, "function_definition");
	cr_assert_str_eq(scope_qualname(&u, n), "outer.<locals>.inner");
	assert_code_matches(&u, n, "outer.<locals>.inner");
	unit_free(&u);
}

Test(scope, qualname_method)
{
	struct unit u;
	analyse(&u, QUAL);
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "def m(", 0, "function_definition")), "C.m");
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "class D", 0, "class_definition")), "C.D");
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "def dm", 0, "function_definition")), "C.D.dm");
	unit_free(&u);
}

Test(scope, qualname_lambda_in_def)
{
	struct unit u;
	analyse(&u, QUAL);
	TSNode n = node_at(&u, "lambda: 0", 0, "lambda");
	cr_assert_str_eq(scope_qualname(&u, n), "f.<locals>.<lambda>");
	assert_code_matches(&u, n, "f.<locals>.<lambda>");
	unit_free(&u);
}

Test(scope, qualname_lambda_in_comprehension)
{
	struct unit u;
	analyse(&u, QUAL);
	TSNode n = node_at(&u, "lambda: x", 0, "lambda");
	/* 3.12+ inlines the comprehension (PEP 709): it adds nothing to the qualname */
	const char *want = bridge_inlines_comprehensions() ? "f.<locals>.<lambda>" : "f.<locals>.<listcomp>.<lambda>";
	cr_assert_str_eq(scope_qualname(&u, n), want);
	assert_code_matches(&u, n, want);
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "[lambda: x", 0, "list_comprehension")),
			 "f.<locals>.<listcomp>");
	unit_free(&u);
}

Test(scope, qualname_class_in_def_and_its_method)
{
	struct unit u;
	analyse(&u, QUAL);
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "class K", 0, "class_definition")), "f.<locals>.K");
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "def km", 0, "function_definition")), "f.<locals>.K.km");
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "[y for", 0, "list_comprehension")),
			 "f.<locals>.K.km.<locals>.<listcomp>");
	unit_free(&u);
}

Test(scope, qualname_global_declared_def_is_plain)
{
	struct unit u;
	analyse(&u, QUAL);
	TSNode n = node_at(&u, "def lifted", 0, "function_definition");
	cr_assert_str_eq(scope_qualname(&u, n), "lifted");
	assert_code_matches(&u, n, "lifted");
	/* the sibling without `global` keeps the nested qualname */
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "def nested", 0, "function_definition")),
			 "g.<locals>.nested");
	unit_free(&u);
}

Test(scope, qualname_global_declared_in_class_body_is_plain)
{
	/* CPython forces the plain name whenever the parent scope declares the name global,
	 * whatever kind of scope the parent is */
	static const char src[] =
		"class C:\n"
		"    global h\n"
		"    def h():\n"
		"        def inner():\n"
		"            pass\n"
		"        return inner\n";
	struct unit u;
	analyse(&u, src);
	TSNode h = node_at(&u, "def h", 0, "function_definition");
	cr_assert_str_eq(scope_qualname(&u, h), "h");
	assert_code_matches(&u, h, "h");
	TSNode inner = node_at(&u, "def inner", 0, "function_definition");
	cr_assert_str_eq(scope_qualname(&u, inner), "h.<locals>.inner");
	unit_free(&u);
}

Test(scope, qualname_module_level_comprehension)
{
	struct unit u;
	analyse(&u, QUAL);
	cr_assert_str_eq(scope_qualname(&u, node_at(&u, "[z for", 0, "list_comprehension")), "<listcomp>");
	unit_free(&u);
}

/* ---- scope_parent -------------------------------------------------------------------------- */

static const char PARENT[] =
	"def outer(xs):\n"                                     /* 1 */
	"    def dflt(k=lambda: 0):\n"                         /* 2 */
	"        return k\n"                                   /* 3 */
	"    @deco(lambda: 1)\n"                               /* 4 */
	"    def decorated():\n"                               /* 5 */
	"        pass\n"                                       /* 6 */
	"    def annotated(a: (lambda: int)()) -> (lambda: 2)():\n" /* 7 */
	"        pass\n"                                       /* 8 */
	"    a = [y for y in (lambda: xs)()]\n"                /* 9 */
	"    b = [lambda: y for y in xs]\n"                    /* 10 */
	"    c = [z for y in xs for z in (lambda: y)()]\n"     /* 11 */
	"    d = [y for y in xs if (lambda: y)()]\n"           /* 12 */
	"    class K(base(lambda: 3)):\n"                      /* 13 */
	"        attr = lambda: 4\n"                           /* 14 */
	"    return dflt(), a, b, c, d, K\n"                   /* 15 */
	"def deco(f):\n"                                       /* 16 */
	"    return lambda g: g\n"                             /* 17 */
	"def base(f):\n"                                       /* 18 */
	"    return object\n"                                  /* 19 */
	"m = lambda: 5\n";                                     /* 20 */

Test(scope, parent_of_nested_def_is_def)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	assert_same_node(scope_parent(&u, node_at(&u, "def dflt", 0, "function_definition")), outer, "nested def");
	unit_free(&u);
}

Test(scope, parent_of_module_level_is_null)
{
	struct unit u;
	analyse(&u, PARENT);
	cr_assert(ts_node_is_null(scope_parent(&u, node_at(&u, "def outer", 0, "function_definition"))));
	cr_assert(ts_node_is_null(scope_parent(&u, node_at(&u, "lambda: 5", 0, "lambda"))));
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_default_is_enclosing)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	TSNode lam = node_at(&u, "lambda: 0", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), outer, "lambda in a default");
	cr_assert_str_eq(scope_qualname(&u, lam), "outer.<locals>.<lambda>");
	assert_code_matches(&u, lam, "outer.<locals>.<lambda>");
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_decorator_is_enclosing)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	TSNode lam = node_at(&u, "lambda: 1", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), outer, "lambda in a decorator");
	assert_code_matches(&u, lam, "outer.<locals>.<lambda>");
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_annotations_is_enclosing)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	assert_same_node(scope_parent(&u, node_at(&u, "lambda: int", 0, "lambda")), outer, "lambda in a parameter annotation");
	assert_same_node(scope_parent(&u, node_at(&u, "lambda: 2", 0, "lambda")), outer, "lambda in the return annotation");
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_first_iterable_is_enclosing)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	TSNode lam = node_at(&u, "lambda: xs", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), outer, "lambda in the first iterable");
	cr_assert_str_eq(scope_qualname(&u, lam), "outer.<locals>.<lambda>");
	assert_code_matches(&u, lam, "outer.<locals>.<lambda>");
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_comprehension_body_is_comprehension)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode comp = node_at(&u, "[lambda: y", 0, "list_comprehension");
	TSNode lam = node_at(&u, "lambda: y for", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), comp, "lambda in the comprehension body");
	const char *want = bridge_inlines_comprehensions() ? "outer.<locals>.<lambda>" : "outer.<locals>.<listcomp>.<lambda>";
	cr_assert_str_eq(scope_qualname(&u, lam), want);
	assert_code_matches(&u, lam, want);
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_second_iterable_is_comprehension)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode comp = node_at(&u, "[z for", 0, "list_comprehension");
	TSNode lam = node_at(&u, "lambda: y)()]\n    d", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), comp, "lambda in a second for clause's iterable");
	const char *want = bridge_inlines_comprehensions() ? "outer.<locals>.<lambda>" : "outer.<locals>.<listcomp>.<lambda>";
	cr_assert_str_eq(scope_qualname(&u, lam), want);
	assert_code_matches(&u, lam, want);
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_if_clause_is_comprehension)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode comp = node_at(&u, "[y for y in xs if", 0, "list_comprehension");
	TSNode lam = node_at(&u, "lambda: y)()]\n    class", 0, "lambda");
	assert_same_node(scope_parent(&u, lam), comp, "lambda in an if clause");
	unit_free(&u);
}

Test(scope, parent_of_first_iterable_comprehension_itself)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	assert_same_node(scope_parent(&u, node_at(&u, "[y for y in (lambda", 0, "list_comprehension")), outer,
			 "comprehension in a def");
	unit_free(&u);
}

Test(scope, parent_of_lambda_in_class_bases_is_enclosing)
{
	struct unit u;
	analyse(&u, PARENT);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	TSNode klass = node_at(&u, "class K", 0, "class_definition");
	assert_same_node(scope_parent(&u, node_at(&u, "lambda: 3", 0, "lambda")), outer, "lambda in class bases");
	assert_same_node(scope_parent(&u, node_at(&u, "lambda: 4", 0, "lambda")), klass, "lambda in class body");
	unit_free(&u);
}

/* ---- scope_is_function_like -------------------------------------------------------------- */

static const char FLIKE[] =
	"def f(xs):\n"                              /* 1 */
	"    a = [x for x in xs]\n"                 /* 2 */
	"    b = [[w for w in x] for x in xs]\n"    /* 3 */
	"    class K:\n"                            /* 4 */
	"        kk = [v for v in (1, 2)]\n"        /* 5 */
	"    return a, b, K, lambda: [t for t in xs]\n" /* 6 */
	"class C:\n"                                /* 7 */
	"    pass\n"                                /* 8 */
	"top = [q for q in range(3)]\n"             /* 9 */
	"gen = list(r for r in range(3))\n";        /* 10 */

Test(scope, function_like_def_and_lambda)
{
	struct unit u;
	analyse(&u, FLIKE);
	cr_assert(scope_is_function_like(&u, node_at(&u, "def f", 0, "function_definition")));
	cr_assert(scope_is_function_like(&u, node_at(&u, "lambda:", 0, "lambda")));
	unit_free(&u);
}

Test(scope, function_like_comprehension_in_def)
{
	struct unit u;
	analyse(&u, FLIKE);
	cr_assert(scope_is_function_like(&u, node_at(&u, "[x for", 0, "list_comprehension")));
	cr_assert(scope_is_function_like(&u, node_at(&u, "[w for", 0, "list_comprehension")));
	cr_assert(scope_is_function_like(&u, node_at(&u, "[t for", 0, "list_comprehension")));
	unit_free(&u);
}

Test(scope, not_function_like_class_body)
{
	struct unit u;
	analyse(&u, FLIKE);
	cr_assert_not(scope_is_function_like(&u, node_at(&u, "class C", 0, "class_definition")));
	cr_assert_not(scope_is_function_like(&u, node_at(&u, "class K", 0, "class_definition")));
	unit_free(&u);
}

Test(scope, not_function_like_comprehension_in_class_body)
{
	struct unit u;
	analyse(&u, FLIKE);
	cr_assert_not(scope_is_function_like(&u, node_at(&u, "[v for", 0, "list_comprehension")));
	unit_free(&u);
}

Test(scope, not_function_like_module_level_comprehension)
{
	struct unit u;
	analyse(&u, FLIKE);
	cr_assert_not(scope_is_function_like(&u, node_at(&u, "[q for", 0, "list_comprehension")));
	cr_assert_not(scope_is_function_like(&u, node_at(&u, "(r for", 0, "generator_expression")));
	unit_free(&u);
}

Test(scope, not_function_like_module)
{
	TSNode null = {{0}, 0, 0};
	cr_assert_not(scope_is_function_like(NULL, null));
}

/* ---- scope_firstlineno, scope_def_statement, scope_enclosing_def --------------------------- */

static const char LINES[] =
	"import functools\n"                   /* 1 */
	"@functools.cache\n"                   /* 2 */
	"def one():\n"                         /* 3 */
	"    pass\n"                           /* 4 */
	"def outer():\n"                       /* 5 */
	"    @functools.wraps(one)\n"          /* 6 */
	"    # a comment\n"                    /* 7 */
	"    @staticmethod\n"                  /* 8 */
	"    def inner():\n"                   /* 9 */
	"        return lambda: 0\n"           /* 10 */
	"    return inner\n"                   /* 11 */
	"@dataclass\n"                         /* 12 */
	"class K:\n"                           /* 13 */
	"    pass\n"                           /* 14 */
	"def dataclass(c):\n"                  /* 15 */
	"    return c\n";                      /* 16 */

Test(scope, firstlineno_plain_def)
{
	struct unit u;
	analyse(&u, LINES);
	cr_assert_eq(scope_firstlineno(node_at(&u, "def outer", 0, "function_definition")), 5);
	cr_assert_eq(scope_firstlineno(node_at(&u, "lambda", 0, "lambda")), 10);
	unit_free(&u);
}

Test(scope, firstlineno_decorated_def_is_decorator_line)
{
	struct unit u;
	analyse(&u, LINES);
	TSNode one = node_at(&u, "def one", 0, "function_definition");
	cr_assert_eq(scope_firstlineno(one), 2);
	assert_code_matches(&u, one, "one");
	unit_free(&u);
}

Test(scope, firstlineno_first_of_several_decorators)
{
	struct unit u;
	analyse(&u, LINES);
	TSNode inner = node_at(&u, "def inner", 0, "function_definition");
	cr_assert_eq(scope_firstlineno(inner), 6);
	assert_code_matches(&u, inner, "outer.<locals>.inner");
	unit_free(&u);
}

Test(scope, firstlineno_decorated_class)
{
	struct unit u;
	analyse(&u, LINES);
	TSNode k = node_at(&u, "class K", 0, "class_definition");
	cr_assert_eq(scope_firstlineno(k), 12);
	cr_assert_not_null(bridge_find(&u, "K", 12, 13, 0));
	unit_free(&u);
}

Test(scope, def_statement_includes_decorators)
{
	struct unit u;
	analyse(&u, LINES);
	TSNode inner = node_at(&u, "def inner", 0, "function_definition");
	TSNode st = scope_def_statement(inner);
	cr_assert_str_eq(ts_node_type(st), "decorated_definition");
	cr_assert_eq(line_of(st), 6);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	cr_assert(ts_node_eq(scope_def_statement(outer), outer));
	unit_free(&u);
}

Test(scope, enclosing_def)
{
	struct unit u;
	analyse(&u, LINES);
	TSNode outer = node_at(&u, "def outer", 0, "function_definition");
	TSNode inner = node_at(&u, "def inner", 0, "function_definition");
	assert_same_node(scope_enclosing_def(&u, inner), outer, "enclosing def of inner");
	assert_same_node(scope_enclosing_def(&u, node_at(&u, "lambda", 0, "lambda")), inner, "enclosing def of the lambda");
	cr_assert(ts_node_is_null(scope_enclosing_def(&u, outer)));
	unit_free(&u);
}

/* ---- scope_dynamic_call ----------------------------------------------------------------- */

static const char DYN[] =
	"def uses_locals():\n"                 /* 1 */
	"    x = 1\n"                          /* 2 */
	"    return locals()\n"                /* 3 */
	"def uses_eval(s):\n"                  /* 4 */
	"    return eval(s)\n"                 /* 5 */
	"def nested_only():\n"                 /* 6 */
	"    def inner():\n"                   /* 7 */
	"        return locals()\n"            /* 8 */
	"    h = lambda: eval('1')\n"          /* 9 */
	"    return inner, h\n"                /* 10 */
	"def method_call(o):\n"                /* 11 */
	"    return o.locals(), o.eval('x')\n" /* 12 */
	"def clean(a):\n"                      /* 13 */
	"    return len(a)\n"                  /* 14 */
	"def in_condition(v):\n"               /* 15 */
	"    if v:\n"                          /* 16 */
	"        print(vars())\n";             /* 17 */

Test(scope, dynamic_call_locals)
{
	struct unit u;
	analyse(&u, DYN);
	const char *d = scope_dynamic_call(&u, node_at(&u, "def uses_locals", 0, "function_definition"));
	cr_assert_not_null(d);
	cr_assert_str_eq(d, "locals");
	unit_free(&u);
}

Test(scope, dynamic_call_eval)
{
	struct unit u;
	analyse(&u, DYN);
	const char *d = scope_dynamic_call(&u, node_at(&u, "def uses_eval", 0, "function_definition"));
	cr_assert_not_null(d);
	cr_assert_str_eq(d, "eval");
	unit_free(&u);
}

Test(scope, dynamic_call_nested_vars_in_block)
{
	struct unit u;
	analyse(&u, DYN);
	const char *d = scope_dynamic_call(&u, node_at(&u, "def in_condition", 0, "function_definition"));
	cr_assert_not_null(d);
	cr_assert_str_eq(d, "vars");
	unit_free(&u);
}

Test(scope, dynamic_call_not_in_nested_scope)
{
	struct unit u;
	analyse(&u, DYN);
	cr_assert_null(scope_dynamic_call(&u, node_at(&u, "def nested_only", 0, "function_definition")));
	const char *d = scope_dynamic_call(&u, node_at(&u, "def inner", 0, "function_definition"));
	cr_assert_not_null(d);
	cr_assert_str_eq(d, "locals");
	unit_free(&u);
}

Test(scope, dynamic_call_not_for_methods_or_plain_calls)
{
	struct unit u;
	analyse(&u, DYN);
	cr_assert_null(scope_dynamic_call(&u, node_at(&u, "def method_call", 0, "function_definition")));
	cr_assert_null(scope_dynamic_call(&u, node_at(&u, "def clean", 0, "function_definition")));
	unit_free(&u);
}

Test(scope, dynamic_call_in_nested_def_default_is_own_scope)
{
	/* a nested def's defaults and decorators run in the enclosing frame: locals() there sees it */
	static const char src[] =
		"def f():\n"
		"    def g(k=locals()):\n"
		"        return k\n"
		"    return g\n"
		"def h():\n"
		"    @deco(eval('1'))\n"
		"    def i():\n"
		"        pass\n"
		"    return i\n"
		"def deco(x):\n"
		"    return lambda fn: fn\n";
	struct unit u;
	analyse(&u, src);
	const char *d = scope_dynamic_call(&u, node_at(&u, "def f", 0, "function_definition"));
	cr_assert_not_null(d, "locals() in a nested def's default runs in f's frame");
	cr_assert_str_eq(d, "locals");
	d = scope_dynamic_call(&u, node_at(&u, "def h", 0, "function_definition"));
	cr_assert_not_null(d, "eval() in a nested def's decorator runs in h's frame");
	cr_assert_str_eq(d, "eval");
	unit_free(&u);
}

Test(scope, dynamic_call_in_first_iterable_is_own_scope)
{
	/* a comprehension's first iterable runs in the enclosing frame */
	static const char src[] =
		"def f():\n"
		"    return [k for k in vars()]\n"
		"def g(xs):\n"
		"    return [k for x in xs for k in vars()]\n";
	struct unit u;
	analyse(&u, src);
	const char *d = scope_dynamic_call(&u, node_at(&u, "def f", 0, "function_definition"));
	cr_assert_not_null(d, "vars() in the first iterable runs in f's frame");
	cr_assert_str_eq(d, "vars");
	/* the second iterable runs in the comprehension's own frame */
	cr_assert_null(scope_dynamic_call(&u, node_at(&u, "def g", 0, "function_definition")));
	unit_free(&u);
}

/* ---- scope_toplevel_statement -------------------------------------------------------------- */

static const char TOP[] =
	"import os\n"                          /* 1 */
	"if os.sep:\n"                         /* 2 */
	"    def f():\n"                       /* 3 */
	"        return lambda: 1\n"           /* 4 */
	"@staticmethod\n"                      /* 5 */
	"def g():\n"                           /* 6 */
	"    def h():\n"                       /* 7 */
	"        pass\n"                       /* 8 */
	"    return h\n"                       /* 9 */
	"x = [y for y in range(2)]\n";         /* 10 */

Test(scope, toplevel_statement_of_nested_node)
{
	struct unit u;
	analyse(&u, TOP);
	TSNode st = scope_toplevel_statement(node_at(&u, "lambda", 0, "lambda"));
	cr_assert_str_eq(ts_node_type(st), "if_statement");
	cr_assert_eq(line_of(st), 2);
	cr_assert(ts_node_eq(ts_node_parent(st), u.root));
	unit_free(&u);
}

Test(scope, toplevel_statement_of_decorated_def)
{
	struct unit u;
	analyse(&u, TOP);
	TSNode st = scope_toplevel_statement(node_at(&u, "def h", 0, "function_definition"));
	cr_assert_str_eq(ts_node_type(st), "decorated_definition");
	cr_assert_eq(line_of(st), 5);
	TSNode g = node_at(&u, "def g", 0, "function_definition");
	cr_assert(ts_node_eq(scope_toplevel_statement(g), st));
	unit_free(&u);
}

Test(scope, toplevel_statement_of_a_toplevel_statement_is_itself)
{
	struct unit u;
	analyse(&u, TOP);
	TSNode imp = node_at(&u, "import os", 0, "import_statement");
	cr_assert(ts_node_eq(scope_toplevel_statement(imp), imp));
	TSNode st = scope_toplevel_statement(node_at(&u, "[y for", 0, "list_comprehension"));
	cr_assert_str_eq(ts_node_type(st), "expression_statement");
	cr_assert_eq(line_of(st), 10);
	unit_free(&u);
}

/* ---- scope_each_use ------------------------------------------------------------------------ */

static void count_use(TSNode n, void *ctx)
{
	(void)n;
	(*(int *)ctx)++;
}

Test(scope, each_use_skips_attributes_and_keywords)
{
	static const char src[] =
		"def f(name, o):\n"
		"    o.name = name\n"          /* one use (the value), not the attribute */
		"    g(name=name)\n"           /* one use (the value), not the keyword */
		"    return name.upper()\n";  /* one use (the object) */
	struct unit u;
	analyse(&u, src);
	TSNode f = node_at(&u, "def f", 0, "function_definition");
	int n = 0;
	scope_each_use(&u, syn_field(f, "body"), "name", count_use, &n);
	cr_assert_eq(n, 3);
	unit_free(&u);
}

/* ---- the scope table agrees with the walk up the tree ---------------------------------------- */

struct agree_ctx {
	size_t nodes, fast;
	const char *path;
	const struct unit *u;
};

static int check_node(TSNode n, void *vctx)
{
	struct agree_ctx *c = vctx;
	TSNode fast;
	c->nodes++;
	if (unit_scope_parent(c->u, n, &fast)) {
		c->fast++;
		TSNode walk = scope_parent_walk(n);
		cr_assert(ts_node_eq(fast, walk), "%s:%u:%u %s: table says %s, the tree says %s", c->path,
			  ts_node_start_point(n).row + 1, ts_node_start_point(n).column + 1, ts_node_type(n),
			  ts_node_is_null(fast) ? "module" : ts_node_type(fast),
			  ts_node_is_null(walk) ? "module" : ts_node_type(walk));
	}
	return 1;
}

static void assert_table_agrees(const char *path, const char *src, size_t len)
{
	struct unit u;
	if (engine_analyse(&(struct engine_config){.include_tests = true}, &u, path, src, len) < 0) {
		unit_free(&u);
		return;
	}
	struct agree_ctx c = {0, 0, path, &u};
	syn_walk(u.root, check_node, &c);
	cr_assert_gt(c.fast, c.nodes / 2, "%s: the table answered for %zu of %zu nodes", path, c.fast, c.nodes);
	unit_free(&u);
}

Test(scope, table_agrees_with_tree_walk_on_tricky_code)
{
	static const char src[] =
		"@deco(lambda: 1)\n"
		"def f(a=lambda: 2, *, b: (lambda: int) = 3) -> (lambda: 4):\n"
		"    g = [x for x in (lambda: [y for y in z])() if (lambda: x)]\n"
		"    h = {k: v for k in (lambda: 5) for v in (lambda: 6)}\n"
		"    class C((lambda: object)(), metaclass=(lambda: type)()):\n"
		"        m = lambda self: [q for q in [r for r in self]]\n"
		"        def meth(self, d=(i for i in range(3))): return (j for j in d)\n"
		"    return lambda u=lambda: 7: lambda: u\n"
		"xs = [lambda: n for n in (lambda: range(3))()]\n";
	assert_table_agrees("tricky.py", src, strlen(src));
}

Test(scope, table_agrees_with_tree_walk_on_stdlib_files)
{
	static const char *const files[] = {
		"/usr/lib/python3.11/argparse.py", "/usr/lib/python3.11/dataclasses.py",
		"/usr/lib/python3.11/typing.py",   "/usr/lib/python3.11/test/test_grammar.py",
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		FILE *f = fopen(files[i], "rb");
		if (!f)
			continue; /* not every machine has every file */
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		assert_table_agrees(files[i], buf, n);
	}
}
