/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "filter.h"
#include "helper.h"
#include "util.h"

/* What the setup child reports: its result, and with it the namespace fds. */
struct setup_report {
	int32_t result;
	const char *error;
	pid_t helper_pid;
};

static int write_id_maps(uid_t uid, gid_t gid)
{
	char line[64];
	int r = write_file("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT)
		return r;
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)uid);
	if ((r = write_file("/proc/self/uid_map", line)) < 0)
		return r;
	snprintf(line, sizeof(line), "0 %u 1\n", (unsigned)gid);
	return write_file("/proc/self/gid_map", line);
}

/* unshare(flags), flags including CLONE_NEWUSER, for a root launcher: the
 * view keeps every id (an identity map, setgroups allowed), so host files
 * keep their owners and root in the view its access to them; it lacks only
 * the privileges that belong to the initial user namespace. A map wider
 * than the writer's own id must be written from outside the new namespace:
 * a child that stays outside writes it. */
static int unshare_identity_mapped(int flags)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pid_t self = getpid();
	pid_t mapper = fork();
	if (mapper < 0) {
		int r = -errno;
		close(go[0]);
		close(go[1]);
		return r;
	}
	if (mapper == 0) {
		char c, path[64];
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)self);
		if (write_file(path, "0 0 4294967295\n") < 0)
			_exit(1);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)self);
		_exit(write_file(path, "0 0 4294967295\n") < 0 ? 1 : 0);
	}
	close(go[0]);
	int r = unshare(flags) < 0 ? -errno : 0;
	if (r == 0 && write(go[1], "m", 1) != 1)
		r = -errno;
	close(go[1]);
	int status;
	while (waitpid(mapper, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -EPERM;
	return r;
}

void launcher_signals(sigset_t *ret)
{
	sigemptyset(ret);
	sigaddset(ret, SIGCHLD);
	sigaddset(ret, SIGINT);
	sigaddset(ret, SIGQUIT);
	sigaddset(ret, SIGTERM);
	sigaddset(ret, SIGHUP);
}

static void reset_signals(void)
{
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

/* Runs in the setup child: create the namespaces, start the helper on
 * `helper_sock`, send the namespace fds on `report_sock`. */
static _Noreturn void setup_child(const struct launch_config *cfg, int report_sock, int helper_sock)
{
	struct setup_report rep = { 0 };
	uid_t uid = getuid();
	gid_t gid = getgid();

	reset_signals();
	int flags = CLONE_NEWNS | (cfg->user_namespace ? CLONE_NEWUSER : 0);
	bool identity = cfg->user_namespace && geteuid() == 0;
	int r = identity ? unshare_identity_mapped(flags) : unshare(flags) < 0 ? -errno : 0;
	if (r < 0) {
		rep.result = r;
		rep.error = cfg->user_namespace ? "cannot create a user namespace (is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?)"
						: "cannot create a mount namespace";
		goto fail;
	}
	if (cfg->user_namespace && !identity && (rep.result = write_id_maps(uid, gid)) < 0) {
		rep.error = "cannot write the user namespace's id maps";
		goto fail;
	}
	/* Mounts made in the view never propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		rep.result = -errno;
		rep.error = "cannot make the view's mounts private";
		goto fail;
	}

	pid_t helper = fork();
	if (helper < 0) {
		rep.result = -errno;
		rep.error = "cannot start the view helper";
		goto fail;
	}
	if (helper == 0) {
		close(report_sock);
		if (helper_sock != 3) {
			dup2(helper_sock, 3);
			close(helper_sock);
		}
		close_range(4, ~0U, 0);
		helper_main(3, cfg->kill_on_supervisor_death);
	}

	int fds[2] = {
		cfg->user_namespace ? open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC) : -1,
		open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC),
	};
	if (fds[1] < 0 || (cfg->user_namespace && fds[0] < 0)) {
		rep.result = -errno;
		rep.error = "cannot open the view's namespaces";
		goto fail;
	}
	rep.helper_pid = helper;
	fd_send(report_sock, &rep, sizeof(rep), cfg->user_namespace ? fds : fds + 1,
		cfg->user_namespace ? 2 : 1);
	_exit(0);
fail:
	fd_send(report_sock, &rep, sizeof(rep), NULL, 0);
	_exit(1);
}

#define SCRIPT_ARGC_MAX 4096

static int exec_untrapped(const char *path, char *const argv[])
{
	syscall(SYS_execveat, AT_FDCWD, path, argv, environ, (unsigned long long)FILTER_EXEC_UNTRAPPED);
	return errno;
}

/* execvp() with execveat flagged FILTER_EXEC_UNTRAPPED: the filter is on
 * and nobody answers its notifications before the command runs. As glibc's
 * execvp: PATH (default /bin:/usr/bin) unless the name has a '/', EACCES
 * remembered while searching on, a file without a known format run by
 * /bin/sh. Only system calls (see command_child). Returns the errno. */
static int exec_command(char *const argv[])
{
	const char *file = argv[0];
	char path[PATH_MAX];
	int err;
	bool eacces = false;
	if (!file[0])
		return ENOENT;
	if (strchr(file, '/')) {
		snprintf(path, sizeof(path), "%s", file);
		err = exec_untrapped(path, argv);
	} else {
		const char *search = getenv("PATH");
		if (!search)
			search = "/bin:/usr/bin";
		err = ENOENT;
		for (const char *p = search;; p++) {
			const char *end = strchr(p, ':');
			size_t dir = end ? (size_t)(end - p) : strlen(p);
			if (snprintf(path, sizeof(path), "%.*s%s%s", (int)dir, p, dir ? "/" : "", file) < (int)sizeof(path)) {
				err = exec_untrapped(path, argv);
				if (err == EACCES)
					eacces = true;
				else if (err != ENOENT && err != ESTALE && err != ENOTDIR && err != ENODEV &&
					 err != ETIMEDOUT)
					break;
			}
			if (!end)
				break;
			p = end;
		}
		if (err != ENOEXEC && eacces)
			err = EACCES;
	}
	if (err != ENOEXEC)
		return err;
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char *sh[SCRIPT_ARGC_MAX + 2];
	if (argc > SCRIPT_ARGC_MAX)
		return ENOEXEC;
	sh[0] = (char *)"/bin/sh";
	sh[1] = path;
	for (size_t i = 1; i <= argc; i++)
		sh[i + 1] = argv[i];
	exec_untrapped("/bin/sh", sh);
	return ENOEXEC;
}

/* Runs in the command's child: join the view, trap, exec. Reports the
 * listener on `sock`, or an error message with no fd. The supervisor has
 * threads by now (FUSE servers): only system calls here, nothing that
 * allocates or takes a lock another thread might have held at fork. */
static _Noreturn void command_child(const struct launch_config *cfg, const struct sock_fprog *filter,
				    const char *cwd, int userns, int mntns, int sock, int exec_pipe)
{
	static const char no_cwd[] = "vos: warning: cannot enter the working directory in the view, using /\n";
	struct setup_report rep = { 0 };

	reset_signals();
	if (userns >= 0 && setns(userns, CLONE_NEWUSER) < 0) {
		rep.result = -errno;
		rep.error = "cannot join the view's user namespace";
		goto fail;
	}
	if (setns(mntns, CLONE_NEWNS) < 0) {
		rep.result = -errno;
		rep.error = "cannot join the view's mount namespace";
		goto fail;
	}
	close(userns);
	close(mntns);
	/* setns() moved us to the namespace's root; go back. */
	if (!cwd || chdir(cwd) < 0)
		(void)!write(STDERR_FILENO, no_cwd, sizeof(no_cwd) - 1);

	int listener = filter_install(filter);
	if (listener < 0) {
		rep.result = listener;
		rep.error = "cannot install the view's seccomp filter";
		goto fail;
	}
	fd_send(sock, &rep, sizeof(rep), &listener, 1);
	close(listener);
	close(sock);

	int err = exec_command(cfg->argv);
	(void)!write(exec_pipe, &err, sizeof(err));
	_exit(127);
fail:
	fd_send(sock, &rep, sizeof(rep), NULL, 0);
	_exit(127);
}

int launcher_prepare(const struct launch_config *cfg, struct launched_view *ret, const char **ret_error)
{
	int report[2], helper[2];
	struct setup_report rep;
	int fds[2];

	*ret_error = "cannot create sockets";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, helper) < 0) {
		int r = -errno;
		close(report[0]);
		close(report[1]);
		return r;
	}
	_cleanup_close_ int report_ours = report[0], report_theirs = report[1];
	_cleanup_close_ int helper_ours = helper[0], helper_theirs = helper[1];

	*ret_error = "cannot fork";
	pid_t setup = fork();
	if (setup < 0)
		return -errno;
	if (setup == 0) {
		close(report_ours);
		close(helper_ours);
		setup_child(cfg, report_theirs, helper_theirs);
	}
	helper_theirs = (close(helper_theirs), -1);
	report_theirs = (close(report_theirs), -1);

	ssize_t n = fd_recv(report_ours, &rep, sizeof(rep), fds, 2);
	while (waitpid(setup, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(rep)) {
		*ret_error = "the view's setup process failed";
		return n < 0 ? (int)n : -EIO;
	}
	if (rep.result < 0) {
		*ret_error = rep.error;
		return rep.result;
	}

	/* From here on, processes of the view that lose their parent are
	 * reparented to us, so we know when the last one is gone. The helper
	 * was orphaned before this point and is not ours to wait for. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		int r = -errno;
		close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		*ret_error = "cannot become the view's subreaper";
		return r;
	}

	*ret = (struct launched_view){
		.pid = 0,
		.listener = -1,
		.helper = TAKE_FD(helper_ours),
		.helper_pid = rep.helper_pid,
		.userns = cfg->user_namespace ? fds[0] : -1,
		.mntns = cfg->user_namespace ? fds[1] : fds[0],
	};
	*ret_error = NULL;
	return 0;
}

int launcher_exec(const struct launch_config *cfg, scmp_filter_ctx filter, struct launched_view *view,
		  const char **ret_error)
{
	int report[2], exec_pipe[2];
	struct setup_report rep;

	*ret_error = "cannot create sockets";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report) < 0)
		return -errno;
	_cleanup_close_ int report_ours = report[0], report_theirs = report[1];
	if (pipe2(exec_pipe, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int exec_read = exec_pipe[0], exec_write = exec_pipe[1];

	/* Everything the child needs is prepared here, before fork. */
	struct sock_fprog prog;
	int r = filter_compile(filter, &prog);
	if (r < 0) {
		*ret_error = "cannot compile the view's seccomp filter";
		return r;
	}
	char cwd[PATH_MAX];
	bool have_cwd = getcwd(cwd, sizeof(cwd)) != NULL;

	*ret_error = "cannot fork";
	pid_t pid = fork();
	if (pid < 0) {
		free(prog.filter);
		return -errno;
	}
	if (pid == 0) {
		close(report_ours);
		close(view->helper);
		close(exec_read);
		command_child(cfg, &prog, have_cwd ? cwd : NULL, view->userns, view->mntns, report_theirs, exec_write);
	}
	free(prog.filter);
	exec_write = (close(exec_write), -1);
	report_theirs = (close(report_theirs), -1);

	int listener;
	ssize_t n = fd_recv(report_ours, &rep, sizeof(rep), &listener, 1);
	if (n != sizeof(rep) || rep.result < 0 || listener < 0) {
		if (listener >= 0)
			close(listener);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*ret_error = n == sizeof(rep) && rep.result < 0 ? rep.error : "the command's process failed before exec";
		return n == sizeof(rep) && rep.result < 0 ? rep.result : -EIO;
	}

	/* The pipe closes on a successful exec, or carries execvp's errno.
	 * Nothing in the child traps before exec, so this cannot deadlock. */
	int exec_err = 0;
	if (read(exec_read, &exec_err, sizeof(exec_err)) == sizeof(exec_err)) {
		close(listener);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*ret_error = "exec";
		return -exec_err;
	}

	view->pid = pid;
	view->listener = listener;
	*ret_error = NULL;
	return 0;
}
