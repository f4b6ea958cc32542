/* Running many files: the cache answers what it can (reading and hashing only), the rest is
 * processed on one worker process per core -- CPython's compiler holds the interpreter lock, so
 * threads would not scale; each worker is a fork with its own embedded interpreter (started in
 * the worker, or inherited through PyOS_BeforeFork/AfterFork when the configuration needed it
 * first). Files are handed out largest first, a couple queued per worker, and each file's
 * output is printed in file order, byte for byte what the sequential run prints. A worker that
 * dies costs only its files, which are reported as errors. Workers end with the run that started
 * them: a stop signal to the parent is passed on and waited for, and a parent that dies any
 * other way takes its workers with it (PR_SET_PDEATHSIG). On a terminal, a progress line on
 * stderr once the run takes > 1 s. */
#define PY_SSIZE_T_CLEAN

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cache.h"
#include "check.h"

#define INFLIGHT 2 /* files queued per worker, so that none waits for the next one */

struct msg_header {
	uint32_t idx;
	uint32_t cacheable, have_key;
	unsigned char key[16];
	struct totals t;
	uint64_t outlen, errlen;
};

struct runner {
	char **files;
	size_t n;
	const struct options *o;
	struct emitter *out;
	struct totals *t;
	struct file_result *res;
	bool *ready;
	size_t next_emit, done;
	/* progress */
	bool tty, shown;
	double start, last, delay;
};

static void progress_clear(struct runner *rn)
{
	if (rn->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		rn->shown = false;
	}
}

static void progress(struct runner *rn, const char *current)
{
	if (!rn->tty)
		return;
	double t = cli_now();
	if (t - rn->start < rn->delay || (rn->shown && t - rn->last < 0.1))
		return;
	rn->last = t;
	fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", rn->done, rn->n, current ? current : "");
	fflush(stderr);
	rn->shown = true;
}

/* Print every finished file that is next in file order. */
static void emit_ready(struct runner *rn)
{
	while (rn->next_emit < rn->n && rn->ready[rn->next_emit]) {
		struct file_result *e = &rn->res[rn->next_emit];
		if (e->errlen || e->outlen)
			progress_clear(rn);
		emit_result(rn->out, rn->o, rn->files[rn->next_emit], e);
		totals_add(rn->t, &e->t);
		file_result_free(e);
		rn->next_emit++;
	}
}

/* A finished file: into the cache, and print what is now next in order. */
static void deliver(struct runner *rn, size_t idx)
{
	struct file_result *r = &rn->res[idx];
	if (rn->o->cache && r->cacheable && r->have_key)
		cache_put(rn->o->cache, r->key, rn->files[idx], r);
	rn->ready[idx] = true;
	rn->done++;
	emit_ready(rn);
	progress(rn, rn->done < rn->n ? rn->files[idx] : NULL);
}

static void process_here(struct runner *rn, size_t idx)
{
	struct file_result *r = &rn->res[idx];
	if (file_result_open(r) < 0) {
		fprintf(stderr, "error: %s: out of memory\n", rn->files[idx]);
		r->t.errors++;
	} else {
		process_file(rn->files[idx], rn->o, r);
		file_result_close(r);
	}
	deliver(rn, idx);
}

/* The worker's loop: file indices in, results out, until the task pipe closes. */
static void worker_loop(struct runner *rn, int tasks, int results)
{
	uint32_t idx;
	while (fd_read_all(tasks, &idx, sizeof idx) == 0 && idx < rn->n) {
		struct file_result r;
		struct msg_header h = {.idx = idx};
		if (file_result_open(&r) == 0) {
			process_file(rn->files[idx], rn->o, &r);
			file_result_close(&r);
		} else {
			r.t.errors++;
		}
		h.cacheable = r.cacheable;
		h.have_key = r.have_key;
		memcpy(h.key, r.key, sizeof h.key);
		h.t = r.t;
		h.outlen = r.outlen;
		h.errlen = r.errlen;
		int rc = fd_write_all(results, &h, sizeof h) | fd_write_all(results, r.out, r.outlen) |
			 fd_write_all(results, r.err, r.errlen);
		file_result_free(&r);
		if (rc)
			break;
	}
}

/* The workers of the running run_workers, for the signal handler below (a handler has no other
 * way to reach them). */
static pid_t live[MAX_WORKERS];
static volatile sig_atomic_t nlive;

struct worker {
	pid_t pid;
	int tasks, results; /* parent's ends; -1 when closed */
	size_t inflight[INFLIGHT];
	size_t ninflight;
};

static void dead_worker(struct runner *rn, struct worker *w)
{
	int status = 0;
	if (w->pid > 0) {
		waitpid(w->pid, &status, 0);
		/* the stop handler must not signal a pid the system may give to another process */
		sigset_t held;
		cli_signals_hold(&held);
		for (int k = 0; k < nlive; k++)
			if (live[k] == w->pid)
				live[k] = 0;
		cli_signals_restore(&held);
	}
	w->pid = -1;
	for (size_t k = 0; k < w->ninflight; k++) {
		size_t idx = w->inflight[k];
		struct file_result *r = &rn->res[idx];
		memset(r, 0, sizeof *r);
		char msg[512];
		int n = snprintf(msg, sizeof msg, "error: %s: the worker process analysing it died (%s %d); skipped\n",
				 rn->files[idx], WIFSIGNALED(status) ? "signal" : "exit status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		r->err = strdup(msg);
		r->errlen = r->err ? (size_t)n : 0;
		r->t.files = 1;
		r->t.errors = 1;
		deliver(rn, idx);
	}
	w->ninflight = 0;
	if (w->tasks >= 0)
		close(w->tasks);
	if (w->results >= 0)
		close(w->results);
	w->tasks = w->results = -1;
}

static bool send_task(struct worker *w, size_t idx)
{
	uint32_t i = (uint32_t)idx;
	if (fd_write_all(w->tasks, &i, sizeof i) < 0)
		return false;
	w->inflight[w->ninflight++] = idx;
	return true;
}

/* SIGINT, SIGTERM, SIGHUP or SIGQUIT to the parent while workers run: pass it on, wait until
 * every worker has ended (a worker replacing a file holds the signal until the rename is done,
 * so that no half-written file or temporary file stays), then end as the signal says.
 * Async-signal-safe: kill, waitpid, signal, raise. */
static void on_stop(int sig)
{
	for (int k = 0; k < nlive; k++)
		if (live[k] > 0)
			kill(live[k], SIGTERM);
	for (int k = 0; k < nlive; k++)
		if (live[k] > 0)
			while (waitpid(live[k], NULL, 0) < 0 && errno == EINTR)
				;
	signal(sig, SIG_DFL);
	raise(sig); /* acts when the handler returns */
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSTOP (sizeof stop_signals / sizeof *stop_signals)

/* In a new worker: the parent's handlers are not its own, and it ends when the parent does,
 * whatever ends it (SIGKILL included), instead of finishing its files for nobody. A worker in
 * the middle of replacing a file holds SIGTERM until the rename (cli_signals_hold). */
static void worker_signals(pid_t parent)
{
	for (size_t i = 0; i < NSTOP; i++)
		signal(stop_signals[i], SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent) /* the parent died before prctl */
		_exit(1);
}

/* Returns the number of todo entries handed out (the rest, if any, is for the caller); the
 * workers that are still exiting go into *exiting. */
static size_t run_workers(struct runner *rn, const size_t *todo, size_t ntodo, int jobs,
			  struct exiting_workers *exiting)
{
	struct worker ws[MAX_WORKERS];
	int nw = 0;
	/* a running interpreter (it read pyproject.toml) is forked the way CPython wants */
	bool py = bridge_loaded();
	pid_t self = getpid();
	fflush(stdout);
	fflush(stderr);
	struct sigaction stop = {.sa_handler = on_stop}, old[NSTOP];
	sigemptyset(&stop.sa_mask);
	for (size_t i = 0; i < NSTOP; i++)
		sigaddset(&stop.sa_mask, stop_signals[i]);
	nlive = 0;
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_signals[i], &stop, &old[i]);
	for (int k = 0; k < jobs && k < MAX_WORKERS; k++) {
		int tp[2], rp[2];
		if (pipe(tp) < 0)
			break;
		if (pipe(rp) < 0) {
			close(tp[0]);
			close(tp[1]);
			break;
		}
		if (py)
			bridge_before_fork();
		/* no stop signal between the fork and the worker's table entry */
		sigset_t held;
		cli_signals_hold(&held);
		pid_t pid = fork();
		if (pid == 0) {
			worker_signals(self);
			cli_signals_restore(&held);
			if (py)
				bridge_after_fork_child();
			signal(SIGPIPE, SIG_DFL);
			for (int j = 0; j < nw; j++) {
				close(ws[j].tasks);
				close(ws[j].results);
			}
			close(tp[1]);
			close(rp[0]);
			worker_loop(rn, tp[0], rp[1]);
			fflush(NULL);
			_exit(0);
		}
		if (pid > 0) {
			live[nlive] = pid;
			nlive = nlive + 1;
		}
		cli_signals_restore(&held);
		if (py)
			bridge_after_fork_parent();
		close(tp[0]);
		close(rp[1]);
		if (pid < 0) {
			close(tp[1]);
			close(rp[0]);
			break;
		}
		ws[nw++] = (struct worker){.pid = pid, .tasks = tp[1], .results = rp[0]};
	}
	/* round robin: with the largest first, each worker starts on one of the largest files
	 * instead of the first worker queueing the two largest */
	size_t next = 0;
	for (int q = 0; q < INFLIGHT; q++)
		for (int k = 0; k < nw && next < ntodo; k++)
			if (send_task(&ws[k], todo[next]))
				next++;
	for (int k = 0; k < nw; k++)
		if (next >= ntodo && ws[k].tasks >= 0) {
			close(ws[k].tasks);
			ws[k].tasks = -1;
		}
	for (;;) {
		struct pollfd pfd[MAX_WORKERS];
		int map[MAX_WORKERS], np = 0;
		for (int k = 0; k < nw; k++)
			if (ws[k].results >= 0 && ws[k].ninflight) {
				pfd[np] = (struct pollfd){.fd = ws[k].results, .events = POLLIN};
				map[np++] = k;
			}
		if (np == 0)
			break;
		if (poll(pfd, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < np; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct worker *w = &ws[map[i]];
			struct msg_header h;
			struct file_result r = {0};
			bool ok = fd_read_all(w->results, &h, sizeof h) == 0 && h.idx == w->inflight[0];
			if (ok) {
				r.out = malloc(h.outlen + 1);
				r.err = malloc(h.errlen + 1);
				ok = r.out && r.err && fd_read_all(w->results, r.out, h.outlen) == 0 &&
				     fd_read_all(w->results, r.err, h.errlen) == 0;
			}
			if (!ok) {
				file_result_free(&r);
				dead_worker(rn, w);
				continue;
			}
			r.outlen = h.outlen;
			r.errlen = h.errlen;
			r.t = h.t;
			r.cacheable = h.cacheable;
			r.have_key = h.have_key;
			memcpy(r.key, h.key, sizeof r.key);
			memmove(w->inflight, w->inflight + 1, --w->ninflight * sizeof *w->inflight);
			rn->res[h.idx] = r;
			deliver(rn, h.idx);
			if (next < ntodo && w->tasks >= 0 && send_task(w, todo[next]))
				next++;
			if (next >= ntodo && w->tasks >= 0) {
				close(w->tasks);
				w->tasks = -1;
			}
		}
	}
	/* every result is in: the workers are exiting (freeing their memory takes a few ms), and
	 * are waited for by run_files_reap; a signal from now on ends the parent as usual, and
	 * each worker through its parent-death signal */
	sigset_t held;
	cli_signals_hold(&held);
	nlive = 0;
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_signals[i], &old[i], NULL);
	cli_signals_restore(&held);
	for (int k = 0; k < nw; k++) {
		if (ws[k].tasks >= 0)
			close(ws[k].tasks);
		if (ws[k].results >= 0)
			close(ws[k].results);
		if (ws[k].pid > 0 && exiting->n < MAX_WORKERS)
			exiting->pid[exiting->n++] = ws[k].pid;
		else if (ws[k].pid > 0)
			waitpid(ws[k].pid, NULL, 0);
	}
	return next;
}

void run_files_reap(struct exiting_workers *exiting)
{
	for (int k = 0; k < exiting->n; k++)
		waitpid(exiting->pid[k], NULL, 0);
	exiting->n = 0;
}

/* Files handed out largest first: the long ones start early, and the run ends on short ones
 * instead of one core finishing a big file alone. Ties (and runs without sizes) keep file
 * order. */
struct pending {
	off_t size;
	size_t idx;
};

static int cmp_pending(const void *pa, const void *pb)
{
	const struct pending *a = pa, *b = pb;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int run_files(char **files, const off_t *sizes, size_t n, const struct options *o, int jobs, struct emitter *out,
	      struct totals *t, struct exiting_workers *exiting)
{
	struct runner rn = {.files = files, .n = n, .o = o, .out = out, .t = t};
	rn.res = calloc(n + 1, sizeof *rn.res);
	rn.ready = calloc(n + 1, sizeof *rn.ready);
	size_t *todo = malloc((n + 1) * sizeof *todo);
	struct pending *pend = malloc((n + 1) * sizeof *pend);
	if (!rn.res || !rn.ready || !todo || !pend) {
		free(rn.res);
		free(rn.ready);
		free(todo);
		free(pend);
		return -1;
	}
	rn.tty = isatty(2) && !o->silent;
	const char *delay = getenv("SPIPFIX_PROGRESS_DELAY");
	rn.delay = delay && *delay ? atof(delay) : 1.0;
	rn.start = cli_now();
	bool parallel = jobs > 1 && n > 1;
	/* the cache first: a hit costs a read and a hash. An empty cache (the first run) cannot
	 * answer, and its files are read and hashed once, where they are processed. */
	bool probe = o->cache && !cache_is_empty(o->cache);
	size_t ntodo = 0;
	for (size_t i = 0; i < n; i++) {
		bool hit = false;
		off_t size = 0;
		if (probe) {
			size_t len;
			struct stat st;
			char *buf = read_whole_file(files[i], &len, &st);
			if (buf) {
				const char *sel[MAX_PASSES + 1];
				unsigned char key[16];
				select_for(o, files[i], sel);
				cache_key(o->cache, files[i], buf, len, sel, key);
				hit = cache_get(o->cache, key, &rn.res[i]);
				size = (off_t)len;
				free(buf);
			}
		} else if (sizes) {
			size = sizes[i];
		}
		if (hit) {
			rn.ready[i] = true;
			rn.done++;
		} else {
			pend[ntodo++] = (struct pending){size, i};
		}
	}
	/* print the cached files that come first */
	emit_ready(&rn);
	if (parallel && ntodo > 1)
		qsort(pend, ntodo, sizeof *pend, cmp_pending);
	for (size_t k = 0; k < ntodo; k++)
		todo[k] = pend[k].idx;
	free(pend);
	size_t handed = 0;
	if (parallel && ntodo > 1) {
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		handed = run_workers(&rn, todo, ntodo, jobs < (int)ntodo ? jobs : (int)ntodo, exiting);
		signal(SIGPIPE, old);
	}
	for (size_t k = handed; k < ntodo; k++)
		process_here(&rn, todo[k]);
	progress_clear(&rn);
	free(rn.res);
	free(rn.ready);
	free(todo);
	return 0;
}
