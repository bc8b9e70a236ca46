/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One umfuse mount: check what was asked for while mount(2) is still
 * pending, then, once the core has mounted the connection, run the module
 * or program inside the view on it until it ends. */
#include "umfuse.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARGV_MAX 64 /* what host->spawn accepts */

struct umfuse_mount {
	struct umfuse *service;
	char *label;   /* "umfusehello on /mnt", for messages */
	size_t argc;
	char *argv[ARGV_MAX + 1];
};

static void mount_free(struct umfuse_mount *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->argc; i++)
		free(m->argv[i]);
	free(m->label);
	free(m);
}

static void mount_freep(struct umfuse_mount **m)
{
	mount_free(*m);
}

static void freep_str(char **p)
{
	free(*p);
}

#define _cleanup_str_ __attribute__((cleanup(freep_str)))

static int add_arg(struct umfuse_mount *m, const char *arg)
{
	if (m->argc == ARGV_MAX)
		return -E2BIG;
	if (!(m->argv[m->argc] = strdup(arg)))
		return -ENOMEM;
	m->argc++;
	return 0;
}

/* Append each argument up to NULL. */
static int add_args(struct umfuse_mount *m, ...) __attribute__((sentinel));
static int add_args(struct umfuse_mount *m, ...)
{
	va_list ap;
	va_start(ap, m);
	int r = 0;
	for (const char *arg; r == 0 && (arg = va_arg(ap, const char *));)
		r = add_arg(m, arg);
	va_end(ap);
	return r;
}

static void say(struct umfuse *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct umfuse *u, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	u->host->log(u->host->core, "umfuse: %s", line);
}

/* NAME of umfuseNAME: letters, digits, '_', '-' and '.' (not leading). */
static bool module_name_valid(const char *name)
{
	if (!name[0] || name[0] == '.' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

/* The -o list handed to the program: the mount's options except ours,
 * plus "ro" for a read-only mount. NULL when empty. */
static int program_options(const struct vos_mount_request *req, char **ret)
{
	size_t size = 1;
	const struct vos_options *o = req->options;
	for (size_t i = 0; o && i < o->count; i++)
		size += strlen(o->items[i].key) + (o->items[i].value ? strlen(o->items[i].value) + 1 : 0) + 1;
	size += 3;
	char *out = calloc(1, size);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; o && i < o->count; i++) {
		const struct vos_option *it = &o->items[i];
		if (strcmp(it->key, "prog") == 0)
			continue;
		if (out[0])
			strcat(out, ",");
		strcat(out, it->key);
		if (it->value) {
			strcat(out, "=");
			strcat(out, it->value);
		}
	}
	if (req->flags & MS_RDONLY)
		strcat(out, out[0] ? ",ro" : "ro");
	if (!out[0]) {
		free(out);
		out = NULL;
	}
	*ret = out;
	return 0;
}

static void umfuse_serve(void *userdata, int fuse_fd)
{
	struct umfuse_mount *m = userdata;
	const struct vos_service_host *host = m->service->host;

	int pidfd = host->spawn(host->core, (const char *const *)m->argv, &fuse_fd, 1);
	/* Only the program holds the connection now: when it ends, so does
	 * the mount (ENOTCONN), instead of hanging unserved. */
	close(fuse_fd);
	if (pidfd == -ESRCH)
		return; /* it has already ended (and said why on its own) */
	if (pidfd < 0) {
		say(m->service, "%s: cannot start %s: %s", m->label, m->argv[0], strerror(-pidfd));
		return;
	}
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	close(pidfd);
}

static void umfuse_unmount(void *service, void *userdata)
{
	(void)service;
	mount_free(userdata);
}

static void candidates_freep(struct umfuse_candidates *c)
{
	umfuse_candidates_done(c);
}

static int umfuse_mount(void *service, const struct vos_mount_request *req, struct vos_fs_mount *ret_mount)
{
	struct umfuse *u = service;
	const char *prog = vos_options_get(req->options, "prog");
	const char *name = req->subtype;
	bool module = !prog;
	if (!name[0] && (!prog || !prog[0])) {
		say(u, "mount -t umfuse needs -o prog=PROGRAM (or use -t umfuseNAME to load umfuseNAME.so)");
		return -EINVAL;
	}
	if (name[0] && prog) {
		say(u, "%s: prog= is only for -t umfuse (a FUSE program), not for a module", req->type);
		return -EINVAL;
	}
	if (module && !module_name_valid(name)) {
		say(u, "%s: '%s' is not a valid module name", req->type, name);
		return -ENODEV;
	}

	/* SOURCE as the program gets it: made absolute against the caller's
	 * working directory when it names a file there, otherwise as given
	 * (host:path or anything else the program understands). */
	const char *source = req->source && req->source[0] && strcmp(req->source, "none") != 0 ? req->source : NULL;
	_cleanup_str_ char *target = NULL, *source_abs = NULL, *options = NULL;
	int r;
	if ((r = umfuse_path_absolute(req->pid, req->target, &target)) < 0 ||
	    (source && source[0] != '/' && (r = umfuse_path_absolute(req->pid, source, &source_abs)) < 0) ||
	    (r = program_options(req, &options)) < 0)
		return r;

	__attribute__((cleanup(candidates_freep))) struct umfuse_candidates cand = { 0 };
	struct umfuse_environ env = { 0 };
	if ((r = umfuse_environ_read(req->pid, &env)) < 0)
		return r;
	r = module ? umfuse_module_candidates(req->pid, &env, name, &cand)
		   : umfuse_program_candidates(req->pid, &env, prog, &cand);
	umfuse_environ_done(&env);
	if (r < 0)
		return r;

	struct umfuse_probe probe;
	if ((r = umfuse_probe(u, module, &cand, target, source_abs, &probe)) < 0) {
		say(u, "%s on %s: cannot look into the view: %s", req->type, target, strerror(-r));
		return r;
	}
	if (probe.found < 0) {
		if (module) {
			say(u, "%s: module " UMFUSE_MODULE_PREFIX "%s.so not found (searched $VOS_SERVICE_PATH, "
			    "$LD_LIBRARY_PATH and the module directory)", req->type, name);
			return -ENODEV; /* mount(8): unknown filesystem type */
		}
		say(u, "prog=%s: no such program", prog);
		return -ENOENT;
	}
	const char *found = cand.paths[probe.found];
	if (probe.bad) {
		if (module)
			say(u, "%s: %s: %s", req->type, found, probe.error);
		else
			say(u, "prog=%s: %s", found, probe.error);
		/* Not EACCES for a program: mount(8) would retry read-only. */
		return -ENOEXEC;
	}

	__attribute__((cleanup(mount_freep))) struct umfuse_mount *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->service = u;
	char argv0[128];
	snprintf(argv0, sizeof(argv0), UMFUSE_MODULE_PREFIX "%s", name);
	if (module && probe.file_root)
		r = add_args(m, u->runner, "module", "--file-root", found, argv0, NULL);
	else if (module)
		r = add_args(m, u->runner, "module", found, argv0, NULL);
	else
		r = add_args(m, u->runner, "program", "--target", target, found, NULL);
	if (r < 0)
		return r;

	/* The program's own arguments, as for a kernel FUSE mount:
	 * [SOURCE] MOUNTPOINT -f [-o OPTIONS]; the mountpoint is the
	 * connection already mounted at TARGET, which libfuse 3 takes as
	 * /dev/fd/N (libfuse 2 asks fusermount for it). -f: never daemonize. */
	if (source_abs && probe.source_found)
		source = source_abs;
	if ((source && (r = add_arg(m, source)) < 0) || (r = add_args(m, "/dev/fd/3", "-f", NULL)) < 0 ||
	    (options && (r = add_args(m, "-o", options, NULL)) < 0)) {
		if (r == -E2BIG)
			say(u, "%s on %s: too many arguments", req->type, target);
		return r;
	}
	if (asprintf(&m->label, "%s on %s", req->type, target) < 0) {
		m->label = NULL;
		return -ENOMEM;
	}

	/* A FUSE program mounted on a regular file serves a file root (as
	 * libfuse's null example expects); on anything else a directory. */
	*ret_mount = (struct vos_fs_mount){
		.userdata = m,
		.root_mode = probe.file_root ? S_IFREG : S_IFDIR,
		.serve = umfuse_serve,
	};
	m = NULL;
	return 0;
}

const struct vos_filesystem umfuse_filesystem = {
	.name = "*",
	.description = "libfuse programs: umfuseNAME loads umfuseNAME.so, umfuse -o prog=PROGRAM runs PROGRAM",
	.mount = umfuse_mount,
	.unmount = umfuse_unmount,
};
