/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: the mount option parser (daemon/options.c), as it
 * reads `mount -o` text, `vos run -p NAME,opts` and sizes ("100M").
 * The input is one string (cut at its first NUL). Besides not crashing,
 * the parsers must keep their promises: the list joined back with ','
 * is the input without its empty items, keys are never empty, and a size
 * parsed without a suffix is the plain decimal value. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                     \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz-options: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* The input with empty items (",,", leading/trailing ',') dropped. */
static char *without_empty_items(const char *text)
{
	size_t len = strlen(text);
	char *out = malloc(len + 1);
	CHECK(out);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ',' && (n == 0 || out[n - 1] == ','))
			continue;
		out[n++] = text[i];
	}
	if (n && out[n - 1] == ',')
		n--;
	out[n] = '\0';
	return out;
}

static void check_list(const char *text, const struct option_list *list)
{
	size_t len = 0;
	for (size_t i = 0; i < list->view.count; i++) {
		const struct vos_option *o = &list->view.items[i];
		CHECK(o->key && o->key[0]);
		CHECK(!strchr(o->key, ',') && !strchr(o->key, '='));
		CHECK(!o->value || !strchr(o->value, ','));
		len += strlen(o->key) + (o->value ? strlen(o->value) + 1 : 0) + 1;
	}
	char *joined = malloc(len + 1);
	CHECK(joined);
	size_t at = 0;
	for (size_t i = 0; i < list->view.count; i++) {
		const struct vos_option *o = &list->view.items[i];
		at += (size_t)sprintf(joined + at, "%s%s%s%s", i ? "," : "", o->key, o->value ? "=" : "",
				      o->value ? o->value : "");
	}
	joined[at] = '\0';
	char *expect = without_empty_items(text);
	CHECK(strcmp(joined, expect) == 0);
	free(expect);
	free(joined);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct option_list *list = NULL;
	int r = option_list_parse(text, &list);
	CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		check_list(text, list);
		option_list_free(list);
	}

	char *name = NULL;
	list = NULL;
	r = service_spec_parse(text, &name, &list);
	CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		CHECK(service_name_valid(name));
		CHECK(strncmp(text, name, strlen(name)) == 0);
		free(name);
		option_list_free(list);
	}

	uint64_t value = 0;
	r = size_parse(text, &value);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r == 0 && strspn(text, "0123456789") == strlen(text))
		CHECK(value == strtoull(text, NULL, 10));

	free(text);
	return 0;
}
