/* Unit tests for the module-level facts (passes/module.h), the pure-callable allow-list
 * (passes/purity.h) and loop trip counts (scope_trip_count). */
#include <criterion/criterion.h>

#include <string.h>

#include "bridge.h"
#include "engine.h"
#include "module.h"
#include "purity.h"
#include "scope.h"
#include "syntax.h"
#include "unit.h"

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }
static void teardown(void) { bridge_fini(); }

TestSuite(module, .init = setup, .fini = teardown);

static void analyse(struct unit *u, const char *src)
{
	cr_assert_eq(engine_analyse(&(struct engine_config){0}, u, "t.py", src, strlen(src)), 0, "unit_analyse failed: %s", u->error ? u->error : "?");
}

/* The smallest named node that starts at the first occurrence of `needle`. */
static TSNode expr_at(const struct unit *u, const char *needle)
{
	const char *p = strstr(u->src, needle);
	cr_assert_not_null(p, "\"%s\" not found", needle);
	uint32_t off = (uint32_t)(p - u->src);
	TSNode n = ts_node_named_descendant_for_byte_range(u->root, off, off + (uint32_t)strlen(needle));
	for (TSNode p = ts_node_parent(n); !ts_node_is_null(p) && ts_node_start_byte(p) == off &&
					      ts_node_end_byte(p) == off + strlen(needle);
	     p = ts_node_parent(p))
		n = p;
	return n;
}

static enum global_kind kind_of(struct unit *u, const char *name, struct global_ref *ref)
{
	cr_assert_eq(module_resolve(u, name, ref), 0);
	return ref->kind;
}

Test(module, resolve_imports_and_builtins)
{
	struct unit u;
	analyse(&u, "import re\nimport os.path\nimport datetime as dt\nfrom struct import Struct as S\n"
		    "from . import sibling\nLIMIT = 3 * 4\nTABLE = {}\ndef f():\n    return len\n");
	struct global_ref r;
	cr_assert_eq(kind_of(&u, "re", &r), GK_IMPORT);
	cr_assert_str_eq(r.qualified, "re");
	cr_assert_eq(kind_of(&u, "os", &r), GK_IMPORT);
	cr_assert_str_eq(r.qualified, "os");
	cr_assert_eq(kind_of(&u, "dt", &r), GK_IMPORT);
	cr_assert_str_eq(r.qualified, "datetime");
	cr_assert_eq(kind_of(&u, "S", &r), GK_IMPORT);
	cr_assert_str_eq(r.qualified, "struct.Struct");
	cr_assert_str_eq(r.module, "struct");
	cr_assert_eq(kind_of(&u, "sibling", &r), GK_RELATIVE, "a relative import is a module of the package");
	cr_assert_eq(kind_of(&u, "LIMIT", &r), GK_CONSTANT);
	cr_assert_eq(kind_of(&u, "TABLE", &r), GK_OTHER);
	cr_assert_eq(kind_of(&u, "f", &r), GK_OTHER);
	cr_assert_eq(kind_of(&u, "len", &r), GK_BUILTIN);
	cr_assert_eq(kind_of(&u, "nowhere", &r), GK_UNBOUND);
	unit_free(&u);
}

Test(module, resolve_rebound_conditional_star)
{
	struct unit u;
	analyse(&u, "import re\ntry:\n    import json\nexcept ImportError:\n    json = None\n"
		    "if True:\n    import csv\ndef g():\n    global re\n    re = 1\n");
	struct global_ref r;
	cr_assert_eq(kind_of(&u, "re", &r), GK_REBOUND);
	cr_assert_eq(r.bindings, 2);
	cr_assert_eq(kind_of(&u, "json", &r), GK_REBOUND);
	cr_assert_eq(kind_of(&u, "csv", &r), GK_CONDITIONAL);
	unit_free(&u);
	analyse(&u, "import re\nfrom os import *\n");
	cr_assert_eq(kind_of(&u, "re", &r), GK_STAR);
	unit_free(&u);
}

Test(module, constant_expressions)
{
	struct unit u;
	analyse(&u, "a = (1, -2, 'x' 'y', b'z', 2 ** 8, None, ...)\nb = f'{a}'\nc = [1]\nd = (1, [2])\ne = f'plain'\n");
	cr_assert(module_is_constant_expr(&u, expr_at(&u, "(1, -2")));
	cr_assert(module_is_constant_expr(&u, expr_at(&u, "2 ** 8")));
	cr_assert(module_is_constant_expr(&u, expr_at(&u, "f'plain'")));
	cr_assert_not(module_is_constant_expr(&u, expr_at(&u, "f'{a}'")));
	cr_assert_not(module_is_constant_expr(&u, expr_at(&u, "[1]")));
	cr_assert_not(module_is_constant_expr(&u, expr_at(&u, "(1, [2])")));
	unit_free(&u);
}

Test(module, insertion_points)
{
	struct unit u;
	const char *src = "#!/usr/bin/env python3\n\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\n"
			  "import os\n# about sys\nimport sys\n\nX = 1\nimport re\n";
	analyse(&u, src);
	size_t after_future = (size_t)(strstr(src, "import os") - src);
	size_t after_imports = (size_t)(strstr(src, "import sys\n") - src) + strlen("import sys\n");
	cr_assert_eq(module_head_end(&u, false), after_future);
	cr_assert_eq(module_head_end(&u, true), after_imports);
	TSNode os_import = expr_at(&u, "import os");
	cr_assert_str_eq(ts_node_type(os_import), "import_statement");
	cr_assert_eq(module_after_import_block(&u, os_import), after_imports);
	unit_free(&u);
	/* nothing at the top but comments: before the first statement, after the comments */
	const char *src2 = "# -*- coding: utf-8 -*-\n# licence\ndef f():\n    pass\n";
	analyse(&u, src2);
	cr_assert_eq(module_head_end(&u, true), (size_t)(strstr(src2, "def") - src2));
	unit_free(&u);
}

Test(module, trip_counts)
{
	struct unit u;
	analyse(&u, "for a in range(10): pass\nfor b in range(2, 11, 3): pass\nfor c in range(5, 0, -1): pass\n"
		    "for d in (1, 2, 3): pass\nfor e in range(n): pass\nfor f in [*x, 1]: pass\nfor g in range(3, 1): pass\n");
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "range(10)")), 10);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "range(2, 11, 3)")), 3);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "range(5, 0, -1)")), 5);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "(1, 2, 3)")), 3);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "range(n)")), -1);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "[*x, 1]")), -1);
	cr_assert_eq(scope_trip_count(&u, expr_at(&u, "range(3, 1)")), 0);
	unit_free(&u);
}

Test(module, allow_list)
{
	const struct pure_callable *p = purity_lookup("re.compile");
	cr_assert_not_null(p);
	cr_assert(p->flags & PURE_HOIST);
	p = purity_lookup("builtins.sorted");
	cr_assert_not_null(p);
	cr_assert(p->flags & PURE_CALL);
	cr_assert_not(p->flags & (PURE_HOIST | PURE_IMMUTABLE), "sorted returns a new list");
	cr_assert_null(purity_lookup("time.time"));
	cr_assert_null(purity_lookup("random.random"));
	cr_assert_null(purity_lookup("builtins.print"));
	/* every hoistable entry promises an immutable result */
	for (const struct pure_callable *q = purity_table; q->qualified; q++)
		cr_assert(!(q->flags & PURE_HOIST) || (q->flags & PURE_IMMUTABLE), "%s", q->qualified);
}

Test(module, eval_call_at_analysis_time)
{
	struct unit u;
	analyse(&u, "x = 1\n");
	const char *err = NULL;
	cr_assert_eq(bridge_eval_call(&u, "re", "compile", "(r'\\d+', 2)", &err), 0);
	cr_assert_eq(bridge_eval_call(&u, "builtins", "frozenset", "(('a', 'b'),)", &err), 0);
	cr_assert_eq(bridge_eval_call(&u, "re", "compile", "('(')", &err), -1);
	cr_assert_not_null(strstr(err, "unterminated"), "%s", err);
	cr_assert_eq(bridge_eval_call(&u, "builtins", "int", "('x1')", &err), -1);
	cr_assert_not_null(strstr(err, "ValueError"), "%s", err);
	/* an unhashable result is refused */
	cr_assert_eq(bridge_eval_call(&u, "builtins", "list", "('ab',)", &err), -1);
	unit_free(&u);
}

Test(module, eval_call_that_warns_is_refused)
{
	struct unit u;
	analyse(&u, "x = 1\n");
	const char *err = NULL;
	/* a possible set operation: re warns with FutureWarning at compile time */
	cr_assert_eq(bridge_eval_call(&u, "re", "compile", "('[[a]')", &err), -1);
	cr_assert_not_null(strstr(err, "FutureWarning"), "%s", err);
	unit_free(&u);
}
