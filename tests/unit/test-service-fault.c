/* SPDX-License-Identifier: GPL-2.0-or-later */
/* service-fault.c: real faults inside SERVICE_CALL come back as errors;
 * everywhere else they keep their default action. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service-fault.h"

/* cmocka replaces the SIGSEGV, SIGBUS, SIGFPE and SIGILL handlers while a
 * test runs (to report crashed tests): each test puts ours back. */
static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
static struct sigaction ours[4];

static void use_our_handlers(void)
{
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sigaction(fault_signals[i], &ours[i], NULL), 0);
}

struct crash_record {
	unsigned calls;
	const char *op;
	int signo;
};

static void record_crash(void *ctx, struct service_guard *guard, const char *op, int signo)
{
	struct crash_record *rec = ctx;
	assert_non_null(guard);
	rec->calls++;
	rec->op = op;
	rec->signo = signo;
}

__attribute__((no_sanitize("undefined"), noinline)) static int write_through_null(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
	return 0;
}

__attribute__((no_sanitize("undefined"), noinline)) static int divide_by_zero(void)
{
	volatile int one = 1, zero = 0;
	return one / zero;
}

__attribute__((noinline)) static int call_abort(void)
{
	abort();
}

/* Deep enough to overflow any thread stack, and not a tail call. */
__attribute__((noinline)) static int recurse(int depth)
{
	volatile char frame[4096];
	frame[0] = (char)depth;
	if (depth == INT32_MAX)
		return 0; /* never: the stack ends long before */
	return recurse(depth + 1) + frame[0];
}

static void guard_init(struct service_guard *g, struct crash_record *rec)
{
	use_our_handlers();
	memset(g, 0, sizeof(*g));
	memset(rec, 0, sizeof(*rec));
	g->name = "test";
	g->on_crash = record_crash;
	g->ctx = rec;
}

static void test_segv_contained_then_refused(void **state)
{
	(void)state;
	struct service_guard g;
	struct crash_record rec;
	guard_init(&g, &rec);
	int r = 1;
	SERVICE_CALL(&g, "read", r = -EIO, r = write_through_null());
	assert_int_equal(r, -EIO);
	assert_int_equal(service_guard_crashed(&g), SIGSEGV);
	assert_int_equal(rec.calls, 1);
	assert_string_equal(rec.op, "read");
	assert_int_equal(rec.signo, SIGSEGV);

	/* Refused: the call is not made, on_crash is not called again. */
	bool called = false;
	r = 0;
	SERVICE_CALL(&g, "write", r = -EIO, called = true);
	assert_false(called);
	assert_int_equal(r, -EIO);
	assert_int_equal(rec.calls, 1);

	/* The thread catches a second fault of another service as well:
	 * the signal is not left blocked. */
	struct service_guard g2;
	struct crash_record rec2;
	guard_init(&g2, &rec2);
	SERVICE_CALL(&g2, "open", r = -EIO, r = write_through_null());
	assert_int_equal(r, -EIO);
	assert_int_equal(rec2.signo, SIGSEGV);
}

static void test_abort_fpe_and_overflow(void **state)
{
	(void)state;
	struct service_guard g;
	struct crash_record rec;
	int r = 0;
	guard_init(&g, &rec);
	SERVICE_CALL(&g, "mount", r = -EIO, r = call_abort());
	assert_int_equal(r, -EIO);
	assert_int_equal(rec.signo, SIGABRT);
	assert_string_equal(service_fault_signal_name(rec.signo), "SIGABRT");

	guard_init(&g, &rec);
	SERVICE_CALL(&g, "ioctl", r = -EIO, r = divide_by_zero());
	assert_int_equal(r, -EIO);
	assert_int_equal(rec.signo, SIGFPE);

	/* A stack overflow: the handler runs on the alternate stack. */
	guard_init(&g, &rec);
	SERVICE_CALL(&g, "init", r = -EIO, r = recurse(0));
	assert_int_equal(r, -EIO);
	assert_int_equal(rec.signo, SIGSEGV);
}

/* A call into `inner` made during a call into another service. */
static int nested_read(struct service_guard *inner)
{
	int r;
	SERVICE_CALL(inner, "read", r = -EIO, r = write_through_null());
	return r;
}

static void test_healthy_and_nested(void **state)
{
	(void)state;
	struct service_guard outer, inner;
	struct crash_record outer_rec, inner_rec;
	guard_init(&outer, &outer_rec);
	guard_init(&inner, &inner_rec);
	int r = -1, inner_r = 0;
	/* An unguarded call (core code) just runs. */
	SERVICE_CALL(NULL, "layer", r = -EIO, r = 5);
	assert_int_equal(r, 5);
	/* The inner crash returns to the inner call; the outer goes on. */
	SERVICE_CALL(&outer, "serve", r = -EIO, inner_r = nested_read(&inner); r = 7);
	assert_int_equal(r, 7);
	assert_int_equal(inner_r, -EIO);
	assert_int_equal(service_guard_crashed(&outer), 0);
	assert_int_equal(outer_rec.calls, 0);
	assert_int_equal(service_guard_crashed(&inner), SIGSEGV);
	/* After the nested calls, a fault in the outer one is the outer's. */
	SERVICE_CALL(&outer, "write", r = -EIO, r = write_through_null());
	assert_int_equal(r, -EIO);
	assert_int_equal(outer_rec.calls, 1);
	assert_int_equal(inner_rec.calls, 1);
}

/* In a child: `what` must end it by `signo` (a sanitizer's handler, when
 * one was there before ours, reports it and aborts). */
static void expect_child_dies(void (*what)(void), int signo)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		what();
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	const char *sanitized = getenv("VOS_SANITIZED");
	if (sanitized && strcmp(sanitized, "1") == 0 && WTERMSIG(status) == SIGABRT)
		return;
	assert_int_equal(WTERMSIG(status), signo);
}

static void fault_outside_call(void)
{
	write_through_null();
}

static void sent_signal_in_call(void)
{
	struct service_guard g;
	struct crash_record rec;
	guard_init(&g, &rec);
	int r = 0;
	/* Sent, not raised by a fault: not the service's crash. */
	SERVICE_CALL(&g, "read", r = -EIO, raise(SIGSEGV));
	(void)r;
}

static void test_default_action_elsewhere(void **state)
{
	(void)state;
	use_our_handlers();
	expect_child_dies(fault_outside_call, SIGSEGV);
	expect_child_dies(sent_signal_in_call, SIGSEGV);
}

int main(void)
{
	if (service_fault_init() < 0)
		return 1;
	for (size_t i = 0; i < 4; i++)
		sigaction(fault_signals[i], NULL, &ours[i]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segv_contained_then_refused),
		cmocka_unit_test(test_abort_fpe_and_overflow),
		cmocka_unit_test(test_healthy_and_nested),
		cmocka_unit_test(test_default_action_elsewhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
