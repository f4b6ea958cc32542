/* The analysis-time evaluation budget (passes/budget.c): any call finishes within its CPU and
 * memory limits or is refused with the reason, and a value is shared only when it is proven
 * immutable. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "budget.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPIPFIX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPIPFIX_ASAN 1
#endif
#endif

static void setup(void) { cr_assert_eq(bridge_init(), 0, "bridge_init failed"); }

/* The pending Python exception as "Type: message" (a static buffer), cleared. */
static const char *fetched(void)
{
	static char msg[512];
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyObject *s = value ? PyObject_Str(value) : NULL; /* new reference */
	snprintf(msg, sizeof msg, "%s: %s", type ? ((PyTypeObject *)type)->tp_name : "?", s ? PyUnicode_AsUTF8(s) : "");
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return msg;
}

/* Evaluate `__spipfix_result = <expr>` with `import_line` run first (outside the budget), as
 * bridge_eval_call does. Returns NULL when it succeeded, else "Type: message" (static buffer). */
static const char *eval(const char *import_line, const char *expr)
{
	PyObject *globals = PyDict_New(); /* new reference */
	cr_assert_not_null(globals);
	PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
	PyObject *r = PyRun_String(import_line, Py_file_input, globals, globals); /* new reference */
	cr_assert_not_null(r, "the setup line failed");
	Py_DECREF(r);
	char text[512];
	snprintf(text, sizeof text, "__spipfix_result = %s\n", expr);
	PyObject *code = Py_CompileString(text, "<test>", Py_file_input); /* new reference */
	cr_assert_not_null(code);
	PyObject *none = budget_eval(code, globals); /* new reference */
	const char *out = NULL;
	if (!none)
		out = fetched();
	Py_XDECREF(none);
	Py_DECREF(code);
	Py_DECREF(globals);
	return out;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

Test(budget, cpu_hog_is_stopped_quickly, .init = setup)
{
	double t = now();
	const char *err = eval("import math", "math.factorial(10**7)");
	double took = now() - t;
	cr_assert_not_null(err, "math.factorial(10**7) finished inside the budget?");
	cr_assert_eq(budget_outcome_of(err), BUDGET_EXCEEDED, "%s", err);
	cr_assert_not_null(strstr(err, "ms of CPU time"), "%s", err);
	cr_assert_lt(took, 1.5, "took %.2f s", took);
}

Test(budget, memory_hog_is_stopped, .init = setup)
{
	const char *err = eval("", "bytes(10**10)");
	cr_assert_not_null(err);
	cr_assert_eq(budget_outcome_of(err), BUDGET_EXCEEDED, "%s", err);
#ifndef SPIPFIX_ASAN
	/* under AddressSanitizer its allocator reports the exhausted address space its own way
	 * (the child then runs past its CPU time): over the budget all the same */
	cr_assert_not_null(strstr(err, "MiB"), "%s", err);
#endif
}

Test(budget, call_errors_are_the_calls_own, .init = setup)
{
	const char *err = eval("import re", "re.compile('(')");
	cr_assert_not_null(err);
	cr_assert_eq(budget_outcome_of(err), BUDGET_CALL_FAILED, "%s", err);
	/* re.error; 3.13 names it PatternError */
	cr_assert_not_null(strstr(err, "unterminated subpattern"), "%s", err);
}

Test(budget, immutable_values_pass, .init = setup)
{
	cr_assert_null(eval("import re", "re.compile(r'\\w+')"));
	cr_assert_null(eval("import datetime", "datetime.timedelta(days=365)"));
	cr_assert_null(eval("import operator", "operator.itemgetter(0, 1)"));
	cr_assert_null(eval("", "frozenset(('a', 'b'))"));
	cr_assert_null(eval("import ipaddress", "ipaddress.ip_address('10.0.0.1')"));
	cr_assert_null(eval("", "(1, 'a', (2.5, None))"));
}

Test(budget, values_with_state_are_refused, .init = setup)
{
	/* networks have an instance __dict__ and cached_property attributes */
	const char *err = eval("import ipaddress", "ipaddress.IPv4Network('1.2.3.0/24')");
	cr_assert_not_null(err);
	cr_assert_eq(budget_outcome_of(err), BUDGET_NOT_IMMUTABLE, "%s", err);
	err = eval("", "[1, 2]");
	cr_assert_not_null(err);
	cr_assert_eq(budget_outcome_of(err), BUDGET_NOT_IMMUTABLE, "%s", err);
	err = eval("", "(1, [2])");
	cr_assert_not_null(err, "a tuple holding a list is not immutable");
	/* a subclass of a vetted type is not vetted: it may add state */
	err = eval("class T(tuple):\n    pass\n", "T((1,))");
	cr_assert_not_null(err);
	cr_assert_eq(budget_outcome_of(err), BUDGET_NOT_IMMUTABLE, "%s", err);
}

Test(budget, the_analysis_goes_on_after_a_refusal, .init = setup)
{
	cr_assert_not_null(eval("import math", "math.factorial(10**7)"));
	cr_assert_null(eval("import math", "math.factorial(20)"), "the interpreter still evaluates");
}

/* A bounded callee skips the forked trial only for a plain call: a method of its result (a
 * pattern's .sub, which can backtrack without end) is run under the budget. */
static const char *eval_callee(const char *module, const char *attr, const char *args)
{
	PyObject *mod = PyImport_ImportModule(module); /* new reference */
	cr_assert_not_null(mod);
	PyObject *callee = PyObject_GetAttrString(mod, attr); /* new reference */
	cr_assert_not_null(callee);
	PyObject *globals = PyDict_New(); /* new reference */
	PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
	PyDict_SetItemString(globals, "__spipfix_callee", callee);
	char text[512];
	snprintf(text, sizeof text, "__spipfix_result = __spipfix_callee%s\n", args);
	PyObject *code = Py_CompileString(text, "<test>", Py_file_input); /* new reference */
	PyObject *none = budget_eval(code, globals); /* new reference */
	const char *out = NULL;
	if (!none)
		out = fetched();
	Py_XDECREF(none);
	Py_XDECREF(code);
	Py_DECREF(globals);
	Py_DECREF(callee);
	Py_DECREF(mod);
	return out;
}

Test(budget, method_of_a_bounded_callee_is_run_under_the_budget, .init = setup)
{
	cr_assert_null(eval_callee("re", "compile", "(r'\\s+')"));
	cr_assert_null(eval_callee("re", "compile", "(r'\\s+').sub(' ', 'a  b')"));
	const char *err = eval_callee("re", "compile", "('(a+)+b').sub('x', 'a' * 40)");
	cr_assert_not_null(err, "catastrophic backtracking finished?");
	cr_assert_eq(budget_outcome_of(err), BUDGET_EXCEEDED, "%s", err);
}
