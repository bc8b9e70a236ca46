/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The module's side of its connection (fd 3), as the runner sees it: the
 * runner exports its own read() and writev() (fuse-runner.dynlist), which
 * the module's libfuse calls to take each request and to send each answer.
 * Every other read() and writev() passes straight to the C library's.
 *
 * Reads go to the serial reader or are counted for the poller; the answer
 * to INIT gains FUSE_HANDLE_KILLPRIV_V2 when the module promised to keep
 * it (vos-fuse-hints.h) and the kernel offered it. */
#include <dlfcn.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse-runner.h"
#include "vos-fuse-hints.h"

static unsigned hints;
static _Atomic uint64_t init_unique;	/* INIT's, until it is answered */
static atomic_uint init_offered;	/* the flags the kernel offered */

void runner_io_set_hints(unsigned module_hints)
{
	hints = module_hints;
}

static ssize_t libc_read(int fd, void *buf, size_t count)
{
	static ssize_t (*real)(int, void *, size_t);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "read");
	/* libc's read, not syscall(): it is a cancellation point, which
	 * libfuse's multi-threaded loop relies on to stop idle workers. */
	return real ? real(fd, buf, count) : syscall(SYS_read, fd, buf, count);
}

static void note_init(const void *buf, ssize_t len)
{
	const struct fuse_in_header *in = buf;
	if (in->opcode != FUSE_INIT ||
	    (size_t)len < sizeof(*in) + offsetof(struct fuse_init_in, flags) + sizeof(uint32_t))
		return;
	const struct fuse_init_in *arg = (const void *)(in + 1);
	atomic_store(&init_offered, arg->flags);
	atomic_store(&init_unique, in->unique);
}

ssize_t read(int fd, void *buf, size_t count)
{
	if (fd != RUNNER_FUSE_FD)
		return libc_read(fd, buf, count);
	ssize_t r = (hints & VOS_FUSE_HINT_SERIAL_READER) ? runner_serial_read(libc_read, fd, buf, count)
							   : libc_read(fd, buf, count);
	if (r >= (ssize_t)sizeof(struct fuse_in_header))
		note_init(buf, r);
	if (r > 0 && !(hints & VOS_FUSE_HINT_SERIAL_READER))
		runner_poll_request();
	return r;
}

static ssize_t libc_writev(int fd, const struct iovec *iov, int count)
{
	static ssize_t (*real)(int, const struct iovec *, int);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "writev");
	return real ? real(fd, iov, count) : syscall(SYS_writev, fd, iov, count);
}

/* libfuse answers INIT with two pieces: the header, then fuse_init_out
 * (shorter for old kernels). */
static bool is_init_answer(const struct iovec *iov, int count)
{
	uint64_t unique = atomic_load(&init_unique);
	if (!unique || count != 2 || iov[0].iov_len != sizeof(struct fuse_out_header) ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(uint32_t) ||
	    iov[1].iov_len > sizeof(struct fuse_init_out))
		return false;
	const struct fuse_out_header *out = iov[0].iov_base;
	return out->unique == unique && out->error == 0;
}

ssize_t writev(int fd, const struct iovec *iov, int count)
{
	if (fd != RUNNER_FUSE_FD || !(hints & VOS_FUSE_HINT_KILLPRIV_V2) || !is_init_answer(iov, count))
		return libc_writev(fd, iov, count);
	atomic_store(&init_unique, 0);
	struct fuse_init_out arg;
	memcpy(&arg, iov[1].iov_base, iov[1].iov_len);
	if (atomic_load(&init_offered) & FUSE_HANDLE_KILLPRIV_V2)
		arg.flags |= FUSE_HANDLE_KILLPRIV_V2;
	struct iovec patched[2] = { iov[0], { .iov_base = &arg, .iov_len = iov[1].iov_len } };
	return libc_writev(fd, patched, 2);
}
