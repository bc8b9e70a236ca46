/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Executable formats served by a service: see exec-trap.h. */
#include "exec-trap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "notify.h"
#include "service-fault.h"
#include "supervisor.h"
#include "util.h"

#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif

#define EXEC_SERVICES_MAX 16
#define EXEC_ARGV_MAX (1 << 20)  /* more arguments: E2BIG (the kernel stops before: ARG_MAX) */
#define EXEC_DEPTH_MAX 5         /* formats chained deeper: ELOOP, as exec_binprm() */
#define EXEC_RED_ZONE 128        /* the x86_64 ABI's, below the stack pointer */
#define EXEC_STOP_TIMEOUT_MS 2000
#define EXEC_MARK 0x6365786523736f76ULL /* "vos#exec", in front of a rewritten argv */

/* The services whose formats are active now (module and data stay valid
 * while the view lives: a service with a mount cannot be removed). */
static size_t active_formats(struct vos_view *v, struct view_service **out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&v->lock);
	for (struct view_service *s = v->services; s && n < max; s = s->next) {
		const struct vos_exec_formats *f = s->module->desc.exec_formats;
		bool on = false;
		if (f)
			SERVICE_CALL(&s->guard, "exec_formats.active", on = false, on = f->active(s->data));
		if (on)
			out[n++] = s;
	}
	pthread_mutex_unlock(&v->lock);
	return n;
}

#if defined(__x86_64__)
static char *kernel_name_of(const struct seccomp_notif *n);
#endif

/* A service's match(), as a contained call (service-fault.h): -EIO if it
 * crashes. */
static int service_match(struct view_service *s, const struct vos_exec_file *file, struct vos_exec_handler *ret)
{
	int r;
	SERVICE_CALL(&s->guard, "exec_formats.match", r = -EIO,
		     r = s->module->desc.exec_formats->match(s->data, file, ret));
	return r;
}

/* Could a service claim the file by its name? */
static bool may_match(const struct seccomp_notif *n, struct view_service **services, size_t n_services)
{
#if defined(__x86_64__)
	_cleanup_free_ char *name = kernel_name_of(n);
	if (!name)
		return true; /* the handler decides (and answers errors) */
	for (size_t i = 0; i < n_services; i++) {
		const struct vos_exec_formats *f = services[i]->module->desc.exec_formats;
		bool maybe = true;
		if (f->may_match)
			SERVICE_CALL(&services[i]->guard, "exec_formats.may_match", maybe = false,
				     maybe = f->may_match(services[i]->data, name));
		if (maybe)
			return true;
	}
	return false;
#else
	(void)n, (void)services, (void)n_services;
	return true;
#endif
}

bool exec_trap_fast(struct vos_view *v, const struct seccomp_notif *n)
{
	struct view_service *services[EXEC_SERVICES_MAX];
	size_t n_services = active_formats(v, services, EXEC_SERVICES_MAX);
	if (n_services > 0 && may_match(n, services, n_services))
		return false;
	notify_continue(v->listener, n->id);
	return true;
}

#if defined(__x86_64__)

/* The trapped call, as execveat. */
struct exec_call {
	int dirfd, flags;
	uint64_t path, argv, envp;
};

static void exec_call_of(const struct seccomp_notif *n, struct exec_call *c)
{
	if (n->data.nr == SYS_execveat)
		*c = (struct exec_call){ (int)n->data.args[0], (int)n->data.args[4], n->data.args[1],
					 n->data.args[2], n->data.args[3] };
	else
		*c = (struct exec_call){ AT_FDCWD, 0, n->data.args[0], n->data.args[1], n->data.args[2] };
}

/* The name the kernel gives the file (bprm->filename): the path, or
 * /dev/fd/N[/path] for execveat relative to a directory fd. */
static char *kernel_name(const struct exec_call *c, const char *path)
{
	char *out;
	int r;
	if (c->dirfd == AT_FDCWD || path[0] == '/')
		r = asprintf(&out, "%s", path);
	else if (!path[0])
		r = asprintf(&out, "/dev/fd/%d", c->dirfd);
	else
		r = asprintf(&out, "/dev/fd/%d/%s", c->dirfd, path);
	return r < 0 ? NULL : out;
}

/* Is the caller's `fd` close-on-exec? Then a /dev/fd/N name for the file
 * is gone after exec, and the kernel fails binfmt_misc's formats with
 * ENOENT rather than start an interpreter that cannot open it
 * (BINPRM_FLAGS_PATH_INACCESSIBLE). */
static bool fd_cloexec(pid_t pid, int fd)
{
	char path[64], text[256];
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	_cleanup_close_ int info = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = info < 0 ? -1 : read(info, text, sizeof(text) - 1);
	if (n <= 0)
		return false;
	text[n] = '\0';
	const char *flags = strstr(text, "flags:");
	return flags && (strtoul(flags + 6, NULL, 8) & O_CLOEXEC);
}

/* The kernel's name for the file of call `n`, read from the caller. NULL
 * on a bad pointer or path (the kernel reports those). */
static char *kernel_name_of(const struct seccomp_notif *n)
{
	struct exec_call c;
	exec_call_of(n, &c);
	_cleanup_free_ char *path = tracee_read_string(n->pid, c.path, PATH_MAX);
	return path ? kernel_name(&c, path) : NULL;
}

/* Open the file to be executed as the caller sees it. Relative to a
 * directory fd (or the fd itself): through /proc/PID/fd, which reaches
 * host files and memfds, else by the fd's path in the view (the view's
 * FUSE mounts, its working-directory layer included, keep the supervisor
 * out). */
static int open_file(struct vos_view *v, pid_t pid, const struct exec_call *c, const char *path)
{
	int flags = O_RDONLY | O_CLOEXEC | ((c->flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0);
	if (path[0] && (c->dirfd == AT_FDCWD || path[0] == '/'))
		return view_open(v, pid, path, flags);
	if (!path[0] && !(c->flags & AT_EMPTY_PATH))
		return -ENOENT;
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, c->dirfd);
	int fd;
	if (!path[0]) {
		fd = open(link, flags & ~O_NOFOLLOW);
	} else {
		_cleanup_close_ int dir = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
		fd = dir < 0 ? -1 : openat(dir, path, flags);
	}
	if (fd >= 0)
		return fd;
	char where[PATH_MAX];
	ssize_t n = readlink(link, where, sizeof(where) - 1);
	if (n <= 0 || where[0] != '/')
		return -ENOENT;
	where[n] = '\0';
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s%s%s", where, path[0] ? "/" : "", path) < 0)
		return -ENOMEM;
	return view_open(v, pid, full, flags);
}

/* The kernel's first checks (do_open_execat): a regular file with an
 * execute bit, not on a noexec mount. Anything else is the kernel's to
 * refuse. Then its first VOS_EXEC_HEADER_SIZE bytes, zero-filled. */
static bool file_header(int fd, unsigned char *header)
{
	struct stat st;
	struct statvfs sv;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return false;
	if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_NOEXEC))
		return false;
	memset(header, 0, VOS_EXEC_HEADER_SIZE);
	size_t got = 0;
	while (got < VOS_EXEC_HEADER_SIZE) {
		ssize_t r = pread(fd, header + got, VOS_EXEC_HEADER_SIZE - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return true;
}

/* The caller's argv pointers (not the NULL), read page by page. */
static int read_argv(pid_t pid, uint64_t addr, uint64_t **ret, size_t *ret_n)
{
	size_t n = 0, cap = 64;
	uint64_t *a = malloc(cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (;;) {
		if (addr == 0)
			break; /* argv NULL: no arguments */
		uint64_t at = addr + n * sizeof(uint64_t);
		size_t chunk = (4096 - (at & 4095)) / sizeof(uint64_t);
		if (chunk == 0)
			chunk = 1;
		if (n + chunk > cap) {
			cap = (n + chunk) * 2;
			uint64_t *b = realloc(a, cap * sizeof(*a));
			if (!b) {
				free(a);
				return -ENOMEM;
			}
			a = b;
		}
		int r = tracee_read(pid, at, a + n, chunk * sizeof(uint64_t));
		if (r < 0) {
			free(a);
			return r;
		}
		size_t i = 0;
		while (i < chunk && a[n + i] != 0)
			i++;
		n += i;
		if (i < chunk)
			break;
		if (n > EXEC_ARGV_MAX) {
			free(a);
			return -E2BIG;
		}
	}
	*ret = a;
	*ret_n = n;
	return 0;
}

/* How deep in a chain of formats this call is: a rewritten argv carries
 * EXEC_MARK and the depth in the two words in front of it. */
static unsigned chain_depth(pid_t pid, uint64_t argv)
{
	uint64_t mark[2];
	if (argv < sizeof(mark) || tracee_read(pid, argv - sizeof(mark), mark, sizeof(mark)) < 0 ||
	    mark[0] != EXEC_MARK || mark[1] >= EXEC_DEPTH_MAX)
		return 0;
	return (unsigned)mark[1] + 1;
}

/* What the rewritten call gets: built once the stack pointer is known. */
struct exec_plan {
	char *name;                /* the file's name for the interpreter */
	struct vos_exec_handler handler;
	uint64_t *argv;            /* the caller's argv pointers */
	size_t argc;
	unsigned depth;
	uint64_t envp;
};

/* Lay out, below `sp` and its red zone: EXEC_MARK, depth, the new argv
 * (interpreter, name, [argv[0]], argv[1..], NULL), then the strings.
 * Returns the block (to write at *ret_base) and its size. */
static void *plan_block(const struct exec_plan *p, uint64_t sp, uint64_t *ret_base, size_t *ret_size,
			uint64_t *ret_interp, uint64_t *ret_argv)
{
	bool keep0 = p->handler.flags & VOS_EXEC_PRESERVE_ARGV0;
	size_t n_new = 2 + (keep0 ? 1 : 0) + (p->argc > 1 ? p->argc - 1 : 0);
	size_t interp_len = strlen(p->handler.interpreter) + 1, name_len = strlen(p->name) + 1;
	size_t head = 2 * sizeof(uint64_t) + (n_new + 1) * sizeof(uint64_t);
	size_t size = head + interp_len + name_len + 1; /* + "" for an empty argv */
	uint64_t base = (sp - EXEC_RED_ZONE - size) & ~(uint64_t)15;
	unsigned char *block = calloc(1, size);
	if (!block)
		return NULL;
	uint64_t *words = (uint64_t *)block;
	uint64_t interp = base + head, name = interp + interp_len, empty = name + name_len;
	words[0] = EXEC_MARK;
	words[1] = p->depth;
	uint64_t *argv = words + 2;
	size_t k = 0;
	argv[k++] = interp;
	argv[k++] = name;
	if (keep0)
		argv[k++] = p->argc > 0 ? p->argv[0] : empty; /* the kernel's "" for argc 0 */
	for (size_t i = 1; i < p->argc; i++)
		argv[k++] = p->argv[i];
	argv[k] = 0;
	memcpy(block + head, p->handler.interpreter, interp_len);
	memcpy(block + head + interp_len, p->name, name_len);
	*ret_base = base;
	*ret_size = size;
	*ret_interp = interp;
	*ret_argv = base + 2 * sizeof(uint64_t);
	return block;
}

/* Wait until the thread is in a ptrace stop (its registers readable).
 * The stop is not taken with waitpid: the supervisor's reaper may collect
 * its report first. */
static int wait_stop(pid_t tid, struct user_regs_struct *regs)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	long delay_ns = 2000;
	for (;;) {
		if (ptrace(PTRACE_GETREGS, tid, NULL, regs) == 0)
			return 0;
		if (errno != ESRCH)
			return -errno;
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)tid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid == tid)
			return -ESRCH; /* it died */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > EXEC_STOP_TIMEOUT_MS)
			return -ETIMEDOUT;
		struct timespec d = { 0, delay_ns };
		nanosleep(&d, NULL);
		if (delay_ns < 1000000)
			delay_ns *= 2;
	}
}

/* Resume the stopped thread to its next syscall stop; with `entry` it
 * must be the entry of system call `nr`, else its exit. */
static int next_syscall_stop(pid_t tid, bool entry, long nr, struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
		return -errno;
	int r = wait_stop(tid, regs);
	if (r < 0)
		return r;
	struct __ptrace_syscall_info info;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), &info) <= 0)
		return -errno ? -errno : -EIO;
	if (entry ? info.op != PTRACE_SYSCALL_INFO_ENTRY || (long)info.entry.nr != nr
		  : info.op != PTRACE_SYSCALL_INFO_EXIT)
		return -EPROTO; /* another stop (a SIGSTOP, say) */
	return 0;
}

/* No room below the stack pointer for `size` bytes: make the thread map
 * some (the stopped call restarts as an anonymous mmap, run between two
 * syscall stops with every signal blocked) and return its address. On
 * success the thread is at the mmap's exit stop, in *regs. */
static int map_room(pid_t tid, struct user_regs_struct *regs, size_t size, uint64_t *ret_addr)
{
	struct user_regs_struct call = *regs;
	call.orig_rax = SYS_mmap; /* the restart runs orig_rax */
	call.rdi = 0;
	call.rsi = size;
	call.rdx = PROT_READ | PROT_WRITE;
	call.r10 = MAP_PRIVATE | MAP_ANONYMOUS;
	call.r8 = (uint64_t)-1;
	call.r9 = 0;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &call) < 0)
		return -errno;
	int r = next_syscall_stop(tid, true, SYS_mmap, regs);
	if (r == 0)
		r = next_syscall_stop(tid, false, SYS_mmap, regs);
	if (r < 0)
		return r;
	if ((int64_t)regs->rax < 0 && (int64_t)regs->rax > -4096)
		return (int)(int64_t)regs->rax;
	*ret_addr = regs->rax;
	return 0;
}

static bool restarting(int64_t rax)
{
	return rax == -512 /* ERESTARTSYS */ || rax == -513 /* ERESTARTNOINTR */ || rax == -514 /* ERESTARTNOHAND */;
}

/* Stop the trapped thread, point its call at the plan, let it restart.
 * Returns 0 when the notification is gone (rewritten or answered by the
 * thread's own fate), or -errno to answer it with. */
static int rewrite_call(struct vos_view *v, const struct seccomp_notif *n, const struct exec_plan *p)
{
	pid_t tid = (pid_t)n->pid;
	if (!notify_id_valid(v->listener, n->id))
		return 0;
	/* TRACESYSGOOD: syscall stops tell themselves apart (map_room()). */
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0) {
		int r = -errno;
		supervisor_debug(v->sup, "view %u: exec by %d: cannot trace it (%s; traced by another process?)",
				 v->id, tid, strerror(-r));
		return r;
	}
	/* Seized the thread that made the call? Its notification is still
	 * pending, so it is alive and its tid cannot have been reused. */
	bool ours = notify_id_valid(v->listener, n->id);
	struct user_regs_struct regs;
	int r = ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 ? -errno : wait_stop(tid, &regs);
	if (r < 0) {
		supervisor_debug(v->sup, "view %u: exec by %d: no ptrace stop (%s)", v->id, tid, strerror(-r));
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return r == -ESRCH ? 0 : r;
	}
	const __u64 *a = n->data.args;
	bool same = ours && regs.orig_rax == (uint64_t)n->data.nr && restarting((int64_t)regs.rax) &&
		    regs.rdi == a[0] && regs.rsi == a[1] && regs.rdx == a[2] &&
		    (n->data.nr != SYS_execveat || (regs.r10 == a[3] && regs.r8 == a[4]));
	if (!same) {
		/* Not in our call any more (a signal came first, say): it runs
		 * on untouched and traps again if it execs again. */
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		if (notify_id_valid(v->listener, n->id))
			notify_continue(v->listener, n->id);
		return 0;
	}

	uint64_t base = 0, interp = 0, argv = 0;
	size_t size = 0;
	_cleanup_free_ void *block = plan_block(p, regs.rsp, &base, &size, &interp, &argv);
	r = block ? tracee_write(tid, base, block, size) : -ENOMEM;
	bool mapped = false, masked = false;
	uint64_t mask = 0, all = ~(uint64_t)0;
	if (r == -EFAULT) {
		/* Its stack ends too close below (many arguments): put the
		 * block in memory it maps now, signals held meanwhile. */
		uint64_t addr = 0;
		size_t len = (size + 2 * 4096) & ~(size_t)4095;
		if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask) < 0 ||
		    ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(all), &all) < 0)
			r = -errno;
		else {
			masked = true;
			r = map_room(tid, &regs, len, &addr);
			mapped = r == 0;
		}
		free(block);
		block = r == 0 ? plan_block(p, addr + len + EXEC_RED_ZONE, &base, &size, &interp, &argv) : NULL;
		if (r == 0)
			r = block ? tracee_write(tid, base, block, size) : -ENOMEM;
		if (r == -EPROTO || r == -ESRCH) {
			/* Not where we left it: let it go as it is. */
			supervisor_debug(v->sup, "view %u: exec by %d: lost it while making room (%s)", v->id, tid,
					 strerror(-r));
			if (masked)
				ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask);
			ptrace(PTRACE_DETACH, tid, NULL, NULL);
			return 0;
		}
	}
	if (r < 0) {
		/* No room for it: the call fails, not restarted. */
		supervisor_debug(v->sup, "view %u: exec by %d: no room for %zu bytes in it (%s)", v->id, tid, size,
				 strerror(-r));
		regs.orig_rax = (uint64_t)-1;
		regs.rax = (uint64_t)(int64_t)(r == -EFAULT || r == -ENOMEM ? -E2BIG : r);
	} else if (mapped) {
		/* At the mmap's exit: run the syscall instruction again. */
		regs.orig_rax = (uint64_t)-1;
		regs.rax = SYS_execve;
		regs.rip -= 2; /* syscall: 0f 05 */
		regs.rdi = interp;
		regs.rsi = argv;
		regs.rdx = p->envp;
	} else {
		regs.orig_rax = SYS_execve; /* an execveat becomes an execve */
		regs.rdi = interp;
		regs.rsi = argv;
		regs.rdx = p->envp;
	}
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0)
		supervisor_debug(v->sup, "view %u: exec by %d: registers not set (%s)", v->id, tid, strerror(errno));
	if (masked)
		ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask);
	ptrace(PTRACE_DETACH, tid, NULL, NULL);
	return 0;
}

/* 1 with *p filled when a service claims the file, 0 when the kernel
 * should run it, -errno to fail the call with. */
static int plan_exec(struct vos_view *v, const struct seccomp_notif *n, struct exec_plan *p)
{
	struct exec_call c;
	exec_call_of(n, &c);
	if (c.flags & AT_EXECVE_CHECK)
		return 0;
	_cleanup_free_ char *path = tracee_read_string(n->pid, c.path, PATH_MAX);
	if (!path)
		return 0; /* a bad pointer or name: the kernel says which */
	p->name = kernel_name(&c, path);
	if (!p->name)
		return -ENOMEM;

	_cleanup_close_ int fd = open_file(v, n->pid, &c, path);
	unsigned char header[VOS_EXEC_HEADER_SIZE];
	if (fd < 0 || !file_header(fd, header))
		return 0;

	struct view_service *services[EXEC_SERVICES_MAX];
	size_t n_services = active_formats(v, services, EXEC_SERVICES_MAX);
	struct vos_exec_file file = { .path = p->name, .header = header, .pid = n->pid };
	int r = 0;
	struct view_service *claimed = NULL;
	for (size_t i = 0; i < n_services && r == 0; i++) {
		memset(&p->handler, 0, sizeof(p->handler));
		r = service_match(services[i], &file, &p->handler);
		claimed = services[i];
	}
	if (r <= 0)
		return r;
	if (!memchr(p->handler.interpreter, '\0', sizeof(p->handler.interpreter)) || !p->handler.interpreter[0])
		return -EINVAL; /* a service bug */

	if (c.dirfd != AT_FDCWD && path[0] != '/' && fd_cloexec(n->pid, c.dirfd))
		return -ENOENT;
	p->depth = chain_depth(n->pid, c.argv);
	if (p->depth >= EXEC_DEPTH_MAX)
		return -ELOOP;
	if ((r = read_argv(n->pid, c.argv, &p->argv, &p->argc)) < 0)
		return r;
	p->envp = c.envp;
	supervisor_debug(v->sup, "view %u: exec %s by %d: %s's format, interpreter %s", v->id, p->name, n->pid,
			 claimed->module->desc.name, p->handler.interpreter);
	return 1;
}

void exec_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	struct exec_plan *p = calloc(1, sizeof(*p));
	int r = p ? plan_exec(v, n, p) : -ENOMEM;
	if (r > 0)
		r = rewrite_call(v, n, p);
	else if (r == 0 && notify_id_valid(v->listener, n->id))
		notify_continue(v->listener, n->id);
	if (r < 0)
		notify_respond(v->listener, n->id, r);
	if (p) {
		free(p->name);
		free(p->argv);
		free(p);
	}
}

#else /* !__x86_64__ */

void exec_trap(struct vos_view *v, const struct seccomp_notif *n)
{
	supervisor_debug(v->sup, "view %u: exec by %d: exec formats of services (umbinfmt mode=trap) are only "
			 "implemented on x86_64; the kernel runs it", v->id, n->pid);
	notify_continue(v->listener, n->id);
}

#endif
