/* Unit tests for the edit applier (passes/edit.h): sorting, overlap checks and application. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "edit.h"

/* An edit replacing src[start, end) with the NUL-terminated text t. */
static struct edit E(size_t start, size_t end, const char *t, unsigned seq)
{
	return (struct edit){start, end, t, strlen(t), seq, false};
}

/* Sort/check, apply, and compare the result with `want` (also its length and terminator). */
static void expect_apply(const char *src, struct edit *e, size_t n, const char *want)
{
	size_t srclen = strlen(src);
	cr_assert_eq(edits_sort_check(e, n, srclen), 0, "edits_sort_check refused valid edits for \"%s\"", src);
	size_t outlen = (size_t)-1;
	char *out = edits_apply(src, srclen, e, n, &outlen);
	cr_assert_not_null(out);
	cr_assert_eq(outlen, strlen(want), "outlen %zu, want %zu", outlen, strlen(want));
	cr_assert_eq(out[outlen], '\0', "output not NUL-terminated at outlen");
	cr_assert_str_eq(out, want);
	free(out);
}

Test(edit, no_edits_copies_source)
{
	expect_apply("hello", NULL, 0, "hello");
}

Test(edit, no_edits_empty_source)
{
	expect_apply("", NULL, 0, "");
}

Test(edit, replacement_same_length)
{
	struct edit e[] = {E(2, 5, "XYZ", 0)};
	expect_apply("abcdefgh", e, 1, "abXYZfgh");
}

Test(edit, replacement_longer)
{
	struct edit e[] = {E(1, 2, "LONGER", 0)};
	expect_apply("abc", e, 1, "aLONGERc");
}

Test(edit, replacement_shorter)
{
	struct edit e[] = {E(1, 6, "-", 0)};
	expect_apply("abcdefgh", e, 1, "a-gh");
}

Test(edit, replacement_whole_source)
{
	struct edit e[] = {E(0, 3, "xyz12", 0)};
	expect_apply("abc", e, 1, "xyz12");
}

Test(edit, deletion_middle)
{
	struct edit e[] = {E(3, 6, "", 0)};
	expect_apply("abcdefgh", e, 1, "abcgh");
}

Test(edit, deletion_at_start)
{
	struct edit e[] = {E(0, 2, "", 0)};
	expect_apply("abcdef", e, 1, "cdef");
}

Test(edit, deletion_at_end)
{
	struct edit e[] = {E(4, 6, "", 0)};
	expect_apply("abcdef", e, 1, "abcd");
}

Test(edit, deletion_of_everything)
{
	struct edit e[] = {E(0, 6, "", 0)};
	expect_apply("abcdef", e, 1, "");
}

Test(edit, insertion_at_offset_zero)
{
	struct edit e[] = {E(0, 0, ">>", 0)};
	expect_apply("abc", e, 1, ">>abc");
}

Test(edit, insertion_at_end)
{
	struct edit e[] = {E(3, 3, "<<", 0)};
	expect_apply("abc", e, 1, "abc<<");
}

Test(edit, insertion_in_middle)
{
	struct edit e[] = {E(1, 1, "_", 0)};
	expect_apply("abc", e, 1, "a_bc");
}

Test(edit, insertion_into_empty_source)
{
	struct edit e[] = {E(0, 0, "new", 0)};
	expect_apply("", e, 1, "new");
}

Test(edit, replacement_with_embedded_nul_uses_len)
{
	/* the text is copied by len, not strlen: only the first 2 bytes of "XYZ" */
	struct edit e[] = {{1, 2, "XYZ", 2, 0, false}};
	expect_apply("abc", e, 1, "aXYc");
}

Test(edit, several_edits_given_out_of_order)
{
	struct edit e[] = {E(6, 8, "!", 2), E(0, 1, "A", 0), E(3, 3, "+", 1)};
	expect_apply("abcdefgh", e, 3, "Abc+def!");
	/* sorted in place by start */
	cr_assert_eq(e[0].start, 0);
	cr_assert_eq(e[1].start, 3);
	cr_assert_eq(e[2].start, 6);
}

Test(edit, insertions_same_offset_keep_seq_order)
{
	struct edit e[] = {E(2, 2, "3", 7), E(2, 2, "1", 1), E(2, 2, "2", 4)};
	expect_apply("abcd", e, 3, "ab123cd");
}

Test(edit, insertions_same_offset_seq_order_reversed_input)
{
	struct edit e[] = {E(0, 0, "b", 1), E(0, 0, "a", 0)};
	expect_apply("xy", e, 2, "abxy");
}

Test(edit, insertions_same_offset_at_end_keep_seq_order)
{
	struct edit e[] = {E(2, 2, "Z", 9), E(2, 2, "Y", 3)};
	expect_apply("xy", e, 2, "xyYZ");
}

Test(edit, insertion_before_replacement_at_same_start)
{
	/* (start, end, seq) order: the insertion [2,2) sorts before the replacement [2,4) */
	struct edit e[] = {E(2, 4, "R", 0), E(2, 2, "I", 5)};
	expect_apply("abcdef", e, 2, "abIRef");
}

Test(edit, insertion_at_end_of_replacement)
{
	struct edit e[] = {E(4, 4, "I", 0), E(2, 4, "R", 1)};
	expect_apply("abcdef", e, 2, "abRIef");
}

Test(edit, touching_replacements_accepted)
{
	struct edit e[] = {E(2, 4, "X", 0), E(0, 2, "Y", 0), E(4, 6, "Z", 0)};
	expect_apply("abcdef", e, 3, "YXZ");
}

Test(edit, touching_deletions_accepted)
{
	struct edit e[] = {E(1, 2, "", 0), E(2, 3, "", 0)};
	expect_apply("abcd", e, 2, "ad");
}

Test(edit, overlaps_touching_is_false)
{
	struct edit a = E(0, 2, "x", 0), b = E(2, 4, "y", 0);
	cr_assert_not(edit_overlaps(&a, &b));
	cr_assert_not(edit_overlaps(&b, &a));
}

Test(edit, overlaps_shared_byte_is_true)
{
	struct edit a = E(0, 3, "x", 0), b = E(2, 4, "y", 0);
	cr_assert(edit_overlaps(&a, &b));
	cr_assert(edit_overlaps(&b, &a));
}

Test(edit, overlaps_contained_is_true)
{
	struct edit a = E(0, 10, "x", 0), b = E(3, 4, "y", 0);
	cr_assert(edit_overlaps(&a, &b));
	cr_assert(edit_overlaps(&b, &a));
}

Test(edit, overlaps_identical_ranges_is_true)
{
	struct edit a = E(1, 3, "x", 0), b = E(1, 3, "y", 1);
	cr_assert(edit_overlaps(&a, &b));
}

Test(edit, overlaps_insertion_strictly_inside_is_true)
{
	struct edit ins = E(3, 3, "i", 0), rep = E(2, 5, "r", 0);
	cr_assert(edit_overlaps(&ins, &rep));
	cr_assert(edit_overlaps(&rep, &ins));
}

Test(edit, overlaps_insertion_at_range_bounds_is_false)
{
	struct edit rep = E(2, 5, "r", 0), at_start = E(2, 2, "i", 0), at_end = E(5, 5, "j", 0);
	cr_assert_not(edit_overlaps(&at_start, &rep));
	cr_assert_not(edit_overlaps(&rep, &at_start));
	cr_assert_not(edit_overlaps(&at_end, &rep));
	cr_assert_not(edit_overlaps(&rep, &at_end));
}

Test(edit, overlaps_insertions_same_point_is_false)
{
	struct edit a = E(4, 4, "a", 0), b = E(4, 4, "b", 1);
	cr_assert_not(edit_overlaps(&a, &b));
}

Test(edit, overlaps_disjoint_is_false)
{
	struct edit a = E(0, 1, "a", 0), b = E(5, 7, "b", 0);
	cr_assert_not(edit_overlaps(&a, &b));
	cr_assert_not(edit_overlaps(&b, &a));
}

Test(edit, overlapping_ranges_refused)
{
	struct edit e[] = {E(0, 3, "x", 0), E(2, 5, "y", 0)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, overlapping_ranges_refused_out_of_order)
{
	struct edit e[] = {E(4, 7, "y", 0), E(0, 1, "x", 0), E(5, 6, "z", 0)};
	cr_assert_eq(edits_sort_check(e, 3, 8), -1);
}

Test(edit, identical_ranges_refused)
{
	struct edit e[] = {E(1, 3, "x", 0), E(1, 3, "y", 1)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, range_contained_in_another_refused)
{
	struct edit e[] = {E(0, 8, "all", 0), E(2, 3, "part", 1)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, insertion_strictly_inside_replacement_refused)
{
	struct edit e[] = {E(2, 6, "R", 0), E(4, 4, "I", 1)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, insertion_strictly_inside_deletion_refused)
{
	struct edit e[] = {E(5, 5, "I", 0), E(1, 7, "", 1)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, overlap_refused_after_valid_edits)
{
	/* the first two pairs are fine (touching, insertion at a range start); the last overlaps */
	struct edit e[] = {E(3, 4, "x", 0), E(1, 1, "i", 0), E(0, 1, "a", 0), E(1, 5, "long", 0)};
	cr_assert_eq(edits_sort_check(e, 4, 8), -1);
}

Test(edit, end_past_source_refused)
{
	struct edit e[] = {E(2, 9, "x", 0)};
	cr_assert_eq(edits_sort_check(e, 1, 8), -1);
}

Test(edit, insertion_past_end_refused)
{
	struct edit e[] = {E(9, 9, "x", 0)};
	cr_assert_eq(edits_sort_check(e, 1, 8), -1);
}

Test(edit, start_after_end_refused)
{
	struct edit e[] = {E(5, 3, "x", 0)};
	cr_assert_eq(edits_sort_check(e, 1, 8), -1);
}

Test(edit, edit_up_to_end_accepted)
{
	struct edit e[] = {E(6, 8, "", 0), E(8, 8, "!", 1)};
	expect_apply("abcdefgh", e, 2, "abcdef!");
}

Test(edit, out_of_range_refused_among_valid)
{
	struct edit e[] = {E(0, 1, "a", 0), E(7, 12, "b", 0)};
	cr_assert_eq(edits_sort_check(e, 2, 8), -1);
}

Test(edit, empty_list_accepted)
{
	cr_assert_eq(edits_sort_check(NULL, 0, 0), 0);
}

Test(edit, output_length_multiline)
{
	const char *src = "def f():\n    def g():\n        pass\n    return g\n";
	/* lift-shaped edits: insert before line 0, delete lines 2-3 */
	size_t from = strlen("def f():\n"), to = from + strlen("    def g():\n        pass\n");
	struct edit e[] = {E(from, to, "", 1), E(0, 0, "def _g():\n    pass\n\n\n", 0)};
	expect_apply(src, e, 2, "def _g():\n    pass\n\n\ndef f():\n    return g\n");
}

Test(edit, trailing_insertion_goes_after_the_others_at_its_offset)
{
	const char *src = "def f(): pass\n";
	struct edit e[] = {
		{0, 0, "\n\n", 2, 0, true},
		{0, 0, "A = 1\n", 6, 1, false},
		{0, 0, "@deco\n", 6, 3, true},
		{0, 0, "B = 2\n", 6, 2, false},
	};
	cr_assert_eq(edits_sort_check(e, 4, strlen(src)), 0);
	size_t n;
	char *out = edits_apply(src, strlen(src), e, 4, &n);
	cr_assert_str_eq(out, "A = 1\nB = 2\n\n\n@deco\ndef f(): pass\n");
	free(out);
}
