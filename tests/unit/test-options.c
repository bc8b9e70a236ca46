/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static void test_option_list(void **state)
{
	(void)state;
	struct option_list *l;
	assert_int_equal(option_list_parse("size=100M,mbr,,ro", &l), 0);
	assert_int_equal(l->view.count, 3);
	assert_string_equal(l->view.items[0].key, "size");
	assert_string_equal(l->view.items[0].value, "100M");
	assert_string_equal(l->view.items[1].key, "mbr");
	assert_null(l->view.items[1].value);
	assert_string_equal(vos_options_get(&l->view, "mbr"), "");
	assert_string_equal(vos_options_get(&l->view, "size"), "100M");
	assert_null(vos_options_get(&l->view, "siz"));
	assert_null(vos_options_get(&l->view, "sizes"));
	option_list_free(l);
}

static void test_option_list_empty_and_last_wins(void **state)
{
	(void)state;
	struct option_list *l;
	assert_int_equal(option_list_parse(NULL, &l), 0);
	assert_int_equal(l->view.count, 0);
	option_list_free(l);
	assert_int_equal(option_list_parse("a=1,a=2,b=", &l), 0);
	assert_string_equal(vos_options_get(&l->view, "a"), "2");
	assert_string_equal(vos_options_get(&l->view, "b"), "");
	option_list_free(l);
}

static void test_option_list_garbage(void **state)
{
	(void)state;
	struct option_list *l = (void *)0x1;
	assert_int_equal(option_list_parse("=x", &l), -EINVAL);
	assert_int_equal(option_list_parse("a,=", &l), -EINVAL);
	assert_ptr_equal(l, (void *)0x1); /* untouched on failure */
}

static void test_service_spec(void **state)
{
	(void)state;
	char *name;
	struct option_list *opts;
	assert_int_equal(service_spec_parse("umnet,vd0=/var/run/vde.ctl", &name, &opts), 0);
	assert_string_equal(name, "umnet");
	assert_string_equal(vos_options_get(&opts->view, "vd0"), "/var/run/vde.ctl");
	free(name);
	option_list_free(opts);

	assert_int_equal(service_spec_parse("umdev", &name, &opts), 0);
	assert_int_equal(opts->view.count, 0);
	free(name);
	option_list_free(opts);

	/* The seed's "-p,vd0=..." has no service name. */
	assert_int_equal(service_spec_parse(",vd0=/var/run/vde.ctl", &name, &opts), -EINVAL);
	assert_int_equal(service_spec_parse("", &name, &opts), -EINVAL);
	assert_int_equal(service_spec_parse("../evil", &name, &opts), -EINVAL);
	assert_int_equal(service_spec_parse("UMDEV", &name, &opts), -EINVAL);
	assert_int_equal(service_spec_parse("umdev,=1", &name, &opts), -EINVAL);
	char long_name[80];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(service_spec_parse(long_name, &name, &opts), -EINVAL);
}

static void test_size(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(size_parse("65536", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(size_parse("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(size_parse("100M", &v), 0);
	assert_int_equal(v, 100ull << 20);
	assert_int_equal(size_parse("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(size_parse("", &v), -EINVAL);
	assert_int_equal(size_parse("-1", &v), -EINVAL);
	assert_int_equal(size_parse("12Q", &v), -EINVAL);
	assert_int_equal(size_parse("1MM", &v), -EINVAL);
	assert_int_equal(size_parse("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(size_parse("17179869184G", &v), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_list),
		cmocka_unit_test(test_option_list_empty_and_last_wins),
		cmocka_unit_test(test_option_list_garbage),
		cmocka_unit_test(test_service_spec),
		cmocka_unit_test(test_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
