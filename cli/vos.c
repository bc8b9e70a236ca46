/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vos: start a command in a new view (`vos run`), report kernel features
 * (`vos features`). Installed also as `umview`, taking umview's flags. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vos/vos.h>

#include "config.h"
#include "vos-features.h"
#include "../daemon/filter.h"
#include "../daemon/launcher.h"
#include "../daemon/options.h"
#include "../daemon/run-client.h"
#include "../libvos/daemon-proto.h"
#include "../daemon/supervisor.h"
#include "../daemon/util.h"
#include "../daemon/view.h"
#include "../libvos/control-proto.h"

#define MAX_PRELOAD 64

static const char *arg_services[MAX_PRELOAD];
static size_t arg_n_services;
static bool arg_no_nesting;
static const char *arg_log_file;
static bool arg_verbose;
static bool arg_cwd_layer = true;
static bool arg_kill_on_death;
static enum { RUN_AUTO, RUN_EMBEDDED, RUN_DAEMON } arg_mode = RUN_AUTO;

static void run_usage(FILE *to, const char *prog)
{
	fprintf(to,
		"Usage: %s [OPTIONS] [--] COMMAND [ARGS...]\n"
		"Run COMMAND in a new view.\n\n"
		"  -p, --service NAME[,OPT=VAL...]  load service NAME first (repeatable)\n"
		"  -x, --nonesting                  inside a view, fail instead of running\n"
		"                                   COMMAND in the current view\n"
		"  -o, --output FILE                write the supervisor's debug log to FILE\n"
		"  -v, --verbose                    write the debug log to stderr\n"
		"      --on-supervisor-death=error|kill\n"
		"                                   if the supervisor dies: calls fail (default)\n"
		"                                   or every process of the view is killed\n"
		"      --native-cwd                 do not put the working directory behind\n"
		"                                   vos's passthrough layer (native speed there,\n"
		"                                   but mount points created in it stay invisible\n"
		"                                   to processes already inside it)\n"
		"      --daemon                     hand the view to vosd (fail if unreachable)\n"
		"      --embedded                   serve the view from this process, even\n"
		"                                   when vosd is reachable\n"
		"  -n, --nokmulti, --nokvm          accepted for umview compatibility; no effect\n"
		"  -h, --help                       show this help\n\n"
		"The exit status is COMMAND's (128+N if it was killed by signal N).\n", prog);
}

static int parse_run_args(int argc, char **argv, const char *prog)
{
	static const struct option longopts[] = {
		{ "service", required_argument, NULL, 'p' },
		{ "nonesting", no_argument, NULL, 'x' },
		{ "output", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "nokmulti", no_argument, NULL, 'K' },
		{ "nokvm", no_argument, NULL, 'M' },
		{ "native-cwd", no_argument, NULL, 'N' },
		{ "on-supervisor-death", required_argument, NULL, 'S' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "embedded", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;
	optind = 1;
	opterr = 0; /* our own one-line messages below */
	/* '+': options end at the command, as in umview. */
	while ((c = getopt_long(argc, argv, "+:p:xo:vnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *name;
			struct option_list *opts;
			if (service_spec_parse(optarg, &name, &opts) < 0) {
				fprintf(stderr, "%s: malformed service '%s': expected NAME[,OPT=VAL...] with NAME of lowercase letters, digits and '_'\n",
					prog, optarg);
				return -EINVAL;
			}
			free(name);
			option_list_free(opts);
			if (arg_n_services == MAX_PRELOAD) {
				fprintf(stderr, "%s: too many -p options (at most %d)\n", prog, MAX_PRELOAD);
				return -EINVAL;
			}
			arg_services[arg_n_services++] = optarg;
			break;
		}
		case 'x':
			arg_no_nesting = true;
			break;
		case 'o':
			arg_log_file = optarg;
			break;
		case 'v':
			arg_verbose = true;
			break;
		case 'N':
			arg_cwd_layer = false;
			break;
		case 'S':
			if (streq(optarg, "kill"))
				arg_kill_on_death = true;
			else if (streq(optarg, "error"))
				arg_kill_on_death = false;
			else {
				fprintf(stderr, "%s: --on-supervisor-death takes 'error' or 'kill', not '%s'\n", prog, optarg);
				return -EINVAL;
			}
			break;
		case 'D':
			arg_mode = RUN_DAEMON;
			break;
		case 'E':
			arg_mode = RUN_EMBEDDED;
			break;
		case 'n':
		case 'K':
		case 'M':
			break; /* umview's kernel extensions do not exist any more */
		case 'h':
			run_usage(stdout, prog);
			exit(0);
		case ':':
			fprintf(stderr, "%s: option '%s' needs an argument\n", prog, argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "%s: unrecognized option '%s' (try '%s --help')\n", prog, argv[optind - 1], prog);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given: usage: %s [OPTIONS] -- COMMAND [ARGS...]\n", prog, prog);
		return -EINVAL;
	}
	return optind;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Inside a view, `vos run` joins the view it runs in: the -p services are
 * added to it and the command runs under the same supervisor. A second,
 * stacked view is impossible anyway: the kernel allows one seccomp
 * listener per filter chain (seccomp_load fails with EBUSY), and it would
 * be wrong: its "continue" answers would skip the outer supervisor. */
static int run_nested(char **argv, const char *prog)
{
	for (size_t i = 0; i < arg_n_services; i++) {
		char error[512];
		int r = vos_service_add(arg_services[i], error, sizeof(error));
		if (r < 0 && r != -EEXIST) {
			fprintf(stderr, "%s: %s\n", prog, error[0] ? error : strerror(-r));
			return 1;
		}
	}
	execvp(argv[0], argv);
	fprintf(stderr, "%s: %s: %s\n", prog, argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

/* --- vos run through vosd (daemon/run-client.h) ------------------------ */

#define RUN_DAEMON_UNREACHABLE (-1)

/* Prepare the view here, hand it to vosd, wait for the command. Returns the
 * exit code, or RUN_DAEMON_UNREACHABLE to fall back to the embedded path. */
static int run_via_daemon(char **argv, const char *prog, FILE *debug)
{
	char path[PATH_MAX];
	/* Inside a view, vos run joins it (nesting): the embedded path does that. */
	if (arg_mode == RUN_AUTO && (prctl(VOS_PRCTL_MAGIC, 0UL, 0UL, 0UL, 0UL) >= 0 || errno != EINVAL))
		return RUN_DAEMON_UNREACHABLE;
	vosd_socket_path(path, sizeof(path));
	_cleanup_close_ int sock = vosd_connect(path);
	if (sock < 0) {
		if (arg_mode == RUN_AUTO)
			return RUN_DAEMON_UNREACHABLE;
		fprintf(stderr, "%s: cannot reach vosd at %s: %s\n", prog, path, strerror(-sock));
		return 1;
	}

	sigset_t mask;
	launcher_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	struct run_client_request req = {
		.argv = argv,
		.services = arg_services,
		.n_services = arg_n_services,
		.search = getenv("VOS_SERVICE_PATH"),
		.cwd_layer = arg_cwd_layer,
		.kill_on_supervisor_death = arg_kill_on_death,
	};
	struct run_client rc;
	char warning[PATH_MAX + 256], why[PATH_MAX + 512];
	int r = run_client_prepare(sock, &req, &rc, warning, sizeof(warning), why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, why);
		return 1;
	}
	if (warning[0])
		fprintf(stderr, "%s: %s\n", prog, warning);
	if (debug)
		fprintf(debug, "view %u served by vosd at %s (its log has the details)\n", rc.id, path);

	bool exec_failed;
	r = run_client_start(&rc, why, sizeof(why), &exec_failed);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, why);
		return exec_failed ? (r == -ENOENT ? 127 : 126) : 1;
	}
	int status = run_client_wait(rc.view.pid);
	if (status < 0) {
		fprintf(stderr, "%s: waiting for the command failed: %s\n", prog, strerror(-status));
		return 1;
	}
	return exit_code(status);
}

static int cmd_run(int argc, char **argv, const char *prog)
{
	int first = parse_run_args(argc, argv, prog);
	if (first < 0)
		return 2;
	int outer = vos_view_id();
	if (outer >= 0 && arg_no_nesting) {
		fprintf(stderr, "%s: already inside view %d, and -x forbids joining it\n", prog, outer);
		return 1;
	}
	if (outer >= 0)
		return run_nested(argv + first, prog);

	FILE *debug = NULL;
	if (arg_log_file) {
		debug = fopen(arg_log_file, "we");
		if (!debug) {
			fprintf(stderr, "%s: cannot open log file %s: %s\n", prog, arg_log_file, strerror(errno));
			return 2;
		}
	} else if (arg_verbose) {
		debug = stderr;
	}

	if (arg_mode != RUN_EMBEDDED) {
		int code = run_via_daemon(argv + first, prog, debug);
		if (code != RUN_DAEMON_UNREACHABLE)
			return code;
	}

	struct supervisor sup;
	supervisor_init(&sup, debug);

	struct vos_view *view;
	if (view_new(&sup, 1, &view) < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	view->host.exec_trapped = filter_exec_wanted();
	/* Services given with -p load before the command exists, so a bad
	 * one stops everything before anything runs. */
	const char *search = getenv("VOS_SERVICE_PATH");
	for (size_t i = 0; i < arg_n_services; i++) {
		_cleanup_free_ char *spec = strdup(arg_services[i]);
		if (!spec)
			return 1;
		char *options = strchr(spec, ',');
		if (options)
			*options++ = '\0';
		char error[512] = "";
		if (view_add_service(view, spec, options, search, error, sizeof(error)) < 0) {
			fprintf(stderr, "%s: %s\n", prog, error);
			view_free(view);
			return 1;
		}
	}

	scmp_filter_ctx filter;
	int r = filter_build(&filter, view->host.exec_trapped);
	if (r < 0) {
		fprintf(stderr, "%s: cannot build the seccomp filter: %s\n", prog, strerror(-r));
		view_free(view);
		return 1;
	}

	/* Signals are read from a signalfd by the supervisor; block them
	 * before any child exists (children restore the default mask). */
	sigset_t mask;
	launcher_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	struct launch_config cfg = {
		.argv = argv + first,
		/* Always, root included (with an identity map): a kernel
		 * binfmt_misc mount (umbinfmt) is per user namespace. */
		.user_namespace = true,
		.kill_on_supervisor_death = arg_kill_on_death,
	};
	struct launched_view launched;
	const char *error;
	r = launcher_prepare(&cfg, &launched, &error);
	if (r < 0) {
		seccomp_release(filter);
		view_free(view);
		fprintf(stderr, "%s: %s: %s\n", prog, error ? error : "cannot start the view", strerror(-r));
		return 1;
	}
	view_attach_namespaces(view, &launched);

	/* The directory the command starts in goes behind the working-
	 * directory layer, so mount points made there exist in the view only. */
	char cwd[PATH_MAX];
	struct stat cwd_st;
	/* Only over a directory of the caller's: in a user namespace, other
	 * users' directories cannot be written through FUSE (see
	 * daemon/cwd-layer.c), and "/" would put everything behind it. */
	if (arg_cwd_layer && getcwd(cwd, sizeof(cwd)) && !streq(cwd, "/") && stat(cwd, &cwd_st) == 0 &&
	    cwd_st.st_uid == geteuid()) {
		r = view_start_cwd_layer(view, cwd, cfg.user_namespace);
		if (r < 0)
			fprintf(stderr, "%s: warning: no working-directory layer over %s (%s): mount points created there will not be visible from it\n",
				prog, cwd, strerror(-r));
	}

	r = launcher_exec(&cfg, filter, &launched, &error);
	seccomp_release(filter);
	if (r < 0) {
		view_free(view);
		if (error && streq(error, "exec")) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[first], strerror(-r));
			return r == -ENOENT ? 127 : 126;
		}
		fprintf(stderr, "%s: %s: %s\n", prog, error ? error : "cannot start the view", strerror(-r));
		return 1;
	}
	view_attach_command(view, &launched);

	int status = supervisor_run_view(&sup, view);
	view_free(view);
	if (status < 0) {
		fprintf(stderr, "%s: supervisor failed: %s\n", prog, strerror(-status));
		return 1;
	}
	return exit_code(status);
}

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: vos COMMAND [ARGS...]\n\n"
		"Commands:\n"
		"  run [OPTIONS] [--] CMD [ARGS...]  run CMD in a new view (see vos run --help)\n"
		"  features                          show the kernel features vos detects and uses\n"
		"  version                           show the version\n"
		"  help                              show this help\n");
}

int main(int argc, char **argv)
{
	_cleanup_free_ char *copy = strdup(argv[0]);
	const char *name = copy ? basename(copy) : "vos";

	if (streq(name, "umview"))
		return cmd_run(argc, argv, "umview");

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (streq(cmd, "run"))
		return cmd_run(argc - 1, argv + 1, "vos run");
	if (streq(cmd, "features"))
		return features_print(stdout);
	if (streq(cmd, "version") || streq(cmd, "--version")) {
		printf("vos %s\n", VOS_VERSION);
		return 0;
	}
	if (streq(cmd, "help") || streq(cmd, "--help") || streq(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vos: unknown command '%s' (try 'vos help')\n", cmd);
	return 2;
}
