/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: umbinfmt's mirror of the kernel's binfmt_misc
 * registration parser (services/umbinfmt/binfmt-parse.c). The input is
 * the bytes written to `register` (NULs included). An accepted entry must
 * be printable the way /proc/sys/fs/binfmt_misc/NAME shows it, within the
 * kernel's bounds; every refusal has a one-line reason. The same bytes
 * also go through the enable/disable/remove command parser. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binfmt-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                    \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz-binfmt: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                        \
		}                                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct binfmt_entry *e = malloc(sizeof(*e));
	if (!e)
		return 0;
	const char *why = NULL;
	int r = binfmt_parse(data, size, e, &why);
	if (r == 0 || r == -ENAMETOOLONG) {
		CHECK(e->type == 'E' || e->type == 'M');
		CHECK(e->name[0] && !strchr(e->name, '/'));
		CHECK(e->interpreter[0]);
		CHECK(r == 0 ? strlen(e->name) <= NAME_MAX : strlen(e->name) > NAME_MAX);
		if (e->type == 'M') {
			CHECK(e->size >= 1 && e->size <= BINFMT_BUF_SIZE);
			CHECK(e->offset >= 0 && (size_t)e->offset + e->size <= BINFMT_BUF_SIZE);
		} else {
			CHECK(e->extension[0] && !strchr(e->extension, '/'));
		}
		size_t cap = 2 * BINFMT_REGISTER_MAX + 4 * BINFMT_BUF_SIZE + 128;
		char *out = malloc(cap);
		CHECK(out);
		int n = binfmt_format(e, true, out, cap);
		CHECK(n > 0 && (size_t)n == strlen(out));
		/* Too small a buffer is -ENOSPC, never an overflow. */
		CHECK(binfmt_format(e, false, out, (size_t)n / 2) == -ENOSPC);
		free(out);
	} else {
		CHECK(r == -EINVAL);
		CHECK(why && why[0] && !strchr(why, '\n'));
	}
	free(e);

	r = binfmt_parse_command(data, size);
	CHECK((r >= 0 && r <= 3) || r == -EINVAL);
	return 0;
}
