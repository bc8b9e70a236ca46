/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A view: its namespaces (through the helper), its listener, the services
 * loaded into it and the mounts they serve. */
#pragma once

#include <linux/seccomp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "launcher.h"
#include "options.h"
#include "service-fault.h"
#include "service-loader.h"

struct supervisor;
struct fuse_server;
struct device_node;
struct cwd_layer;

/* A passthrough layer over a directory of the view (daemon/cwd-layer.h):
 * the directory vos run starts in, and parents of missing mount points. */
struct view_layer {
	struct cwd_layer *layer;
	struct fuse_server *server;
	char *path;                   /* absolute, in the view */
	dev_t dev;                    /* the layer mount's device in the view */
	struct view_layer *next;
};
struct netstack_table;

struct view_service {
	struct service_module *module;
	void *data;                   /* from the service's init() */
	struct option_list *options;
	unsigned mounts;              /* live mounts: del is refused while > 0 */
	struct service_guard guard;   /* every call into it (service-fault.h) */
	struct view_service *next;    /* load order */
};

struct view_mount {
	struct vos_view *view;
	struct view_service *service;
	char *type, *source, *target;
	const struct vos_filesystem *fs; /* exactly one of fs and node is set */
	void *fs_userdata;
	struct device_node *node;
	struct fuse_server *server;
	bool ended;                   /* the FUSE connection is gone */
	bool kernel;                  /* a kernel filesystem, no server: it ends by umount2 */
	uint64_t kernel_mount_id;     /* its mount id in the view, from the helper (also with alias) */
	char *alias;                  /* mounted elsewhere (vos_fs_mount.mount_target): the target asked
				       * for, which umount2 accepts; else NULL */
	dev_t dev;                    /* a device node's st_dev seen from outside (ioctl-trap.h), 0: unknown */
	struct view_mount *next;
};

struct vos_view {
	struct supervisor *sup;
	unsigned id;
	pid_t pid;                    /* the command's process */
	int listener;
	int userns, mntns;
	pthread_mutex_t lock;         /* services, mounts, in_flight */
	pthread_cond_t changed;
	struct view_service *services;
	struct view_mount *mounts;
	unsigned in_flight;           /* notifications being handled */
	int helper;
	pid_t helper_pid;
	bool spawned;                 /* the helper started programs (host->spawn) */
	pthread_mutex_t helper_lock;  /* one helper request at a time */
	struct view_layer *layers;    /* passthrough layers (cwd-layer.h), newest first */
	pthread_mutex_t layers_lock;  /* one layer decision at a time */
	struct netstack_table *netstacks; /* umnet's stacks (netstack.h), or NULL */
	struct vos_service_host host;
};

/* Join the servers of mounts whose connection has ended (umounted): their
 * threads, FUSE fds and sessions go now rather than with the view or the
 * service. Called before each new mount, so a view that mounts and
 * unmounts for hours keeps a bounded set (each ended mount keeps only its
 * small record until the service is removed). */
void view_reap_ended_servers(struct vos_view *view);

/* Release a mount's service objects (its server must have ended or never
 * started). Accepts NULL. */
void view_mount_free(struct view_mount *mount);

/* A view with no processes yet: services can be preloaded into it. */
int view_new(struct supervisor *sup, unsigned id, struct vos_view **ret);

/* Take over the prepared view's helper and namespace fds. */
void view_attach_namespaces(struct vos_view *view, const struct launched_view *launched);

/* Take over the started command's pid and listener. */
void view_attach_command(struct vos_view *view, const struct launched_view *launched);

/* Serve the directory `path` (absolute, as process `pid` sees it; 0: the
 * helper) through a passthrough layer mounted over it in the view, so the
 * helper can add view-only entries there. The directory must be the
 * caller's and reachable by the supervisor (not inside a view's FUSE
 * mount): -EPERM / -EOPNOTSUPP otherwise. */
int view_add_layer(struct vos_view *view, pid_t pid, const char *path);

/* Before a mount on `target` (as process `pid` gives it): if it does not
 * exist and its parent is not behind a layer, put one over the parent so
 * the helper can make the mount point there, in the view only, with every
 * other write in that directory still reaching the host. Returns 0 unless
 * out of memory: where no layer is possible, the helper falls back to its
 * overlay. */
int view_prepare_mount_point(struct vos_view *view, pid_t pid, const char *target);

/* The working-directory layer: view_add_layer() before the command starts. */
int view_start_cwd_layer(struct vos_view *view, const char *path, bool user_namespace);

/* Is device `dev` (as statx reports it from outside the view) one of the
 * view's layers? Returns the layer or NULL. */
struct view_layer *view_layer_of_dev(struct vos_view *view, dev_t dev);

/* Open `path` as process `pid` of the view sees it (through the helper);
 * a plain host file under a layer is opened directly on the host, without
 * the layer's FUSE round trips. Returns an fd or -errno. */
int view_open(struct vos_view *view, pid_t pid, const char *path, int flags);

/* Stop the helper (the view's namespaces go with their last process), wait
 * for the FUSE servers to end, release every service. */
void view_free(struct vos_view *view);

/* Load service `name` (searched in `search_path`, see service_module_find),
 * call its init with `options`. Errors: -EEXIST (already loaded), -ENOENT,
 * -EINVAL, ...; `error` gets one line. */
int view_add_service(struct vos_view *view, const char *name, const char *options,
		     const char *search_path, char *error, size_t error_size);

/* -EBUSY while the service has mounts, -ENOENT if not loaded. */
int view_del_service(struct vos_view *view, const char *name, char *error, size_t error_size);

/* "name: description\n" per service, load order; returns the length the
 * full text needs (may exceed size; the text is cut at size-1). */
size_t view_list_services(struct vos_view *view, char *buf, size_t size);
/* "type source target\n" per live mount. */
size_t view_list_mounts(struct vos_view *view, char *buf, size_t size);

/* The loaded service whose name is the longest prefix of `type`. Caller
 * holds view->lock. */
struct view_service *view_service_for_type(struct vos_view *view, const char *type);

/* Handle one notification from the view's listener (any thread). */
void view_handle_notification(struct vos_view *view, const struct seccomp_notif *notif);
