/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The loader against real plugins: umdev, and fixtures built for a newer
 * minor, a wrong major, with a missing mandatory operation, too short a
 * descriptor, no descriptor at all, and a file that is not ELF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service-loader.h"

static char error[512];

static char *fixture(const char *name)
{
	const char *dir = getenv("VOS_TEST_FIXTURES");
	assert_non_null(dir);
	char *path;
	assert_true(asprintf(&path, "%s/%s.so", dir, name) > 0);
	return path;
}

static void test_load_umdev(void **state)
{
	(void)state;
	char *path;
	assert_int_equal(service_module_find("umdev", getenv("VOS_TEST_UMDEV_DIR"), &path), 0);
	struct service_module *m;
	assert_int_equal(service_module_load(path, "umdev", &m, error, sizeof(error)), 0);
	assert_string_equal(m->desc.name, "umdev");
	assert_non_null(service_module_device(m, "null"));
	assert_non_null(service_module_device(m, "trivhd"));
	assert_null(service_module_device(m, "nosuch"));
	assert_null(service_module_filesystem(m, "null"));
	service_module_unload(m);
	free(path);
}

static void test_find_missing_and_bad_names(void **state)
{
	(void)state;
	char *path = NULL;
	assert_int_equal(service_module_find("nosuchservice", "/nonexistent:", &path), -ENOENT);
	assert_int_equal(service_module_find("../etc/passwd", NULL, &path), -EINVAL);
	assert_int_equal(service_module_find("", NULL, &path), -EINVAL);
	assert_null(path);
}

static void test_newer_minor_loads(void **state)
{
	(void)state;
	char *path = fixture("newminor");
	struct service_module *m;
	assert_int_equal(service_module_load(path, "newminor", &m, error, sizeof(error)), 0);
	assert_int_equal(m->desc.abi_minor, VOS_SERVICE_ABI_MINOR + 1);
	assert_string_equal(m->desc.description, "ABI fixture");
	service_module_unload(m);
	free(path);
}

static void expect_refusal(const char *name, int err, const char *text)
{
	char *path = fixture(name);
	struct service_module *m = NULL;
	error[0] = '\0';
	assert_int_equal(service_module_load(path, name, &m, error, sizeof(error)), err);
	assert_null(m);
	assert_non_null(strstr(error, text));
	assert_null(strchr(error, '\n')); /* one line */
	free(path);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refusal("badmajor", -EPROTO, "built for service ABI 2.");
	expect_refusal("tooshort", -EPROTO, "descriptor size");
	expect_refusal("missingop", -EINVAL, "lacks a name, create, read or write");
	expect_refusal("nosymbol", -ENOEXEC, "not a vos service");
}

static void test_wrong_name_and_not_elf(void **state)
{
	(void)state;
	char *path = fixture("newminor");
	struct service_module *m = NULL;
	assert_int_equal(service_module_load(path, "other", &m, error, sizeof(error)), -EINVAL);
	assert_non_null(strstr(error, "not 'other'"));
	free(path);

	char tmpl[] = "/tmp/vos-test-XXXXXX.so";
	int fd = mkstemps(tmpl, 3);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	close(fd);
	assert_int_equal(service_module_load(tmpl, NULL, &m, error, sizeof(error)), -ENOEXEC);
	assert_non_null(strstr(error, "not a loadable shared object"));
	unlink(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_umdev),
		cmocka_unit_test(test_find_missing_and_bad_names),
		cmocka_unit_test(test_newer_minor_loads),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_wrong_name_and_not_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
