/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/syscall.h>

#include "view.h"

/* On the event loop's thread: answer at once (CONTINUE) a mount-family
 * call that no service and no kernel mount of the view is concerned with.
 * Returns false when mount_trap() must decide, on a thread of its own. */
bool mount_trap_fast(struct vos_view *view, const struct seccomp_notif *notif);

/* Answer a trapped mount-family syscall of `view`. */
void mount_trap(struct vos_view *view, const struct seccomp_notif *notif);
