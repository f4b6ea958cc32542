/* What a fix saves per execution of its site, by rule: the per-rule table behind the estimated
 * saving that `--trace-profile` shows (executions x this). Coarse by nature: a constant call's
 * saving is its callee's cost, a memoised function's its body's; `spipfix optimize` and `spipfix
 * bench --trace-profile` time each site instead. The figures are the medians of the independent
 * timeit runs of bench/bench_cases.py under Debian's /usr/bin/python3 (3.11.2): a bare nested def
 * and a def with defaults and annotations for SPF101/SPF102, re.compile of a constant pattern
 * (re's cache hit) for SPF201, sum(range(100)) against an lru_cache hit for SPF301. */
#include <string.h>

#include "pass.h"
#include "trace.h"

double trace_saving_ns(const struct finding *f)
{
	static const struct {
		const char *code;
		double ns;
	} table[] = {{"SPF101", 40}, {"SPF102", 40}, {"SPF201", 250}, {"SPF301", 1000}};
	for (size_t i = 0; f->pass && i < sizeof table / sizeof *table; i++)
		if (!strcmp(f->pass->code, table[i].code))
			return table[i].ns;
	return 0;
}

double trace_estimate_ns(const struct finding *f)
{
	if (f->executions <= 0 || !f->nedits || f->applicability == FIX_NONE)
		return 0;
	return (double)f->executions * trace_saving_ns(f);
}

void trace_print_duration(FILE *out, double ns)
{
	double a = ns < 0 ? -ns : ns;
	if (a < 1e3)
		fprintf(out, "%.0f ns", ns);
	else if (a < 1e6)
		fprintf(out, "%.1f us", ns / 1e3);
	else if (a < 1e9)
		fprintf(out, "%.1f ms", ns / 1e6);
	else
		fprintf(out, "%.2f s", ns / 1e9);
}
