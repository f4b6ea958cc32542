/* spipfix bench's statistics (cmd/bench/bench_stats.c): medians of odd and even counts, the
 * median absolute deviation, and the sign-test noise rule on paired differences. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "bench_stats.h"

Test(bench_stats, median_of_odd_and_even_counts_leaves_the_input_alone)
{
	double odd[] = {3, 1, 2};
	double even[] = {4, 1, 3, 2};
	cr_expect_float_eq(bench_median(odd, 3), 2.0, 1e-12);
	cr_expect_float_eq(bench_median(even, 4), 2.5, 1e-12);
	cr_expect(odd[0] == 3 && odd[1] == 1 && odd[2] == 2, "the input was sorted in place");
	cr_expect(isnan(bench_median(odd, 0)));
}

Test(bench_stats, mad_is_robust_to_one_outlier)
{
	double v[] = {1, 2, 3, 4, 100};
	/* median 3; deviations 2 1 0 1 97: their median is 1 */
	cr_expect_float_eq(bench_mad(v, 5), 1.0, 1e-12);
	double same[] = {7, 7, 7};
	cr_expect_float_eq(bench_mad(same, 3), 0.0, 1e-12);
	cr_expect(isnan(bench_mad(v, 0)));
}

Test(bench_stats, noise_below_six_rounds_is_the_whole_range)
{
	double all_saved[] = {1, 2, 3};
	double one_lost[] = {-1, 2, 3};
	cr_expect_not(bench_noise(all_saved, 3), "every round saved: not noise");
	cr_expect(bench_noise(one_lost, 3), "a round that lost: the range holds 0");
	cr_expect(bench_noise(all_saved, 0), "no rounds: noise");
}

Test(bench_stats, noise_of_nine_rounds_is_the_third_order_statistics)
{
	/* n = 9: 2 P(Bin(9, 1/2) <= 2) = 0.039 <= 0.05 and 2 P(<= 3) > 0.05, so the interval is
	 * [v(3), v(7)] of the sorted differences */
	double two_lost[] = {5, -2, 3, 1, 7, -1, 4, 2, 6};
	double three_lost[] = {5, -2, 3, 1, -3, -1, 4, 2, 6};
	cr_expect_not(bench_noise(two_lost, 9), "two rounds below 0 of nine: not noise");
	cr_expect(bench_noise(three_lost, 9), "three rounds below 0 of nine: noise");
	double copy[9];
	memcpy(copy, two_lost, sizeof copy);
	bench_noise(two_lost, 9);
	cr_expect(!memcmp(copy, two_lost, sizeof copy), "the input was sorted in place");
}
