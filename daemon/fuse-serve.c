/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fuse-serve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct fuse_server {
	struct fuse_session *session; /* NULL when the service serves itself */
	void (*serve)(void *userdata, int fuse_fd);
	void *serve_userdata;
	int serve_fd;
	pthread_t thread;
	fuse_server_end_fn on_end;
	void *ctx;
};

static void *custom_server_thread(void *arg)
{
	struct fuse_server *s = arg;
	s->serve(s->serve_userdata, s->serve_fd);
	if (s->on_end)
		s->on_end(s->ctx);
	return NULL;
}

int fuse_server_start_custom(int fuse_fd, void (*serve)(void *userdata, int fuse_fd), void *userdata,
			     fuse_server_end_fn on_end, void *ctx, struct fuse_server **ret)
{
	struct fuse_server *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fuse_fd);
		return -ENOMEM;
	}
	s->serve = serve;
	s->serve_userdata = userdata;
	s->serve_fd = fuse_fd;
	s->on_end = on_end;
	s->ctx = ctx;
	int r = pthread_create(&s->thread, NULL, custom_server_thread, s);
	if (r != 0) {
		close(fuse_fd);
		free(s);
		return -r;
	}
	*ret = s;
	return 0;
}

static void *server_thread(void *arg)
{
	struct fuse_server *s = arg;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	if (cfg) {
		fuse_loop_cfg_set_max_threads(cfg, 16);
		fuse_loop_cfg_set_idle_threads(cfg, 2);
		fuse_session_loop_mt(s->session, cfg);
		fuse_loop_cfg_destroy(cfg);
	} else {
		fuse_session_loop(s->session);
	}
	if (s->on_end)
		s->on_end(s->ctx);
	return NULL;
}

int fuse_server_start(int fuse_fd, const struct fuse_lowlevel_ops *ops, size_t ops_size,
		      void *userdata, fuse_server_end_fn on_end, void *ctx,
		      struct fuse_server **ret)
{
	_cleanup_close_ int fd = fuse_fd;
	char *argv[] = { "vos", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);

	struct fuse_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->on_end = on_end;
	s->ctx = ctx;
	s->session = fuse_session_new(&args, ops, ops_size, userdata);
	fuse_opt_free_args(&args);
	if (!s->session) {
		free(s);
		return -EINVAL;
	}
	/* "/dev/fd/N": libfuse takes the already mounted fd as it is. */
	char mountpoint[32];
	snprintf(mountpoint, sizeof(mountpoint), "/dev/fd/%d", fd);
	if (fuse_session_mount(s->session, mountpoint) != 0) {
		fuse_session_destroy(s->session);
		free(s);
		return -EIO;
	}
	TAKE_FD(fd); /* now owned by the session */

	int r = pthread_create(&s->thread, NULL, server_thread, s);
	if (r != 0) {
		fuse_session_destroy(s->session);
		free(s);
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
	if (s->session)
		fuse_session_destroy(s->session);
	free(s);
	return 0;
}
