/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvos: talking to vosd (see vos/vos.h and daemon-proto.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vos/vos.h>

#include "daemon-proto.h"

#define VOS_EXPORT __attribute__((visibility("default")))

VOS_EXPORT int vos_daemon_connect(const char *path)
{
	char buf[4096];
	if (!path) {
		vosd_socket_path(buf, sizeof(buf));
		path = buf;
	}
	return vosd_connect(path);
}

/* One request with an optional VIEW_ID, NAME and SEARCH_PATH. On success
 * the reply is in *ret_buf / *ret_msg (the caller frees both). */
static int request(int fd, uint16_t type, const unsigned *id, const char *name, bool search,
		   char **ret_buf, struct vosd_msg **ret_msg, char *error, size_t error_size)
{
	struct vosd_builder b;
	char dummy[1];
	if (!error) {
		error = dummy;
		error_size = sizeof(dummy);
	}
	vosd_builder_init(&b, type);
	if (id)
		vosd_add_u32(&b, VOSD_TAG_VIEW_ID, *id);
	if (name)
		vosd_add_string(&b, VOSD_TAG_NAME, name);
	const char *sp = getenv("VOS_SERVICE_PATH");
	if (search && sp && sp[0])
		vosd_add_string(&b, VOSD_TAG_SEARCH_PATH, sp);
	char *buf = malloc(VOSD_MSG_MAX);
	struct vosd_msg *msg = malloc(sizeof(*msg));
	int r = buf && msg ? vosd_call(fd, &b, NULL, 0, buf, msg, error, error_size) : -ENOMEM;
	vosd_builder_free(&b);
	if (r < 0 || !ret_buf) {
		free(buf);
		free(msg);
		return r;
	}
	*ret_buf = buf;
	*ret_msg = msg;
	return 0;
}

VOS_EXPORT int vos_view_list(int fd, struct vos_view_info **ret_views, size_t *ret_n)
{
	char *buf;
	struct vosd_msg *m;
	int r = request(fd, VOSD_LIST_VIEWS, NULL, NULL, false, &buf, &m, NULL, 0);
	if (r < 0)
		return r;
	size_t n = 0;
	for (long i = -1; vosd_msg_next(m, VOSD_TAG_VIEW, &i);)
		n++;
	struct vos_view_info *v = calloc(n + 1, sizeof(*v));
	struct vosd_msg *rec = malloc(sizeof(*rec));
	if (!v || !rec) {
		r = -ENOMEM;
		goto out;
	}
	n = 0;
	for (long i = -1; vosd_msg_next(m, VOSD_TAG_VIEW, &i);) {
		if (vosd_msg_parse_nested(m->fields[i].value, m->fields[i].length, VOSD_VIEW_RECORD, rec) < 0) {
			r = -EPROTO;
			goto out;
		}
		uint32_t u;
		uint64_t up = 0;
		struct vos_view_info *x = &v[n++];
		vosd_msg_u32(rec, VOSD_TAG_VIEW_ID, &u);
		x->id = u;
		vosd_msg_u32(rec, VOSD_TAG_OWNER, &u);
		x->owner = u;
		vosd_msg_u32(rec, VOSD_TAG_PID, &u);
		x->pid = (int)u;
		vosd_msg_u64(rec, VOSD_TAG_UPTIME, &up);
		x->uptime = up;
		snprintf(x->command, sizeof(x->command), "%s", vosd_msg_string(rec, VOSD_TAG_COMMAND));
		snprintf(x->services, sizeof(x->services), "%s", vosd_msg_string(rec, VOSD_TAG_SERVICES));
	}
	*ret_views = v;
	*ret_n = n;
	v = NULL;
	r = 0;
out:
	free(v);
	free(rec);
	free(buf);
	free(m);
	return r;
}

VOS_EXPORT int vos_view_mounts(int fd, unsigned id, char **ret_text)
{
	char *buf;
	struct vosd_msg *m;
	int r = request(fd, VOSD_LIST_MOUNTS, id ? &id : NULL, NULL, false, &buf, &m, NULL, 0);
	if (r < 0)
		return r;
	size_t cap = 1, at = 0;
	for (size_t i = 0; i < m->n_fields; i++)
		cap += (size_t)m->fields[i].length * 7 + 16; /* a view id on every line */
	char *text = calloc(1, cap);
	if (!text) {
		free(buf);
		free(m);
		return -ENOMEM;
	}
	uint32_t view = 0;
	for (size_t i = 0; i < m->n_fields; i++) {
		if (m->fields[i].tag == VOSD_TAG_VIEW_ID) {
			memcpy(&view, m->fields[i].value, sizeof(view));
		} else if (m->fields[i].tag == VOSD_TAG_TEXT) {
			const char *line = m->fields[i].value;
			while (*line && at + 16 < cap) {
				size_t len = strcspn(line, "\n");
				int k = snprintf(text + at, cap - at, "%u %.*s\n", view, (int)len, line);
				if (k < 0 || (size_t)k >= cap - at)
					break;
				at += (size_t)k;
				line += len + (line[len] == '\n');
			}
		}
	}
	free(buf);
	free(m);
	*ret_text = text;
	return 0;
}

VOS_EXPORT int vos_view_service_add(int fd, unsigned id, const char *spec, char *error, size_t error_size)
{
	return request(fd, VOSD_SERVICE_ADD, &id, spec, true, NULL, NULL, error, error_size);
}

VOS_EXPORT int vos_view_service_del(int fd, unsigned id, const char *name, char *error, size_t error_size)
{
	return request(fd, VOSD_SERVICE_DEL, &id, name, false, NULL, NULL, error, error_size);
}

VOS_EXPORT int vos_view_service_list(int fd, unsigned id, char **ret_text)
{
	char *buf;
	struct vosd_msg *m;
	int r = request(fd, VOSD_SERVICE_LIST, &id, NULL, false, &buf, &m, NULL, 0);
	if (r < 0)
		return r;
	const char *t = vosd_msg_string(m, VOSD_TAG_TEXT);
	*ret_text = strdup(t ? t : "");
	free(buf);
	free(m);
	return *ret_text ? 0 : -ENOMEM;
}

VOS_EXPORT int vos_view_stop(int fd, unsigned id, char *error, size_t error_size)
{
	return request(fd, VOSD_STOP_VIEW, &id, NULL, false, NULL, NULL, error, error_size);
}

VOS_EXPORT int vos_daemon_status(int fd, struct vos_daemon_status *ret)
{
	char *buf;
	struct vosd_msg *m;
	int r = request(fd, VOSD_STATUS, NULL, NULL, false, &buf, &m, NULL, 0);
	if (r < 0)
		return r;
	struct vos_daemon_status s = { 0 };
	uint32_t u = 0;
	uint64_t q = 0;
	const char *version = vosd_msg_string(m, VOSD_TAG_VERSION);
	snprintf(s.version, sizeof(s.version), "%s", version ? version : "?");
	if (vosd_msg_u64(m, VOSD_TAG_UPTIME, &q))
		s.uptime = q;
	if (vosd_msg_u64(m, VOSD_TAG_RSS, &q))
		s.rss_kib = q;
	if (vosd_msg_u32(m, VOSD_TAG_VIEWS, &u))
		s.views = u;
	if (vosd_msg_u32(m, VOSD_TAG_WORKERS, &u))
		s.workers = u;
	if (vosd_msg_u32(m, VOSD_TAG_DAEMON_PID, &u))
		s.pid = (int)u;
	*ret = s;
	free(buf);
	free(m);
	return 0;
}
