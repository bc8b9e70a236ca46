/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Option lists as users write them: "size=100M,mbr" after `mount -o`, and
 * "NAME[,opt=val...]" after `vos run -p`. */
#pragma once

#include <stdbool.h>
#include <vos/service.h>

/* An owned, parsed option list; `view` is what services see. */
struct option_list {
	struct vos_options view;
	struct vos_option *items;
	char *storage;
};

/* Parse "a,b=c,d". NULL or "" give an empty list. Empty items (",,") are
 * skipped as mount(8) does; an empty key ("=x") is -EINVAL.
 * Returns 0 or -errno; *ret is written only on success. */
int option_list_parse(const char *text, struct option_list **ret);
void option_list_free(struct option_list *list);

/* A service name: 1-63 characters of [a-z0-9_]. */
bool service_name_valid(const char *name);

/* Parse a `-p` argument "NAME[,opt=val...]": the name must be valid and
 * the options well-formed. On success *ret_name is a new string and
 * *ret_options the parsed rest. */
int service_spec_parse(const char *spec, char **ret_name, struct option_list **ret_options);

/* A size such as "65536", "64K", "100M", "2G" (powers of 1024). */
int size_parse(const char *text, uint64_t *ret);
