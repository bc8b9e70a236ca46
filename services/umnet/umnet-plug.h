/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What umnet-vde-plug reports to the umnet service on its fd 3. */
#pragma once

#include <stdint.h>

#define UMNET_VDE_IFNAME "vde0"

struct umnet_plug_report {
	int32_t result; /* 0 (the namespace's fd attached) or -errno */
	char error[256];
};
