/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "service-loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "options.h"
#include "util.h"

static int try_dir(const char *dir, size_t dir_len, const char *name, char **ret_path)
{
	char path[PATH_MAX];
	if (dir_len == 0)
		return -ENOENT; /* an empty PATH element is not "the current directory" here */
	int n = snprintf(path, sizeof(path), "%.*s/%s.so", (int)dir_len, dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	char *rest;
	bool in_view = strncmp(path, "/proc/", 6) == 0 && strtol(path + 6, &rest, 10) > 0 &&
		       strncmp(rest, "/root/", 6) == 0;
	struct stat st, host;
	if (stat(path, &st) < 0) {
		/* The view's working-directory layer serves only the view's own
		 * processes (EACCES for us); it shows the host's directory at the
		 * same path, so the host's file is the one the view sees. */
		if (errno != EACCES || !in_view || stat(rest + 5, &st) < 0 || !S_ISREG(st.st_mode))
			return -ENOENT;
		memmove(path, rest + 5, strlen(rest + 5) + 1);
	} else if (!S_ISREG(st.st_mode)) {
		return -ENOENT;
	} else if (in_view && stat(rest + 5, &host) == 0 && host.st_dev == st.st_dev && host.st_ino == st.st_ino) {
		/* Found through /proc/PID/root of the caller, which may be gone
		 * by the next lookup, and dlopen() keeps the first path it was
		 * given for a file: the same file at the same path for us is a
		 * stable path. */
		memmove(path, rest + 5, strlen(rest + 5) + 1);
	}
	*ret_path = strdup(path);
	return *ret_path ? 0 : -ENOMEM;
}

int service_module_find(const char *name, const char *search_path, char **ret_path)
{
	if (!service_name_valid(name))
		return -EINVAL;

	for (const char *p = search_path; p && *p;) {
		const char *end = strchrnul(p, ':');
		if (try_dir(p, (size_t)(end - p), name, ret_path) == 0)
			return 0;
		p = *end ? end + 1 : end;
	}
	if (try_dir(VOS_MODULEDIR, strlen(VOS_MODULEDIR), name, ret_path) == 0)
		return 0;

	/* Running from the build tree: <build>/cli/vos finds
	 * <build>/services/<name>/<name>.so. */
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			char dir[PATH_MAX];
			*slash = '\0';
			int n = snprintf(dir, sizeof(dir), "%s/../services/%s", exe, name);
			if (n > 0 && (size_t)n < sizeof(dir) && try_dir(dir, (size_t)n, name, ret_path) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

static int fail(char *error, size_t size, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error, size, fmt, ap);
	va_end(ap);
	return r;
}

static int check_descriptor(const struct vos_service *d, const char *name, char *error, size_t size)
{
	if (!d->name || !service_name_valid(d->name))
		return fail(error, size, -EINVAL, "the service's name is missing or invalid");
	if (name && !streq(d->name, name))
		return fail(error, size, -EINVAL, "the file defines service '%s', not '%s'", d->name, name);
	if (!d->description)
		return fail(error, size, -EINVAL, "service '%s' has no description", d->name);
	for (size_t i = 0; d->filesystems && d->filesystems[i]; i++) {
		const struct vos_filesystem *fs = d->filesystems[i];
		if (!fs->name || !fs->mount)
			return fail(error, size, -EINVAL, "filesystem %zu of '%s' has no name or no mount operation", i, d->name);
	}
	for (size_t i = 0; d->devices && d->devices[i]; i++) {
		const struct vos_device *dev = d->devices[i];
		if (!dev->name || !dev->create || !dev->ops || !dev->ops->read || !dev->ops->write)
			return fail(error, size, -EINVAL, "device %zu of '%s' lacks a name, create, read or write operation", i, d->name);
		if (dev->ops->partition_count && !dev->ops->partition)
			return fail(error, size, -EINVAL, "device '%s' of '%s' counts partitions but has no partition operation", dev->name, d->name);
		if (dev->kind != 'c' && dev->kind != 'b')
			return fail(error, size, -EINVAL, "device '%s' of '%s' is neither 'c' nor 'b'", dev->name, d->name);
	}
	for (size_t i = 0; d->netstacks && d->netstacks[i]; i++)
		if (!d->netstacks[i]->name || !d->netstacks[i]->create)
			return fail(error, size, -EINVAL, "network stack %zu of '%s' has no name or no create operation", i, d->name);
	if (d->exec_formats && (!d->exec_formats->active || !d->exec_formats->match))
		return fail(error, size, -EINVAL, "the executable formats of '%s' lack an active or match operation", d->name);
	return 0;
}

int service_module_load(const char *path, const char *name, struct service_module **ret,
			char *error, size_t error_size)
{
	dlerror();
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		return fail(error, error_size, -ENOEXEC, "%s: not a loadable shared object: %s", path, dlerror());

	const struct vos_service *const *entry = dlsym(handle, VOS_SERVICE_ENTRY_SYMBOL);
	if (!entry || !*entry) {
		dlclose(handle);
		return fail(error, error_size, -ENOEXEC, "%s: not a vos service (no %s symbol)", path, VOS_SERVICE_ENTRY_SYMBOL);
	}
	const struct vos_service *d = *entry;
	if (d->abi_major != VOS_SERVICE_ABI_MAJOR) {
		int r = fail(error, error_size, -EPROTO, "%s: built for service ABI %u.%u, this vos supports %u.x: rebuild it against this vos",
			     path, d->abi_major, d->abi_minor, VOS_SERVICE_ABI_MAJOR);
		dlclose(handle);
		return r;
	}
	if (d->size < offsetof(struct vos_service, devices) + sizeof(d->devices)) {
		int r = fail(error, error_size, -EPROTO, "%s: descriptor size %u is smaller than any ABI %u descriptor",
			     path, d->size, VOS_SERVICE_ABI_MAJOR);
		dlclose(handle);
		return r;
	}

	struct service_module *m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		dlclose(handle);
		return fail(error, error_size, -ENOMEM, "out of memory");
	}
	m->handle = handle;
	memcpy(&m->desc, d, d->size < sizeof(m->desc) ? d->size : sizeof(m->desc));

	int r = check_descriptor(&m->desc, name, error, error_size);
	if (r < 0) {
		service_module_unload(m);
		return r;
	}
	*ret = m;
	return 0;
}

void service_module_unload(struct service_module *m)
{
	if (!m)
		return;
	dlclose(m->handle);
	free(m->path);
	free(m);
}

const struct vos_filesystem *service_module_filesystem(const struct service_module *m, const char *subtype)
{
	const struct vos_filesystem *any = NULL;
	for (size_t i = 0; m->desc.filesystems && m->desc.filesystems[i]; i++) {
		if (streq(m->desc.filesystems[i]->name, subtype))
			return m->desc.filesystems[i];
		if (!any && streq(m->desc.filesystems[i]->name, "*"))
			any = m->desc.filesystems[i];
	}
	return any; /* "*" receives every subtype not matched by name */
}

const struct vos_device *service_module_device(const struct service_module *m, const char *subtype)
{
	for (size_t i = 0; m->desc.devices && m->desc.devices[i]; i++)
		if (streq(m->desc.devices[i]->name, subtype))
			return m->desc.devices[i];
	return NULL;
}
