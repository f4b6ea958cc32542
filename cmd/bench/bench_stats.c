/* spipfix bench's statistics over the rounds of a measure (bench.c times snippets, bench_run.c a
 * workload): medians, the median absolute deviation, and whether paired differences are noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_stats.h"

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* v[0..n) sorted, in a malloc'd copy; NULL when memory runs out */
static double *sorted_copy(const double *v, size_t n)
{
	double *c = malloc(n * sizeof *c);
	if (!c)
		return NULL;
	memcpy(c, v, n * sizeof *c);
	qsort(c, n, sizeof *c, cmp_double);
	return c;
}

double bench_median(const double *v, size_t n)
{
	double *c = n ? sorted_copy(v, n) : NULL;
	if (!c)
		return NAN;
	double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

double bench_mad(const double *v, size_t n)
{
	if (!n)
		return NAN;
	double m = bench_median(v, n);
	double *d = malloc(n * sizeof *d);
	if (!d)
		return NAN;
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(v[i] - m);
	double r = bench_median(d, n);
	free(d);
	return r;
}

bool bench_noise(const double *d, size_t n)
{
	double *v = n ? sorted_copy(d, n) : NULL;
	if (!v)
		return true;
	/* the largest k with 2 P(Bin(n, 1/2) <= k - 1) <= 0.05; k = 1 (the range) when none */
	size_t k = 1;
	double tail = 0, c = 1; /* P(X <= j), C(n, j) */
	double p = pow(0.5, (double)n);
	for (size_t j = 0; j < n / 2; j++) {
		tail += c * p;
		if (2 * tail > 0.05)
			break;
		k = j + 2;
		c = c * (double)(n - j) / (double)(j + 1);
	}
	if (k > (n + 1) / 2)
		k = (n + 1) / 2;
	bool noise = v[k - 1] <= 0 && v[n - k] >= 0;
	free(v);
	return noise;
}
