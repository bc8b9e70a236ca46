/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fault containment for calls into services; see service-fault.h.
 *
 * Process-wide state (the handlers, the actions they replaced) is
 * file-static because signal dispositions are process-wide; the active
 * call is thread-local because a signal handler has no argument to carry
 * it. */
#include "service-fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Room for the handler (and a sanitizer's) while the thread's own stack
 * may be exhausted by the crashed service. */
#define FAULT_ALTSTACK_SIZE (64 * 1024)

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction previous[ARRAY_SIZE(fault_signals)];

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static pthread_key_t altstack_key;

static __thread struct service_call *current_call;
static __thread bool altstack_checked;

/* A synchronous fault of this thread (the kernel's, or abort()/raise()
 * of this process), not a signal someone sent us. */
static bool is_own_fault(int signo, const siginfo_t *info)
{
	if (signo == SIGABRT)
		return info->si_code == SI_TKILL && info->si_pid == getpid();
	return info->si_code > 0;
}

static void on_fault(int signo, siginfo_t *info, void *ucontext)
{
	(void)ucontext;
	struct service_call *call = current_call;
	if (call && is_own_fault(signo, info)) {
		call->signo = signo;
		siglongjmp(call->env, 1);
	}
	/* Not a service's: what would have happened without us. A fault
	 * re-executes the instruction under the restored action; a sent
	 * signal is sent again and arrives when this handler returns. If
	 * that action (a sanitizer's report) aborts, the abort is not taken
	 * for the service's crash either. */
	current_call = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
		if (fault_signals[i] == signo)
			sigaction(signo, &previous[i], NULL);
	if (info->si_code <= 0)
		raise(signo);
}

static void altstack_free(void *mem)
{
	stack_t off = { .ss_flags = SS_DISABLE };
	sigaltstack(&off, NULL);
	free(mem);
}

static void init_handlers(void)
{
	int r = pthread_key_create(&altstack_key, altstack_free);
	if (r != 0) {
		init_result = -r;
		return;
	}
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
		if (sigaction(fault_signals[i], &sa, &previous[i]) < 0) {
			init_result = -errno;
			return;
		}
}

int service_fault_init(void)
{
	pthread_once(&init_once, init_handlers);
	return init_result;
}

/* A thread that calls services gets an alternate signal stack, so that a
 * service that overflowed its stack is still caught. One that already has
 * one (a sanitizer's) keeps it. */
static void altstack_ensure(void)
{
	if (altstack_checked)
		return;
	altstack_checked = true;
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
		return;
	void *mem = malloc(FAULT_ALTSTACK_SIZE);
	if (!mem)
		return; /* faults are still caught, stack overflows are not */
	stack_t ss = { .ss_sp = mem, .ss_size = FAULT_ALTSTACK_SIZE };
	if (sigaltstack(&ss, NULL) < 0) {
		free(mem);
		return;
	}
	if (pthread_setspecific(altstack_key, mem) != 0)
		altstack_free(mem);
}

int service_guard_crashed(const struct service_guard *guard)
{
	return __atomic_load_n(&guard->crashed, __ATOMIC_ACQUIRE);
}

const char *service_fault_signal_name(int signo)
{
	switch (signo) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	default: return "a signal";
	}
}

bool service_call_enter(struct service_call *call, struct service_guard *guard, const char *op)
{
	call->guard = guard;
	call->op = op;
	call->signo = 0;
	call->outer = NULL;
	if (!guard)
		return true;
	if (service_guard_crashed(guard))
		return false;
	altstack_ensure();
	call->outer = current_call;
	current_call = call;
	/* The handler of this very thread must see the call before the
	 * service runs. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return true;
}

void service_call_leave(struct service_call *call)
{
	if (!call->guard)
		return;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	current_call = call->outer;
}

void service_call_crashed(struct service_call *call)
{
	current_call = call->outer;
	/* siglongjmp left the handler's signal blocked (sigsetjmp saved no
	 * mask: that would cost a system call on every call): unblock. */
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fault_signals); i++)
		sigaddset(&set, fault_signals[i]);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	struct service_guard *g = call->guard;
	int alive = 0;
	if (__atomic_compare_exchange_n(&g->crashed, &alive, (int)call->signo, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE) && g->on_crash)
		g->on_crash(g->ctx, g, call->op, (int)call->signo);
}
