/* The budget of an analysis-time evaluation. SPF201 evaluates an allow-listed call with constant
 * arguments once before it hoists it (bridge_eval_call); whatever the arguments
 * (`math.factorial(10**7)`, `bytes(10**10)`), that evaluation must not stall or exhaust the
 * machine. The call first runs in a forked child under a CPU-time limit and an address-space
 * limit; only when the child finished within both is it run again in this process, where the
 * result is needed. A vetted list of callees whose cost is bounded by the size of their
 * constant arguments (re.compile, decimal.Decimal, datetime.timedelta, ...) skips the forked
 * trial. The result must then be proven immutable (budget_prove_immutable) before it
 * may be shared by every call as a module constant. */
#ifndef SPIPFIX_BUDGET_H
#define SPIPFIX_BUDGET_H

#include <stdbool.h>

#define BUDGET_CPU_MS 100            /* CPU time of one evaluation (user + system) */
#define BUDGET_MEMORY_MB 64          /* address space it may add */
#define BUDGET_WALL_MS 2000          /* the child is killed past this, whatever its CPU time */

/* What became of an evaluation, read from the message of the Python exception budget_eval set
 * ("TimeoutError: budget: ..."): the error is the call's own (it would fail at import), the
 * budget's, or the value's (not proven immutable). */
enum budget_outcome { BUDGET_CALL_FAILED, BUDGET_EXCEEDED, BUDGET_NOT_IMMUTABLE };
enum budget_outcome budget_outcome_of(const char *err);

/* Evaluate the compiled code object `code` (PyObject*) in the dict `globals` (PyObject*) within
 * the budget, then prove globals["__spipfix_result"] immutable when the code stored one. Returns
 * a new reference to the evaluation's result (None), or NULL with a Python exception set: the
 * evaluation's own, or TimeoutError/MemoryError "budget: ..." when it went over the budget, or
 * TypeError "not immutable: ..." when the value cannot be shared. */
void *budget_eval(void *code, void *globals);

/* Is the value (PyObject*) proven immutable at analysis time: of a vetted immutable type (or a
 * tuple/frozenset of such values), with no instance __dict__ and no functools.cached_property in
 * its class? Returns true, or false with *why set to a static string. */
bool budget_prove_immutable(void *value, const char **why);

#endif
