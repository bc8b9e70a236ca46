/* SPDX-License-Identifier: GPL-2.0-or-later */
/* umbinfmt's mirror of the kernel's binfmt_misc parser: known strings, the
 * kernel's formatting of entries, and a bounded fuzz (fixed seed) checking
 * that every result is 0 or -EINVAL, that accepted entries obey the
 * kernel's limits, and that an accepted entry written back out parses to
 * the same entry.
 *
 * With `--kernel DIR [--count N] [--seed S]` (DIR a mounted binfmt_misc
 * the caller may write, i.e. inside a view) it instead writes the same
 * fuzzed strings to the running kernel and checks that kernel and mirror
 * agree on every one, and that accepted entries read back exactly as
 * binfmt_format() predicts. With --fuse, DIR is umbinfmt's own directory
 * (mode=trap), served through FUSE: the kernel completes a zero-length
 * write(2) there itself (0, nothing registered), where binfmt_misc says
 * EINVAL. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "binfmt-parse.h"

static struct binfmt_entry entry, entry2;

static int parse_str(const char *s, const char **why)
{
	return binfmt_parse(s, strlen(s), &entry, why);
}

static void expect_format(const char *s, const char *expected)
{
	const char *why = NULL;
	int r = parse_str(s, &why);
	if (r != 0)
		fail_msg("'%s' refused: %s", s, why);
	char out[4096];
	assert_true(binfmt_format(&entry, true, out, sizeof(out)) > 0);
	assert_string_equal(out, expected);
}

static void test_seed_example(void **state)
{
	(void)state;
	expect_format(":foo:E::foo::/usr/bin/bar:",
		      "enabled\ninterpreter /usr/bin/bar\nflags: \nextension .foo\n");
	assert_int_equal(entry.type, 'E');
	assert_string_equal(entry.name, "foo");
	/* echo appends a newline: accepted */
	expect_format(":foo:E::foo::/usr/bin/bar:\n",
		      "enabled\ninterpreter /usr/bin/bar\nflags: \nextension .foo\n");
}

static void test_magic_mask_flags(void **state)
{
	(void)state;
	expect_format(":m:M:3:ab\\x00c:\\xff\\xff\\x00\\xff:/bin/cat:POCF",
		      "enabled\ninterpreter /bin/cat\nflags: POCF\noffset 3\nmagic 61620063\nmask ffff00ff\n");
	assert_int_equal(entry.size, 4);
	assert_int_equal(entry.offset, 3);
	/* C implies O, as in the kernel */
	expect_format(":m:M::AB::/bin/cat:C", "enabled\ninterpreter /bin/cat\nflags: OC\noffset 0\nmagic 4142\n");
	/* any delimiter; "+7" and "7\n" are decimal ints to kstrtoint */
	expect_format("|x|M|+7|\\x7fELF||/i|F\n", "enabled\ninterpreter /i\nflags: F\noffset 7\nmagic 7f454c46\n");
	/* a single hex digit after \x is a byte to the unescaper, but scanarg
	 * wants two: refused */
	assert_int_equal(parse_str(":m:M::\\x1:", NULL), -EINVAL);
	/* a backslash not followed by x stays */
	expect_format(":m:M::a\\b::/i:", "enabled\ninterpreter /i\nflags: \noffset 0\nmagic 615c62\n");
}

static void test_qemu_aarch64(void **state)
{
	(void)state;
	expect_format(":qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:"
		      "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:"
		      "/usr/bin/qemu-aarch64-static:F",
		      "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\noffset 0\n"
		      "magic 7f454c460201010000000000000000000200b700\n"
		      "mask ffffffffffffff00fffffffffffffffffeffffff\n");
}

static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

static void test_magic_sizes(void **state)
{
	(void)state;
	char s[2048];
	char *m129 = repeat("\\x41", 129), *m256 = repeat("\\x41", 256), *m257 = repeat("A", 257);
	/* BINPRM_BUF_SIZE is 256 since Linux 5.1: 129 bytes are fine */
	snprintf(s, sizeof(s), ":a:M::%s::/i:", m129);
	assert_int_equal(parse_str(s, NULL), 0);
	assert_int_equal(entry.size, 129);
	snprintf(s, sizeof(s), ":a:M::%s::/i:", m256);
	assert_int_equal(parse_str(s, NULL), 0);
	snprintf(s, sizeof(s), ":a:M:1:%s::/i:", m256);
	assert_int_equal(parse_str(s, NULL), -EINVAL);
	snprintf(s, sizeof(s), ":a:M::%s::/i:", m257);
	assert_int_equal(parse_str(s, NULL), -EINVAL);
	free(m129), free(m256), free(m257);
	/* offset + size must stay within 256 */
	assert_int_equal(parse_str(":a:M:254:ab::/i:", NULL), 0);
	assert_int_equal(parse_str(":a:M:255:ab::/i:", NULL), -EINVAL);
}

static void test_bad_strings(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",                             /* too short */
		":a:E::b::",                    /* 9 bytes: too short */
		":foo:E::foo:",                 /* missing fields */
		":foo:E::foo::/bin/cat",        /* interpreter not closed */
		":foo:X::foo::/bin/cat:",       /* bad type */
		":foo:EE::foo::/bin/cat:",      /* type longer than one letter */
		"::E::foo::/bin/cat:",          /* empty name */
		":.:E::foo::/bin/cat:",         /* name "." */
		":..:E::foo::/bin/cat:",        /* name ".." */
		":a/b:E::foo::/bin/cat:",       /* '/' in the name */
		":foo:E::::/bin/cat:",          /* empty extension */
		":foo:E::a/b::/bin/cat:",       /* '/' in the extension */
		":foo:E::foo:::",               /* empty interpreter */
		":foo:E::foo::/bin/cat:X",      /* unknown flag */
		":foo:E::foo::/bin/cat:P\n\n",  /* two newlines */
		":foo:M:-1:ab::/bin/cat:",      /* negative offset */
		":foo:M:x:ab::/bin/cat:",       /* offset not a number */
		":foo:M:1 :ab::/bin/cat:",      /* trailing space */
		":foo:M:99999999999:ab::/bin/cat:", /* overflow */
		":foo:M:-+1:ab::/bin/cat:",     /* sign after sign */
		":foo:M:257:a::/bin/cat:",      /* offset out of range */
		":foo:M:::ff:/bin/cat:",        /* empty magic */
		":foo:M::ab:\\xff:/bin/cat:",   /* mask shorter than magic */
		":foo:M::ab:\\xff\\xff\\xff:/bin/cat:", /* mask longer */
		":foo:M::\\xg0::/bin/cat:",     /* bad hex escape */
		":foo:M::\\x0::/bin/cat:",      /* one hex digit, then the delimiter */
		":foo:M::ab:\\xZZ:/bin/cat:",   /* bad escape in the mask */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		int r = parse_str(bad[i], &why);
		if (r != -EINVAL)
			fail_msg("'%s' gave %d, expected -EINVAL", bad[i], r);
		assert_non_null(why);
	}
	/* too long */
	char *big = repeat("a", BINFMT_REGISTER_MAX + 1);
	assert_int_equal(binfmt_parse(big, strlen(big), NULL, NULL), -EINVAL);
	free(big);
	/* a flag letter as the delimiter: refused by Linux 6.18 */
	assert_int_equal(binfmt_parse("CqCECCbCC/bin/catC\n", 19, NULL, NULL), -EINVAL);
	assert_int_equal(binfmt_parse("DqDEDDbDD/bin/catD\n", 19, NULL, NULL), 0);
	/* names longer than NAME_MAX: the lookup's ENAMETOOLONG */
	char *long_name = repeat("n", 256), s[512];
	snprintf(s, sizeof(s), ":%s:E::foo::/bin/cat:", long_name);
	assert_int_equal(parse_str(s, NULL), -ENAMETOOLONG);
	long_name[255] = '\0';
	snprintf(s, sizeof(s), ":%s:E::foo::/bin/cat:", long_name);
	assert_int_equal(parse_str(s, NULL), 0);
	free(long_name);
	/* the kernel does not require an absolute interpreter (it is opened
	 * relative to the exec's cwd) */
	assert_int_equal(parse_str(":foo:E::foo::bar:", NULL), 0);
	/* a raw NUL in the magic ends it for the unescaper: "a" then "b" */
	static const char nul_magic[] = ":foo:M::a\0b:\\xff:/bin/cat:";
	assert_int_equal(binfmt_parse(nul_magic, sizeof(nul_magic) - 1, &entry, NULL), 0);
	assert_int_equal(entry.size, 1);
	/* ... but a NUL before the name's delimiter is the end of the string */
	static const char nul_name[] = ":fo\0o:E::foo::/bin/cat:";
	assert_int_equal(binfmt_parse(nul_name, sizeof(nul_name) - 1, &entry, NULL), -EINVAL);
}

static void test_commands(void **state)
{
	(void)state;
	assert_int_equal(binfmt_parse_command("0", 1), 1);
	assert_int_equal(binfmt_parse_command("1\n", 2), 2);
	assert_int_equal(binfmt_parse_command("-1", 2), 3);
	assert_int_equal(binfmt_parse_command("-1\n", 3), 3);
	assert_int_equal(binfmt_parse_command("", 0), 0);
	assert_int_equal(binfmt_parse_command("2", 1), -EINVAL);
	assert_int_equal(binfmt_parse_command("-1\n\n", 4), -EINVAL);
	assert_int_equal(binfmt_parse_command("\n", 1), -EINVAL);
	assert_int_equal(binfmt_parse_command("00", 2), -EINVAL);
}

/* ---- the fuzzer: mutations of valid strings (deterministic) ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static size_t pick(size_t n)
{
	return (size_t)(rng() % n);
}

static const char *const seeds[] = {
	":foo:E::foo::/bin/cat:",
	":m:M::\\x7fELF::/bin/cat:",
	":m2:M:3:ab\\x00c:\\xff\\xff\\x00\\xff:/bin/sh:POCF",
	":q:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:"
	"\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/bin/cat:F",
	"|e|E||txt||/bin/cat|P\n",
	":o:M:+12:\\x1f:\\x2f:/bin/cat:C",
	"#h#M#250#VOS\\x00\\x01\\x02##/bin/true#O\n",
	":register:E::reg::/bin/cat:",
};

static const char interesting[] = ":|#\\x0123456789abcdefABCDEFxX-+\n/.POCFEM \t";

/* A mutated seed in buf; returns its length. */
static size_t fuzz_string(char *buf, size_t cap)
{
	const char *seed = seeds[pick(sizeof(seeds) / sizeof(seeds[0]))];
	size_t len = strlen(seed);
	memcpy(buf, seed, len);
	unsigned rounds = 1 + (unsigned)pick(4);
	for (unsigned i = 0; i < rounds; i++) {
		size_t at = len ? pick(len + 1) : 0;
		char c = pick(4) == 0 ? (char)pick(256) : interesting[pick(sizeof(interesting) - 1)];
		switch (pick(7)) {
		case 0: /* replace */
			if (at < len)
				buf[at] = c;
			break;
		case 1: /* insert */
			if (len < cap) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = c;
				len++;
			}
			break;
		case 2: /* delete */
			if (at < len) {
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
			}
			break;
		case 3: /* truncate */
			len = at;
			break;
		case 4: { /* a run of escaped bytes: long magics and masks */
			size_t n = pick(300);
			for (size_t k = 0; k < n && len + 4 <= cap; k++) {
				memmove(buf + at + 4, buf + at, len - at);
				memcpy(buf + at, "\\x41", 4);
				len += 4;
			}
			break;
		}
		case 5: /* change the delimiter everywhere */
			if (len) {
				char old = buf[0];
				for (size_t k = 0; k < len; k++)
					if (buf[k] == old)
						buf[k] = c;
			}
			break;
		case 6: /* duplicate a piece */
			if (at < len) {
				size_t n = 1 + pick(len - at);
				if (len + n <= cap) {
					memmove(buf + at + n, buf + at, len - at); /* the piece is now twice there */
					len += n;
				}
			}
			break;
		}
	}
	return len;
}

static bool contains(const char *s, char c)
{
	return c && strchr(s, c) != NULL;
}

/* The entry as a registration string, every magic/mask byte escaped.
 * Returns the length, or 0 if no delimiter fits. */
static size_t serialize(const struct binfmt_entry *e, char *out, size_t cap)
{
	static const char dels[] = ":|#;,~!@%^&*=<>?";
	char del = 0;
	for (const char *d = dels; *d && !del; d++)
		if (!contains(e->name, *d) && !contains(e->interpreter, *d) && !contains(e->extension, *d))
			del = *d;
	if (!del)
		return 0;
	size_t at = 0;
#define OUT(...) at += (size_t)snprintf(out + at, at < cap ? cap - at : 0, __VA_ARGS__)
	OUT("%c%s%c%c%c", del, e->name, del, e->type, del);
	if (e->type == 'E') {
		OUT("%c%s%c%c", del, e->extension, del, del);
	} else {
		OUT("%d%c", e->offset, del);
		for (size_t i = 0; i < e->size; i++)
			OUT("\\x%02x", e->magic[i]);
		OUT("%c", del);
		for (size_t i = 0; e->has_mask && i < e->size; i++)
			OUT("\\x%02x", e->mask[i]);
		OUT("%c", del);
	}
	OUT("%s%c%s%s%s%s", e->interpreter, del, (e->flags & BINFMT_FLAG_PRESERVE_ARGV0) ? "P" : "",
	    (e->flags & BINFMT_FLAG_OPEN_BINARY) ? "O" : "", (e->flags & BINFMT_FLAG_CREDENTIALS) ? "C" : "",
	    (e->flags & BINFMT_FLAG_OPEN_FILE) ? "F" : "");
#undef OUT
	return at < cap ? at : 0;
}

static bool same_entry(const struct binfmt_entry *a, const struct binfmt_entry *b)
{
	return a->type == b->type && a->flags == b->flags && a->offset == b->offset && a->size == b->size &&
	       a->has_mask == b->has_mask && !strcmp(a->name, b->name) && !strcmp(a->interpreter, b->interpreter) &&
	       !strcmp(a->extension, b->extension) && !memcmp(a->magic, b->magic, a->size) &&
	       !memcmp(a->mask, b->mask, a->size);
}

#define FUZZ_CASES 30000

static void test_fuzz(void **state)
{
	(void)state;
	static char buf[BINFMT_REGISTER_MAX + 512], back[BINFMT_REGISTER_MAX * 2];
	unsigned accepted = 0, round_trips = 0;
	rng_state = 0x5eed0f0b1f3a7ULL;
	for (unsigned i = 0; i < FUZZ_CASES; i++) {
		size_t len = fuzz_string(buf, sizeof(buf));
		const char *why = NULL;
		int r = binfmt_parse(buf, len, &entry, &why);
		if (r == -EINVAL || r == -ENAMETOOLONG) {
			assert_non_null(why);
			if (r == -ENAMETOOLONG)
				assert_true(strlen(entry.name) > 255);
			continue;
		}
		assert_int_equal(r, 0);
		accepted++;
		assert_true(len >= BINFMT_REGISTER_MIN && len <= BINFMT_REGISTER_MAX);
		assert_true(entry.name[0] && !strchr(entry.name, '/'));
		assert_true(strcmp(entry.name, ".") && strcmp(entry.name, ".."));
		assert_true(entry.interpreter[0]);
		if (entry.type == 'M') {
			assert_true(entry.size >= 1 && entry.size <= BINFMT_BUF_SIZE);
			assert_true(entry.offset >= 0 && (size_t)entry.offset + entry.size <= BINFMT_BUF_SIZE);
		} else {
			assert_int_equal(entry.type, 'E');
			assert_true(entry.extension[0] && !strchr(entry.extension, '/'));
		}
		char text[4096];
		assert_true(binfmt_format(&entry, i & 1, text, sizeof(text)) > 0);
		size_t n = serialize(&entry, back, sizeof(back));
		if (n == 0 || n > BINFMT_REGISTER_MAX)
			continue;
		if (binfmt_parse(back, n, &entry2, &why) != 0)
			fail_msg("round trip of accepted entry refused: %.*s: %s", (int)n, back, why);
		assert_true(same_entry(&entry, &entry2));
		round_trips++;
	}
	/* the corpus must exercise both outcomes */
	print_message("fuzz: %u cases, %u accepted, %u round trips\n", FUZZ_CASES, accepted, round_trips);
	assert_true(accepted > FUZZ_CASES / 20);
	assert_true(accepted < FUZZ_CASES - FUZZ_CASES / 20);
	assert_true(round_trips > accepted / 2);
}

/* ---- differential mode: the same strings against the running kernel ---- */

static int write_at(const char *dir, const char *name, const void *data, size_t len)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, data, len);
	int r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return r;
}

static int read_at(const char *dir, const char *name, char *out, size_t size)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return (int)n;
}

static void show(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "%s: \"", what);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"\n");
}

static int against_kernel(const char *dir, unsigned count, uint64_t seed, bool fuse)
{
	static char buf[BINFMT_REGISTER_MAX + 512];
	unsigned agree = 0, accepted = 0, mismatches = 0;
	rng_state = seed ? seed : 1;
	for (unsigned i = 0; i < count; i++) {
		size_t len = fuzz_string(buf, sizeof(buf));
		const char *why = NULL;
		int rp = binfmt_parse(buf, len, &entry, &why);
		int rk = write_at(dir, "register", buf, len);
		bool ok;
		bool named = rp == 0 || rp == -ENAMETOOLONG; /* the entry was parsed */
		if (fuse && len == 0)
			ok = rk == 0; /* FUSE never sees it */
		else if (named && rk < 0 && rk != -EINVAL && (entry.flags & BINFMT_FLAG_OPEN_FILE))
			ok = true; /* F: the kernel opens the interpreter before it looks the name up */
		else if (rp < 0)
			ok = rk == rp;
		else if (!strcmp(entry.name, "register") || !strcmp(entry.name, "status"))
			ok = rk == -EEXIST;
		else
			ok = rk == 0;
		if (rk == 0 && len > 0) {
			accepted++;
			char shown[4096], predicted[4096];
			int n = read_at(dir, entry.name, shown, sizeof(shown));
			if (rp == 0 && (n < 0 || binfmt_format(&entry, true, predicted, sizeof(predicted)) < 0 ||
					strcmp(shown, predicted))) {
				show("kernel shows the entry differently", buf, len);
				fprintf(stderr, "kernel:\n%s\nmirror:\n%s\n", n < 0 ? strerror(-n) : shown, predicted);
				ok = false;
			}
			int r = rp == 0 ? write_at(dir, entry.name, "-1", 2) : write_at(dir, "status", "-1", 2);
			if (r < 0) {
				fprintf(stderr, "cannot remove the entry again: %s\n", strerror(-r));
				return 1;
			}
		}
		if (ok) {
			agree++;
		} else if (++mismatches <= 10) {
			show("mismatch", buf, len);
			fprintf(stderr, "  kernel: %s, mirror: %s%s%s%s\n", rk ? strerror(-rk) : "accepted",
				rp ? strerror(-rp) : "accepted", rp ? " (" : "", rp ? why : "", rp ? ")" : "");
		}
	}

	/* status and entry commands: "0", "1", "-1" and junk */
	static const char *const cmds[] = { "0", "1", "1\n", "0\n", "2", "-", "-2", "10", "-1x", "\n", "", "ab" };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rp = binfmt_parse_command(cmds[i], strlen(cmds[i]));
		int rk = write_at(dir, "status", cmds[i], strlen(cmds[i]));
		if ((rp < 0) != (rk < 0) || (rp < 0 && rk != rp)) {
			show("status command mismatch", cmds[i], strlen(cmds[i]));
			mismatches++;
		} else {
			agree++;
		}
	}
	write_at(dir, "status", "1", 1);

	printf("%u strings against the kernel: %u accepted by it, %u agree, %u mismatches\n", count, accepted, agree,
	       mismatches);
	return mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--kernel")) {
		unsigned count = 2000;
		uint64_t seed = 42;
		bool fuse = false;
		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--count") && i + 1 < argc)
				count = (unsigned)strtoul(argv[++i], NULL, 10);
			else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
				seed = strtoull(argv[++i], NULL, 10);
			else if (!strcmp(argv[i], "--fuse"))
				fuse = true;
		}
		return against_kernel(argv[2], count, seed, fuse);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_example),
		cmocka_unit_test(test_magic_mask_flags),
		cmocka_unit_test(test_qemu_aarch64),
		cmocka_unit_test(test_magic_sizes),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
