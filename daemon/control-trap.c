/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The view-control call: um_add_service and friends reach their own view's
 * supervisor through a trapped prctl. Every field of the request comes from
 * an untrusted process and is checked before use. */
#include "control-trap.h"

#include <stdlib.h>

#include "../libvos/control-proto.h"
#include "netstack.h"
#include "notify.h"
#include "supervisor.h"
#include "util.h"

#define CONTROL_ERROR_MAX 512

/* Copy `text` (NUL included) to the caller's reply buffer. Returns the
 * text's length, or -ERANGE when the buffer is too small (the caller may
 * retry with the size in its reply_size: not written in that case). */
static int64_t reply_text(pid_t pid, const struct vos_control_request *req, const char *text, size_t len)
{
	if (req->reply == 0 || req->reply_size < len + 1)
		return -ERANGE;
	int r = tracee_write(pid, req->reply, text, len + 1);
	return r < 0 ? r : (int64_t)len;
}

static int64_t list_reply(struct vos_view *v, pid_t pid, const struct vos_control_request *req,
			  size_t (*list)(struct vos_view *, char *, size_t))
{
	size_t need = list(v, NULL, 0);
	if (need + 1 > VOS_CONTROL_REPLY_MAX)
		return -E2BIG;
	_cleanup_free_ char *buf = malloc(need + 1);
	if (!buf)
		return -ENOMEM;
	size_t len = list(v, buf, need + 1);
	if (len > need)
		len = need; /* changed in between: send what fits */
	return reply_text(pid, req, buf, len);
}

bool control_trap_fast(struct vos_view *v, const struct seccomp_notif *n)
{
	struct vos_control_request req;
	if (n->data.args[2] != sizeof(req) || tracee_read(n->pid, n->data.args[1], &req, sizeof(req)) < 0)
		return false; /* control_trap() reports the error */
	if (req.version != VOS_CONTROL_VERSION || req.size != sizeof(req) || req.op != VOS_CONTROL_PING)
		return false;
	notify_respond(v->listener, n->id, v->id);
	return true;
}

void control_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	struct vos_control_request req;
	_cleanup_free_ char *name = NULL, *arg = NULL;
	char error[CONTROL_ERROR_MAX] = "";
	int64_t r;

	if (n->data.args[2] != sizeof(req)) {
		r = -EINVAL;
		goto reply;
	}
	if ((r = tracee_read(n->pid, n->data.args[1], &req, sizeof(req))) < 0)
		goto reply;
	if (req.version != VOS_CONTROL_VERSION || req.size != sizeof(req) || req.reserved != 0 ||
	    req.reply_size > VOS_CONTROL_REPLY_MAX) {
		r = -EPROTO;
		goto reply;
	}
	if (req.name && !(name = tracee_read_string(n->pid, req.name, VOS_CONTROL_STRING_MAX))) {
		r = -errno;
		goto reply;
	}
	if (req.arg && !(arg = tracee_read_string(n->pid, req.arg, VOS_CONTROL_STRING_MAX))) {
		r = -errno;
		goto reply;
	}
	if (!notify_id_valid(v->listener, n->id))
		return;

	switch (req.op) {
	case VOS_CONTROL_PING:
		r = v->id;
		break;
	case VOS_CONTROL_SERVICE_ADD:
	case VOS_CONTROL_SERVICE_DEL:
		if (!name) {
			r = -EINVAL;
			break;
		}
		if (req.op == VOS_CONTROL_SERVICE_ADD) {
			/* The search path's directories, as the caller sees them. */
			_cleanup_free_ char *search = NULL;
			if (arg && arg[0]) {
				size_t cap = strlen(arg) + 1;
				for (const char *c = arg; *c; c++)
					cap += *c == ':' ? 40 : 0;
				cap += 40;
				search = calloc(1, cap);
				if (!search) {
					r = -ENOMEM;
					break;
				}
				size_t at = 0;
				char *save = NULL;
				for (char *dir = strtok_r(arg, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
					int k = snprintf(search + at, cap - at, "%s/proc/%d/%s%s%s", at ? ":" : "",
							 n->pid, dir[0] == '/' ? "root" : "cwd", dir[0] == '/' ? "" : "/", dir);
					if (k < 0 || (size_t)k >= cap - at)
						break;
					at += (size_t)k;
				}
			}
			/* "NAME[,opt=val...]", as after vos run -p */
			char *options = strchr(name, ',');
			if (options)
				*options++ = '\0';
			r = view_add_service(v, name, options, search, error, sizeof(error));
		} else {
			r = view_del_service(v, name, error, sizeof(error));
		}
		if (r < 0 && error[0] && req.reply)
			(void)reply_text(n->pid, &req, error, strlen(error));
		break;
	case VOS_CONTROL_SERVICE_LIST:
		r = list_reply(v, n->pid, &req, view_list_services);
		break;
	case VOS_CONTROL_MOUNT_LIST:
		r = list_reply(v, n->pid, &req, view_list_mounts);
		break;
	case VOS_CONTROL_MSOCKET:
	case VOS_CONTROL_STACK_NETNS:
		netstack_control(v, n, req.op, name, arg); /* answers with an fd */
		return;
	default:
		r = -EOPNOTSUPP;
		break;
	}
reply:
	notify_respond(v->listener, n->id, r);
}
