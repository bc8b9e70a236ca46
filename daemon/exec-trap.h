/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Executable formats served by a service (umbinfmt in trap mode, for
 * kernels without binfmt_misc in user namespaces).
 *
 * The filter traps execve and execveat in every view (filter.c); while no
 * loaded service has an active format, or none could claim the file by its
 * name (may_match), the event loop answers CONTINUE at once (one
 * notification round trip per exec). Otherwise a handler thread
 * opens the file as the caller sees it, reads its first 256 bytes and asks
 * the services (struct vos_exec_formats). For a match it rewrites the
 * trapped call, which a notification cannot do: it attaches with
 * PTRACE_SEIZE and stops the thread with PTRACE_INTERRUPT (which ends the
 * seccomp wait with -ERESTARTSYS), checks at the stop that the registers
 * still are the trapped call's, writes the interpreter, the file's name
 * and the new argv below the thread's stack pointer (no room there: the
 * restart first runs an anonymous mmap between two syscall stops, signals
 * held, and the block goes there), points the registers at them (as an
 * execve) and detaches: the kernel restarts the call, which
 * now execs the interpreter and is trapped again (a depth marker in front
 * of the argv array bounds chains of formats, as the kernel's ELOOP).
 * x86_64 only: elsewhere the exec is left to the kernel and logged.
 */
#pragma once

#include <stdbool.h>
#include <linux/seccomp.h>

#include "view.h"

/* On the event loop's thread: answer at once (CONTINUE) unless a service
 * of the view has active exec formats. True when answered. */
bool exec_trap_fast(struct vos_view *view, const struct seccomp_notif *notif);

/* On a handler thread: apply the services' exec formats. */
void exec_trap(struct vos_view *view, const struct seccomp_notif *notif);
