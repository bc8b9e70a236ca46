/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "dispatch.h"
#include "notify.h"
#include "util.h"
#include "view.h"

#include "../libvos/control-proto.h"

void supervisor_init(struct supervisor *sup, FILE *debug)
{
	sup->debug = debug;
	sup->out = stderr;
	pthread_mutex_init(&sup->log_lock, NULL);
}

void supervisor_vprint(struct supervisor *sup, FILE *to, const char *fmt, va_list ap)
{
	if (!to)
		return;
	/* One write per line: stderr is unbuffered, and a line written in
	 * two pieces can have the view's own output in between. */
	char *text = NULL;
	int n = vasprintf(&text, fmt, ap);
	pthread_mutex_lock(&sup->log_lock);
	if (n >= 0) {
		char line[1024];
		if ((size_t)n < sizeof(line) - 1) {
			memcpy(line, text, (size_t)n);
			line[n] = '\n';
			fwrite(line, 1, (size_t)n + 1, to);
		} else {
			fputs(text, to);
			fputc('\n', to);
		}
	}
	fflush(to);
	pthread_mutex_unlock(&sup->log_lock);
	free(text);
}

void supervisor_debug(struct supervisor *sup, const char *fmt, ...)
{
	if (!sup->debug)
		return;
	char stamp[32];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(stamp, sizeof(stamp), "[%5ld.%06ld] ", (long)ts.tv_sec, ts.tv_nsec / 1000);
	pthread_mutex_lock(&sup->log_lock);
	fputs(stamp, sup->debug);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(sup->debug, fmt, ap);
	va_end(ap);
	fputc('\n', sup->debug);
	fflush(sup->debug);
	pthread_mutex_unlock(&sup->log_lock);
}

/* Reap what exited; record the command's status. Returns true when no
 * child is left (the view is empty). */
static bool reap(pid_t command, int *status, bool *command_done)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid > 0) {
			/* A ptrace stop of a thread exec-trap.c is rewriting. */
			if (WIFSTOPPED(st))
				continue;
			if (pid == command) {
				*status = st;
				*command_done = true;
			}
			continue;
		}
		return pid < 0 && errno == ECHILD;
	}
}

int supervisor_run_view(struct supervisor *sup, struct vos_view *v)
{
	sigset_t mask;
	launcher_signals(&mask);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0)
		return -errno;

	int r = notify_set_sync_wakeup(v->listener);
	supervisor_debug(sup, "view %u: pid %d, sync wake-up %s", v->id, v->pid, r == 0 ? "on" : "unavailable");

	struct epoll_event ev = { .events = EPOLLIN, .data.fd = v->listener };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, v->listener, &ev) < 0)
		return -errno;
	ev.data.fd = sfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		return -errno;

	int status = 0;
	bool command_done = false, listener_open = true;
	for (;;) {
		struct epoll_event events[8];
		int n = epoll_wait(ep, events, ARRAY_SIZE(events), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == v->listener) {
				if (events[i].events & EPOLLIN) {
					struct seccomp_notif notif;
					if (notify_recv(v->listener, &notif) == 0)
						dispatch_notification(v, &notif);
				} else if (events[i].events & (EPOLLHUP | EPOLLERR)) {
					/* No process uses the filter any more. */
					epoll_ctl(ep, EPOLL_CTL_DEL, v->listener, NULL);
					listener_open = false;
				}
				continue;
			}
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGCHLD:
					break;
				case SIGTERM:
				case SIGHUP:
					if (!command_done)
						kill(v->pid, (int)si.ssi_signo);
					break;
				default:
					break; /* SIGINT, SIGQUIT: the terminal sent them to the command too */
				}
			}
			if (reap(v->pid, &status, &command_done) && command_done) {
				supervisor_debug(sup, "view %u: last process gone%s", v->id,
						 listener_open ? "" : " (filter released)");
				return status;
			}
		}
	}
}
