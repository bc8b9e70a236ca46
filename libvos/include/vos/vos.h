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

#ifdef __cplusplus
}
#endif
