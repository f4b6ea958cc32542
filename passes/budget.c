#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "budget.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child writes to the pipe before it exits. */
enum { CHILD_RETURNED = 'R', CHILD_RAISED = 'E', CHILD_OUT_OF_MEMORY = 'M' };

/* budget_outcome_of reads only the message: it is on the program's side of the Python boundary
 * (bridge.c); this file is compiled into each version's module (passes/pyrt.h). */

/* The process's address space in bytes (from /proc/self/statm), 0 when unknown. */
static size_t address_space(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* In the child: limit CPU time (a profiling timer for the budget, RLIMIT_CPU as the backstop
 * should the timer be lost) and the address space, run the code, report, exit. Never returns. */
static void run_child(int fd, PyObject *code, PyObject *globals, size_t limit)
{
	struct rlimit core = {0, 0};
	setrlimit(RLIMIT_CORE, &core);
	struct rlimit cpu = {2, 3};
	setrlimit(RLIMIT_CPU, &cpu);
	if (limit) {
		struct rlimit as = {limit, limit};
		setrlimit(RLIMIT_AS, &as);
	}
	/* the default action of SIGPROF ends the process: the parent sees the signal */
	signal(SIGPROF, SIG_DFL);
	struct itimerval t = {{0, 0}, {BUDGET_CPU_MS / 1000, (BUDGET_CPU_MS % 1000) * 1000}};
	setitimer(ITIMER_PROF, &t, NULL);
	PyObject *r = PyEval_EvalCode(code, globals, globals); /* new reference */
	char status = CHILD_RETURNED;
	if (!r)
		status = PyErr_ExceptionMatches(PyExc_MemoryError) ? CHILD_OUT_OF_MEMORY : CHILD_RAISED;
	if (write(fd, &status, 1) != 1)
		_exit(1);
	_exit(0);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Run the code once in a forked child within the budget. Returns 0 when it finished within it
 * (returning or raising), else -1 with a Python exception set. */
static int trial(PyObject *code, PyObject *globals)
{
	int fds[2];
	if (pipe(fds) < 0) {
		PyErr_SetString(PyExc_TimeoutError, "budget: cannot start a bounded evaluation (pipe)");
		return -1;
	}
	size_t now = address_space();
	size_t limit = now ? now + (size_t)BUDGET_MEMORY_MB * 1024 * 1024 : 0;
	fflush(NULL); /* nothing buffered is written twice */
	PyOS_BeforeFork();
	pid_t pid = fork();
	if (pid == 0) {
		PyOS_AfterFork_Child();
		close(fds[0]);
		run_child(fds[1], code, globals, limit);
	}
	PyOS_AfterFork_Parent();
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		PyErr_SetString(PyExc_TimeoutError, "budget: cannot start a bounded evaluation (fork)");
		return -1;
	}
	char status = 0;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool timed_out = false;
	for (;;) {
		long left = BUDGET_WALL_MS - elapsed_ms(&start);
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd p = {fds[0], POLLIN, 0};
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && read(fds[0], &status, 1) != 1)
			status = 0; /* the child died before it could report */
		if (n == 0)
			timed_out = true;
		break;
	}
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (status == CHILD_RETURNED || status == CHILD_RAISED)
		return 0;
	if (status == CHILD_OUT_OF_MEMORY)
		PyErr_Format(PyExc_MemoryError, "budget: the call needs more than %d MiB",
			     BUDGET_MEMORY_MB);
	else if (timed_out)
		PyErr_Format(PyExc_TimeoutError, "budget: the call took more than %d ms",
			     BUDGET_WALL_MS);
	else if (WIFSIGNALED(ws) && (WTERMSIG(ws) == SIGPROF || WTERMSIG(ws) == SIGXCPU))
		PyErr_Format(PyExc_TimeoutError, "budget: the call takes more than %d ms of CPU time",
			     BUDGET_CPU_MS);
	else
		PyErr_Format(PyExc_MemoryError, "budget: the evaluation ended abnormally (%s %d)",
			     WIFSIGNALED(ws) ? "signal" : "exit status", WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
	return -1;
}

/* Vetted immutable types, by `module.qualname` of the exact type (a subclass is not vetted: it may
 * add state). Each is immutable and hashable by value. */
static const char *const immutable_types[] = {
	"builtins.NoneType", "builtins.bool", "builtins.int", "builtins.float", "builtins.complex",
	"builtins.str", "builtins.bytes", "builtins.range", "builtins.tuple", "builtins.frozenset",
	"re.Pattern",             /* read-only pattern, flags, groups */
	"_struct.Struct",         /* read-only format and size */
	"decimal.Decimal", "fractions.Fraction",
	"datetime.timedelta", "datetime.date", "datetime.time", "datetime.datetime", "datetime.timezone",
	"operator.itemgetter", "operator.attrgetter", "operator.methodcaller",
	"ipaddress.IPv4Address", "ipaddress.IPv6Address", /* __slots__; the networks are not listed */
	"uuid.UUID",              /* __slots__, __setattr__ raises */
	NULL,
};

/* Does a class of type t's MRO hold a functools.cached_property (per-instance cached state)?
 * -1 on error. */
static int has_cached_property(PyTypeObject *t)
{
	PyObject *functools = PyImport_ImportModule("functools"); /* new reference */
	PyObject *cp = functools ? PyObject_GetAttrString(functools, "cached_property") : NULL; /* new */
	Py_XDECREF(functools);
	if (!cp)
		return -1;
	int found = 0;
	PyObject *mro = t->tp_mro; /* borrowed */
	for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro) && !found; i++) {
		PyObject *d = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_dict; /* borrowed */
		PyObject *k, *v;
		Py_ssize_t pos = 0;
		while (d && !found && PyDict_Next(d, &pos, &k, &v)) {
			int r = PyObject_IsInstance(v, cp);
			if (r < 0) {
				Py_DECREF(cp);
				return -1;
			}
			found = r;
		}
	}
	Py_DECREF(cp);
	return found;
}

static bool vetted(PyTypeObject *t)
{
	PyObject *mod = PyObject_GetAttrString((PyObject *)t, "__module__");   /* new reference */
	PyObject *qn = PyObject_GetAttrString((PyObject *)t, "__qualname__"); /* new reference */
	bool ok = false;
	const char *m = mod && PyUnicode_Check(mod) ? PyUnicode_AsUTF8(mod) : NULL;
	const char *q = qn && PyUnicode_Check(qn) ? PyUnicode_AsUTF8(qn) : NULL;
	if (m && q) {
		size_t ml = strlen(m);
		for (const char *const *p = immutable_types; *p && !ok; p++)
			ok = !strncmp(*p, m, ml) && (*p)[ml] == '.' && !strcmp(*p + ml + 1, q);
	}
	Py_XDECREF(mod);
	Py_XDECREF(qn);
	PyErr_Clear();
	return ok;
}

static bool prove(PyObject *v, const char **why, int depth)
{
	if (depth > 32) {
		*why = "it is nested too deeply to check";
		return false;
	}
	PyTypeObject *t = Py_TYPE(v);
	if (!vetted(t)) {
		*why = "its type is not on the list of vetted immutable types";
		return false;
	}
	if (t->tp_dictoffset != 0) {
		*why = "it has an instance __dict__ (attributes can be set on it)";
		return false;
	}
	int cp = has_cached_property(t);
	if (cp != 0) {
		PyErr_Clear();
		*why = cp > 0 ? "its class caches attributes on the instance (functools.cached_property)"
			      : "its class could not be inspected";
		return false;
	}
	if (PyTuple_Check(v) || PyFrozenSet_Check(v)) {
		PyObject *it = PyObject_GetIter(v); /* new reference */
		PyObject *item;
		bool ok = it != NULL;
		while (ok && (item = PyIter_Next(it))) { /* new reference */
			ok = prove(item, why, depth + 1);
			Py_DECREF(item);
		}
		Py_XDECREF(it);
		if (PyErr_Occurred()) {
			PyErr_Clear();
			*why = "its items could not be inspected";
			ok = false;
		}
		return ok;
	}
	return true;
}

bool budget_prove_immutable(void *value, const char **why)
{
	*why = NULL;
	return prove(value, why, 0);
}

/* Callees whose cost is bounded by the size of their constant arguments, which are source text
 * of the analysed file (compiling a pattern, parsing a number, a date or an address, building a
 * getter, hashing bytes, joining paths): they run in this process without a forked trial, which
 * costs about 5 ms (the copy-on-write of the interpreter's pages). Not here: math.factorial,
 * comb, perm, prod, fsum (10**7 is a short argument), struct.pack ("1000000000x"), bytes of an
 * int, a pattern's methods (backtracking), and anything else. */
static const char *const bounded[][2] = {
	{"re", "compile"},        {"re", "escape"},          {"struct", "Struct"},
	{"builtins", "frozenset"}, {"decimal", "Decimal"},   {"fractions", "Fraction"},
	{"datetime", "timedelta"}, {"datetime", "date"},     {"datetime", "time"},
	{"datetime", "datetime"},  {"datetime", "timezone"}, {"operator", "itemgetter"},
	{"operator", "attrgetter"}, {"operator", "methodcaller"}, {"unicodedata", "normalize"},
	{"unicodedata", "name"},   {"unicodedata", "lookup"}, {"unicodedata", "category"},
	{"ipaddress", "ip_address"}, {"ipaddress", "IPv4Address"}, {"ipaddress", "IPv6Address"},
	{"uuid", "UUID"},          {"binascii", "unhexlify"}, {"binascii", "hexlify"},
	{"binascii", "crc32"},     {"zlib", "crc32"},        {"zlib", "adler32"},
	{"os.path", "join"},       {"os.path", "basename"},  {"os.path", "dirname"},
	{"os.path", "splitext"},   {"os.path", "split"},     {"os.path", "normpath"},
};

/* Is the code one call of a bounded callee: globals["__spipfix_callee"] is one of them, and the
 * code names nothing but the callee, the result and the warnings filter (no method of the
 * result, as `(pattern).sub(...)` would)? */
static bool bounded_call(PyCodeObject *code, PyObject *globals)
{
	static const char *const own[] = {"warnings", "__spipfix_w", "catch_warnings", "simplefilter",
					  "__spipfix_callee", "__spipfix_result", NULL};
	PyObject *names = code->co_names; /* borrowed */
	for (Py_ssize_t i = 0; names && i < PyTuple_GET_SIZE(names); i++) {
		const char *n = PyUnicode_AsUTF8(PyTuple_GET_ITEM(names, i));
		bool ok = false;
		for (const char *const *o = own; n && *o && !ok; o++)
			ok = !strcmp(*o, n);
		if (!ok) {
			PyErr_Clear();
			return false;
		}
	}
	PyObject *callee = PyDict_GetItemString(globals, "__spipfix_callee"); /* borrowed */
	bool found = false;
	for (size_t i = 0; callee && !found && i < sizeof bounded / sizeof *bounded; i++) {
		PyObject *name = PyUnicode_FromString(bounded[i][0]); /* new reference */
		PyObject *mod = name ? PyImport_GetModule(name) : NULL; /* new reference; no import */
		PyObject *f = mod ? PyObject_GetAttrString(mod, bounded[i][1]) : NULL; /* new reference */
		found = f == callee;
		Py_XDECREF(f);
		Py_XDECREF(mod);
		Py_XDECREF(name);
		PyErr_Clear();
	}
	return found;
}

void *budget_eval(void *code, void *globals)
{
	if (!bounded_call(code, globals) && trial(code, globals) < 0)
		return NULL;
	PyObject *r = PyEval_EvalCode(code, globals, globals); /* new reference */
	if (!r)
		return NULL;
	PyObject *v = PyDict_GetItemString(globals, "__spipfix_result"); /* borrowed */
	const char *why;
	if (v && !budget_prove_immutable(v, &why)) {
		Py_DECREF(r);
		PyErr_Format(PyExc_TypeError, "not immutable: %s (%s)", why, Py_TYPE(v)->tp_name);
		return NULL;
	}
	return r;
}
