/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serving a FUSE connection with libfuse's low-level session, on worker
 * threads of our own (libfuse's fuse_session_loop_mt, whose policy this
 * follows: a new worker when none is free, surplus idle ones exit): each
 * request is processed as a call into the mount's service
 * (service-fault.h), so a service that crashes fails its request instead
 * of the supervisor, and its connection can be cut while other workers
 * wait in read(). */
#include "fuse-serve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "service-fault.h"
#include "util.h"

#define SERVER_MAX_THREADS 16
#define SERVER_MAX_IDLE 2

struct fuse_worker {
	struct fuse_server *s;
	pthread_t thread;
	struct fuse_buf buf;
	bool avail;                   /* waiting for a request (counted in n_avail) */
	uint64_t unique;              /* the request being processed, 0: none (under lock) */
	struct fuse_worker *prev, *next;
};

struct fuse_server {
	struct fuse_session *session; /* NULL when the service serves itself */
	void (*serve)(void *userdata, int fuse_fd);
	void *serve_userdata;
	int serve_fd;
	pthread_t thread;
	fuse_server_end_fn on_end;
	void *ctx;
	struct service_guard *guard;  /* the service's, NULL for core code */
	pthread_mutex_t lock;         /* everything below */
	pthread_cond_t changed;
	struct fuse_worker *workers;
	struct fuse_worker *exited;   /* ended, for server_thread to join */
	unsigned n_workers, n_avail;
	bool finished;                /* no more requests are taken */
	bool aborted;                 /* the connection is cut */
};

static struct fuse_server *server_new(fuse_server_end_fn on_end, void *ctx, struct service_guard *guard)
{
	struct fuse_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->on_end = on_end;
	s->ctx = ctx;
	s->guard = guard;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	return s;
}

static void server_free(struct fuse_server *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	free(s);
}

static void *custom_server_thread(void *arg)
{
	struct fuse_server *s = arg;
	SERVICE_CALL(s->guard, "serve", (void)0, s->serve(s->serve_userdata, s->serve_fd));
	if (s->on_end)
		s->on_end(s->ctx);
	return NULL;
}

int fuse_server_start_custom(int fuse_fd, void (*serve)(void *userdata, int fuse_fd), void *userdata,
			     fuse_server_end_fn on_end, void *ctx, struct service_guard *guard,
			     struct fuse_server **ret)
{
	struct fuse_server *s = server_new(on_end, ctx, guard);
	if (!s) {
		close(fuse_fd);
		return -ENOMEM;
	}
	s->serve = serve;
	s->serve_userdata = userdata;
	s->serve_fd = fuse_fd;
	int r = pthread_create(&s->thread, NULL, custom_server_thread, s);
	if (r != 0) {
		close(fuse_fd);
		server_free(s);
		return -r;
	}
	*ret = s;
	return 0;
}

static const char *opcode_name(uint32_t opcode)
{
	static const char *const names[] = {
		[FUSE_LOOKUP] = "lookup", [FUSE_GETATTR] = "getattr", [FUSE_SETATTR] = "setattr",
		[FUSE_READLINK] = "readlink", [FUSE_MKNOD] = "mknod", [FUSE_MKDIR] = "mkdir",
		[FUSE_UNLINK] = "unlink", [FUSE_RMDIR] = "rmdir", [FUSE_RENAME] = "rename",
		[FUSE_OPEN] = "open", [FUSE_READ] = "read", [FUSE_WRITE] = "write",
		[FUSE_STATFS] = "statfs", [FUSE_RELEASE] = "release", [FUSE_FSYNC] = "fsync",
		[FUSE_FLUSH] = "flush", [FUSE_INIT] = "init", [FUSE_OPENDIR] = "opendir",
		[FUSE_READDIR] = "readdir", [FUSE_RELEASEDIR] = "releasedir", [FUSE_CREATE] = "create",
		[FUSE_IOCTL] = "ioctl", [FUSE_POLL] = "poll", [FUSE_READDIRPLUS] = "readdirplus",
		[FUSE_ACCESS] = "access", [FUSE_GETXATTR] = "getxattr", [FUSE_LISTXATTR] = "listxattr",
	};
	return opcode < ARRAY_SIZE(names) && names[opcode] ? names[opcode] : "a FUSE request";
}

/* How long a cut waits for the workers blocked in read() to let go. */
#define SERVER_CUT_TIMEOUT_MS 1000

/* Under lock. The kernel aborts a connection when the last reference to
 * its /dev/fuse file goes: the session's fd and each read() in progress. */
static void cut_locked(struct fuse_server *s)
{
	if (s->aborted)
		return;
	s->aborted = true;
	s->finished = true;
	fuse_session_exit(s->session);
	int fd = fuse_session_fd(s->session);
	/* The fd number stays valid for the session and its busy workers
	 * (their replies now go nowhere); `conn` keeps the connection. */
	int conn = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup3(null, fd, O_CLOEXEC);
		close(null);
	}
	/* Workers waiting for a request let go of the connection. */
	for (struct fuse_worker *w = s->workers; w; w = w->next)
		if (w->avail)
			pthread_cancel(w->thread);
	struct timespec deadline = realtime_after_ms(SERVER_CUT_TIMEOUT_MS);
	while (s->n_avail > 0 && pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == 0)
		;
	/* What the busy workers were processing fails with EIO: the crashed
	 * call itself, or calls stuck behind it. Everything else, once
	 * `conn` is closed, with ENOTCONN. */
	for (struct fuse_worker *w = s->workers; w && conn >= 0; w = w->next)
		if (w->unique) {
			struct fuse_out_header out = { .len = sizeof(out), .error = -EIO, .unique = w->unique };
			ssize_t n = write(conn, &out, sizeof(out));
			(void)n; /* already answered: ENOENT */
			w->unique = 0;
		}
	if (conn >= 0)
		close(conn);
	pthread_cond_broadcast(&s->changed);
}

void fuse_server_abort(struct fuse_server *s)
{
	if (!s || !s->session)
		return; /* a service serving itself owns its fd */
	pthread_mutex_lock(&s->lock);
	cut_locked(s);
	pthread_mutex_unlock(&s->lock);
}

/* One request, as a call into the service. A crashed service's
 * connection is cut (by its on_crash already, unless it crashed before). */
static void serve_request(struct fuse_server *s, const struct fuse_buf *buf, uint32_t opcode)
{
	SERVICE_CALL(s->guard, opcode_name(opcode), fuse_server_abort(s),
		     fuse_session_process_buf(s->session, buf));
}

/* A worker's end: it returned, or was cancelled waiting for a request.
 * server_thread joins it: only then has it run its thread-specific
 * destructors (libfuse's per-thread splice pipe), which must happen before
 * the session is destroyed. */
static void worker_gone(void *arg)
{
	struct fuse_worker *w = arg;
	struct fuse_server *s = w->s;
	free(w->buf.mem);
	w->buf.mem = NULL;
	pthread_mutex_lock(&s->lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		s->workers = w->next;
	if (w->next)
		w->next->prev = w->prev;
	s->n_workers--;
	if (w->avail)
		s->n_avail--;
	w->prev = NULL;
	w->next = s->exited;
	s->exited = w;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* Under lock, which it drops while joining. */
static void join_exited_locked(struct fuse_server *s)
{
	while (s->exited) {
		struct fuse_worker *w = s->exited;
		s->exited = w->next;
		pthread_mutex_unlock(&s->lock);
		pthread_join(w->thread, NULL);
		free(w);
		pthread_mutex_lock(&s->lock);
	}
}

static void *worker_thread(void *arg);

/* Under lock. */
static int worker_start_locked(struct fuse_server *s)
{
	struct fuse_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->s = s;
	w->avail = true;
	/* As libfuse's workers: the termination signals are for others. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int r = pthread_create(&w->thread, NULL, worker_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		free(w);
		return -r;
	}
	w->next = s->workers;
	if (s->workers)
		s->workers->prev = w;
	s->workers = w;
	s->n_workers++;
	s->n_avail++;
	return 0;
}

static void *worker_thread(void *arg)
{
	struct fuse_worker *w = arg;
	struct fuse_server *s = w->s;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(worker_gone, w);
	for (;;) {
		/* Only a wait for a request may be cancelled. */
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		int r = fuse_session_exited(s->session) ? 0 : fuse_session_receive_buf(s->session, &w->buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			pthread_mutex_lock(&s->lock);
			s->finished = true;
			pthread_cond_broadcast(&s->changed);
			pthread_mutex_unlock(&s->lock);
			break;
		}
		struct fuse_in_header in = { 0 };
		if (!(w->buf.flags & FUSE_BUF_IS_FD) && w->buf.size >= sizeof(in))
			memcpy(&in, w->buf.mem, sizeof(in));
		else
			in.opcode = FUSE_WRITE; /* only large writes arrive spliced */
		bool forget = in.opcode == FUSE_FORGET || in.opcode == FUSE_BATCH_FORGET;

		pthread_mutex_lock(&s->lock);
		if (s->finished) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		w->avail = false;
		s->n_avail--;
		if (!forget && in.opcode != FUSE_INTERRUPT)
			w->unique = in.unique; /* a request that gets a reply */
		/* Bursts of FORGET (quickly done) do not make new workers. */
		if (!forget && s->n_avail == 0 && s->n_workers < SERVER_MAX_THREADS)
			worker_start_locked(s); /* on failure the others carry on */
		pthread_mutex_unlock(&s->lock);

		serve_request(s, &w->buf, in.opcode);

		pthread_mutex_lock(&s->lock);
		w->unique = 0;
		bool surplus = s->n_avail >= SERVER_MAX_IDLE && s->n_workers > 1;
		if (!surplus) {
			w->avail = true;
			s->n_avail++;
		}
		pthread_mutex_unlock(&s->lock);
		if (surplus)
			break;
	}
	pthread_cleanup_pop(1);
	return NULL;
}

/* Runs the workers until the connection ends (unmounted, aborted by the
 * kernel, or cut by fuse_server_abort), then reports the end. */
static void *server_thread(void *arg)
{
	struct fuse_server *s = arg;
	pthread_mutex_lock(&s->lock);
	if (worker_start_locked(s) < 0)
		s->finished = true;
	for (;;) {
		join_exited_locked(s); /* surplus idle workers */
		if (s->finished)
			break;
		pthread_cond_wait(&s->changed, &s->lock);
	}
	/* Workers waiting in read() would wait for a request that will not
	 * be taken (or never comes); busy ones stop after their request. */
	for (struct fuse_worker *w = s->workers; w; w = w->next)
		pthread_cancel(w->thread);
	for (;;) {
		join_exited_locked(s);
		if (s->n_workers == 0)
			break;
		pthread_cond_wait(&s->changed, &s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	if (s->on_end)
		s->on_end(s->ctx);
	return NULL;
}

int fuse_server_start(int fuse_fd, const struct fuse_lowlevel_ops *ops, size_t ops_size,
		      void *userdata, fuse_server_end_fn on_end, void *ctx,
		      struct service_guard *guard, struct fuse_server **ret)
{
	_cleanup_close_ int fd = fuse_fd;
	char *argv[] = { "vos", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);

	struct fuse_server *s = server_new(on_end, ctx, guard);
	if (!s)
		return -ENOMEM;
	s->session = fuse_session_new(&args, ops, ops_size, userdata);
	fuse_opt_free_args(&args);
	if (!s->session) {
		server_free(s);
		return -EINVAL;
	}
	/* "/dev/fd/N": libfuse takes the already mounted fd as it is. */
	char mountpoint[32];
	snprintf(mountpoint, sizeof(mountpoint), "/dev/fd/%d", fd);
	if (fuse_session_mount(s->session, mountpoint) != 0) {
		fuse_session_destroy(s->session);
		server_free(s);
		return -EIO;
	}
	TAKE_FD(fd); /* now owned by the session */

	int r = pthread_create(&s->thread, NULL, server_thread, s);
	if (r != 0) {
		fuse_session_destroy(s->session);
		server_free(s);
		return -r;
	}
	*ret = s;
	return 0;
}

int fuse_server_join(struct fuse_server *s, int timeout_ms)
{
	if (!s)
		return 0;
	struct timespec deadline = realtime_after_ms(timeout_ms);
	int r = pthread_timedjoin_np(s->thread, NULL, &deadline);
	if (r != 0)
		return -r;
	if (s->session) {
		/* destroy() of the service's operations runs here: a crashed
		 * service's is not called, its session is left behind. */
		struct fuse_session *se = s->session;
		SERVICE_CALL(s->guard, "destroy", close(fuse_session_fd(se)), fuse_session_destroy(se));
	}
	server_free(s);
	return 0;
}
