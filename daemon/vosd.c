/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vosd: the supervisor core as a long-running daemon (see daemon-loop.h
 * and man/vosd.8). It never forks itself into the background: run it under
 * systemd (Type=notify, socket activation) or with --foreground.
 *
 * As root it is a dispatcher: root's own views are served in this process,
 * every other user's connections are passed (SCM_RIGHTS) to a per-user
 * worker, this same program started as `vosd --worker UID GID ID_BASE`
 * with fd 3 as its channel, which drops to that user's uid, gid and groups
 * (and so to no capabilities) before serving anything.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "daemon-loop.h"
#include "launch-agent.h"
#include "util.h"

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

static const char *arg_socket;
static const char *arg_config;
static bool arg_verbose;

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vosd [OPTIONS]\n"
		"Serve vos views handed over by `vos run` on a Unix socket.\n\n"
		"  --foreground       run in the foreground (vosd never forks itself away;\n"
		"                     accepted for clarity)\n"
		"  --socket PATH      listen on PATH (default: /run/vos/vosd.sock as root,\n"
		"                     $XDG_RUNTIME_DIR/vos/vosd.sock otherwise)\n"
		"  --config FILE      configuration re-read on SIGHUP (default:\n"
		"                     /etc/vos/vosd.conf as root, ~/.config/vos/vosd.conf)\n"
		"  -v, --verbose      debug log on stderr\n"
		"  --version          show the version\n"
		"  -h, --help         show this help\n");
}

static int make_parents(char *path, mode_t mode)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdir(path, mode) < 0 && errno != EEXIST ? -errno : 0;
		*p = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

/* Listen on `path`; a stale socket is replaced, a live one is an error. */
static int listen_on(const char *path, bool root, const char **ret_error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	*ret_error = "socket path too long";
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	_cleanup_free_ char *copy = strdup(path);
	*ret_error = "cannot create the socket's directory";
	int r = copy ? make_parents(copy, root ? 0755 : 0700) : -ENOMEM;
	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	*ret_error = "cannot create a socket";
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		*ret_error = "another vosd is already listening there";
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Bind and listen under a temporary name in the same directory, then
	 * rename it into place: whoever sees the socket can connect (no
	 * ECONNREFUSED between bind and listen), and a stale one is replaced
	 * atomically. With no room for the longer name, bind in place. */
	char tmp[sizeof(addr.sun_path)];
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	int n = snprintf(tmp, sizeof(tmp), "%.*s.vosd-%d.sock", dir_len, path, (int)getpid());
	bool staged = n > 0 && (size_t)n < sizeof(tmp);
	if (staged)
		strcpy(addr.sun_path, tmp);
	unlink(staged ? tmp : path);
	mode_t old = umask(root ? 0111 : 0177); /* root: anyone may connect; SO_PEERCRED tells who */
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	umask(old);
	*ret_error = "cannot bind the socket";
	if (r < 0)
		return r;
	*ret_error = "cannot listen";
	if (listen(fd, 128) < 0)
		r = -errno;
	else if (staged && rename(tmp, path) < 0) {
		r = -errno;
		*ret_error = "cannot move the socket into place";
	}
	if (r < 0) {
		if (staged)
			unlink(tmp);
		return r;
	}
	*ret_error = NULL;
	return TAKE_FD(fd);
}

static int drop_to(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	if (pw ? initgroups(pw->pw_name, gid) < 0 : setgroups(1, &gid) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Changing every uid away from 0 cleared all capabilities; check. */
	if (uid != 0 && (setresuid(0, 0, 0) == 0 || geteuid() != uid))
		return -EPERM;
	return 0;
}

static int worker_main(char **argv)
{
	char *end;
	unsigned long uid = strtoul(argv[0], &end, 10), gid, base;
	if (*end || uid == 0 || uid > 0xfffffffe)
		return 2;
	gid = strtoul(argv[1], &end, 10);
	if (*end || gid > 0xfffffffe)
		return 2;
	base = strtoul(argv[2], &end, 10);
	if (*end || base > 0x7fffffff)
		return 2;
	int r = drop_to((uid_t)uid, (gid_t)gid);
	if (r < 0) {
		fprintf(stderr, "vosd: worker for uid %lu: cannot drop privileges: %s\n", uid, strerror(-r));
		return 1;
	}
	prctl(PR_SET_DUMPABLE, 1); /* lets the user's own tools inspect their worker */
	struct daemon_config cfg = {
		.listen_fd = -1,
		.channel_fd = 3,
		.id_base = (unsigned)base,
		.self_exe = "/proc/self/exe", /* launch agents */
		.verbose = arg_verbose,
	};
	struct daemon_loop *d;
	if ((r = daemon_loop_new(&cfg, &d)) < 0 || (r = daemon_loop_run(d)) < 0) {
		fprintf(stderr, "vosd: worker for uid %lu: %s\n", uid, strerror(-r));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "worker", no_argument, NULL, 'W' },
		{ "launch-agent", no_argument, NULL, 'A' },
		{}
	};
	bool worker = false, agent = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			break;
		case 's':
			arg_socket = optarg;
			break;
		case 'c':
			arg_config = optarg;
			break;
		case 'v':
			arg_verbose = true;
			break;
		case 'W':
			worker = true;
			break;
		case 'A':
			agent = true;
			break;
		case 'V':
			printf("vosd %s\n", VOS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "vosd: option '%s' needs an argument\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "vosd: unrecognized option '%s' (try 'vosd --help')\n", argv[optind - 1]);
			return 2;
		}
	}
	if (agent) {
		int r = launch_agent_main(argc - optind, argv + optind);
		if (r == 2)
			fprintf(stderr, "vosd: --launch-agent is internal: vosd starts it for vos_view_launch(3)\n");
		return r;
	}
	if (worker) {
		if (argc - optind != 3) {
			fprintf(stderr, "vosd: --worker is internal: vosd --worker UID GID ID_BASE, channel on fd 3\n");
			return 2;
		}
		return worker_main(argv + optind);
	}
	if (optind != argc) {
		fprintf(stderr, "vosd: unexpected argument '%s' (try 'vosd --help')\n", argv[optind]);
		return 2;
	}

	bool root = geteuid() == 0;
	char path[4096], config[4096];
	if (arg_socket) {
		snprintf(path, sizeof(path), "%s", arg_socket);
	} else if (root) {
		snprintf(path, sizeof(path), "/run/vos/vosd.sock");
	} else {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (!xdg || xdg[0] != '/') {
			fprintf(stderr, "vosd: XDG_RUNTIME_DIR is not set: give a socket path with --socket\n");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/vos/vosd.sock", xdg);
	}
	if (arg_config) {
		snprintf(config, sizeof(config), "%s", arg_config);
	} else if (root) {
		snprintf(config, sizeof(config), "/etc/vos/vosd.conf");
	} else {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (xdg && xdg[0] == '/')
			snprintf(config, sizeof(config), "%s/vos/vosd.conf", xdg);
		else
			snprintf(config, sizeof(config), "%s/.config/vos/vosd.conf", home ? home : "/nonexistent");
	}

	int listen_fd = -1;
	bool activated = false;
#if HAVE_LIBSYSTEMD
	int n = sd_listen_fds(1);
	if (n > 1) {
		fprintf(stderr, "vosd: expected one socket from systemd, got %d\n", n);
		return 1;
	}
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
			fprintf(stderr, "vosd: the socket from systemd is not a listening AF_UNIX SOCK_SEQPACKET socket\n");
			return 1;
		}
		listen_fd = SD_LISTEN_FDS_START;
		activated = true;
	}
#endif
	if (listen_fd < 0) {
		const char *error;
		listen_fd = listen_on(path, root, &error);
		if (listen_fd < 0) {
			fprintf(stderr, "vosd: %s: %s: %s\n", path, error, strerror(-listen_fd));
			return 1;
		}
	}

	struct daemon_config cfg = {
		.listen_fd = listen_fd,
		.channel_fd = -1,
		.id_base = 0,
		.root_dispatcher = root,
		.self_exe = "/proc/self/exe",
		.config_path = config,
		.sd_notify = true,
		.verbose = arg_verbose,
	};
	/* Workers are started from /proc/self/exe: keep our own binary at hand
	 * even if the path is replaced (an upgrade) while we run. */
	struct daemon_loop *d;
	int r = daemon_loop_new(&cfg, &d);
	if (r == 0) {
		fprintf(stderr, "vosd %s: listening on %s%s%s\n", VOS_VERSION, activated ? "the socket from systemd" : path,
			root ? " (root: per-user workers)" : "", arg_verbose ? ", debug log" : "");
		r = daemon_loop_run(d);
	}
	if (!activated)
		unlink(path);
	if (r < 0) {
		fprintf(stderr, "vosd: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
