/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify-floor: the physical floor of a trapped system call on this kernel.
 *
 * Measures, in microseconds per call (median over batches, with min/max):
 *   - a native getppid() (the cost of entering the kernel at all);
 *   - getppid() trapped with SECCOMP_RET_USER_NOTIF and answered by a
 *     minimal notifier in the parent, in several ways: with a value or with
 *     SECCOMP_USER_NOTIF_FLAG_CONTINUE, with and without
 *     SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, from a blocking RECV loop, from an
 *     epoll loop (as a real supervisor does), and from a fresh thread per
 *     notification (as the vos supervisor does today);
 *   - the view-control prctl and umount2 outside a view (answered by the
 *     kernel natively).
 * With --in-view (run it inside `vos run`) it measures instead the same
 * calls as seen by a process in a vos view: getppid (not trapped: the cost
 * of the filter alone), the view-control prctl PING (trapped, answered by the
 * supervisor with a value) and umount2 of a missing path (trapped, answered
 * with CONTINUE).
 *
 * Build: cc -O2 -pthread -I<vos>/libvos notify-floor.c -lseccomp
 * Usage: notify-floor [--in-view] [--batches N] [--batch-ms MS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control-proto.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* getppid(END_MARK) tells the notifier that the measuring child is done:
 * the argument register is visible in the notification's args[0]. */
#define END_MARK 0x656e64UL
#define MISSING_PATH "/nonexistent-vos-notify-floor"

struct stats {
	double median, min, max; /* microseconds per call */
	long calls;              /* calls per batch */
	int batches;
};

static int opt_batches = 15;
static double opt_batch_ms = 20;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The calls being measured. Each returns nonzero when the call did not
 * behave as expected (so a broken setup cannot pass as a fast one). */
typedef int (*call_fn)(void);

static pid_t expected_ppid;

static int call_getppid(void)
{
	return syscall(SYS_getppid) != expected_ppid;
}

static struct vos_control_request ping_req = {
	.version = VOS_CONTROL_VERSION,
	.size = sizeof(struct vos_control_request),
	.op = VOS_CONTROL_PING,
};

static int call_prctl_in_view(void)
{
	return prctl(VOS_PRCTL_MAGIC, (unsigned long)&ping_req, sizeof(ping_req), 0UL, 0UL) < 0;
}

static int call_prctl_native(void)
{
	return !(prctl(VOS_PRCTL_MAGIC, (unsigned long)&ping_req, sizeof(ping_req), 0UL, 0UL) < 0 &&
		 errno == EINVAL);
}

static int call_umount(void)
{
	/* ENOENT as root or in a view; EPERM for an unprivileged caller
	 * outside one. Either way the kernel answers. */
	return !(umount2(MISSING_PATH, 0) < 0 && (errno == ENOENT || errno == EPERM || errno == EINVAL));
}

/* Calibrate a batch to about opt_batch_ms, then time opt_batches batches
 * after one warm-up batch. Returns -1 if a call misbehaved. */
static long calibrate(call_fn fn, long n)
{
	for (;;) {
		double t0 = now_us();
		for (long i = 0; i < n; i++)
			if (fn())
				return -1;
		double dt = now_us() - t0;
		if (dt >= opt_batch_ms * 1000 / 4 || n >= (1L << 26)) {
			n = (long)((double)n * opt_batch_ms * 1000 / (dt > 1 ? dt : 1));
			return n < 16 ? 16 : n;
		}
		n *= 4;
	}
}

static int measure(call_fn fn, struct stats *st)
{
	/* Twice, keeping the larger count: one hiccup (a page fault storm, a
	 * preemption) during calibration must not shrink every batch. */
	long n = calibrate(fn, 16), n2 = n > 0 ? calibrate(fn, n / 4 > 16 ? n / 4 : 16) : -1;
	if (n < 0 || n2 < 0)
		return -1;
	if (n2 > n)
		n = n2;
	double *per = calloc((size_t)opt_batches + 1, sizeof(double));
	if (!per)
		return -1;
	for (int b = 0; b <= opt_batches; b++) {
		double t0 = now_us();
		for (long i = 0; i < n; i++)
			if (fn()) {
				free(per);
				return -1;
			}
		per[b] = (now_us() - t0) / (double)n;
	}
	/* per[0] was the warm-up. */
	qsort(per + 1, (size_t)opt_batches, sizeof(double), cmp_double);
	st->min = per[1];
	st->max = per[opt_batches];
	st->median = opt_batches % 2 ? per[1 + opt_batches / 2]
				     : (per[opt_batches / 2] + per[1 + opt_batches / 2]) / 2;
	st->calls = n;
	st->batches = opt_batches;
	free(per);
	return 0;
}

static void print_header(void)
{
	printf("%-62s %10s %10s %10s %9s\n", "call", "median µs", "min µs", "max µs", "calls/bt");
}

static void print_row(const char *label, const struct stats *st)
{
	printf("%-62s %10.3f %10.3f %10.3f %9ld\n", label, st->median, st->min, st->max, st->calls);
	fflush(stdout);
}

static void print_skip(const char *label, const char *why)
{
	printf("%-62s %10s   (%s)\n", label, "-", why);
	fflush(stdout);
}

/* ---- the raw notifier ---------------------------------------------------- */

enum answer { ANSWER_VALUE, ANSWER_CONTINUE };
enum loop { LOOP_RECV, LOOP_EPOLL, LOOP_THREAD };

struct variant {
	const char *label;
	enum answer answer;
	enum loop loop;
	bool sync_wakeup;
	bool same_cpu; /* pin notifier and child to the same CPU */
};

static int send_fd(int sock, int fd)
{
	char dummy = 'f';
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char dummy;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int pin_to_cpu0(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The measuring child: install the filter, hand the listener over, wait for
 * the go, measure the trapped getppid and send the stats back. */
static _Noreturn void child_main(int sock, const struct variant *var)
{
	if (var->same_cpu && pin_to_cpu0() < 0)
		_exit(2);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0) < 0 || seccomp_load(ctx) < 0)
		_exit(3);
	int listener = seccomp_notify_fd(ctx);
	if (listener < 0 || send_fd(sock, listener) < 0)
		_exit(4);
	close(listener);
	char go;
	if (read(sock, &go, 1) != 1)
		_exit(5);

	struct stats st;
	memset(&st, 0, sizeof(st));
	int r = measure(call_getppid, &st);
	if (r < 0)
		st.batches = -1;
	if (write(sock, &st, sizeof(st)) != sizeof(st))
		_exit(6);
	syscall(SYS_getppid, END_MARK);
	_exit(r < 0 ? 7 : 0);
}

struct reply_job {
	int listener;
	struct seccomp_notif_resp resp;
};

static void *reply_thread(void *arg)
{
	struct reply_job *job = arg;
	while (ioctl(job->listener, SECCOMP_IOCTL_NOTIF_SEND, &job->resp) < 0 && errno == EINTR)
		;
	free(job);
	return NULL;
}

/* Serve notifications until the child's end mark. Returns 0 or -errno. */
static int notifier(int listener, const struct variant *var, pid_t ppid)
{
	int ep = -1;
	if (var->loop == LOOP_EPOLL) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener };
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) < 0)
			return -errno;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

	int ret = 0;
	for (;;) {
		if (ep >= 0) {
			struct epoll_event ev;
			int n = epoll_wait(ep, &ev, 1, 10000);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ret = n < 0 ? -errno : -ETIMEDOUT;
				break;
			}
			if (ev.events & (EPOLLHUP | EPOLLERR)) {
				ret = -EPIPE;
				break;
			}
		}
		struct seccomp_notif notif;
		memset(&notif, 0, sizeof(notif));
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notif) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		struct seccomp_notif_resp resp = { .id = notif.id };
		if (var->answer == ANSWER_CONTINUE)
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		else
			resp.val = ppid;
		bool end = notif.data.args[0] == END_MARK;
		if (var->loop == LOOP_THREAD && !end) {
			struct reply_job *job = malloc(sizeof(*job));
			pthread_t t;
			if (!job) {
				ret = -ENOMEM;
				break;
			}
			job->listener = listener;
			job->resp = resp;
			if (pthread_create(&t, &attr, reply_thread, job) != 0) {
				free(job);
				ret = -EAGAIN;
				break;
			}
			continue;
		}
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT) {
			ret = -errno;
			break;
		}
		if (end)
			break;
	}
	pthread_attr_destroy(&attr);
	if (ep >= 0)
		close(ep);
	return ret;
}

static int run_variant(const struct variant *var)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sv[0]);
		expected_ppid = getppid();
		child_main(sv[1], var);
	}
	close(sv[1]);

	cpu_set_t old;
	bool pinned = false;
	int r = 0;
	if (var->same_cpu) {
		if (sched_getaffinity(0, sizeof(old), &old) < 0 || pin_to_cpu0() < 0) {
			r = -errno;
			goto out;
		}
		pinned = true;
	}
	int listener = recv_fd(sv[0]);
	if (listener < 0) {
		r = -EPROTO;
		goto out;
	}
	if (var->sync_wakeup &&
	    ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) {
		r = -errno;
		close(listener);
		goto out;
	}
	if (write(sv[0], "g", 1) != 1) {
		r = -errno;
		close(listener);
		goto out;
	}
	r = notifier(listener, var, getpid());
	close(listener);
	struct stats st;
	if (r == 0 && read(sv[0], &st, sizeof(st)) != sizeof(st))
		r = -EPROTO;
	if (r == 0 && st.batches < 0)
		r = -EBADMSG;
	if (r == 0)
		print_row(var->label, &st);
out:
	close(sv[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -ECHILD;
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	return r;
}

static bool sync_wakeup_supported(void)
{
	/* Probe in a throw-away child: a listener exists only once a filter
	 * is installed, and a filter cannot be removed again. */
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0) < 0 || seccomp_load(ctx) < 0)
			_exit(1);
		int fd = seccomp_notify_fd(ctx);
		char c = ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
		_exit(write(sv[1], &c, 1) == 1 && c ? 0 : 1);
	}
	close(sv[1]);
	int status = 1;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	close(sv[0]);
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int native_rows(void)
{
	struct stats st;
	int failed = 0;
	expected_ppid = getppid();

	printf("# outside a view (native kernel answers)\n");
	print_header();
	if (measure(call_getppid, &st) == 0)
		print_row("getppid() native", &st);
	else
		print_skip("getppid() native", "unexpected result"), failed = 1;
	if (measure(call_prctl_native, &st) == 0)
		print_row("prctl(VOS_PRCTL_MAGIC) native (EINVAL)", &st);
	else
		print_skip("prctl(VOS_PRCTL_MAGIC) native (EINVAL)", "did not fail with EINVAL: inside a view?"), failed = 1;
	if (measure(call_umount, &st) == 0)
		print_row("umount2(missing path) native", &st);
	else
		print_skip("umount2(missing path) native", "unexpected result"), failed = 1;

	bool sync = sync_wakeup_supported();
	const struct variant variants[] = {
		{ "getppid() USER_NOTIF, reply value, RECV loop", ANSWER_VALUE, LOOP_RECV, false, false },
		{ "getppid() USER_NOTIF, reply value, RECV loop, SYNC_WAKE_UP", ANSWER_VALUE, LOOP_RECV, true, false },
		{ "getppid() USER_NOTIF, CONTINUE, RECV loop", ANSWER_CONTINUE, LOOP_RECV, false, false },
		{ "getppid() USER_NOTIF, CONTINUE, RECV loop, SYNC_WAKE_UP", ANSWER_CONTINUE, LOOP_RECV, true, false },
		{ "getppid() USER_NOTIF, reply value, epoll loop", ANSWER_VALUE, LOOP_EPOLL, false, false },
		{ "getppid() USER_NOTIF, reply value, epoll loop, SYNC_WAKE_UP", ANSWER_VALUE, LOOP_EPOLL, true, false },
		{ "getppid() USER_NOTIF, reply value, same CPU", ANSWER_VALUE, LOOP_RECV, false, true },
		{ "getppid() USER_NOTIF, reply value, same CPU, SYNC_WAKE_UP", ANSWER_VALUE, LOOP_RECV, true, true },
		{ "getppid() USER_NOTIF, reply from a new thread per call", ANSWER_VALUE, LOOP_THREAD, false, false },
		{ "getppid() USER_NOTIF, reply from new thread, SYNC_WAKE_UP", ANSWER_VALUE, LOOP_THREAD, true, false },
	};
	printf("# raw seccomp user notification (minimal notifier, this kernel)\n");
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		if (variants[i].sync_wakeup && !sync) {
			print_skip(variants[i].label, "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP not supported");
			continue;
		}
		int r = run_variant(&variants[i]);
		if (r < 0) {
			print_skip(variants[i].label, strerror(-r));
			failed = 1;
		}
	}
	return failed;
}

static int view_rows(void)
{
	struct stats st;
	int failed = 0;
	expected_ppid = getppid();

	long id = prctl(VOS_PRCTL_MAGIC, (unsigned long)&ping_req, sizeof(ping_req), 0UL, 0UL);
	if (id < 0) {
		fprintf(stderr, "notify-floor: --in-view: not inside a vos view (%s)\n", strerror(errno));
		return 2;
	}
	printf("# inside vos view %ld\n", id);
	print_header();
	if (measure(call_getppid, &st) == 0)
		print_row("getppid() in view (not trapped: filter only)", &st);
	else
		print_skip("getppid() in view (not trapped: filter only)", "unexpected result"), failed = 1;
	if (measure(call_prctl_in_view, &st) == 0)
		print_row("prctl(VOS_PRCTL_MAGIC, PING) in view (trapped, value)", &st);
	else
		print_skip("prctl(VOS_PRCTL_MAGIC, PING) in view", strerror(errno)), failed = 1;
	if (measure(call_umount, &st) == 0)
		print_row("umount2(missing path) in view (trapped, CONTINUE)", &st);
	else
		print_skip("umount2(missing path) in view", strerror(errno)), failed = 1;
	return failed;
}

static _Noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: notify-floor [--in-view] [--batches N] [--batch-ms MS]\n"
		"  --in-view     measure from inside a vos view (run under `vos run --`)\n"
		"  --batches N   timed batches per row (default 15)\n"
		"  --batch-ms MS target duration of one batch (default 20)\n");
	exit(status);
}

static bool parse_number(const char *s, double lo, double hi, double *ret)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in-view", no_argument, NULL, 'v' },
		{ "batches", required_argument, NULL, 'b' },
		{ "batch-ms", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool in_view = false;
	int c;
	double v;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			in_view = true;
			break;
		case 'b':
			if (!parse_number(optarg, 1, 1000, &v) || v != (int)v) {
				fprintf(stderr, "notify-floor: --batches: expected an integer 1..1000, got '%s'\n", optarg);
				return 2;
			}
			opt_batches = (int)v;
			break;
		case 'm':
			if (!parse_number(optarg, 0.1, 10000, &v)) {
				fprintf(stderr, "notify-floor: --batch-ms: expected a number 0.1..10000, got '%s'\n", optarg);
				return 2;
			}
			opt_batch_ms = v;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "notify-floor: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return in_view ? view_rows() : native_rows();
}
