/* spipfix bench's statistics over the rounds of a measure: median, spread and the noise test. */
#ifndef SPIPFIX_BENCH_STATS_H
#define SPIPFIX_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Statistics over n values (n > 0); the input is not modified. */
double bench_median(const double *v, size_t n);
/* Median absolute deviation from the median. */
double bench_mad(const double *v, size_t n);
/* Are the paired differences d[0..n) (before - after) within the noise: does the
 * distribution-free 95 % interval of their median (order statistics, as the sign test gives it;
 * their whole range below 6 rounds) hold 0? A saving every round agrees on is not noise, however
 * unequal the rounds. */
bool bench_noise(const double *d, size_t n);

#endif
