/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The view's filter, checked through libseccomp's own rendering of it and
 * by running it: trapped calls reach a listener, the rest run natively. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../libvos/control-proto.h"
#include "filter.h"
#include "ioctl-trap.h"
#include "notify.h"

static char *render(scmp_filter_ctx ctx)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(seccomp_export_pfc(ctx, fileno(f)), 0);
	long len = ftell(f) > 0 ? ftell(f) : lseek(fileno(f), 0, SEEK_END);
	char *text = calloc(1, (size_t)len + 1);
	assert_int_equal(pread(fileno(f), text, (size_t)len, 0), len);
	fclose(f);
	return text;
}

static void test_filter_traps_mount_family_only(void **state)
{
	(void)state;
	scmp_filter_ctx ctx;
	assert_int_equal(filter_build(&ctx, false), 0);
	char *pfc = render(ctx);

	for (size_t i = 0; i < filter_trapped_syscalls_count; i++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "if ($syscall == %d)",
			 seccomp_syscall_resolve_name(filter_trapped_syscalls[i]));
		assert_non_null(strstr(pfc, needle));
	}
	/* prctl is trapped only for the view-control option. */
	char magic[32];
	snprintf(magic, sizeof(magic), "$a0.lo32 == %u", VOS_PRCTL_MAGIC);
	assert_non_null(strstr(pfc, magic));
	/* Nothing else: read, openat and friends never reach the supervisor. */
	char openat_rule[64];
	snprintf(openat_rule, sizeof(openat_rule), "if ($syscall == %d)", SCMP_SYS(openat));
	assert_null(strstr(pfc, openat_rule));
	/* ioctl only for the size-less device requests (ioctl-trap.h). */
	for (size_t i = 0; i < ioctl_trap_requests_count; i++) {
		char rule[64];
		snprintf(rule, sizeof(rule), "$a1.lo32 & 0xffffffff == %u", ioctl_trap_requests[i]);
		assert_non_null(strstr(pfc, rule));
	}
	/* exec runs untouched unless asked for. */
	char execve_rule[64];
	snprintf(execve_rule, sizeof(execve_rule), "if ($syscall == %d)", SCMP_SYS(execve));
	assert_null(strstr(pfc, execve_rule));
	assert_non_null(strstr(pfc, "action ALLOW"));
	free(pfc);
	seccomp_release(ctx);
}

static void test_filter_traps_exec_when_asked(void **state)
{
	(void)state;
	scmp_filter_ctx ctx;
	assert_int_equal(filter_build(&ctx, true), 0);
	char *pfc = render(ctx);
	char rule[64];
	snprintf(rule, sizeof(rule), "if ($syscall == %d)", SCMP_SYS(execve));
	assert_non_null(strstr(pfc, rule));
	snprintf(rule, sizeof(rule), "if ($syscall == %d)", SCMP_SYS(execveat));
	assert_non_null(strstr(pfc, rule));
	free(pfc);
	seccomp_release(ctx);
}

static void test_filter_exec_wanted_follows_the_environment(void **state)
{
	(void)state;
	setenv("VOS_TRAP_EXEC", "1", 1);
	assert_true(filter_exec_wanted());
	setenv("VOS_TRAP_EXEC", "0", 1);
	assert_false(filter_exec_wanted());
	unsetenv("VOS_TRAP_EXEC");
}

static void test_filter_refuses_foreign_abi(void **state)
{
	(void)state;
	scmp_filter_ctx ctx;
	assert_int_equal(filter_build(&ctx, false), 0);
	uint32_t action;
	assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_ACT_BADARCH, &action), 0);
	assert_int_equal(action, SCMP_ACT_KILL_PROCESS);
	assert_int_equal(seccomp_arch_exist(ctx, SCMP_ARCH_X86), -EEXIST);
	assert_int_equal(seccomp_arch_exist(ctx, SCMP_ARCH_X32), -EEXIST);

	/* x32 calls share x86_64's AUDIT_ARCH: the compiled program must send
	 * syscall numbers with the x32 bit to the bad-arch action. */
	FILE *f = tmpfile();
	assert_int_equal(seccomp_export_bpf(ctx, fileno(f)), 0);
	rewind(f);
	struct sock_filter ins;
	bool x32_checked = false;
	while (fread(&ins, sizeof(ins), 1, f) == 1)
		if (ins.code == (BPF_JMP | BPF_JGE | BPF_K) && ins.k == 0x40000000)
			x32_checked = true;
	fclose(f);
	assert_true(x32_checked);
	seccomp_release(ctx);
}

/* Load the filter in a child; the parent answers its trapped mount with
 * EXDEV and checks that a non-trapped call (getppid) never shows up. */
static void test_filter_notifies(void **state)
{
	(void)state;
	scmp_filter_ctx ctx;
	assert_int_equal(filter_build(&ctx, false), 0);
	struct sock_fprog prog;
	assert_int_equal(filter_compile(ctx, &prog), 0);
	int fdpipe[2];
	assert_int_equal(pipe(fdpipe), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int listener = filter_install(&prog);
		if (listener < 0)
			_exit(10);
		/* Hand the listener over through pidfd_getfd in the parent. */
		if (write(fdpipe[1], &listener, sizeof(listener)) != sizeof(listener))
			_exit(11);
		getppid();
		int r = mount("none", "/nonexistent", "vostest", 0, NULL);
		_exit(r == -1 && errno == EXDEV ? 0 : 12);
	}
	int child_fd;
	assert_int_equal(read(fdpipe[0], &child_fd, sizeof(child_fd)), sizeof(child_fd));
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	int listener = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	assert_true(listener >= 0);

	struct seccomp_notif n;
	assert_int_equal(notify_recv(listener, &n), 0);
	assert_int_equal(n.data.nr, SCMP_SYS(mount));
	assert_int_equal(n.pid, pid);
	char *type = tracee_read_string(pid, n.data.args[2], 64);
	assert_non_null(type);
	assert_string_equal(type, "vostest");
	free(type);
	assert_true(notify_id_valid(listener, n.id));
	assert_int_equal(notify_respond(listener, n.id, -EXDEV), 0);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(listener);
	close(pidfd);
	free(prog.filter);
	seccomp_release(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_traps_mount_family_only),
		cmocka_unit_test(test_filter_traps_exec_when_asked),
		cmocka_unit_test(test_filter_exec_wanted_follows_the_environment),
		cmocka_unit_test(test_filter_refuses_foreign_abi),
		cmocka_unit_test(test_filter_notifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
