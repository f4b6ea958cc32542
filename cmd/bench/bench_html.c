/* The HTML report of `spipfix bench`: one page with inline CSS and an inline SVG bar chart; no
 * script, no external resource, so it opens anywhere without a network. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "optimize.h"

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void head(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
	esc(out, title);
	fputs("</title>\n<style>\n"
	      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;font-size:14px}\n"
	      "th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}\n"
	      "th:first-child,td:first-child,td.l{text-align:left}\n"
	      "td.code{font-family:monospace;white-space:pre;text-align:left;font-size:12px;color:#444}\n"
	      "tr.noise td{color:#888}\n"
	      "svg text{font-family:system-ui,sans-serif;font-size:12px}\n"
	      ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px;vertical-align:middle}\n"
	      "</style>\n</head>\n<body>\n<h1>",
	      out);
	esc(out, title);
	fputs("</h1>\n", out);
}

/* "outer.inner" for "outer.<locals>.inner" */
static void short_qualname(FILE *out, const char *q)
{
	for (const char *p = q; *p;) {
		if (!strncmp(p, "<locals>.", 9)) {
			p += 9;
			continue;
		}
		char c[2] = {*p++, 0};
		esc(out, c);
	}
}

#define BAR_H 22
#define PLOT_W 480
#define CHAR_W 7 /* about the width of a 12px character */

/* Length of the folder part that every row's path shares ("a/b/" of "a/b/c.py", "a/b/d.py"). */
static size_t common_dir(const struct bench_report *r)
{
	size_t n = 0;
	bool first = true;
	for (size_t i = 0; i < r->nrows; i++) {
		const char *p = r->rows[i].path;
		const char *slash = strrchr(p, '/');
		size_t d = slash ? (size_t)(slash - p) + 1 : 0;
		if (first) {
			n = d;
			first = false;
			continue;
		}
		size_t k = 0;
		while (k < n && k < d && p[k] == r->rows[0].path[k])
			k++;
		while (k > 0 && p[k - 1] != '/')
			k--;
		n = k;
	}
	return n;
}

static size_t label_len(const struct bench_row *w, size_t skip)
{
	size_t n = strlen(w->path + skip) + strlen(w->codes) + 16;
	for (const char *q = w->qualname; *q;) {
		if (!strncmp(q, "<locals>.", 9)) {
			q += 9;
			continue;
		}
		n++;
		q++;
	}
	return n;
}

int bench_html_snippets(FILE *out, const struct bench_report *r)
{
	head(out, "spipfix bench: what each fix saves");
	fprintf(out,
		"<p>Each row times the code a fix changes, as written and as rewritten, in the module's own namespace "
		"(the module was imported, so its top level ran). Medians of %zu alternating rounds in ns per run; "
		"&plusmn; is the median absolute deviation of the paired differences; a saving within 3&times;&plusmn; "
		"is within the noise.</p>\n",
		r->rounds);
	/* the chart: saved ns per call of the enclosing function, one bar per timed finding */
	size_t n = 0;
	double hi = 0, lo = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct bench_row *w = &r->rows[i];
		if (w->skip)
			continue;
		n++;
		double k = (double)(w->per_call ? w->per_call : 1);
		double a = (w->saved_ns + w->spread_ns) * k, b = (w->saved_ns - w->spread_ns) * k;
		hi = fmax(hi, fmax(a, b));
		lo = fmin(lo, fmin(a, b));
	}
	if (n) {
		size_t skip = common_dir(r), chars = 0;
		for (size_t i = 0; i < r->nrows; i++)
			if (!r->rows[i].skip && label_len(&r->rows[i], skip) > chars)
				chars = label_len(&r->rows[i], skip);
		int label_w = (int)(chars > 90 ? 90 : chars) * CHAR_W + 16;
		double span = hi - lo > 0 ? hi - lo : 1;
		double x0 = label_w + PLOT_W * (-lo / span); /* the zero line */
		int height = (int)n * BAR_H + 40;
		fputs("<h2>Saved time per call</h2>\n<p class=\"legend\"><span style=\"background:#2a7f62\"></span>saves"
		      "<span style=\"background:#c0392b\"></span>costs<span style=\"background:#aaa\"></span>within the "
		      "noise &nbsp; (whisker: &plusmn; spread; ns per call of the enclosing function)</p>\n",
		      out);
		fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n",
			label_w + PLOT_W + 100, height);
		size_t y = 0;
		for (size_t i = 0; i < r->nrows; i++) {
			const struct bench_row *w = &r->rows[i];
			if (w->skip)
				continue;
			double k = (double)(w->per_call ? w->per_call : 1);
			double v = w->saved_ns * k, s = w->spread_ns * k;
			double xv = label_w + PLOT_W * ((v - lo) / span);
			double xa = fmin(x0, xv), wd = fabs(xv - x0);
			const char *color = w->noise ? "#aaa" : v < 0 ? "#c0392b" : "#2a7f62";
			double top = 10 + (double)y * BAR_H;
			fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", label_w - 8, top + 14);
			esc(out, w->path + skip);
			fprintf(out, ":%u ", w->line);
			short_qualname(out, w->qualname);
			fputs(" ", out);
			esc(out, w->codes);
			fputs("</text>\n", out);
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>", xa, top + 2,
				wd < 0.5 ? 0.5 : wd, BAR_H - 6, color);
			fprintf(out, "saved %.1f ns per call (&#177; %.1f)", v, s);
			fputs("</title></rect>\n", out);
			double l = label_w + PLOT_W * ((v - s - lo) / span), rr = label_w + PLOT_W * ((v + s - lo) / span);
			fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", l, rr,
				top + BAR_H / 2.0 - 1, top + BAR_H / 2.0 - 1);
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%.1f ns</text>\n", fmax(fmax(xv, x0), rr) + 6, top + 14, v);
			y++;
		}
		double axis = 10 + (double)n * BAR_H;
		fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"6\" y2=\"%.1f\" stroke=\"#555\"/>\n", x0, x0, axis);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">0</text>\n", x0, axis + 16);
		if (hi > 0)
			fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f ns</text>\n", label_w + PLOT_W,
				axis + 16, hi);
		fputs("</svg>\n", out);
	}
	fputs("<h2>Findings</h2>\n<table>\n<tr><th>location</th><th>code</th><th>before ns</th><th>after ns</th>"
	      "<th>saved ns</th><th>&plusmn; ns</th><th>per 1M calls</th><th>note</th><th>before</th><th>after</th></tr>\n",
	      out);
	for (size_t i = 0; i < r->nrows; i++) {
		const struct bench_row *w = &r->rows[i];
		fprintf(out, "<tr%s><td>", w->noise && !w->skip ? " class=\"noise\"" : "");
		esc(out, w->path);
		fprintf(out, ":%u ", w->line);
		short_qualname(out, w->qualname);
		fputs("</td><td class=\"l\">", out);
		esc(out, w->codes);
		fputs("</td>", out);
		if (w->skip) {
			fputs("<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td class=\"l\">not timed: ", out);
			esc(out, w->skip);
			fputs("</td><td></td><td></td></tr>\n", out);
			continue;
		}
		double k = (double)(w->per_call ? w->per_call : 1);
		fprintf(out, "<td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>%.1f ms</td><td class=\"l\">",
			w->before_ns, w->after_ns, w->saved_ns, w->spread_ns, w->saved_ns * k);
		if (w->per_call > 1)
			fprintf(out, "&times;%ld per call ", w->per_call);
		else if (!w->per_call)
			fputs("per run; runs in a loop ", out);
		fputs(w->noise ? "within the noise" : w->saved_ns < 0 ? "slower" : "", out);
		fputs("</td><td class=\"code\">", out);
		esc(out, w->before_code);
		fputs("</td><td class=\"code\">", out);
		esc(out, w->after_code);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

int bench_html_run(FILE *out, const struct bench_run_report *r)
{
	head(out, "spipfix bench --run: the workload before and after the fixes");
	fputs("<p>Command: <code>", out);
	esc(out, r->command);
	fputs("</code><br>Tree: <code>", out);
	esc(out, r->path);
	fprintf(out,
		"</code> (%zu fixes applied in %zu files)</p>\n<table>\n<tr><th></th><th>median ms</th><th>&plusmn; ms</th></tr>\n"
		"<tr><td>original</td><td>%.1f</td><td>%.1f</td></tr>\n<tr><td>fixed</td><td>%.1f</td><td>%.1f</td></tr>\n"
		"<tr><td>saved</td><td>%.1f</td><td>%.1f</td></tr>\n</table>\n"
		"<p>Ratio fixed / original: %.3f (per round %.3f .. %.3f)%s</p>\n",
		r->fixes, r->files_changed, r->original_s * 1e3, r->original_spread_s * 1e3, r->fixed_s * 1e3,
		r->fixed_spread_s * 1e3, r->saved_s * 1e3, r->saved_spread_s * 1e3, r->ratio, r->ratio_min, r->ratio_max,
		r->noise ? " &mdash; within the noise" : "");
	double hi = 0;
	for (size_t i = 0; i < r->rounds; i++)
		hi = fmax(hi, fmax(r->original[i], r->fixed[i]));
	if (hi <= 0)
		hi = 1;
	int bw = 18, gap = 14, ph = 220;
	int width = 60 + (int)r->rounds * (2 * bw + gap);
	fputs("<h2>Wall time per round</h2>\n<p class=\"legend\"><span style=\"background:#7f8c8d\"></span>original"
	      "<span style=\"background:#2a7f62\"></span>fixed</p>\n",
	      out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n", width,
		ph + 40);
	for (size_t i = 0; i < r->rounds; i++) {
		for (int k = 0; k < 2; k++) {
			double v = k ? r->fixed[i] : r->original[i];
			double h = ph * v / hi;
			int x = 50 + (int)i * (2 * bw + gap) + k * bw;
			fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s round %zu: %.1f "
				     "ms</title></rect>\n",
				x, 10 + ph - h, bw - 2, h, k ? "#2a7f62" : "#7f8c8d", k ? "fixed" : "original", i + 1, v * 1e3);
		}
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu</text>\n", 50 + (int)i * (2 * bw + gap) + bw,
			ph + 26, i + 1);
	}
	fprintf(out, "<line x1=\"46\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n", width, 10 + ph, 10 + ph);
	fprintf(out, "<text x=\"44\" y=\"16\" text-anchor=\"end\">%.0f ms</text>\n", hi * 1e3);
	fprintf(out, "<text x=\"44\" y=\"%d\" text-anchor=\"end\">0</text>\n", 14 + ph);
	fputs("</svg>\n</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

static int write_file(const char *path, int (*render)(FILE *, const void *), const void *r)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = render(f, r);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "error: %s: cannot write the report\n", path);
		return -1;
	}
	return 0;
}

static int snippets_cb(FILE *f, const void *r) { return bench_html_snippets(f, r); }
static int run_cb(FILE *f, const void *r) { return bench_html_run(f, r); }

int bench_html_snippets_file(const char *path, const struct bench_report *r) { return write_file(path, snippets_cb, r); }
int bench_html_run_file(const char *path, const struct bench_run_report *r) { return write_file(path, run_cb, r); }

int optimize_html(FILE *out, const struct opt_options *o, const struct opt_report *r)
{
	(void)out, (void)o, (void)r;
	return 0;
}

int optimize_html_file(const char *path, const struct opt_options *o, const struct opt_report *r)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = optimize_html(f, o, r);
	return fclose(f) == 0 ? rc : -1;
}
