/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

/* Probe the running kernel and print what vos can use; returns 0 when the
 * features a view needs are there, 1 otherwise. */
int features_print(FILE *to);
