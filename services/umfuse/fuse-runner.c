/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vos-fuse-runner: runs a FUSE program inside a view on the connection
 * that vos mounted (fd 3). Started by the umfuse service, not by users.
 *
 *   vos-fuse-runner probe [--target T] [--source S] --module|--program PATH...
 *       find the first PATH that exists, check it is a module (loads,
 *       defines main) or an executable program, test T and S, and report
 *       in one line on fd 3 (see probe.c)
 *   vos-fuse-runner module [--file-root] MODULE ARGV0 [ARG...]
 *       load MODULE (a libfuse 3 program built as a shared object) and
 *       call its main with ARGV0 ARG...
 *   vos-fuse-runner program --target TARGET PROGRAM [ARG...]
 *       run PROGRAM (libfuse 2 or 3) with fusermount replaced by vos's,
 *       which hands it fd 3, and TARGET detached from its mount namespace
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "burst-poll.h"
#include "fuse-runner.h"
#include "vos-fuse-hints.h"

#define FUSE_MAJOR 10
#define FUSE_MINOR 229
#define FUSERMOUNT_DIR_NAME "vos-fuse-bin"

static const char *program_name = "vos-fuse-runner";

static int usage(void)
{
	fprintf(stderr, "usage: %s probe [--target T] [--source S] --module|--program PATH... | module [--file-root] MODULE ARGV0 [ARG...] | "
		"program --target TARGET PROGRAM [ARG...]\n", program_name);
	return 2;
}

/* Whether `sym` is defined by the module itself, not by a library it links. */
static bool module_own(void *handle, const void *sym)
{
	struct link_map *lm = NULL;
	Dl_info info;
	return sym && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm && dladdr(sym, &info) &&
	       info.dli_fname && strcmp(info.dli_fname, lm->l_name) == 0;
}

/* Load MODULE and find its own main, and its hints (vos-fuse-hints.h) if
 * it has some. NULL, with the reason in `error`, if it is not a umfuse
 * module. */
static int (*load_main(const char *module, unsigned *hints, char *error, size_t error_size))(int, char **)
{
	dlerror();
	void *handle = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(error, error_size, "not a loadable shared object: %s", dlerror());
		return NULL;
	}
	/* main must be the module's own, not one of a library it links. */
	void *sym = dlsym(handle, "main");
	if (!module_own(handle, sym)) {
		snprintf(error, error_size, "no main function: not a FUSE program built as a module "
			 "(see vos-fuse-module(1))");
		dlclose(handle);
		return NULL;
	}
	const unsigned *module_hints = dlsym(handle, "vos_fuse_module_hints");
	*hints = module_own(handle, module_hints) ? *module_hints : 0;
	return (int (*)(int, char **))sym;
}

static int run_probe(int argc, char **argv)
{
	const char *target = NULL, *source = NULL;
	int kind = 0; /* 'm' or 'p' */
	int i = 0;
	for (; i < argc && !kind; i++) {
		if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
			target = argv[++i];
		else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc)
			source = argv[++i];
		else if (strcmp(argv[i], "--module") == 0)
			kind = 'm';
		else if (strcmp(argv[i], "--program") == 0)
			kind = 'p';
		else
			return usage();
	}
	FILE *out = kind ? fdopen(RUNNER_FUSE_FD, "w") : NULL;
	if (!out)
		return usage();

	struct stat st;
	char root = target && stat(target, &st) == 0 && S_ISREG(st.st_mode) ? 'f' : 'd';
	char src = source && access(source, F_OK) == 0 ? '1' : '0';
	for (int first = i; i < argc; i++) {
		if (stat(argv[i], &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		char error[512] = "";
		if (kind == 'p' && access(argv[i], X_OK) < 0)
			snprintf(error, sizeof(error), "not executable: %s", strerror(errno));
		else if (kind == 'm') {
			unsigned hints;
			load_main(argv[i], &hints, error, sizeof(error));
		}
		for (char *p = error; *p; p++)
			if (*p == '\n')
				*p = ' ';
		fprintf(out, "%s %d %c %c %s\n", error[0] ? "bad" : "ok", i - first, root, src, error);
		return fclose(out) == 0 ? 0 : 1;
	}
	fprintf(out, "missing - %c %c\n", root, src);
	return fclose(out) == 0 ? 0 : 1;
}

static int check_fuse_fd(void)
{
	struct stat st;
	if (fstat(RUNNER_FUSE_FD, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != FUSE_MAJOR || minor(st.st_rdev) != FUSE_MINOR) {
		fprintf(stderr, "%s: fd %d is not a FUSE connection: this program is started by the umfuse service\n",
			program_name, RUNNER_FUSE_FD);
		return -EBADF;
	}
	return 0;
}

/* A module that crashes ends this process, and with it the connection
 * (the request in flight fails with ECONNABORTED, later ones with
 * ENOTCONN): say which module it was, then die of the signal as before. */
static const char *crashing_module;

static void say_crash(int signo)
{
	const char *sig = signo == SIGSEGV ? "SIGSEGV" : signo == SIGBUS ? "SIGBUS" : signo == SIGFPE ? "SIGFPE"
			: signo == SIGILL ? "SIGILL" : "SIGABRT";
	const char *parts[] = { "umfuse: ", crashing_module, " crashed (", sig,
				"); its mount now fails with ENOTCONN\n" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		ssize_t n = write(STDERR_FILENO, parts[i], strlen(parts[i]));
		(void)n;
	}
	/* SA_RESETHAND restored the default action: the fault happens
	 * again on return, abort() raises again by itself. */
}

static void report_crashes(const char *module)
{
	const char *slash = strrchr(module, '/');
	crashing_module = slash ? slash + 1 : module;
	struct sigaction sa = { .sa_handler = say_crash, .sa_flags = SA_RESETHAND };
	sigemptyset(&sa.sa_mask);
	const int signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
}

static int run_module(int argc, char **argv)
{
	mode_t root = S_IFDIR;
	if (argc > 0 && strcmp(argv[0], "--file-root") == 0) {
		root = S_IFREG;
		argc--, argv++;
	}
	if (argc < 2)
		return usage();
	if (check_fuse_fd() < 0)
		return 1;
	report_crashes(argv[0]);
	int r = runner_seccomp(false);
	if (r < 0) {
		fprintf(stderr, "%s: cannot install the seccomp filter: %s\n", program_name, strerror(-r));
		return 1;
	}
	runner_stat_set_root(root);
	char error[512];
	unsigned hints = 0;
	int (*module_main)(int, char **) = load_main(argv[0], &hints, error, sizeof(error));
	if (!module_main) {
		fprintf(stderr, "%s: %s: %s\n", program_name, argv[0], error);
		return 1;
	}
	runner_io_set_hints(hints);
	if (!(hints & VOS_FUSE_HINT_SERIAL_READER))
		runner_poll_start();
	/* exit(), not return: the module's atexit handlers and stdio
	 * buffers are flushed as for the program it was written as. */
	exit(module_main(argc - 1, argv + 1));
}

static int run_program(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[0], "--target") != 0 || argv[1][0] != '/' || argv[2][0] != '/')
		return usage();
	const char *target = argv[1];
	char **prog_argv = argv + 2;
	if (check_fuse_fd() < 0)
		return 1;

	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "%s: cannot find myself: %s\n", program_name, strerror(errno));
		return 1;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	if (snprintf(dir, sizeof(dir), "%s/%s", self, FUSERMOUNT_DIR_NAME) >= (int)sizeof(dir) ||
	    access(dir, X_OK) < 0) {
		fprintf(stderr, "%s: %s is missing: vos is not installed completely\n", program_name, dir);
		return 1;
	}

	const char *what;
	int r = runner_private_mounts(target, dir, &what);
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", program_name, what, strerror(-r));
		return 1;
	}
	const char *path = getenv("PATH");
	char *new_path;
	if (asprintf(&new_path, "%s:%s", dir, path && *path ? path : "/usr/local/bin:/usr/bin:/bin") < 0 ||
	    setenv("PATH", new_path, 1) < 0 || setenv("VOS_FUSE_FD", "3", 1) < 0) {
		fprintf(stderr, "%s: out of memory\n", program_name);
		return 1;
	}
	free(new_path);
	if ((r = runner_seccomp(true)) < 0) {
		fprintf(stderr, "%s: cannot install the seccomp filter: %s\n", program_name, strerror(-r));
		return 1;
	}
	execv(prog_argv[0], prog_argv);
	fprintf(stderr, "%s: cannot run %s: %s\n", program_name, prog_argv[0], strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "probe") == 0)
		return run_probe(argc - 2, argv + 2);
	if (strcmp(argv[1], "module") == 0)
		return run_module(argc - 2, argv + 2);
	if (strcmp(argv[1], "program") == 0)
		return run_program(argc - 2, argv + 2);
	if (strcmp(argv[1], "poll") == 0 && argc == 3)
		return burst_poll_run(argv[2]); /* fuse-runner-poll.c starts it */
	return usage();
}
