/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containing a service that crashes: a fault (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, or abort()'s SIGABRT) raised while the core is calling into a
 * service returns to the core's frame instead of ending the supervisor.
 * The call fails (the core answers it with EIO), the service is marked
 * crashed, its owner is told once (view.c cuts the service's FUSE
 * connections: they then fail with ENOTCONN) and every later call into it
 * is refused.
 *
 * Every call site wraps its call:
 *
 *	SERVICE_CALL(&svc->guard, "read", n = -EIO,
 *		     n = ops->read(dev, fh, buf, size, off));
 *
 * A fault on a thread outside any SERVICE_CALL (the core's own code, or a
 * thread a service started itself) keeps its default action: the process
 * ends, as it would without this file.
 *
 * What this cannot undo: locks the crashed code held (its own, or libc's
 * when it died inside malloc with a corrupted heap) stay held, and memory
 * it allocated for the call is leaked; code that waits on those later may
 * block. A service is a trusted plugin in the supervisor's address space:
 * this turns its ordinary crash into an error, it is no sandbox.
 *
 * The handler finds the active call through a thread-local pointer: a
 * signal handler has no other way to learn its context. */
#pragma once

#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>

/* One service instance's health, embedded in its owner's record. */
struct service_guard {
	const char *name;      /* the service's name, for the log */
	int crashed;           /* the signal it died of, 0 while alive (atomic) */
	/* Called once, on the thread that crashed, back in the core's frame
	 * (no signal context: it may lock and log; mind the locks the thread
	 * held when it made the call). NULL: nothing to do. */
	void (*on_crash)(void *ctx, struct service_guard *guard, const char *op, int signo);
	void *ctx;
};

/* One call into a service on the current thread; see SERVICE_CALL. */
struct service_call {
	sigjmp_buf env;
	struct service_guard *guard; /* NULL: an unguarded call (core code) */
	const char *op;
	volatile sig_atomic_t signo;
	struct service_call *outer;
};

/* Install the fault handlers; once per process, idempotent, thread-safe.
 * Returns 0 or -errno. */
int service_fault_init(void);

/* Has the service crashed (and with which signal)? 0 while alive. */
int service_guard_crashed(const struct service_guard *guard);

/* "SIGSEGV", "SIGABRT", ... */
const char *service_fault_signal_name(int signo);

/* Used by SERVICE_CALL. enter: false when the service has already crashed
 * (the call must not be made); a NULL guard enters an unguarded call. */
bool service_call_enter(struct service_call *call, struct service_guard *guard, const char *op);
void service_call_leave(struct service_call *call);
void service_call_crashed(struct service_call *call);

/* Run the statement(s) `...` as a call into the service of `guard`, named
 * `op` in the log. If the service has crashed before, or crashes now,
 * `on_fault` runs instead (after the crash is recorded). `...` must not
 * return, break or goto out of the call (let it set a result); `on_fault`
 * may. Variables that `...` changes are undefined in `on_fault`. */
#define SERVICE_CALL(guard, op, on_fault, ...)                                    \
	do {                                                                      \
		struct service_call service_call_;                                \
		if (sigsetjmp(service_call_.env, 0) != 0) {                       \
			service_call_crashed(&service_call_);                     \
			on_fault;                                                 \
		} else if (!service_call_enter(&service_call_, (guard), (op))) { \
			on_fault;                                                 \
		} else {                                                          \
			__VA_ARGS__;                                              \
			service_call_leave(&service_call_);                       \
		}                                                                 \
	} while (0)
