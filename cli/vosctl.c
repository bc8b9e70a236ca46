/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vosctl: manage the view it runs in (the view-control call), or, with
 * --view or outside a view, the views vosd serves (libvos's vos_daemon_*). */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vos/vos.h>

/* Exit statuses (documented in vosctl(1)). */
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_NOT_IN_VIEW 3
#define EXIT_NO_DAEMON 4
#define EXIT_NO_VIEW 5

static bool arg_json;
static long arg_view = -1;

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vosctl [--json] [--view ID] COMMAND [ARGS...]\n\n"
		"In a view, without --view (the view-control call):\n"
		"  add-service NAME[,OPT=VAL...]  load a service into this view\n"
		"  del-service NAME               remove a service (fails while it has mounts)\n"
		"  ls-service                     list loaded services\n"
		"  mounts                         list this view's service mounts\n"
		"  view                           print this view's id\n\n"
		"Views served by vosd (anywhere; with --view ID the commands above act on\n"
		"view ID through vosd):\n"
		"  ps                             list your views (root: all views)\n"
		"  mounts [VIEW]                  service mounts of every view, or of VIEW\n"
		"  stop VIEW                      kill every process of VIEW\n"
		"  status                         vosd's version, uptime, views and memory\n\n"
		"  --json                         machine-readable output for ps, mounts,\n"
		"                                 ls-service and status\n\n"
		"Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
		"3 not inside a view, 4 vosd unreachable, 5 no such view (or not yours).\n");
}

static int fail(const char *what, int r, const char *error)
{
	if (r == -ENXIO) {
		fprintf(stderr, "vosctl: not inside a vos view (start one with: vos run bash)\n");
		return EXIT_NOT_IN_VIEW;
	}
	if (error && error[0])
		fprintf(stderr, "vosctl: %s\n", error);
	else
		fprintf(stderr, "vosctl: %s: %s\n", what, strerror(-r));
	return r == -ENOENT || r == -EPERM ? EXIT_NO_VIEW : EXIT_FAILED;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* Lines of "a: b" (services) or "type source target" (mounts) as JSON. */
static void json_lines(const char *text, bool services, bool with_view)
{
	printf("[");
	bool first = true;
	char *copy = strdup(text), *save = NULL;
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		printf("%s{", first ? "" : ",");
		first = false;
		if (services) {
			char *desc = strstr(line, ": ");
			if (desc)
				*desc = '\0', desc += 2;
			printf("\"name\":");
			json_string(line);
			printf(",\"description\":");
			json_string(desc ? desc : "");
		} else {
			/* [view] type source target: the target is the rest. */
			char *f[4] = { 0 };
			int want = with_view ? 4 : 3, n = 0;
			for (char *w = line; w && n < want; n++) {
				f[n] = w;
				w = n + 1 < want ? strchr(w, ' ') : NULL;
				if (w)
					*w++ = '\0';
			}
			int k = 0;
			if (with_view)
				printf("\"view\":%s,", f[k++] ? f[0] : "0");
			printf("\"type\":");
			json_string(f[k] ? f[k] : "");
			printf(",\"source\":");
			json_string(f[k + 1] ? f[k + 1] : "");
			printf(",\"target\":");
			json_string(f[k + 2] ? f[k + 2] : "");
		}
		printf("}");
	}
	free(copy);
	printf("]\n");
}

static int print_list(int (*list)(char **), const char *what, bool services)
{
	char *text;
	int r = list(&text);
	if (r < 0)
		return fail(what, r, NULL);
	if (arg_json)
		json_lines(text, services, false);
	else
		fputs(text, stdout);
	free(text);
	return 0;
}

static int daemon_fd(void)
{
	int fd = vos_daemon_connect(NULL);
	if (fd < 0) {
		const char *env = getenv("VOS_SOCKET");
		fprintf(stderr, "vosctl: cannot reach vosd%s%s: %s\n", env ? " at " : "", env ? env : "", strerror(-fd));
	}
	return fd;
}

static const char *user_name(unsigned uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%u", uid);
	return buf;
}

static int cmd_ps(int fd)
{
	struct vos_view_info *v;
	size_t n;
	int r = vos_view_list(fd, &v, &n);
	if (r < 0)
		return fail("ps", r, NULL);
	char name[64];
	if (arg_json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"id\":%u,\"owner\":%u,\"user\":", i ? "," : "", v[i].id, v[i].owner);
			json_string(user_name(v[i].owner, name, sizeof(name)));
			printf(",\"pid\":%d,\"command\":", v[i].pid);
			json_string(v[i].command);
			printf(",\"services\":");
			json_string(v[i].services);
			printf(",\"uptime\":%llu}", v[i].uptime);
		}
		printf("]\n");
	} else {
		printf("%-8s %-12s %-8s %-8s %-20s %s\n", "VIEW", "USER", "PID", "UPTIME", "SERVICES", "COMMAND");
		for (size_t i = 0; i < n; i++)
			printf("%-8u %-12s %-8d %-8llu %-20s %s\n", v[i].id, user_name(v[i].owner, name, sizeof(name)),
			       v[i].pid, v[i].uptime, v[i].services[0] ? v[i].services : "-", v[i].command);
	}
	free(v);
	return 0;
}

static int cmd_status(int fd)
{
	struct vos_daemon_status s;
	int r = vos_daemon_status(fd, &s);
	if (r < 0)
		return fail("status", r, NULL);
	if (arg_json)
		printf("{\"version\":\"%s\",\"pid\":%d,\"uptime\":%llu,\"views\":%u,\"workers\":%u,\"rss_kib\":%llu}\n",
		       s.version, s.pid, s.uptime, s.views, s.workers, s.rss_kib);
	else
		printf("vosd %s (pid %d)\nuptime: %llu s\nviews: %u\nworkers: %u\nmemory: %llu KiB resident\n",
		       s.version, s.pid, s.uptime, s.views, s.workers, s.rss_kib);
	return 0;
}

static long parse_view(const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);
	if (!s[0] || *end || id <= 0 || id > 0x7fffffff) {
		fprintf(stderr, "vosctl: '%s' is not a view id\n", s);
		return -1;
	}
	return id;
}

int main(int argc, char **argv)
{
	char *args[64];
	int n = 0;
	/* --json and --view ID may appear anywhere. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			arg_json = true;
		} else if (!strcmp(argv[i], "--view")) {
			if (i + 1 == argc) {
				fprintf(stderr, "vosctl: option '--view' needs an argument\n");
				return EXIT_USAGE;
			}
			if ((arg_view = parse_view(argv[++i])) < 0)
				return EXIT_USAGE;
		} else if (n < 63) {
			args[n++] = argv[i];
		} else {
			fprintf(stderr, "vosctl: too many arguments\n");
			return EXIT_USAGE;
		}
	}
	args[n] = NULL;
	if (n < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = args[0];
	char error[512] = "";
	bool in_view = vos_view_id() >= 0;

	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "ps") || !strcmp(cmd, "status") || !strcmp(cmd, "stop")) {
		if (n != (cmd[1] == 't' && cmd[2] == 'o' ? 2 : 1)) {
			fprintf(stderr, "Usage: vosctl %s%s\n", cmd, cmd[2] == 'o' ? " VIEW" : "");
			return EXIT_USAGE;
		}
		long id = n == 2 ? parse_view(args[1]) : 0;
		if (id < 0)
			return EXIT_USAGE;
		int fd = daemon_fd();
		if (fd < 0)
			return EXIT_NO_DAEMON;
		int r;
		if (cmd[1] == 's')
			r = cmd_ps(fd);
		else if (cmd[2] == 'a')
			r = cmd_status(fd);
		else
			r = vos_view_stop(fd, (unsigned)id, error, sizeof(error)) < 0 ? fail(args[1], -ENOENT, error) : 0;
		close(fd);
		return r;
	}
	if (!strcmp(cmd, "mounts") && (n == 2 || arg_view > 0 || !in_view)) {
		if (n > 2) {
			fprintf(stderr, "Usage: vosctl mounts [VIEW]\n");
			return EXIT_USAGE;
		}
		long id = n == 2 ? parse_view(args[1]) : arg_view > 0 ? arg_view : 0;
		if (id < 0)
			return EXIT_USAGE;
		int fd = daemon_fd();
		if (fd < 0)
			return EXIT_NO_DAEMON;
		char *text;
		int r = vos_view_mounts(fd, (unsigned)id, &text);
		close(fd);
		if (r < 0) {
			snprintf(error, sizeof(error), "no view %ld (or not yours)", id);
			return fail("mounts", r, r == -ENOENT || r == -EPERM ? error : NULL);
		}
		if (arg_json)
			json_lines(text, false, true);
		else
			fputs(text, stdout);
		free(text);
		return 0;
	}
	bool service_cmd = !strcmp(cmd, "add-service") || !strcmp(cmd, "del-service") || !strcmp(cmd, "ls-service");
	if (service_cmd && arg_view > 0) {
		if (n != (cmd[0] == 'l' ? 1 : 2)) {
			fprintf(stderr, "Usage: vosctl %s --view ID%s\n", cmd, cmd[0] == 'l' ? "" : " NAME");
			return EXIT_USAGE;
		}
		int fd = daemon_fd();
		if (fd < 0)
			return EXIT_NO_DAEMON;
		int r;
		char *text = NULL;
		if (cmd[0] == 'a')
			r = vos_view_service_add(fd, (unsigned)arg_view, args[1], error, sizeof(error));
		else if (cmd[0] == 'd')
			r = vos_view_service_del(fd, (unsigned)arg_view, args[1], error, sizeof(error));
		else
			r = vos_view_service_list(fd, (unsigned)arg_view, &text);
		close(fd);
		if (r < 0)
			return fail(cmd, r, error);
		if (text) {
			if (arg_json)
				json_lines(text, true, false);
			else
				fputs(text, stdout);
			free(text);
		}
		return 0;
	}
	if (!strcmp(cmd, "add-service") || !strcmp(cmd, "del-service")) {
		if (n != 2) {
			fprintf(stderr, "Usage: vosctl %s NAME\n", cmd);
			return EXIT_USAGE;
		}
		int r = cmd[0] == 'a' ? vos_service_add(args[1], error, sizeof(error))
				      : vos_service_del(args[1], error, sizeof(error));
		return r < 0 ? fail(args[1], r, error) : 0;
	}
	if (n != 1) {
		fprintf(stderr, "vosctl: %s takes no arguments\n", cmd);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "ls-service"))
		return print_list(vos_service_list, "listing services", true);
	if (!strcmp(cmd, "mounts"))
		return print_list(vos_mount_list, "listing mounts", false);
	if (!strcmp(cmd, "view")) {
		int id = vos_view_id();
		if (id < 0)
			return fail("view", id, NULL);
		printf("%d\n", id);
		return 0;
	}
	fprintf(stderr, "vosctl: unknown command '%s' (try 'vosctl help')\n", cmd);
	return EXIT_USAGE;
}
