/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vosd socket protocol: building, sending, receiving and validating
 * messages (see daemon-proto.h). */
#include <sys/stat.h>
#include <sys/un.h>
#include "daemon-proto.h"
#include "fd-pass.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { K_U32, K_U64, K_STRING, K_NESTED };

struct rule {
	uint16_t tag;
	uint8_t kind;
	uint8_t required;
	uint16_t max; /* occurrences */
};

struct schema {
	uint16_t type;
	uint8_t min_fds, max_fds;
	const struct rule *rules;
};

#define R(tag, kind, req, max) { VOSD_TAG_##tag, kind, req, max }

static const struct rule prepare_rules[] = {
	R(HELPER_PID, K_U32, 1, 1), R(ARGV, K_STRING, 1, 256), R(CWD, K_STRING, 0, 1),
	R(PRELOAD, K_STRING, 0, 64), R(SEARCH_PATH, K_STRING, 0, 1), R(EXEC_TRAPPED, K_U32, 0, 1), {0}
};
static const struct rule launch_rules[] = {
	R(ARGV, K_STRING, 1, 256), R(ENV, K_STRING, 0, VOSD_FIELDS_MAX), R(PRELOAD, K_STRING, 0, 64),
	R(SEARCH_PATH, K_STRING, 0, 1), {0}
};
static const struct rule exit_rules[] = { R(VIEW_ID, K_U32, 1, 1), R(STATUS, K_U32, 1, 1), {0} };
static const struct rule attach_rules[] = { R(VIEW_ID, K_U32, 1, 1), R(PID, K_U32, 1, 1), {0} };
static const struct rule view_opt_rules[] = { R(VIEW_ID, K_U32, 0, 1), {0} };
static const struct rule view_rules[] = { R(VIEW_ID, K_U32, 1, 1), {0} };
static const struct rule service_rules[] = {
	R(VIEW_ID, K_U32, 1, 1), R(NAME, K_STRING, 1, 1), R(SEARCH_PATH, K_STRING, 0, 1), {0}
};
static const struct rule no_rules[] = { {0} };
static const struct rule ok_rules[] = {
	R(VIEW_ID, K_U32, 0, 4096), R(MESSAGE, K_STRING, 0, 1), R(TEXT, K_STRING, 0, 4096),
	R(VIEW, K_NESTED, 0, 4096), R(VERSION, K_STRING, 0, 1), R(UPTIME, K_U64, 0, 1),
	R(VIEWS, K_U32, 0, 1), R(RSS, K_U64, 0, 1), R(DAEMON_PID, K_U32, 0, 1),
	R(WORKERS, K_U32, 0, 1), R(PID, K_U32, 0, 1), {0}
};
static const struct rule error_rules[] = { R(ERRNO, K_U32, 1, 1), R(MESSAGE, K_STRING, 1, 1), {0} };
static const struct rule record_rules[] = {
	R(VIEW_ID, K_U32, 1, 1), R(OWNER, K_U32, 1, 1), R(PID, K_U32, 1, 1), R(COMMAND, K_STRING, 1, 1),
	R(SERVICES, K_STRING, 1, 1), R(UPTIME, K_U64, 1, 1), {0}
};

static const struct schema schemas[] = {
	{ VOSD_PREPARE_VIEW, 3, 4, prepare_rules },
	{ VOSD_ATTACH_COMMAND, 1, 1, attach_rules },
	{ VOSD_LIST_VIEWS, 0, 0, no_rules },
	{ VOSD_LIST_MOUNTS, 0, 0, view_opt_rules },
	{ VOSD_SERVICE_ADD, 0, 0, service_rules },
	{ VOSD_SERVICE_DEL, 0, 0, service_rules },
	{ VOSD_SERVICE_LIST, 0, 0, view_rules },
	{ VOSD_STOP_VIEW, 0, 0, view_rules },
	{ VOSD_STATUS, 0, 0, no_rules },
	{ VOSD_LAUNCH_VIEW, 4, 4, launch_rules },
	{ VOSD_REPLY_OK, 0, 0, ok_rules },
	{ VOSD_REPLY_ERROR, 0, 0, error_rules },
	{ VOSD_VIEW_EXIT, 0, 0, exit_rules },
	{ VOSD_VIEW_RECORD, 0, 0, record_rules },
};

void vosd_builder_init(struct vosd_builder *b, uint16_t type)
{
	*b = (struct vosd_builder){ 0 };
	b->cap = 256;
	b->buf = calloc(1, b->cap);
	if (!b->buf) {
		b->error = -ENOMEM;
		return;
	}
	struct vosd_header h = { .magic = VOSD_PROTO_MAGIC, .version = VOSD_PROTO_VERSION, .type = type };
	memcpy(b->buf, &h, sizeof(h));
	b->len = sizeof(h);
}

void vosd_builder_free(struct vosd_builder *b)
{
	free(b->buf);
	b->buf = NULL;
}

static void add(struct vosd_builder *b, uint16_t tag, const void *value, size_t len)
{
	if (b->error)
		return;
	size_t need = b->len + sizeof(struct vosd_field) + len;
	if (need > VOSD_MSG_MAX) {
		b->error = -EMSGSIZE;
		return;
	}
	if (need > b->cap) {
		size_t cap = b->cap;
		while (cap < need)
			cap *= 2;
		char *p = realloc(b->buf, cap);
		if (!p) {
			b->error = -ENOMEM;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	struct vosd_field f = { .tag = tag, .length = (uint32_t)len };
	memcpy(b->buf + b->len, &f, sizeof(f));
	if (len)
		memcpy(b->buf + b->len + sizeof(f), value, len);
	b->len = need;
	uint32_t body = (uint32_t)(b->len - sizeof(struct vosd_header));
	memcpy(b->buf + offsetof(struct vosd_header, length), &body, sizeof(body));
}

void vosd_add_u32(struct vosd_builder *b, uint16_t tag, uint32_t value)
{
	add(b, tag, &value, sizeof(value));
}

void vosd_add_u64(struct vosd_builder *b, uint16_t tag, uint64_t value)
{
	add(b, tag, &value, sizeof(value));
}

void vosd_add_string(struct vosd_builder *b, uint16_t tag, const char *s)
{
	size_t len = strlen(s) + 1;
	if (len > VOSD_STRING_MAX) {
		if (!b->error)
			b->error = -ENAMETOOLONG;
		return;
	}
	add(b, tag, s, len);
}

void vosd_add_nested(struct vosd_builder *b, uint16_t tag, const struct vosd_builder *inner)
{
	if (inner->error) {
		if (!b->error)
			b->error = inner->error;
		return;
	}
	add(b, tag, inner->buf + sizeof(struct vosd_header), inner->len - sizeof(struct vosd_header));
}

static const struct schema *schema_for(uint16_t type)
{
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (schemas[i].type == type)
			return &schemas[i];
	return NULL;
}

static int parse_fields(const char *p, size_t len, const struct schema *s, struct vosd_msg *ret,
			char *error, size_t error_size)
{
	unsigned counts[VOSD_TAG_MAX + 1] = { 0 };
	ret->n_fields = 0;
	while (len > 0) {
		struct vosd_field f;
		if (len < sizeof(f)) {
			snprintf(error, error_size, "truncated field header");
			return -EBADMSG;
		}
		memcpy(&f, p, sizeof(f));
		p += sizeof(f);
		len -= sizeof(f);
		if (f.reserved != 0 || f.length > len) {
			snprintf(error, error_size, "field %u: bad length or reserved bits", f.tag);
			return -EBADMSG;
		}
		const struct rule *r = s->rules;
		while (r->tag && r->tag != f.tag)
			r++;
		if (!r->tag) {
			snprintf(error, error_size, "field %u not allowed in message type %u", f.tag, s->type);
			return -EBADMSG;
		}
		if (++counts[f.tag] > r->max || ret->n_fields == VOSD_FIELDS_MAX) {
			snprintf(error, error_size, "field %u repeated too often", f.tag);
			return -EBADMSG;
		}
		bool size_ok;
		switch (r->kind) {
		case K_U32:
			size_ok = f.length == 4;
			break;
		case K_U64:
			size_ok = f.length == 8;
			break;
		case K_STRING:
			size_ok = f.length >= 1 && f.length <= VOSD_STRING_MAX && p[f.length - 1] == '\0' &&
				  memchr(p, '\0', f.length) == p + f.length - 1;
			break;
		default:
			size_ok = true; /* checked when the caller parses it */
			break;
		}
		if (!size_ok) {
			snprintf(error, error_size, "field %u: malformed value", f.tag);
			return -EBADMSG;
		}
		ret->fields[ret->n_fields].tag = f.tag;
		ret->fields[ret->n_fields].length = f.length;
		ret->fields[ret->n_fields].value = p;
		ret->n_fields++;
		p += f.length;
		len -= f.length;
	}
	for (const struct rule *r = s->rules; r->tag; r++)
		if (r->required && counts[r->tag] == 0) {
			snprintf(error, error_size, "required field %u missing from message type %u", r->tag, s->type);
			return -EBADMSG;
		}
	ret->type = s->type;
	return 0;
}

int vosd_msg_parse(const void *buf, size_t len, size_t n_fds, struct vosd_msg *ret,
		   char *error, size_t error_size)
{
	struct vosd_header h;
	if (len < sizeof(h)) {
		snprintf(error, error_size, "message shorter than its header");
		return -EBADMSG;
	}
	if (len > VOSD_MSG_MAX) {
		snprintf(error, error_size, "message longer than %d bytes", VOSD_MSG_MAX);
		return -EMSGSIZE;
	}
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VOSD_PROTO_MAGIC) {
		snprintf(error, error_size, "not a vosd message (bad magic)");
		return -EPROTO;
	}
	if (h.version != VOSD_PROTO_VERSION) {
		snprintf(error, error_size, "protocol version %u not supported (this is version %d)", h.version,
			 VOSD_PROTO_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h.reserved != 0 || h.length != len - sizeof(h)) {
		snprintf(error, error_size, "length prefix %u does not match the %zu bytes received", h.length,
			 len - sizeof(h));
		return -EBADMSG;
	}
	const struct schema *s = h.type == VOSD_VIEW_RECORD ? NULL : schema_for(h.type);
	if (!s) {
		snprintf(error, error_size, "unknown message type %u", h.type);
		return -EBADMSG;
	}
	if (n_fds < s->min_fds || n_fds > s->max_fds) {
		snprintf(error, error_size, "message type %u needs %u to %u descriptors, got %zu", h.type,
			 s->min_fds, s->max_fds, n_fds);
		return -EBADMSG;
	}
	return parse_fields((const char *)buf + sizeof(h), h.length, s, ret, error, error_size);
}

int vosd_msg_parse_nested(const char *value, uint32_t length, uint16_t schema, struct vosd_msg *ret)
{
	char error[128];
	const struct schema *s = schema_for(schema);
	return s ? parse_fields(value, length, s, ret, error, sizeof(error)) : -EINVAL;
}

bool vosd_msg_next(const struct vosd_msg *m, uint16_t tag, long *at)
{
	for (long i = *at + 1; i < (long)m->n_fields; i++)
		if (m->fields[i].tag == tag) {
			*at = i;
			return true;
		}
	return false;
}

bool vosd_msg_u32(const struct vosd_msg *m, uint16_t tag, uint32_t *ret)
{
	long at = -1;
	if (!vosd_msg_next(m, tag, &at) || m->fields[at].length != sizeof(*ret))
		return false;
	memcpy(ret, m->fields[at].value, sizeof(*ret));
	return true;
}

bool vosd_msg_u64(const struct vosd_msg *m, uint16_t tag, uint64_t *ret)
{
	long at = -1;
	if (!vosd_msg_next(m, tag, &at) || m->fields[at].length != sizeof(*ret))
		return false;
	memcpy(ret, m->fields[at].value, sizeof(*ret));
	return true;
}

const char *vosd_msg_string(const struct vosd_msg *m, uint16_t tag)
{
	long at = -1;
	return vosd_msg_next(m, tag, &at) ? m->fields[at].value : NULL;
}

int vosd_send(int sock, const struct vosd_builder *b, const int *fds, size_t n_fds)
{
	if (b->error)
		return b->error;
	if (n_fds > VOSD_FDS_MAX)
		return -EINVAL;
	return fd_send(sock, b->buf, b->len, fds, n_fds);
}

int vosd_send_error(int sock, int err, const char *message)
{
	struct vosd_builder b;
	char line[VOSD_STRING_MAX];
	/* One line: cut at the first newline. */
	snprintf(line, sizeof(line), "%s", message);
	line[strcspn(line, "\n")] = '\0';
	vosd_builder_init(&b, VOSD_REPLY_ERROR);
	vosd_add_u32(&b, VOSD_TAG_ERRNO, (uint32_t)(err > 0 ? err : EIO));
	vosd_add_string(&b, VOSD_TAG_MESSAGE, line);
	int r = vosd_send(sock, &b, NULL, 0);
	vosd_builder_free(&b);
	return r;
}

ssize_t vosd_recv(int sock, void *buf, int ret_fds[VOSD_FDS_MAX], size_t *ret_n_fds)
{
	*ret_n_fds = 0;
	ssize_t n = fd_recv(sock, buf, VOSD_MSG_MAX, ret_fds, VOSD_FDS_MAX);
	if (n < 0)
		return n;
	size_t got = 0;
	while (got < VOSD_FDS_MAX && ret_fds[got] >= 0)
		got++;
	*ret_n_fds = got;
	return n;
}

void vosd_socket_path(char *buf, size_t size)
{
	const char *env = getenv("VOS_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (env && env[0]) {
		snprintf(buf, size, "%s", env);
		return;
	}
	if (xdg && xdg[0]) {
		snprintf(buf, size, "%s/vos/vosd.sock", xdg);
		if (stat(buf, &st) == 0 && S_ISSOCK(st.st_mode))
			return;
	}
	snprintf(buf, size, "/run/vos/vosd.sock");
}

int vosd_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vosd_call(int sock, const struct vosd_builder *b, const int *fds, size_t n_fds,
	      void *buf, struct vosd_msg *reply, char *error, size_t error_size)
{
	int got[VOSD_FDS_MAX];
	size_t n_got;
	if (error_size)
		error[0] = '\0';
	int r = vosd_send(sock, b, fds, n_fds);
	if (r < 0)
		return r;
	ssize_t n = vosd_recv(sock, buf, got, &n_got);
	for (size_t i = 0; i < n_got; i++)
		close(got[i]);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return (int)n;
	char why[256];
	if ((r = vosd_msg_parse(buf, (size_t)n, 0, reply, why, sizeof(why))) < 0) {
		snprintf(error, error_size, "bad reply from vosd: %s", why);
		return -EPROTO;
	}
	if (reply->type == VOSD_REPLY_ERROR) {
		uint32_t err = EIO;
		vosd_msg_u32(reply, VOSD_TAG_ERRNO, &err);
		const char *message = vosd_msg_string(reply, VOSD_TAG_MESSAGE);
		snprintf(error, error_size, "%s", message ? message : "vosd refused");
		return -(int)(err > 0 && err < 4096 ? err : EIO);
	}
	if (reply->type != VOSD_REPLY_OK) {
		snprintf(error, error_size, "bad reply from vosd: type %u", reply->type);
		return -EPROTO;
	}
	return 0;
}
