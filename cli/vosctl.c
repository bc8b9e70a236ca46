/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vosctl: manage the services and mounts of the view it runs in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vos/vos.h>

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vosctl COMMAND [ARGS...]\n\n"
		"Run inside a view (vos run ...):\n"
		"  add-service NAME[,OPT=VAL...]  load a service into this view\n"
		"  del-service NAME               remove a service (fails while it has mounts)\n"
		"  ls-service                     list loaded services\n"
		"  mounts                         list this view's service mounts\n"
		"  view                           print this view's id\n\n"
		"Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
		"3 not inside a view.\n");
}

static int fail(const char *what, int r, const char *error)
{
	if (r == -ENXIO) {
		fprintf(stderr, "vosctl: not inside a vos view (start one with: vos run bash)\n");
		return 3;
	}
	if (error && error[0])
		fprintf(stderr, "vosctl: %s\n", error);
	else
		fprintf(stderr, "vosctl: %s: %s\n", what, strerror(-r));
	return 1;
}

static int print_list(int (*list)(char **), const char *what)
{
	char *text;
	int r = list(&text);
	if (r < 0)
		return fail(what, r, NULL);
	fputs(text, stdout);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	char error[512] = "";

	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "add-service") || !strcmp(cmd, "del-service")) {
		if (argc != 3) {
			fprintf(stderr, "Usage: vosctl %s NAME\n", cmd);
			return 2;
		}
		int r = cmd[0] == 'a' ? vos_service_add(argv[2], error, sizeof(error))
				      : vos_service_del(argv[2], error, sizeof(error));
		return r < 0 ? fail(argv[2], r, error) : 0;
	}
	if (argc != 2) {
		fprintf(stderr, "vosctl: %s takes no arguments\n", cmd);
		return 2;
	}
	if (!strcmp(cmd, "ls-service"))
		return print_list(vos_service_list, "listing services");
	if (!strcmp(cmd, "mounts"))
		return print_list(vos_mount_list, "listing mounts");
	if (!strcmp(cmd, "view")) {
		int id = vos_view_id();
		if (id < 0)
			return fail("view", id, NULL);
		printf("%d\n", id);
		return 0;
	}
	fprintf(stderr, "vosctl: unknown command '%s' (try 'vosctl help')\n", cmd);
	return 2;
}
