/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's binfmt_misc parser, mirrored step by step (fs/binfmt_misc.c,
 * lib/string_helpers.c, lib/kstrtox.c): see binfmt-parse.h. Each step keeps
 * the kernel's order and pointer arithmetic, including its 8 bytes of
 * delimiter padding, so that odd inputs (NUL bytes, a NUL or flag letter
 * as the delimiter) end the same way. */
#include "binfmt-parse.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Kernel ctype: only ASCII hex digits, whatever the char's sign. */
static int hex_to_bin(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_xdigit(char c)
{
	return hex_to_bin((unsigned char)c) >= 0;
}

/* kstrtoint(s, 10, res): digits, an optional single '\n', nothing else;
 * a leading '+' (not after '-') or '-'; the value must fit in an int. */
static int kstrtoull10(const char *s, unsigned long long *res)
{
	unsigned long long v = 0;
	size_t digits = 0;
	bool overflow = false;
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if (__builtin_mul_overflow(v, 10ULL, &v) || __builtin_add_overflow(v, (unsigned long long)(*s - '0'), &v))
			overflow = true;
	if (overflow)
		return -ERANGE;
	if (digits == 0)
		return -EINVAL;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = v;
	return 0;
}

static int kstrtoint10(const char *s, int *res)
{
	unsigned long long tmp;
	long long v;
	int r;
	if (s[0] == '-') {
		if ((r = kstrtoull10(s + 1, &tmp)) < 0)
			return r;
		if ((long long)-tmp > 0)
			return -ERANGE;
		v = (long long)-tmp;
	} else {
		if ((r = kstrtoull10(s[0] == '+' ? s + 1 : s, &tmp)) < 0)
			return r;
		if ((long long)tmp < 0)
			return -ERANGE;
		v = (long long)tmp;
	}
	if (v != (int)v)
		return -ERANGE;
	*res = (int)v;
	return 0;
}

/* scanarg(): to the next delimiter, "\x" needing two hex digits; the
 * delimiter becomes a NUL. NULL on a bad escape. */
static char *scanarg(char *s, char del)
{
	char c;
	while ((c = *s++) != del) {
		if (c == '\\' && *s == 'x') {
			s++;
			if (!is_xdigit(*s++))
				return NULL;
			if (!is_xdigit(*s++))
				return NULL;
		}
	}
	s[-1] = '\0';
	return s;
}

/* string_unescape_inplace(buf, UNESCAPE_HEX): "\xN" or "\xNN" becomes a
 * byte, any other backslash stays; stops at the first NUL. */
static size_t unescape_hex_inplace(char *buf)
{
	char *src = buf, *out = buf;
	while (*src) {
		if (src[0] == '\\' && src[1] != '\0') {
			src++;
			const char *q = src;
			if (*q++ == 'x') {
				int digit = hex_to_bin((unsigned char)*q++);
				if (digit >= 0) {
					unsigned num = (unsigned)digit;
					digit = hex_to_bin((unsigned char)*q);
					if (digit >= 0) {
						q++;
						num = (num << 4) | (unsigned)digit;
					}
					*out++ = (char)num;
					src = (char *)q;
					continue;
				}
			}
			*out++ = '\\';
		}
		*out++ = *src++;
	}
	*out = '\0';
	return (size_t)(out - buf);
}

static char *check_special_flags(char *p, unsigned *flags)
{
	for (;; p++) {
		switch (*p) {
		case 'P':
			*flags |= BINFMT_FLAG_PRESERVE_ARGV0;
			break;
		case 'O':
			*flags |= BINFMT_FLAG_OPEN_BINARY;
			break;
		case 'C':
			*flags |= BINFMT_FLAG_CREDENTIALS | BINFMT_FLAG_OPEN_BINARY;
			break;
		case 'F':
			*flags |= BINFMT_FLAG_OPEN_FILE;
			break;
		default:
			return p;
		}
	}
}

/* The kernel pads its copy with 8 delimiters; the NULs after them are a
 * guard the kernel does not have, reached only where the kernel too ends
 * in EINVAL (it would read past its padding). */
#define PAD 8
#define GUARD 64

int binfmt_parse(const void *data, size_t count, struct binfmt_entry *ret, const char **ret_reason)
{
	char buf[BINFMT_REGISTER_MAX + PAD + GUARD];
	const char *why;
	char *p, *name, *magic = NULL, *mask = NULL, *interpreter;
	unsigned flags = 0;
	int offset = 0;
	size_t size = 0;
	char type;

	if (count < BINFMT_REGISTER_MIN) {
		why = "shorter than 11 bytes";
		goto einval;
	}
	if (count > BINFMT_REGISTER_MAX) {
		why = "longer than 1920 bytes";
		goto einval;
	}
	memcpy(buf, data, count);
	memset(buf + count + PAD, 0, GUARD);
	p = buf;
	char del = *p++;
	memset(buf + count, del, PAD);
	/* Not in create_entry() as published, but what Linux 6.18 does: a
	 * flag letter as the delimiter is refused even where a trailing
	 * newline would end the flags (found by the differential test). */
	if (del == 'P' || del == 'O' || del == 'C' || del == 'F') {
		why = "the delimiter is a flag letter (P, O, C or F)";
		goto einval;
	}

	name = p;
	if (!(p = strchr(p, del))) {
		why = "the name has no closing delimiter";
		goto einval;
	}
	*p++ = '\0';
	if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) {
		why = "the name is empty, '.', '..' or contains '/'";
		goto einval;
	}

	type = *p++;
	if (type != 'E' && type != 'M') {
		why = "the type is neither E (extension) nor M (magic)";
		goto einval;
	}
	if (*p++ != del) {
		why = "the type is not one letter followed by the delimiter";
		goto einval;
	}

	if (type == 'M') {
		char *s = strchr(p, del);
		if (!s) {
			why = "the offset has no closing delimiter";
			goto einval;
		}
		*s = '\0';
		if (p != s && (kstrtoint10(p, &offset) != 0 || offset < 0)) {
			why = "the offset is not a non-negative decimal int";
			goto einval;
		}
		p = s;
		p++; /* the kernel's `if (*p++)`: *p is the NUL just written */

		magic = p;
		if (!(p = scanarg(p, del))) {
			why = "the magic has a bad \\x escape (two hex digits needed)";
			goto einval;
		}
		if (!magic[0]) {
			why = "the magic is empty";
			goto einval;
		}
		mask = p;
		if (!(p = scanarg(p, del))) {
			why = "the mask has a bad \\x escape (two hex digits needed)";
			goto einval;
		}
		if (!mask[0])
			mask = NULL;
		size = unescape_hex_inplace(magic);
		if (mask && unescape_hex_inplace(mask) != size) {
			why = "the mask and the magic differ in length";
			goto einval;
		}
		if (size > BINFMT_BUF_SIZE || BINFMT_BUF_SIZE - size < (size_t)offset) {
			why = "the magic does not fit in the first 256 bytes of a file at its offset";
			goto einval;
		}
	} else {
		if (!(p = strchr(p, del))) {
			why = "the offset field has no closing delimiter";
			goto einval;
		}
		*p++ = '\0';
		magic = p;
		if (!(p = strchr(p, del))) {
			why = "the extension has no closing delimiter";
			goto einval;
		}
		*p++ = '\0';
		if (!magic[0] || strchr(magic, '/')) {
			why = "the extension is empty or contains '/'";
			goto einval;
		}
		if (!(p = strchr(p, del))) {
			why = "the mask field has no closing delimiter";
			goto einval;
		}
		*p++ = '\0';
	}

	interpreter = p;
	if (!(p = strchr(p, del))) {
		why = "the interpreter has no closing delimiter";
		goto einval;
	}
	*p++ = '\0';
	if (!interpreter[0]) {
		why = "the interpreter is empty";
		goto einval;
	}

	p = check_special_flags(p, &flags);
	if (*p == '\n')
		p++;
	if (p != buf + count) {
		why = "unexpected text after the flags (only P, O, C, F and one newline)";
		goto einval;
	}

	if (ret) {
		struct binfmt_entry *e = ret;
		memset(e, 0, sizeof(*e));
		e->type = type;
		e->flags = flags;
		e->offset = offset;
		strcpy(e->name, name);
		strcpy(e->interpreter, interpreter);
		if (type == 'M') {
			e->size = size;
			memcpy(e->magic, magic, size);
			e->has_mask = mask != NULL;
			if (mask)
				memcpy(e->mask, mask, size);
		} else {
			strcpy(e->extension, magic);
		}
	}
	/* bm_register_write() then looks the name up: simple_lookup()
	 * refuses names longer than NAME_MAX. */
	if (strlen(name) > NAME_MAX) {
		if (ret_reason)
			*ret_reason = "the name is longer than 255 bytes";
		return -ENAMETOOLONG;
	}
	return 0;

einval:
	if (ret_reason)
		*ret_reason = why;
	return -EINVAL;
}

int binfmt_format(const struct binfmt_entry *e, bool enabled, char *out, size_t size)
{
	size_t at = 0;
#define PUT(...)                                                                        \
	do {                                                                             \
		int n_ = snprintf(out + at, at < size ? size - at : 0, __VA_ARGS__);     \
		if (n_ < 0 || (size_t)n_ >= (at < size ? size - at : 0))                   \
			return -ENOSPC;                                                  \
		at += (size_t)n_;                                                        \
	} while (0)
	PUT("%s\ninterpreter %s\nflags: ", enabled ? "enabled" : "disabled", e->interpreter);
	if (e->flags & BINFMT_FLAG_PRESERVE_ARGV0)
		PUT("P");
	if (e->flags & BINFMT_FLAG_OPEN_BINARY)
		PUT("O");
	if (e->flags & BINFMT_FLAG_CREDENTIALS)
		PUT("C");
	if (e->flags & BINFMT_FLAG_OPEN_FILE)
		PUT("F");
	PUT("\n");
	if (e->type == 'E') {
		PUT("extension .%s\n", e->extension);
	} else {
		PUT("offset %i\nmagic ", e->offset);
		for (size_t i = 0; i < e->size; i++)
			PUT("%02x", e->magic[i]);
		if (e->has_mask) {
			PUT("\nmask ");
			for (size_t i = 0; i < e->size; i++)
				PUT("%02x", e->mask[i]);
		}
		PUT("\n");
	}
#undef PUT
	return (int)at;
}

int binfmt_parse_command(const void *data, size_t count)
{
	const char *s = data;
	if (count > 3)
		return -EINVAL;
	if (!count)
		return 0;
	if (s[count - 1] == '\n')
		count--;
	if (count == 1 && s[0] == '0')
		return 1;
	if (count == 1 && s[0] == '1')
		return 2;
	if (count == 2 && s[0] == '-' && s[1] == '1')
		return 3;
	return -EINVAL;
}
