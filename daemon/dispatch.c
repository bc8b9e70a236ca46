/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handing a view's notifications to their handlers, shared by the embedded
 * supervisor (supervisor.c) and vosd's loop (daemon-loop.c). */
#include "dispatch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "control-trap.h"
#include "exec-trap.h"
#include "ioctl-trap.h"
#include "mount-trap.h"
#include "netstack.h"
#include "notify.h"
#include "supervisor.h"

struct handler_job {
	struct vos_view *view;
	struct seccomp_notif notif;
};

static void *handler_thread(void *arg)
{
	struct handler_job *job = arg;
	struct vos_view *v = job->view;
	const struct seccomp_notif *n = &job->notif;

	if (n->data.nr == SYS_prctl)
		control_trap(v, n);
	else if (n->data.nr == SYS_ioctl)
		ioctl_trap(v, n);
	else if (n->data.nr == SYS_execve || n->data.nr == SYS_execveat)
		exec_trap(v, n);
	else if (!netstack_trap(v, n))
		mount_trap(v, n);

	pthread_mutex_lock(&v->lock);
	v->in_flight--;
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
	free(job);
	return NULL;
}

/* Notifications that need no service answer at once, on the event loop's
 * thread: the reply then comes from the thread the kernel woke, which is
 * what SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP makes fast (bench/notify-floor:
 * ~5 µs, against ~40 µs through a new thread). */
static bool dispatch_fast(struct vos_view *v, const struct seccomp_notif *n)
{
	switch (n->data.nr) {
	case SYS_prctl:
		return control_trap_fast(v, n);
	case SYS_ioctl:
		return ioctl_trap_fast(v, n);
	case SYS_execve:
	case SYS_execveat:
		return exec_trap_fast(v, n);
	case SYS_socket:
	case SYS_setns:
	case SYS_unshare:
	case SYS_io_uring_setup:
		if (!netstack_passthrough(v))
			return false;
		notify_continue(v->listener, n->id);
		return true;
	default:
		return netstack_passthrough(v) && mount_trap_fast(v, n);
	}
}

/* Everything else is answered on its own thread: a service that takes its
 * time (opening an image, a slow helper) never stalls the others. */
void dispatch_notification(struct vos_view *v, const struct seccomp_notif *n)
{
	supervisor_debug(v->sup, "view %u: pid %d syscall %d", v->id, n->pid, n->data.nr);
	if (dispatch_fast(v, n))
		return;
	struct handler_job *job = malloc(sizeof(*job));
	if (!job) {
		notify_respond(v->listener, n->id, -ENOMEM);
		return;
	}
	job->view = v;
	job->notif = *n;

	pthread_mutex_lock(&v->lock);
	v->in_flight++;
	pthread_mutex_unlock(&v->lock);

	pthread_attr_t attr;
	pthread_t thread;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&thread, &attr, handler_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		pthread_mutex_lock(&v->lock);
		v->in_flight--;
		pthread_mutex_unlock(&v->lock);
		notify_respond(v->listener, n->id, -EAGAIN);
		free(job);
	}
}
