/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvos: the client side of vos.
 *
 * Inside a view, these calls reach the view's own supervisor through the
 * view-control call (no socket path, no credentials needed). Every function
 * returns 0 or a non-negative value on success and a negative errno on
 * failure; -ENXIO means "not inside a vos view".
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The id of the view the caller runs in (>= 0), or -ENXIO. */
int vos_view_id(void);

/* Load a service into the caller's view. `spec` is "NAME[,opt=val...]".
 * The service is searched in the caller's VOS_SERVICE_PATH and
 * LD_LIBRARY_PATH, then in vos's module directory. On failure a one-line
 * reason is written to `error` when the supervisor gave one. */
int vos_service_add(const char *spec, char *error, size_t error_size);

/* Remove a service; -EBUSY while it has mounts. */
int vos_service_del(const char *name, char *error, size_t error_size);

/* The loaded services, one "name: description\n" line each, in load
 * order. On success *ret_text is a malloc'ed string for the caller. */
int vos_service_list(char **ret_text);

/* The view's service mounts, one "type source target\n" line each. */
int vos_mount_list(char **ret_text);

/*
 * vosd: views served by the daemon (see vosd(8)). These calls work from
 * anywhere, inside a view or not; a user sees and controls only their own
 * views, root all of them. `fd` is a connection from vos_daemon_connect();
 * it can be polled (one request at a time, a reply per request) and is
 * closed with close(2). Added in libvos VOS_0.2.
 */

/* Connect to vosd at `path`, or with NULL at the socket `vos run` uses:
 * $VOS_SOCKET, else $XDG_RUNTIME_DIR/vos/vosd.sock, else
 * /run/vos/vosd.sock. Returns the connection fd or -errno. */
int vos_daemon_connect(const char *path);

struct vos_view_info {
	unsigned id;
	unsigned owner;               /* uid */
	int pid;                      /* the view's command, 0 before it started */
	unsigned long long uptime;    /* seconds */
	char command[256];            /* argv, space-separated, possibly cut */
	char services[256];           /* loaded services, comma-separated */
};

/* The views the caller may see. *ret_views is a malloc'ed array. */
int vos_view_list(int fd, struct vos_view_info **ret_views, size_t *ret_n);

/* Service mounts of view `id` (0: every visible view), one
 * "VIEW type source target\n" line each, malloc'ed. */
int vos_view_mounts(int fd, unsigned id, char **ret_text);

/* Services of view `id`: add ("NAME[,opt=val...]", searched in the caller's
 * VOS_SERVICE_PATH, then the module directory), remove, list (as
 * vos_service_list). `error` gets vosd's one-line reason. */
int vos_view_service_add(int fd, unsigned id, const char *spec, char *error, size_t error_size);
int vos_view_service_del(int fd, unsigned id, const char *name, char *error, size_t error_size);
int vos_view_service_list(int fd, unsigned id, char **ret_text);

/* Kill every process of view `id`; the view ends when the last is gone. */
int vos_view_stop(int fd, unsigned id, char *error, size_t error_size);

struct vos_daemon_status {
	char version[32];
	unsigned long long uptime;    /* seconds */
	unsigned views;               /* visible to the caller */
	unsigned workers;             /* per-user workers (root daemon) */
	unsigned long long rss_kib;   /* the daemon process's resident memory */
	int pid;
};

int vos_daemon_status(int fd, struct vos_daemon_status *ret);

/*
 * Launching a view through vosd (added in libvos VOS_0.3). vosd starts the
 * command for the caller, as `vos run` would: in a new view, with the
 * services preloaded, as the caller's user, with the caller's descriptors
 * as its stdin, stdout and stderr. The launch takes a connection of its
 * own (a fresh vos_daemon_connect()): from vos_view_launch() on, that
 * connection belongs to the view; it becomes readable (POLLIN) when the
 * view has ended, and vos_view_wait() then returns the exit status. Close
 * it to stop watching: the view keeps running. Use other connections for
 * other requests. The view is a descendant of vosd, not of the caller
 * (nothing to reap, no SIGCHLD); under systemd it runs in vosd's unit and
 * stops with it.
 */
struct vos_launch {
	char *const *argv;            /* the command; argv[0] searched in PATH (of envp) */
	char *const *envp;            /* its environment; NULL: the caller's environ */
	const char *cwd;              /* its working directory; NULL: the caller's */
	const char *const *services;  /* NULL-terminated "NAME[,opt=val...]" list to
				       * preload (searched as for
				       * vos_view_service_add), or NULL */
	int stdin_fd, stdout_fd, stderr_fd; /* -1: the caller's own 0, 1, 2 */
};

/* Zero-filled with the caller's stdio: struct vos_launch l = VOS_LAUNCH_INIT;
 * The structure never changes within a symbol version: a new member comes
 * with a new version of vos_view_launch. */
#define VOS_LAUNCH_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 }

/* Launch `l` on the fresh connection `fd`; return when the command runs
 * (0, with *ret_id the view id and *ret_pid the command's pid) or failed
 * (-errno, with a one-line reason in `error`; a warning, e.g. about the
 * working-directory layer, also goes there on success, else it is ""):
 *   -EINVAL   argv is NULL or empty, or argv[0] is "";
 *   -E2BIG    argv, envp and services do not fit one request (at most 256
 *             arguments, 64 services, strings up to 4095 bytes, 64 KiB);
 *   -EBADF    a stdio descriptor is not open;
 *   the errno of execvp(3) when the command could not be executed (the
 *   reason is then "ARGV0: strerror": `vos run` exits with 127 for
 *   -ENOENT and 126 otherwise);
 *   vosd's error for a service that cannot be loaded, e.g. -ENOENT with
 *   "NAME: no such service (...)" (the reason names the service). */
int vos_view_launch(int fd, const struct vos_launch *l, unsigned *ret_id, int *ret_pid,
		    char *error, size_t error_size);

/* The end of a view launched on `fd`: wait up to `timeout_ms` (-1: as long
 * as it runs; 0: just check, for a poll loop that saw POLLIN) until the
 * command has exited and every process of the view is gone. Returns 0 with
 * *ret_status encoded as `vos run`'s exit status: the command's exit code
 * (0-255), or 128 + the signal number that killed it. -EAGAIN: still
 * running after timeout_ms; -ECONNRESET: the launch agent ended without an
 * exit status (vosd was stopped hard); -EINTR: a signal interrupted the
 * wait. */
int vos_view_wait(int fd, int timeout_ms, int *ret_status);

#ifdef __cplusplus
}
#endif
