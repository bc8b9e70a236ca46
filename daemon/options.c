/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void option_list_free(struct option_list *list)
{
	if (!list)
		return;
	free(list->items);
	free(list->storage);
	free(list);
}

int option_list_parse(const char *text, struct option_list **ret)
{
	struct option_list *list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	list->storage = strdup(text ? text : "");
	if (!list->storage) {
		option_list_free(list);
		return -ENOMEM;
	}

	size_t max = 1;
	for (const char *p = list->storage; *p; p++)
		max += *p == ',';
	list->items = calloc(max, sizeof(*list->items));
	if (!list->items) {
		option_list_free(list);
		return -ENOMEM;
	}

	size_t n = 0;
	char *save = NULL;
	for (char *item = strtok_r(list->storage, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (eq == item) {
			option_list_free(list);
			return -EINVAL;
		}
		if (eq)
			*eq = '\0';
		list->items[n].key = item;
		list->items[n].value = eq ? eq + 1 : NULL;
		n++;
	}
	list->view.count = n;
	list->view.items = list->items;
	*ret = list;
	return 0;
}

bool service_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 63)
		return false;
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

int service_spec_parse(const char *spec, char **ret_name, struct option_list **ret_options)
{
	const char *comma = strchr(spec, ',');
	size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
	_cleanup_free_ char *name = strndup(spec, len);
	if (!name)
		return -ENOMEM;
	if (!service_name_valid(name))
		return -EINVAL;

	struct option_list *options;
	int r = option_list_parse(comma ? comma + 1 : NULL, &options);
	if (r < 0)
		return r;
	*ret_name = TAKE_PTR(name);
	*ret_options = options;
	return 0;
}

int size_parse(const char *text, uint64_t *ret)
{
	if (!text || !isdigit((unsigned char)text[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	uintmax_t value = strtoumax(text, &end, 10);
	if (errno)
		return -ERANGE;

	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' && shift) /* accept "100MiB"-style too */
		end++;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)value << shift;
	return 0;
}
