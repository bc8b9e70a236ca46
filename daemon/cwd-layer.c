/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The working-directory layer (see cwd-layer.h): the passthrough engine of
 * common/passthrough.h with one hook, view-only entries for the view
 * helper's creations, and the layer's id presentation. */
#include "cwd-layer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int cwd_layer_new(int dir_fd, pid_t helper_pid, bool user_namespace, struct cwd_layer **ret)
{
	struct stat st;
	if (fstat(dir_fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = S_ISDIR(st.st_mode) ? -errno : -ENOTDIR;
		close(dir_fd);
		return r;
	}
	struct passthrough_config config = {
		.root_fd = dir_fd,
		/* In a user namespace the server's credentials are the view's
		 * and the host checks them; without one the view may hold
		 * several users, whose creations get their own ids. */
		.ids = user_namespace ? PASSTHROUGH_IDS_LAYER : PASSTHROUGH_IDS_NATIVE,
		.act_as_caller = !user_namespace,
		.hooks = { .view_only_pid = helper_pid },
	};
	struct passthrough *pt;
	int r = passthrough_new(&config, &pt);
	if (r < 0)
		return r;
	*ret = (struct cwd_layer *)pt;
	return 0;
}

void cwd_layer_free(struct cwd_layer *layer)
{
	passthrough_free((struct passthrough *)layer);
}
