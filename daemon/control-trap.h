/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "view.h"

/* On the event loop's thread: answer a PING at once. False otherwise. */
bool control_trap_fast(struct vos_view *view, const struct seccomp_notif *notif);

/* Answer a view-control prctl (see libvos/control-proto.h). */
void control_trap(struct vos_view *view, const struct seccomp_notif *notif);
