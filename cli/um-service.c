/* SPDX-License-Identifier: GPL-2.0-or-later */
/* um_add_service, um_del_service, um_ls_service: umview's service commands,
 * run inside a view. Built once per command (UM_COMMAND selects it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vos/vos.h>

#define UM_ADD 1
#define UM_DEL 2
#define UM_LS 3

#if UM_COMMAND == UM_ADD
#define UM_NAME "um_add_service"
#define UM_USAGE "NAME[,OPT=VAL...]..."
#elif UM_COMMAND == UM_DEL
#define UM_NAME "um_del_service"
#define UM_USAGE "NAME..."
#else
#define UM_NAME "um_ls_service"
#define UM_USAGE ""
#endif

static int report(const char *what, int r, const char *error)
{
	if (r == -ENXIO)
		fprintf(stderr, UM_NAME ": not inside a vos view (start one with: vos run bash)\n");
	else if (error && error[0])
		fprintf(stderr, UM_NAME ": %s\n", error);
	else
		fprintf(stderr, UM_NAME ": %s: %s\n", what, strerror(-r));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("Usage: " UM_NAME " " UM_USAGE "\n");
		return 0;
	}
#if UM_COMMAND == UM_LS
	if (argc != 1) {
		fprintf(stderr, "Usage: " UM_NAME "\n");
		return 2;
	}
	char *text;
	int r = vos_service_list(&text);
	if (r < 0)
		return report("listing services", r, NULL);
	fputs(text, stdout);
	free(text);
	return 0;
#else
	if (argc < 2) {
		fprintf(stderr, "Usage: " UM_NAME " " UM_USAGE "\n");
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		char error[512];
#if UM_COMMAND == UM_ADD
		int r = vos_service_add(argv[i], error, sizeof(error));
#else
		int r = vos_service_del(argv[i], error, sizeof(error));
#endif
		if (r < 0)
			status = report(argv[i], r, error);
	}
	return status;
#endif
}
