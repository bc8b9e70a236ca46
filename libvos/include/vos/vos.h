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

#ifdef __cplusplus
}
#endif
