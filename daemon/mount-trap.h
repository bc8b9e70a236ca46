/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/syscall.h>

#include "view.h"

/* Answer a trapped mount-family syscall of `view`. */
void mount_trap(struct vos_view *view, const struct seccomp_notif *notif);
