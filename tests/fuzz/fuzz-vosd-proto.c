/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness: the vosd socket protocol decoder (libvos/daemon-
 * proto.c), as vosd and its clients run it on every packet. The first
 * input byte is the number of descriptors that came with the packet
 * (0..7: VOSD_FDS_MAX and beyond), the rest is the packet. An accepted
 * message must be exactly what the builder makes of its fields (encoding
 * them again gives the same bytes), its strings NUL-terminated within
 * their fields, its nested VIEW records parseable or refused. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz-vosd-proto: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* Encode the parsed fields of `m` again (type `type`) into `b`: a nested
 * VIEW value as raw bytes, 4 and 8 bytes as integers, anything else as a
 * string (which the schema has checked). The builder must then produce the
 * very bytes that were parsed. */
static void rebuild(const struct vosd_msg *m, uint16_t type, struct vosd_builder *b)
{
	vosd_builder_init(b, type);
	for (size_t i = 0; i < m->n_fields; i++) {
		uint16_t tag = m->fields[i].tag;
		uint32_t len = m->fields[i].length;
		const char *v = m->fields[i].value;
		if (tag == VOSD_TAG_VIEW) {
			struct vosd_builder inner = { 0 };
			inner.len = inner.cap = sizeof(struct vosd_header) + len;
			inner.buf = calloc(1, inner.cap);
			CHECK(inner.buf);
			memcpy(inner.buf + sizeof(struct vosd_header), v, len);
			vosd_add_nested(b, tag, &inner);
			vosd_builder_free(&inner);
		} else if (len == 4) {
			uint32_t x;
			memcpy(&x, v, 4);
			vosd_add_u32(b, tag, x);
		} else if (len == 8) {
			uint64_t x;
			memcpy(&x, v, 8);
			vosd_add_u64(b, tag, x);
		} else {
			CHECK(len >= 1 && v[len - 1] == '\0' && strlen(v) == len - 1);
			vosd_add_string(b, tag, v);
		}
	}
}

static void check_accessors(const struct vosd_msg *m)
{
	for (uint16_t tag = 0; tag <= VOSD_TAG_MAX + 1; tag++) {
		uint32_t u32;
		uint64_t u64;
		(void)vosd_msg_u32(m, tag, &u32);
		(void)vosd_msg_u64(m, tag, &u64);
		long at = -1, n = 0;
		while (vosd_msg_next(m, tag, &at)) {
			CHECK(at >= 0 && (size_t)at < m->n_fields && m->fields[at].tag == tag);
			n++;
		}
		CHECK((size_t)n <= m->n_fields);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n_fds = data[0] & 7;
	data++, size--;

	/* The daemon receives into a VOSD_MSG_MAX buffer: parse from a copy
	 * of exactly the packet's size, so reads past it are caught. */
	char *pkt = malloc(size ? size : 1);
	struct vosd_msg *m = malloc(sizeof(*m));
	struct vosd_msg *nested = malloc(sizeof(*nested));
	if (!pkt || !m || !nested)
		goto out;
	memcpy(pkt, data, size);
	char error[256];
	error[0] = '\0';
	int r = vosd_msg_parse(pkt, size, n_fds, m, error, sizeof(error));
	if (r < 0) {
		CHECK(r == -EBADMSG || r == -EPROTO || r == -EPROTONOSUPPORT || r == -EMSGSIZE);
		CHECK(error[0] && !strchr(error, '\n'));
		goto out;
	}
	CHECK(m->n_fields <= VOSD_FIELDS_MAX);
	check_accessors(m);
	for (size_t i = 0; i < m->n_fields; i++) {
		CHECK(m->fields[i].value >= pkt && m->fields[i].value + m->fields[i].length <= pkt + size);
		if (m->fields[i].tag != VOSD_TAG_VIEW)
			continue;
		if (vosd_msg_parse_nested(m->fields[i].value, m->fields[i].length, VOSD_VIEW_RECORD, nested) == 0) {
			check_accessors(nested);
			CHECK(vosd_msg_string(nested, VOSD_TAG_COMMAND));
		}
	}

	struct vosd_builder b;
	rebuild(m, m->type, &b);
	CHECK(b.error == 0);
	CHECK(b.len == size && memcmp(b.buf, pkt, size) == 0);
	vosd_builder_free(&b);
out:
	free(nested);
	free(m);
	free(pkt);
	return 0;
}
