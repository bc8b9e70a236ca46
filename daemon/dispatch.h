/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "view.h"

/* Answer one notification of `view` on its own detached thread (a slow
 * service never stalls the others); view->in_flight counts it until the
 * answer is sent, so view_free waits for it. */
void dispatch_notification(struct vos_view *view, const struct seccomp_notif *notif);
