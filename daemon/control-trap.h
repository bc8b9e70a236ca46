/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "view.h"

/* Answer a view-control prctl (see libvos/control-proto.h). */
void control_trap(struct vos_view *view, const struct seccomp_notif *notif);
