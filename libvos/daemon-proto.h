/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vosd socket protocol, shared by vosd (daemon/daemon-loop.c), `vos run`
 * (daemon/run-client.c) and libvos (libvos/daemon-client.c).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET connection; one message per packet,
 * descriptors (at most VOSD_FDS_MAX) attached to the packet with SCM_RIGHTS.
 * Every message is length-prefixed and versioned:
 *
 *   struct vosd_header { magic "VOSD", version, type, length, reserved=0 }
 *   then `length` bytes of fields, each
 *   struct vosd_field  { tag, reserved=0, length } + `length` bytes.
 *
 * The whole packet is at most VOSD_MSG_MAX bytes. The receiver checks the
 * header (magic, version, length == bytes received - header), then every
 * field against the message type's schema (vosd_msg_parse): only known
 * tags, exact sizes for integers, strings NUL-terminated with no NUL inside
 * and at most VOSD_STRING_MAX bytes, each tag at most its count, required
 * tags present, and the number of descriptors the type carries. A message
 * that fails any check is answered with one VOSD_REPLY_ERROR and the
 * connection is closed.
 *
 * A request gets exactly one reply: VOSD_REPLY_OK (fields per request) or
 * VOSD_REPLY_ERROR (ERRNO, MESSAGE: one line).
 *
 * Launching a view (`vos run` with a daemon) takes two requests on one
 * connection, which then stays open while the command runs:
 *   PREPARE_VIEW   fds: helper socket, mount ns, the client's stderr (where
 *                  the view's service messages go), user ns (optional)
 *                  HELPER_PID, ARGV..., CWD (optional: serve the working-
 *                  directory layer over it), PRELOAD..., SEARCH_PATH
 *                  → OK: VIEW_ID [MESSAGE: a warning]
 *   ATTACH_COMMAND fds: seccomp listener; PID, VIEW_ID → OK
 *
 * Launching a view for a libvos caller (vos_view_launch, vos/vos.h): vosd
 * does what `vos run` does, in a launch agent it starts for the caller
 * (`vosd --launch-agent`, running as vosd's own user; daemon/launch-agent.h).
 *   LAUNCH_VIEW    fds: stdin, stdout, stderr, working directory (O_PATH)
 *                  ARGV..., ENV..., PRELOAD..., SEARCH_PATH (optional)
 *                  → OK: VIEW_ID PID [MESSAGE: a warning]
 *                    once the command runs, or ERROR (the agent's one-line
 *                    reason, e.g. the command could not be executed)
 *                  then, unsolicited, when the command has exited and every
 *                  process of the view is gone:
 *                  → VIEW_EXIT: VIEW_ID STATUS (wait status, as waitpid)
 * After LAUNCH_VIEW the connection belongs to that view: the agent holds it
 * and vosd reads nothing more from it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VOSD_PROTO_MAGIC 0x44534f56u /* "VOSD" little-endian */
#define VOSD_PROTO_VERSION 1
#define VOSD_MSG_MAX 65536
#define VOSD_STRING_MAX 4096
#define VOSD_FDS_MAX 4
#define VOSD_FIELDS_MAX 512

struct vosd_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length;   /* bytes of fields after the header */
	uint32_t reserved; /* 0 */
};

struct vosd_field {
	uint16_t tag;
	uint16_t reserved; /* 0 */
	uint32_t length;
};

enum vosd_type {
	VOSD_PREPARE_VIEW = 1,
	VOSD_ATTACH_COMMAND = 2,
	VOSD_LIST_VIEWS = 3,     /* → OK: VIEW... (nested fields, see VOSD_VIEW) */
	VOSD_LIST_MOUNTS = 4,    /* [VIEW_ID] → OK: (VIEW_ID TEXT)... */
	VOSD_SERVICE_ADD = 5,    /* VIEW_ID NAME ("name[,opt=val]") [SEARCH_PATH] */
	VOSD_SERVICE_DEL = 6,    /* VIEW_ID NAME */
	VOSD_SERVICE_LIST = 7,   /* VIEW_ID → OK: TEXT */
	VOSD_STOP_VIEW = 8,      /* VIEW_ID */
	VOSD_STATUS = 9,         /* → OK: VERSION UPTIME VIEWS RSS DAEMON_PID WORKERS */
	VOSD_LAUNCH_VIEW = 10,   /* see above */
	VOSD_TYPE_REQUEST_MAX = 10,
	VOSD_REPLY_OK = 100,
	VOSD_REPLY_ERROR = 101,
	VOSD_VIEW_EXIT = 102,    /* after LAUNCH_VIEW: VIEW_ID STATUS */
	/* Not a message: the schema of one VOSD_VIEW field's nested fields. */
	VOSD_VIEW_RECORD = 200,
};

enum vosd_tag {
	VOSD_TAG_VIEW_ID = 1,     /* u32 */
	VOSD_TAG_PID = 2,         /* u32 */
	VOSD_TAG_HELPER_PID = 3,  /* u32 */
	VOSD_TAG_ARGV = 4,        /* string, repeated */
	VOSD_TAG_CWD = 5,         /* string */
	VOSD_TAG_PRELOAD = 6,     /* string, repeated */
	VOSD_TAG_SEARCH_PATH = 7, /* string */
	VOSD_TAG_NAME = 8,        /* string */
	VOSD_TAG_ERRNO = 9,       /* u32 (positive errno) */
	VOSD_TAG_MESSAGE = 10,    /* string */
	VOSD_TAG_TEXT = 11,       /* string */
	VOSD_TAG_OWNER = 12,      /* u32 uid */
	VOSD_TAG_UPTIME = 13,     /* u64 seconds */
	VOSD_TAG_VERSION = 14,    /* string */
	VOSD_TAG_VIEWS = 15,      /* u32 */
	VOSD_TAG_RSS = 16,        /* u64 KiB */
	VOSD_TAG_VIEW = 17,       /* nested fields: VIEW_ID OWNER PID COMMAND SERVICES UPTIME */
	VOSD_TAG_COMMAND = 18,    /* string */
	VOSD_TAG_SERVICES = 19,   /* string: names, comma-separated */
	VOSD_TAG_DAEMON_PID = 20, /* u32 */
	VOSD_TAG_WORKERS = 21,    /* u32 */
	VOSD_TAG_ENV = 22,        /* string "NAME=value", repeated */
	VOSD_TAG_STATUS = 23,     /* u32: a wait status */
	VOSD_TAG_EXEC_TRAPPED = 24, /* u32 0/1: the view's filter traps execve */
	VOSD_TAG_MAX = 24,
};

/* A message under construction: append fields, then send. */
struct vosd_builder {
	char *buf;
	size_t len, cap;
	int error; /* first failure (-ENOMEM, -EMSGSIZE); sticky */
};

void vosd_builder_init(struct vosd_builder *b, uint16_t type);
void vosd_builder_free(struct vosd_builder *b);
void vosd_add_u32(struct vosd_builder *b, uint16_t tag, uint32_t value);
void vosd_add_u64(struct vosd_builder *b, uint16_t tag, uint64_t value);
void vosd_add_string(struct vosd_builder *b, uint16_t tag, const char *s);
/* A nested field: its value is the fields of `inner` (built with any type). */
void vosd_add_nested(struct vosd_builder *b, uint16_t tag, const struct vosd_builder *inner);

/* A received, validated message. Field values point into the buffer. */
struct vosd_msg {
	uint16_t type;
	size_t n_fields;
	struct {
		uint16_t tag;
		uint32_t length;
		const char *value;
	} fields[VOSD_FIELDS_MAX];
};

/* Check the header and every field of the `len` bytes at `buf` against the
 * schema of the message's type, given `n_fds` descriptors came with it.
 * Returns 0 or -EPROTO/-EBADMSG/-EPROTONOSUPPORT (wrong version)/-EMSGSIZE,
 * with a one-line reason in `error`. */
int vosd_msg_parse(const void *buf, size_t len, size_t n_fds, struct vosd_msg *ret,
		   char *error, size_t error_size);
/* Parse the nested fields of a VOSD_TAG_VIEW value (schema VOSD_VIEW_RECORD). */
int vosd_msg_parse_nested(const char *value, uint32_t length, uint16_t schema, struct vosd_msg *ret);

/* Accessors: the first field `tag` (the schema has already checked its
 * size). Return false when absent. */
bool vosd_msg_u32(const struct vosd_msg *m, uint16_t tag, uint32_t *ret);
bool vosd_msg_u64(const struct vosd_msg *m, uint16_t tag, uint64_t *ret);
const char *vosd_msg_string(const struct vosd_msg *m, uint16_t tag);
/* The index after `*at` of the next field `tag`, or false; start with *at = -1. */
bool vosd_msg_next(const struct vosd_msg *m, uint16_t tag, long *at);

/* Send a built message with `n_fds` descriptors. 0 or -errno. */
int vosd_send(int sock, const struct vosd_builder *b, const int *fds, size_t n_fds);
/* Send VOSD_REPLY_ERROR with `err` (> 0) and a one-line message. */
int vosd_send_error(int sock, int err, const char *message);

/* Receive one packet into `buf` (VOSD_MSG_MAX bytes) with up to
 * VOSD_FDS_MAX descriptors (close-on-exec; unused slots -1, their count in
 * *ret_n_fds). Returns the length, 0 at end of connection, -EMSGSIZE for a
 * packet longer than VOSD_MSG_MAX or with too many fds (everything received
 * is closed), or -errno. */
ssize_t vosd_recv(int sock, void *buf, int ret_fds[VOSD_FDS_MAX], size_t *ret_n_fds);

/* Where vosd listens: $VOS_SOCKET, else $XDG_RUNTIME_DIR/vos/vosd.sock if
 * it exists, else /run/vos/vosd.sock. */
void vosd_socket_path(char *buf, size_t size);

/* Connect to vosd at `path`: the socket, or -errno. */
int vosd_connect(const char *path);

/* Send `b` and wait for the reply into `buf`/`reply`. A VOSD_REPLY_ERROR
 * becomes -ERRNO with its message in `error`. 0 or -errno. */
int vosd_call(int sock, const struct vosd_builder *b, const int *fds, size_t n_fds,
	      void *buf, struct vosd_msg *reply, char *error, size_t error_size);
