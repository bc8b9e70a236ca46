/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parked requests of a device node; see device-wait.h.
 *
 * Locking: `lock` guards the list. Only the waiter's thread removes items,
 * so it may work on an item with the lock released. libfuse calls the
 * interrupt callback holding the request's own lock, and the callback
 * takes `lock`: so `lock` is never held while calling into libfuse for a
 * request (fuse_req_interrupt_func, fuse_reply_*). */
#include "device-wait.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fuse-device.h"
#include "service-fault.h"
#include "util.h"

/* Poll handles kept per node: past this, the oldest is notified early (a
 * spurious wake-up makes the kernel poll again, which is harmless). */
#define DEVICE_WAIT_POLLS_MAX 64

enum wait_kind { WAIT_READ, WAIT_WRITE, WAIT_POLL };

struct wait_item {
	enum wait_kind kind;
	fuse_req_t req;                /* WAIT_READ, WAIT_WRITE */
	struct fuse_pollhandle *ph;    /* WAIT_POLL */
	uint64_t fh;
	int fd;                        /* the device's poll_fd(fh) */
	short events;
	size_t size;
	off_t offset;
	char *data;                    /* WAIT_WRITE: a copy of the bytes */
	bool interrupted;              /* under lock */
	size_t slot;                   /* index in the thread's pollfd array, 0: none yet */
	struct wait_item *prev, *next;
};

struct device_wait {
	struct device_node *node;
	pthread_mutex_t lock;
	struct wait_item *head, *tail; /* oldest first */
	unsigned polls;                /* WAIT_POLL items */
	bool stop;
	int wake_fd;                   /* eventfd: the list changed, or stop */
	pthread_t thread;
};

static void wake(struct device_wait *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->wake_fd, &one, sizeof(one));
	(void)r; /* a full counter still wakes the thread */
}

/* Under lock. */
static void list_append(struct device_wait *w, struct wait_item *it)
{
	it->next = NULL;
	it->prev = w->tail;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	if (it->kind == WAIT_POLL)
		w->polls++;
}

/* Under lock. */
static void list_remove(struct device_wait *w, struct wait_item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		w->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		w->tail = it->prev;
	if (it->kind == WAIT_POLL)
		w->polls--;
}

static void item_free(struct wait_item *it)
{
	free(it->data);
	free(it);
}

/* libfuse: the caller of `req` got a signal (called with the request's
 * lock held, from the thread that read the INTERRUPT). */
static void on_interrupt(fuse_req_t req, void *data)
{
	struct device_wait *w = data;
	pthread_mutex_lock(&w->lock);
	for (struct wait_item *it = w->head; it; it = it->next)
		if (it->req == req)
			it->interrupted = true;
	pthread_mutex_unlock(&w->lock);
	wake(w);
}

/* Park a read or write. The interrupt callback is set before the item is
 * visible to the thread (which may answer, and so free, the request at
 * once); an interrupt that came before the item was listed is seen by
 * fuse_req_interrupted() under the lock the callback needs. */
static bool park(struct device_wait *w, struct wait_item *it)
{
	fuse_req_t req = it->req;
	fuse_req_interrupt_func(req, on_interrupt, w);
	pthread_mutex_lock(&w->lock);
	bool interrupted = fuse_req_interrupted(req);
	if (!interrupted)
		list_append(w, it);
	pthread_mutex_unlock(&w->lock);
	if (interrupted) {
		item_free(it);
		fuse_reply_err(req, EINTR);
		return true;
	}
	wake(w);
	return true;
}

static struct wait_item *item_new(struct device_wait *w, enum wait_kind kind, const struct fuse_file_info *fi,
				  short events)
{
	struct wait_item *it = calloc(1, sizeof(*it));
	if (!it)
		return NULL;
	it->kind = kind;
	it->fh = fi->fh;
	it->events = events;
	it->fd = w->node->poll_fd(w->node->dev, fi->fh);
	return it;
}

bool device_wait_read(struct device_wait *w, fuse_req_t req, const struct fuse_file_info *fi,
		      size_t size, off_t offset)
{
	if (!w || (fi->flags & O_NONBLOCK))
		return false;
	struct wait_item *it = item_new(w, WAIT_READ, fi, POLLIN);
	if (!it) {
		fuse_reply_err(req, ENOMEM);
		return true;
	}
	it->req = req;
	it->size = size;
	it->offset = offset;
	return park(w, it);
}

bool device_wait_write(struct device_wait *w, fuse_req_t req, const struct fuse_file_info *fi,
		       const char *buf, size_t size, off_t offset)
{
	if (!w || (fi->flags & O_NONBLOCK))
		return false;
	struct wait_item *it = item_new(w, WAIT_WRITE, fi, POLLOUT);
	if (!it || !(it->data = malloc(size ? size : 1))) {
		free(it);
		fuse_reply_err(req, ENOMEM);
		return true;
	}
	memcpy(it->data, buf, size);
	it->req = req;
	it->size = size;
	it->offset = offset;
	return park(w, it);
}

#define POLL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM)

void device_wait_poll(struct device_wait *w, fuse_req_t req, const struct fuse_file_info *fi,
		      struct fuse_pollhandle *ph)
{
	struct pollfd p = { .fd = w->node->poll_fd(w->node->dev, fi->fh), .events = POLL_EVENTS };
	if (poll(&p, 1, 0) < 0)
		p.revents = POLLERR;
	fuse_reply_poll(req, (unsigned)p.revents);
	if (!ph)
		return;
	/* Kernels before FUSE 7.21 do not say what the caller waits for. */
	short want = (short)(fi->poll_events ? fi->poll_events & POLL_EVENTS : POLLIN);
	if ((p.revents & want) || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) || !want) {
		fuse_pollhandle_destroy(ph);
		return;
	}
	struct wait_item *it = item_new(w, WAIT_POLL, fi, want);
	if (!it) {
		fuse_lowlevel_notify_poll(ph); /* the caller polls again */
		fuse_pollhandle_destroy(ph);
		return;
	}
	it->ph = ph;
	struct wait_item *evicted = NULL;
	pthread_mutex_lock(&w->lock);
	list_append(w, it);
	if (w->polls > DEVICE_WAIT_POLLS_MAX)
		for (struct wait_item *o = w->head; o; o = o->next)
			if (o->kind == WAIT_POLL) {
				list_remove(w, o);
				evicted = o;
				break;
			}
	pthread_mutex_unlock(&w->lock);
	if (evicted) {
		fuse_lowlevel_notify_poll(evicted->ph);
		fuse_pollhandle_destroy(evicted->ph);
		item_free(evicted);
	}
	wake(w);
}

/* Try a parked item whose fd reported `revents` (lock not held). Returns
 * true when it is done (answered or notified). */
static bool item_try(struct device_wait *w, struct wait_item *it, short revents)
{
	struct device_node *node = w->node;
	bool broken = revents & (POLLERR | POLLHUP | POLLNVAL);
	switch (it->kind) {
	case WAIT_POLL:
		fuse_lowlevel_notify_poll(it->ph);
		fuse_pollhandle_destroy(it->ph);
		return true;
	case WAIT_READ: {
		char *buf = malloc(it->size ? it->size : 1);
		if (!buf) {
			fuse_reply_err(it->req, ENOMEM);
			return true;
		}
		ssize_t n;
		SERVICE_CALL(node->guard, "read", n = -EIO,
			     n = node->desc->ops->read(node->dev, it->fh, buf, it->size, it->offset));
		if (n == -EAGAIN && !broken) {
			free(buf);
			return false; /* another reader took it */
		}
		if (n < 0)
			fuse_reply_err(it->req, n == -EAGAIN ? EIO : (int)-n);
		else
			fuse_reply_buf(it->req, buf, (size_t)n);
		free(buf);
		return true;
	}
	case WAIT_WRITE: {
		ssize_t n;
		SERVICE_CALL(node->guard, "write", n = -EIO,
			     n = node->desc->ops->write(node->dev, it->fh, it->data, it->size, it->offset));
		if (n == -EAGAIN && !broken)
			return false;
		if (n < 0)
			fuse_reply_err(it->req, n == -EAGAIN ? EIO : (int)-n);
		else
			fuse_reply_write(it->req, (size_t)n);
		return true;
	}
	}
	return true;
}

static void *wait_thread(void *arg)
{
	struct device_wait *w = arg;
	struct pollfd *fds = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		size_t n = 1;
		for (struct wait_item *it = w->head; it; it = it->next)
			n++;
		if (n > cap) {
			struct pollfd *bigger = realloc(fds, n * 2 * sizeof(*fds));
			if (!bigger) {
				/* Retry soon; the parked requests keep waiting. */
				pthread_mutex_unlock(&w->lock);
				poll(NULL, 0, 100);
				pthread_mutex_lock(&w->lock);
				continue;
			}
			fds = bigger;
			cap = n * 2;
		}
		fds[0] = (struct pollfd){ .fd = w->wake_fd, .events = POLLIN };
		size_t i = 1;
		for (struct wait_item *it = w->head; it; it = it->next, i++) {
			fds[i] = (struct pollfd){ .fd = it->fd, .events = it->events };
			it->slot = i;
		}
		pthread_mutex_unlock(&w->lock);

		if (poll(fds, n, -1) < 0 && errno != EINTR) {
			pthread_mutex_lock(&w->lock);
			continue;
		}
		if (fds[0].revents) {
			uint64_t count;
			ssize_t r = read(w->wake_fd, &count, sizeof(count));
			(void)r;
		}

		/* Items listed since the array was built have slot 0 and wait
		 * for the next round; only this thread removes items, so `it`
		 * stays valid while the lock is released. */
		pthread_mutex_lock(&w->lock);
		struct wait_item *it = w->head;
		while (it && !w->stop) {
			short revents = it->slot ? fds[it->slot].revents : 0;
			bool interrupted = it->interrupted;
			if (!interrupted && !revents) {
				it = it->next;
				continue;
			}
			pthread_mutex_unlock(&w->lock);
			bool done;
			if (interrupted && it->kind != WAIT_POLL) {
				fuse_reply_err(it->req, EINTR);
				done = true;
			} else {
				done = item_try(w, it, revents);
			}
			pthread_mutex_lock(&w->lock);
			if (!done && it->interrupted) {
				pthread_mutex_unlock(&w->lock);
				fuse_reply_err(it->req, EINTR);
				pthread_mutex_lock(&w->lock);
				done = true;
			}
			struct wait_item *next = it->next;
			if (done) {
				list_remove(w, it);
				item_free(it);
			} else {
				it->slot = 0;
			}
			it = next;
		}
	}
	pthread_mutex_unlock(&w->lock);
	free(fds);
	return NULL;
}

int device_wait_new(struct device_node *node, struct device_wait **ret)
{
	struct device_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->node = node;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0) {
		int r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->lock, NULL);
	int r = pthread_create(&w->thread, NULL, wait_thread, w);
	if (r != 0) {
		pthread_mutex_destroy(&w->lock);
		close(w->wake_fd);
		free(w);
		return -r;
	}
	*ret = w;
	return 0;
}

void device_wait_free(struct device_wait *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_mutex_unlock(&w->lock);
	wake(w);
	pthread_join(w->thread, NULL);
	while (w->head) {
		struct wait_item *it = w->head;
		list_remove(w, it);
		if (it->kind == WAIT_POLL)
			fuse_pollhandle_destroy(it->ph);
		else
			fuse_reply_err(it->req, EIO);
		item_free(it);
	}
	pthread_mutex_destroy(&w->lock);
	close(w->wake_fd);
	free(w);
}
