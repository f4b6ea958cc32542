/* The HTML reports a person reads: `spipfix bench --html` (what each fix saves), `bench --run
 * --html` (the workload before and after) and `spipfix optimize --html` (the whole loop). One
 * page each, inline CSS and inline SVG, no script and no external resource, laid out to fit a
 * 1400 px window: the code is the site's own source as written, a few short lines of it; every
 * figure says its unit; rows are sorted by what they save, with totals. */
#define _GNU_SOURCE /* qsort_r */
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
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
	      out);
	esc(out, title);
	fputs("</title>\n<style>\n"
	      "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1360px}\n"
	      "h1{font-size:22px}h2{font-size:17px;margin-top:1.6em}\n"
	      "p{max-width:110ch;line-height:1.4}\n"
	      "table{border-collapse:collapse;font-size:13px}\n"
	      "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}\n"
	      "th{background:#f4f4f4;white-space:nowrap}\n"
	      "td.l,th.l{text-align:left}\n"
	      "td.loc{text-align:left;white-space:nowrap;max-width:30ch;overflow:hidden;text-overflow:ellipsis}\n"
	      "td.note{text-align:left;white-space:nowrap}\n"
	      "td.n{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
	      "td.code{text-align:left;padding:2px 6px}\n"
	      "td.code pre{margin:0;font-size:11.5px;line-height:1.35;max-width:58ch;overflow:hidden;color:#333}\n"
	      "td.code pre.after{margin-top:3px;padding-top:3px;border-top:1px dashed #bbb;color:#1e6b50}\n"
	      "tr.noise td{color:#888}\n"
	      "tr.total td{font-weight:600;border-top:2px solid #999}\n"
	      "svg text{font-family:system-ui,sans-serif;font-size:12px}\n"
	      ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px;vertical-align:middle}\n"
	      ".big{font-size:18px}\n"
	      "</style>\n</head>\n<body>\n<h1>",
	      out);
	esc(out, title);
	fputs("</h1>\n", out);
}

/* "outer.inner" for "outer.<locals>.inner" */
static void short_qualname(FILE *out, const char *q)
{
	for (const char *p = q; p && *p;) {
		if (!strncmp(p, "<locals>.", 9)) {
			p += 9;
			continue;
		}
		char c[2] = {*p++, 0};
		esc(out, c);
	}
}

/* A duration in its own unit: ns, µs, ms or s (numeric entities: the SVG is XML too). */
static void duration(FILE *out, double ns)
{
	double a = fabs(ns);
	if (a < 1e3)
		fprintf(out, "%.1f&#160;ns", ns);
	else if (a < 1e6)
		fprintf(out, "%.1f&#160;&#181;s", ns / 1e3);
	else if (a < 1e9)
		fprintf(out, "%.1f&#160;ms", ns / 1e6);
	else
		fprintf(out, "%.2f&#160;s", ns / 1e9);
}

static void count(FILE *out, long long v)
{
	char tmp[32], buf[48];
	snprintf(tmp, sizeof tmp, "%lld", v);
	size_t n = strlen(tmp), k = 0;
	for (size_t i = 0; i < n; i++) {
		buf[k++] = tmp[i];
		if ((n - i - 1) % 3 == 0 && i + 1 < n && tmp[i] != '-')
			buf[k++] = ',';
	}
	buf[k] = 0;
	fputs(buf, out);
}

#define EXCERPT_LINES 6
#define EXCERPT_COLS 64

char *bench_excerpt(const char *text, size_t len, size_t start, size_t end)
{
	if (!text || start > len)
		return xstrdup("");
	if (end > len)
		end = len;
	if (end < start)
		end = start;
	size_t s = start;
	while (s > 0 && text[s - 1] != '\n')
		s--;
	size_t e = end;
	while (e > s && (text[e - 1] == '\n' || text[e - 1] == '\r'))
		e--;
	while (e < len && text[e] != '\n')
		e++;
	/* the common indentation of the lines goes */
	size_t indent = (size_t)-1;
	for (size_t p = s; p < e;) {
		size_t q = p, w = 0;
		while (q < e && (text[q] == ' ' || text[q] == '\t'))
			q++, w++;
		if (q < e && text[q] != '\n' && w < indent)
			indent = w;
		while (q < e && text[q] != '\n')
			q++;
		p = q + 1;
	}
	if (indent == (size_t)-1)
		indent = 0;
	size_t cap = (EXCERPT_LINES + 1) * (EXCERPT_COLS + 8) + 64, n = 0, lines = 0, left = 0;
	char *out = xcalloc(cap, 1);
	for (size_t p = s; p < e;) {
		size_t q = p;
		while (q < e && text[q] != '\n')
			q++;
		if (lines == EXCERPT_LINES) {
			left++;
		} else {
			size_t a = p, w = 0;
			while (a < q && w < indent && (text[a] == ' ' || text[a] == '\t'))
				a++, w++;
			size_t chars = 0, b = a;
			/* cut at EXCERPT_COLS characters (UTF-8 lead bytes counted) */
			while (b < q && (chars < EXCERPT_COLS || ((unsigned char)text[b] & 0xC0) == 0x80)) {
				chars += ((unsigned char)text[b] & 0xC0) != 0x80;
				b++;
			}
			memcpy(out + n, text + a, b - a);
			n += b - a;
			if (b < q) {
				memcpy(out + n, " ...", 4);
				n += 4;
			}
			out[n++] = '\n';
			lines++;
		}
		p = q + 1;
	}
	if (left)
		n += (size_t)snprintf(out + n, cap - n, "... (%zu more line%s)\n", left, left == 1 ? "" : "s");
	while (n > 0 && out[n - 1] == '\n')
		n--;
	out[n] = 0;
	return out;
}

/* One cell: the code as written above the fixed code. */
static void code_cell(FILE *out, const char *before, const char *after)
{
	fputs("<td class=\"code\"><pre>", out);
	esc(out, before);
	fputs("</pre><pre class=\"after\">", out);
	esc(out, after);
	fputs("</pre></td>", out);
}

/* ---- bench --html: what each fix saves ------------------------------------------------------ */

#define BAR_H 22
#define PLOT_W 420
#define LABEL_W 360

/* Length of the folder part that every row's path shares ("a/b/" of "a/b/c.py", "a/b/d.py"). */
static size_t common_dir(char *const *paths, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = paths[i];
		const char *slash = strrchr(p, '/');
		size_t d = slash ? (size_t)(slash - p) + 1 : 0;
		if (i == 0) {
			k = d;
			continue;
		}
		size_t j = 0;
		while (j < k && j < d && p[j] == paths[0][j])
			j++;
		while (j > 0 && p[j - 1] != '/')
			j--;
		k = j;
	}
	return k;
}

/* the estimated saving of a row over the trace, or its saving per run */
static double row_key(const struct bench_row *w)
{
	if (w->skip)
		return -INFINITY;
	return w->executions >= 0 ? w->saved_ns * (double)w->executions : w->saved_ns;
}

/* qsort_r's comparison of two row indices; ctx is the struct bench_report */
static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
	const struct bench_report *rep = ctx;
	const struct bench_row *a = &rep->rows[*(const size_t *)pa], *b = &rep->rows[*(const size_t *)pb];
	double x = row_key(a), y = row_key(b);
	return (x < y) - (x > y);
}

static void bar_chart(FILE *out, const char *const *labels, const double *v, const double *spread, const bool *noise,
		      size_t n, const char *unit_title)
{
	double hi = 0, lo = 0;
	for (size_t i = 0; i < n; i++) {
		hi = fmax(hi, v[i] + spread[i]);
		lo = fmin(lo, v[i] - spread[i]);
	}
	double span = hi - lo > 0 ? hi - lo : 1;
	double x0 = LABEL_W + PLOT_W * (-lo / span);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n",
		LABEL_W + PLOT_W + 110, (int)n * BAR_H + 40);
	for (size_t i = 0; i < n; i++) {
		double top = 10 + (double)i * BAR_H;
		double xv = LABEL_W + PLOT_W * ((v[i] - lo) / span);
		double xa = fmin(x0, xv), wd = fabs(xv - x0);
		const char *color = noise[i] ? "#aaa" : v[i] < 0 ? "#c0392b" : "#2a7f62";
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 8, top + 14);
		esc(out, labels[i]);
		fputs("</text>\n", out);
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>", xa, top + 2,
			wd < 0.5 ? 0.5 : wd, BAR_H - 6, color);
		esc(out, unit_title);
		fputs(": ", out);
		duration(out, v[i]);
		fputs(" &#177; ", out);
		duration(out, spread[i]);
		fputs("</title></rect>\n", out);
		double l = LABEL_W + PLOT_W * ((v[i] - spread[i] - lo) / span);
		double rr = LABEL_W + PLOT_W * ((v[i] + spread[i] - lo) / span);
		fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", l, rr,
			top + BAR_H / 2.0 - 1, top + BAR_H / 2.0 - 1);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", fmax(fmax(xv, x0), rr) + 6, top + 14);
		duration(out, v[i]);
		fputs("</text>\n", out);
	}
	double axis = 10 + (double)n * BAR_H;
	fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"6\" y2=\"%.1f\" stroke=\"#555\"/>\n", x0, x0, axis);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">0</text>\n", x0, axis + 16);
	fputs("</svg>\n", out);
}

int bench_html_snippets(FILE *out, const struct bench_report *r)
{
	head(out, "spipfix bench: what each fix saves");
	bool traced = false;
	for (size_t i = 0; i < r->nrows; i++)
		traced = traced || r->rows[i].executions >= 0;
	fprintf(out,
		"<p>Each row times the code a fix changes, as written and as rewritten, in the module's own namespace "
		"(the module was imported, so its top level ran): one <b>run</b> is one execution of the changed code "
		"(for a memoised function, one call). Medians of %zu alternating rounds; &plusmn; is the median "
		"absolute deviation of the paired differences. <i>Within the noise</i>: the 95&nbsp;%% interval of the "
		"median paired difference (sign test) holds zero.%s</p>\n",
		r->rounds,
		traced ? " <b>Executions</b> are those of the site in the trace given; <b>est. saving</b> = executions "
			 "&times; saved per run." : "");
	size_t *order = xcalloc(r->nrows + 1, sizeof *order);
	char **paths = xcalloc(r->nrows + 1, sizeof *paths);
	size_t ntimed = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		order[i] = i;
		paths[i] = r->rows[i].path;
		ntimed += !r->rows[i].skip;
	}
	if (r->nrows > 1)
		qsort_r(order, r->nrows, sizeof *order, cmp_rows, (void *)r);
	size_t skip = common_dir(paths, r->nrows);
	if (ntimed) {
		const char **labels = xcalloc(ntimed, sizeof *labels);
		double *v = xcalloc(ntimed, sizeof *v), *s = xcalloc(ntimed, sizeof *s);
		bool *nz = xcalloc(ntimed, sizeof *nz);
		size_t k = 0;
		for (size_t j = 0; j < r->nrows; j++) {
			const struct bench_row *w = &r->rows[order[j]];
			if (w->skip)
				continue;
			labels[k] = xprintf("%s:%u %s", w->path + skip, w->line, w->codes);
			v[k] = w->saved_ns;
			s[k] = w->spread_ns;
			nz[k] = w->noise;
			k++;
		}
		fputs("<h2>Saved per run of the changed code</h2>\n<p class=\"legend\"><span style=\"background:#2a7f62\">"
		      "</span>saves<span style=\"background:#c0392b\"></span>costs<span style=\"background:#aaa\"></span>"
		      "within the noise &nbsp; (whisker: &plusmn; spread)</p>\n",
		      out);
		bar_chart(out, labels, v, s, nz, ntimed, "saved per run");
		for (size_t i = 0; i < ntimed; i++)
			free((char *)labels[i]);
		free(labels);
		free(v);
		free(s);
		free(nz);
	}
	fputs("<h2>Findings</h2>\n", out);
	if (skip && r->nrows) {
		fputs("<p>Paths are relative to <code>", out);
		fwrite(r->rows[0].path, 1, skip, out);
		fputs("</code>.</p>\n", out);
	}
	fputs("<table>\n<tr><th class=\"l\">location</th><th class=\"l\">code</th><th>before / run</th>"
	      "<th>after / run</th><th>saved / run</th><th>&plusmn;</th>",
	      out);
	if (traced)
		fputs("<th>executions</th><th>est. saving</th>", out);
	fputs("<th class=\"l\">note</th><th class=\"l\">code as written, <span style=\"color:#1e6b50\">and fixed</span>"
	      "</th></tr>\n",
	      out);
	double total_saved = 0, total_est = 0;
	for (size_t j = 0; j < r->nrows; j++) {
		const struct bench_row *w = &r->rows[order[j]];
		fprintf(out, "<tr%s><td class=\"loc\" title=\"", w->noise && !w->skip ? " class=\"noise\"" : "");
		esc(out, w->path);
		fprintf(out, ":%u:%u\">", w->line, w->col);
		esc(out, w->path + skip);
		fprintf(out, ":%u ", w->line);
		short_qualname(out, w->qualname);
		fputs("</td><td class=\"l\">", out);
		esc(out, w->codes);
		fputs("</td>", out);
		if (w->skip) {
			fprintf(out, "<td>-</td><td>-</td><td>-</td><td>-</td>%s<td class=\"note\">not timed: ",
				traced ? "<td>-</td><td>-</td>" : "");
			esc(out, w->skip);
			fputs("</td><td></td></tr>\n", out);
			continue;
		}
		fputs("<td class=\"n\">", out);
		duration(out, w->before_ns);
		fputs("</td><td class=\"n\">", out);
		duration(out, w->after_ns);
		fputs("</td><td class=\"n\">", out);
		duration(out, w->saved_ns);
		fputs("</td><td class=\"n\">", out);
		duration(out, w->spread_ns);
		fputs("</td>", out);
		total_saved += w->saved_ns;
		if (traced) {
			fputs("<td class=\"n\">", out);
			if (w->executions >= 0)
				count(out, w->executions);
			fputs("</td><td class=\"n\">", out);
			if (w->executions >= 0) {
				duration(out, w->saved_ns * (double)w->executions);
				total_est += w->saved_ns * (double)w->executions;
			}
			fputs("</td>", out);
		}
		fputs("<td class=\"note\">", out);
		if (w->per_call > 1)
			fprintf(out, "runs &times;%ld per call; ", w->per_call);
		else if (!w->per_call)
			fputs("runs in a loop; ", out);
		fputs(w->noise ? "within the noise" : w->saved_ns < 0 ? "slower" : w->applicability, out);
		fputs("</td>", out);
		code_cell(out, w->before_src ? w->before_src : w->before_code, w->after_src ? w->after_src : w->after_code);
		fputs("</tr>\n", out);
	}
	fputs("<tr class=\"total\"><td class=\"l\" title=\"saved: each timed site run once; est.: over the trace\">"
	      "total</td><td></td><td></td><td></td><td class=\"n\">",
	      out);
	duration(out, total_saved);
	fputs("</td><td></td>", out);
	if (traced) {
		fputs("<td></td><td class=\"n\">", out);
		duration(out, total_est);
		fputs("</td>", out);
	}
	fprintf(out, "<td class=\"l\">%zu timed</td><td></td></tr>\n", ntimed);
	fputs("</table>\n</body>\n</html>\n", out);
	free(order);
	free(paths);
	return ferror(out) ? -1 : 0;
}

/* ---- bench --run --html, and the A/B of optimize ---------------------------------------------- */

static void ab_section(FILE *out, const struct bench_run_report *r)
{
	fputs("<table>\n<tr><th class=\"l\"></th><th>wall, median</th><th>&plusmn;</th><th>CPU, median</th></tr>\n",
	      out);
	const char *names[] = {"original", "fixed"};
	for (int k = 0; k < 2; k++) {
		fprintf(out, "<tr><td class=\"l\">%s</td><td class=\"n\">", names[k]);
		duration(out, (k ? r->fixed_s : r->original_s) * 1e9);
		fputs("</td><td class=\"n\">", out);
		duration(out, (k ? r->fixed_spread_s : r->original_spread_s) * 1e9);
		fputs("</td><td class=\"n\">", out);
		duration(out, (k ? r->fixed_cpu_s : r->original_cpu_s) * 1e9);
		fputs("</td></tr>\n", out);
	}
	fputs("<tr class=\"total\"><td class=\"l\">saved per run</td><td class=\"n\">", out);
	duration(out, r->saved_s * 1e9);
	fputs("</td><td class=\"n\">", out);
	duration(out, r->saved_spread_s * 1e9);
	fputs("</td><td class=\"n\">", out);
	duration(out, r->cpu_saved_s * 1e9);
	fputs("</td></tr>\n</table>\n", out);
	fprintf(out,
		"<p class=\"big\">Ratio fixed / original: <b>%.3f</b> (per round %.3f .. %.3f; CPU %.3f)%s</p>\n",
		r->ratio, r->ratio_min, r->ratio_max, r->cpu_ratio, r->noise ? " &mdash; within the noise" : "");
	double hi = 0;
	for (size_t i = 0; i < r->rounds; i++)
		hi = fmax(hi, fmax(r->original[i], r->fixed[i]));
	if (hi <= 0)
		hi = 1;
	int bw = 18, gap = 14, ph = 200;
	int width = 70 + (int)r->rounds * (2 * bw + gap);
	fputs("<h2>Wall time per round</h2>\n<p class=\"legend\"><span style=\"background:#7f8c8d\"></span>original"
	      "<span style=\"background:#2a7f62\"></span>fixed &nbsp; (one run of the command each)</p>\n",
	      out);
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\">\n", width,
		ph + 40);
	for (size_t i = 0; i < r->rounds; i++) {
		for (int k = 0; k < 2; k++) {
			double v = k ? r->fixed[i] : r->original[i];
			double h = ph * v / hi;
			int x = 60 + (int)i * (2 * bw + gap) + k * bw;
			fprintf(out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s round %zu: %.1f "
				     "ms</title></rect>\n",
				x, 10 + ph - h, bw - 2, h, k ? "#2a7f62" : "#7f8c8d", k ? "fixed" : "original", i + 1, v * 1e3);
		}
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%zu</text>\n", 60 + (int)i * (2 * bw + gap) + bw,
			ph + 26, i + 1);
	}
	fprintf(out, "<line x1=\"56\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#555\"/>\n", width, 10 + ph, 10 + ph);
	fprintf(out, "<text x=\"54\" y=\"16\" text-anchor=\"end\">%.0f ms</text>\n", hi * 1e3);
	fprintf(out, "<text x=\"54\" y=\"%d\" text-anchor=\"end\">0 ms</text>\n", 14 + ph);
	fputs("</svg>\n", out);
}

int bench_html_run(FILE *out, const struct bench_run_report *r)
{
	head(out, "spipfix bench --run: the workload before and after the fixes");
	fputs("<p>Command: <code>", out);
	esc(out, r->command);
	fputs("</code><br>Tree: <code>", out);
	esc(out, r->path);
	fprintf(out, "</code> (%zu %s applied in %zu %s). Medians of %zu alternating rounds, after one untimed run of "
		     "each side; &plusmn; is the median absolute deviation.</p>\n",
		r->fixes, r->fixes == 1 ? "fix" : "fixes", r->files_changed, r->files_changed == 1 ? "file" : "files",
		r->rounds);
	ab_section(out, r);
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

/* ---- optimize --html: the loop ----------------------------------------------------------------- */

int optimize_html(FILE *out, const struct opt_options *o, const struct opt_report *r)
{
	head(out, "spipfix optimize: the hot fixes and what they do to the workload");
	fputs("<p>Command: <code>", out);
	esc(out, o->command);
	fputs("</code><br>Code: <code>", out);
	esc(out, o->path);
	fprintf(out, "</code><br>Traced under Python %s (%d process%s): ", r->python, r->processes,
		r->processes == 1 ? "" : "es");
	count(out, r->instructions);
	fprintf(out, " instructions ran in this code. A finding is "
		     "<b>hot</b> when its own instruction ran at least %lld times (the MAKE_FUNCTION of a def, the call of "
		     "a constant call, the calls of a memoised function): %zu hot with a fix, %zu cold (fix withheld).</p>\n",
		o->min_executions, r->nsites, r->cold);
	char **paths = xcalloc(r->nsites + 1, sizeof *paths);
	for (size_t i = 0; i < r->nsites; i++)
		paths[i] = r->sites[i].path;
	size_t skip = common_dir(paths, r->nsites);
	free(paths);
	if (r->nsites) {
		const char **labels = xcalloc(r->nsites, sizeof *labels);
		double *v = xcalloc(r->nsites, sizeof *v), *s = xcalloc(r->nsites, sizeof *s);
		bool *nz = xcalloc(r->nsites, sizeof *nz);
		for (size_t i = 0; i < r->nsites; i++) {
			const struct opt_site *w = &r->sites[i];
			labels[i] = xprintf("%s:%u %s", w->path + skip, w->line, w->code);
			v[i] = w->est_ms * 1e6;
			s[i] = w->measured ? w->spread_ns * (double)w->executions : 0;
			nz[i] = w->noise;
		}
		fputs("<h2>Estimated saving per run of the command</h2>\n<p class=\"legend\"><span "
		      "style=\"background:#2a7f62\"></span>saves<span style=\"background:#aaa\"></span>within the noise of "
		      "its timing &nbsp; (executions &times; saved per execution; whisker: executions &times; &plusmn;)</p>\n",
		      out);
		bar_chart(out, labels, v, s, nz, r->nsites, "estimated saving");
		for (size_t i = 0; i < r->nsites; i++)
			free((char *)labels[i]);
		free(labels);
		free(v);
		free(s);
		free(nz);
	}
	fputs("<h2>Hot sites</h2>\n<table>\n<tr><th class=\"l\">site</th><th class=\"l\">code</th><th>executions</th>"
	      "<th>saved / execution</th><th>est. saving</th><th class=\"l\">note</th><th class=\"l\">code as written, "
	      "<span style=\"color:#1e6b50\">and fixed</span></th></tr>\n",
	      out);
	for (size_t i = 0; i < r->nsites; i++) {
		const struct opt_site *w = &r->sites[i];
		fprintf(out, "<tr%s><td class=\"loc\" title=\"", w->noise ? " class=\"noise\"" : "");
		esc(out, w->path);
		fprintf(out, ":%u:%u\">", w->line, w->col);
		esc(out, w->path + skip);
		fprintf(out, ":%u ", w->line);
		short_qualname(out, w->qualname);
		fputs("</td><td class=\"l\">", out);
		esc(out, w->code);
		fputs("</td><td class=\"n\">", out);
		count(out, w->executions);
		fputs("</td><td class=\"n\">", out);
		duration(out, w->per_exec_ns);
		fputs("</td><td class=\"n\">", out);
		duration(out, w->est_ms * 1e6);
		fprintf(out, "</td><td class=\"note\">%s</td>",
			!w->measured ? "per-rule table (not timed)" : w->noise ? "timing within the noise" : "timed by bench");
		code_cell(out, w->before_src ? w->before_src : "", w->after_src ? w->after_src : "");
		fputs("</tr>\n", out);
	}
	fputs("<tr class=\"total\"><td class=\"l\">total</td><td></td><td></td><td></td><td class=\"n\">", out);
	duration(out, r->est_ms * 1e6);
	fputs("</td><td class=\"note\">per run of the command</td><td></td></tr>\n</table>\n", out);
	if (r->ab_done) {
		fputs("<h2>The workload, original and with the hot fixes</h2>\n", out);
		fprintf(out, "<p>%zu %s applied to a copy; medians of %zu alternating rounds. Estimated saving ", r->ab.fixes,
			r->ab.fixes == 1 ? "fix" : "fixes", r->ab.rounds);
		duration(out, r->est_ms * 1e6);
		fputs(", measured CPU time saved ", out);
		duration(out, r->ab.cpu_saved_s * 1e9);
		fputs(" (estimate / measured: ", out);
		esc(out, r->est_vs_measured);
		fputs(").</p>\n", out);
		ab_section(out, &r->ab);
	}
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

/* ---- files ---------------------------------------------------------------------------------------- */

static int write_file(const char *path, int (*render)(FILE *, const void *, const void *), const void *a,
		      const void *b)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = render(f, a, b);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "error: %s: cannot write the report\n", path);
		return -1;
	}
	return 0;
}

static int snippets_cb(FILE *f, const void *r, const void *unused)
{
	(void)unused;
	return bench_html_snippets(f, r);
}

static int run_cb(FILE *f, const void *r, const void *unused)
{
	(void)unused;
	return bench_html_run(f, r);
}

static int optimize_cb(FILE *f, const void *o, const void *r) { return optimize_html(f, o, r); }

int bench_html_snippets_file(const char *path, const struct bench_report *r)
{
	return write_file(path, snippets_cb, r, NULL);
}

int bench_html_run_file(const char *path, const struct bench_run_report *r) { return write_file(path, run_cb, r, NULL); }

int optimize_html_file(const char *path, const struct opt_options *o, const struct opt_report *r)
{
	return write_file(path, optimize_cb, o, r);
}
