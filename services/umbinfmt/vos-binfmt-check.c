/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vos-binfmt-check: say whether binfmt_misc would accept a registration
 * string, and why not. The kernel answers a bad string with EINVAL alone;
 * this applies the kernel's own rules (binfmt-parse.c) and names the rule.
 * A valid string is printed as the kernel will show the entry. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "binfmt-parse.h"

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vos-binfmt-check [--dir DIR] STRING...\n"
		"Check binfmt_misc registration strings (:name:type:offset:magic:mask:interpreter:flags)\n"
		"by the kernel's rules, as written by `echo STRING > DIR/register`.\n\n"
		"  -d, --dir DIR  also refuse names already registered in DIR (a mounted binfmt_misc)\n"
		"  -h, --help     show this help\n\n"
		"Exit status: 0 all valid, 1 some refused, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "vos-binfmt-check: no registration string given (see --help)\n");
		return 2;
	}

	int status = 0;
	static struct binfmt_entry e;
	for (int i = optind; i < argc; i++) {
		const char *why = NULL;
		if (binfmt_parse(argv[i], strlen(argv[i]), &e, &why) < 0) {
			fprintf(stderr, "vos-binfmt-check: '%s': invalid (EINVAL): %s\n", argv[i], why);
			status = 1;
			continue;
		}
		if (strcmp(e.name, "register") == 0 || strcmp(e.name, "status") == 0) {
			fprintf(stderr, "vos-binfmt-check: '%s': name '%s' is taken by binfmt_misc itself (EEXIST)\n", argv[i], e.name);
			status = 1;
			continue;
		}
		if (dir) {
			char path[4096];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", dir, e.name);
			if (lstat(path, &st) == 0) {
				fprintf(stderr, "vos-binfmt-check: '%s': '%s' is already registered in %s (EEXIST)\n", argv[i], e.name, dir);
				status = 1;
				continue;
			}
		}
		char text[4096];
		if (binfmt_format(&e, true, text, sizeof(text)) < 0) {
			fprintf(stderr, "vos-binfmt-check: '%s': entry too large to show\n", argv[i]);
			status = 1;
			continue;
		}
		printf("%s: valid, entry '%s' will read:\n%s", argv[i], e.name, text);
	}
	return status;
}
