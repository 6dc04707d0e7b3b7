// SPDX-License-Identifier: MIT
/*
 * paird: holds tun/tap ports and serves them over an HTTP/JSON API from a
 * single thread running one libevent loop. main() parses the flags, builds
 * the pieces in dependency order (the Unix socket and the TCP listener with
 * its token, loop, port I/O, port set from the state file, link monitor,
 * API, one HTTP server per listener), runs the loop until SIGINT or
 * SIGTERM (SIGHUP re-reads the token), and tears everything down in
 * reverse order. Every failure before the loop runs is one log line
 * "cannot start: ..." and exit status 2.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "service/config.h"
#include "service/events.h"
#include "service/linkmon.h"
#include "service/log.h"
#include "service/loopshare.h"
#include "service/notify.h"
#include "service/num.h"
#include "service/pathsafe.h"
#include "service/portio_kernel.h"
#include "service/portset.h"
#include "service/secret.h"
#include "service/state.h"

#ifndef PAIRD_VERSION
#define PAIRD_VERSION "0.0.0"
#endif

#define MAX_ALLOW_HOSTS 16
#define TOKEN_MIN	16
#define TOKEN_MAX	512
#define SOCKET_DEFAULT	"/run/paird/paird.sock"
/* Counter snapshots on the event stream: at most this often per port. */
#define EVENTS_COUNTERS_MS 500
/* The exit status of every failure to start (flags, listeners, token, state). */
#define EXIT_START 2

struct options {
	const char *listen; /* NULL: --listen none */
	const char *socket; /* NULL: --socket none */
	const char *socket_group;
	const char *state;
	const char *config; /* --config: the desired state, applied at start and on SIGHUP */
	const char *token_file;
	const char *token_out;
	bool no_auth;
	const char *allow_hosts[MAX_ALLOW_HOSTS];
	size_t n_allow_hosts;
	/* The numeric options (num_options[] below), each within its range. */
	unsigned long long max_ports;
	unsigned long long max_bindings;
	unsigned long long max_connections;
	unsigned long long max_streams;
	unsigned long long max_event_clients;
	unsigned long long event_ring;
	unsigned long long event_heartbeat;
	unsigned long long http_timeout;
	unsigned long long request_timeout;
	unsigned long long capture_memory;
	unsigned long long capture_ring;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: paird [OPTION]...\n"
		"Hold Linux tun/tap ports and serve them over an HTTP/JSON API.\n"
		"\n"
		"      --socket PATH|none     the control socket (default " SOCKET_DEFAULT ");\n"
		"                             who may connect is decided by its mode (0660)\n"
		"                             and group; no token is asked for on it\n"
		"      --socket-group GROUP   the socket's group, a name or a GID (default\n"
		"                             paird's own group: root's when run as root)\n"
		"  -l, --listen ADDR:PORT|none  the TCP listener (default 127.0.0.1:8080);\n"
		"                             :0 picks a free port, [ADDR6]:PORT for IPv6;\n"
		"                             it always needs a token or a dashboard session\n"
		"  -t, --token-file FILE      the TCP token is FILE's first line (%d..%d\n"
		"                             characters); without it paird generates one\n"
		"      --token-out FILE       where the generated token goes (mode 0600;\n"
		"                             default: 'token' beside the socket,\n"
		"                             /run/paird/token) and logs a one-time\n"
		"                             dashboard login URL\n"
		"      --no-auth              no token on a loopback TCP listener (logged as a\n"
		"                             warning: any local user may then use paird)\n"
		"  -a, --allow-host NAME      also accept Host: NAME (repeatable; '*' accepts\n"
		"                             any, but not with --no-auth); loopback names,\n"
		"                             the listen address, and beyond loopback the\n"
		"                             machine's name (and with 0.0.0.0 or :: its\n"
		"                             addresses) are always accepted\n"
		"  -s, --state FILE           keep every acknowledged change in FILE and\n"
		"                             recreate the ports from it at start (in\n"
		"                             directories only root or paird's user may\n"
		"                             change)\n"
		"  -c, --config FILE          the desired state (the document of GET/PUT\n"
		"                             /api/v1/config), applied after --state is\n"
		"                             restored and again on SIGHUP: with both, the\n"
		"                             ports end up as FILE says and the state file\n"
		"                             records it; a bad FILE stops the start\n"
		"      --max-ports N          ports paird will hold (default %d)\n"
		"      --max-bindings N       bindings per port (default %d)\n"
		"      --capture-memory SIZE  memory for all capture rings (default 64M;\n"
		"                             suffixes K, M, G)\n"
		"      --capture-ring SIZE    each port's capture ring, taken from it\n"
		"                             (default 8M, at most 1G)\n"
		"      --max-connections N    concurrent HTTP connections per listener (default 64)\n"
		"      --max-streams N        long-lived streams (captures that follow, events)\n"
		"                             open at once, all listeners (default 32)\n"
		"      --max-event-clients N  event streams (GET /api/v1/events) open at once\n"
		"                             (default %d; each also takes a --max-streams slot)\n"
		"      --event-ring N         events kept for clients that reconnect with\n"
		"                             Last-Event-ID (default %d, %d..%d)\n"
		"      --event-heartbeat SEC  a keepalive comment on every event stream each\n"
		"                             SEC seconds (default %d)\n"
		"      --http-timeout SEC     idle HTTP connection timeout (default 30)\n"
		"      --request-timeout SEC  a request's headers and body must arrive within\n"
		"                             SEC of the connection opening or of its previous\n"
		"                             response (default 10)\n"
		"  -L, --log-level LEVEL      error, warn, info (default) or debug; each\n"
		"                             request is logged at info, a successful read\n"
		"                             (GET, HEAD, OPTIONS) at debug\n"
		"      --log-format FORMAT    text (default) or json: one object per line\n"
		"                             with ts, level, msg and the request fields\n"
		"  -h, --help                 show this help and exit\n"
		"  -V, --version              show the version and exit\n"
		"\n"
		"SIGHUP re-reads --token-file (a bad file keeps the old token) or, with a\n"
		"generated token, logs a new one-time login URL, and applies --config\n"
		"again (a bad file or a kernel refusal is logged and changes nothing);\n"
		"it never stops paird.\n"
		"SIGINT and SIGTERM stop it. Exit status: 0 after SIGINT/SIGTERM, %d when\n"
		"paird could not start (one log line \"cannot start: ...\"), 1 when the\n"
		"event loop failed.\n",
		TOKEN_MIN, TOKEN_MAX, PORTSET_DEFAULT_MAX, PORTSET_DEFAULT_MAX_BINDINGS,
		API_EVENT_CLIENTS, EVENTS_RING_DEFAULT, EVENTS_RING_MIN, EVENTS_RING_MAX,
		API_EVENT_HEARTBEAT, EXIT_START);
}

/* Logs why paird cannot start, in the one format every start-up failure uses. */
static int __attribute__((format(printf, 1, 2))) start_error(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("cannot start: %s", msg);
	return EXIT_START;
}

/* A decimal count, digits only (num.h). */
static int parse_count(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long *out)
{
	uint64_t v;

	if (num_parse_u64(s, min, max, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	static const char suffixes[] = "KkMmGg";
	size_t n = strspn(s, "0123456789");
	unsigned long long mult = 1;
	char digits[24];
	uint64_t v;

	if (n == 0 || n >= sizeof(digits))
		return -EINVAL;
	if (s[n]) {
		const char *x = strchr(suffixes, s[n]);

		if (!x || s[n + 1])
			return -EINVAL;
		mult = 1ull << (10 * (1 + (x - suffixes) / 2));
	}
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (num_parse_u64(digits, 0, UINT64_MAX, &v) < 0 || v > max / mult || v * mult < min)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

enum {
	OPT_MAX_PORTS = 256,
	OPT_MAX_BINDINGS,
	OPT_MAX_CONNS,
	OPT_MAX_STREAMS,
	OPT_MAX_EVENT_CLIENTS,
	OPT_EVENT_RING,
	OPT_EVENT_HEARTBEAT,
	OPT_HTTP_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_CAPTURE_MEMORY,
	OPT_CAPTURE_RING,
	OPT_SOCKET,
	OPT_SOCKET_GROUP,
	OPT_TOKEN_OUT,
	OPT_NO_AUTH,
	OPT_LOG_FORMAT,
	OPT_CONFIG,
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "state", required_argument, NULL, 's' },
	{ "config", required_argument, NULL, 'c' },
	{ "token-file", required_argument, NULL, 't' },
	{ "token-out", required_argument, NULL, OPT_TOKEN_OUT },
	{ "no-auth", no_argument, NULL, OPT_NO_AUTH },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "allow-host", required_argument, NULL, 'a' },
	{ "max-ports", required_argument, NULL, OPT_MAX_PORTS },
	{ "max-bindings", required_argument, NULL, OPT_MAX_BINDINGS },
	{ "capture-memory", required_argument, NULL, OPT_CAPTURE_MEMORY },
	{ "capture-ring", required_argument, NULL, OPT_CAPTURE_RING },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-streams", required_argument, NULL, OPT_MAX_STREAMS },
	{ "max-event-clients", required_argument, NULL, OPT_MAX_EVENT_CLIENTS },
	{ "event-ring", required_argument, NULL, OPT_EVENT_RING },
	{ "event-heartbeat", required_argument, NULL, OPT_EVENT_HEARTBEAT },
	{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "log-level", required_argument, NULL, 'L' },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The numeric options: a value outside [min, max] (or not a number) stops
 * paird with the option's message. @field is the offset of its value in
 * struct options; sizes take a K, M or G suffix.
 */
static const struct num_option {
	int opt;
	int (*parse)(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out);
	unsigned long long min, max;
	size_t field;
	const char *message;
} num_options[] = {
	{ OPT_MAX_PORTS, parse_count, 1, 4096, offsetof(struct options, max_ports),
	  "--max-ports takes 1..4096" },
	{ OPT_MAX_BINDINGS, parse_count, 1, 4096, offsetof(struct options, max_bindings),
	  "--max-bindings takes 1..4096" },
	{ OPT_CAPTURE_MEMORY, parse_size, 0, 1ull << 40, offsetof(struct options, capture_memory),
	  "--capture-memory takes a size up to 1024G (e.g. 64M)" },
	{ OPT_CAPTURE_RING, parse_size, 64ull << 10, 1ull << 30,
	  offsetof(struct options, capture_ring), "--capture-ring takes a size 64K..1G" },
	{ OPT_MAX_CONNS, parse_count, 1, 4096, offsetof(struct options, max_connections),
	  "--max-connections takes 1..4096" },
	{ OPT_MAX_STREAMS, parse_count, 1, 4096, offsetof(struct options, max_streams),
	  "--max-streams takes 1..4096" },
	{ OPT_MAX_EVENT_CLIENTS, parse_count, 1, 4096, offsetof(struct options, max_event_clients),
	  "--max-event-clients takes 1..4096" },
	{ OPT_EVENT_RING, parse_count, EVENTS_RING_MIN, EVENTS_RING_MAX,
	  offsetof(struct options, event_ring), "--event-ring takes 4..65536" },
	{ OPT_EVENT_HEARTBEAT, parse_count, 1, 3600, offsetof(struct options, event_heartbeat),
	  "--event-heartbeat takes 1..3600 seconds" },
	{ OPT_HTTP_TIMEOUT, parse_count, 1, 3600, offsetof(struct options, http_timeout),
	  "--http-timeout takes 1..3600 seconds" },
	{ OPT_REQUEST_TIMEOUT, parse_count, 1, 3600, offsetof(struct options, request_timeout),
	  "--request-timeout takes 1..3600 seconds" },
};

_Static_assert(EVENTS_RING_MIN == 4 && EVENTS_RING_MAX == 65536,
	       "--event-ring's message names the ring's limits");

/* The numeric option @c is, or NULL. */
static const struct num_option *num_option_of(int c)
{
	for (size_t i = 0; i < sizeof(num_options) / sizeof(num_options[0]); i++)
		if (num_options[i].opt == c)
			return &num_options[i];
	return NULL;
}

/* Options that make sense one by one but not together. */
static int check_options(const struct options *o)
{
	if (o->no_auth && o->token_file)
		return start_error("--no-auth and --token-file contradict each other");
	if (o->token_out && (o->token_file || o->no_auth || !o->listen))
		return start_error("--token-out names the generated token, which only a TCP "
				   "listener without --token-file or --no-auth has");
	if (!o->listen && !o->socket)
		return start_error("--listen none and --socket none leave no way to reach paird");
	/*
	 * Without a token the Host check is all that keeps a web page from
	 * rebinding a name of its own to 127.0.0.1 and driving paird: '*'
	 * would leave nothing.
	 */
	for (size_t i = 0; o->no_auth && i < o->n_allow_hosts; i++)
		if (strcmp(o->allow_hosts[i], "*") == 0)
			return start_error("--no-auth with --allow-host '*' lets any web page a "
					   "browser here opens drive paird (DNS rebinding): name "
					   "the hosts, or keep the token");
	return 0;
}

/* Fills @o from the command line; 0, or the exit status after logging why not. */
static int parse_args(int argc, char **argv, struct options *o)
{
	const struct num_option *num;
	int c, lvl;

	opterr = 0; /* getopt's own messages would not share the start-up format */
	while ((c = getopt_long(argc, argv, ":l:s:c:t:a:L:hV", longopts, NULL)) != -1) {
		num = num_option_of(c);
		if (num) {
			if (num->parse(optarg, num->min, num->max,
				       (unsigned long long *)((char *)o + num->field)) < 0)
				return start_error("%s", num->message);
			continue;
		}
		switch (c) {
		case 'l':
			o->listen = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case OPT_SOCKET:
			o->socket = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case OPT_SOCKET_GROUP:
			o->socket_group = optarg;
			break;
		case OPT_TOKEN_OUT:
			o->token_out = optarg;
			break;
		case OPT_NO_AUTH:
			o->no_auth = true;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 't':
			o->token_file = optarg;
			break;
		case 'a':
			if (o->n_allow_hosts == MAX_ALLOW_HOSTS)
				return start_error("at most %d --allow-host", MAX_ALLOW_HOSTS);
			o->allow_hosts[o->n_allow_hosts++] = optarg;
			break;
		case 'L':
			lvl = log_level_parse(optarg);
			if (lvl < 0)
				return start_error("--log-level takes error, warn, info or debug");
			log_set_level((enum log_level)lvl);
			break;
		case OPT_LOG_FORMAT:
			lvl = log_format_parse(optarg);
			if (lvl < 0)
				return start_error("--log-format takes text or json");
			log_set_format((enum log_format)lvl);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("paird %s\n", PAIRD_VERSION);
			exit(0);
		case ':':
			return start_error("%s needs a value (see paird --help)", argv[optind - 1]);
		default:
			if (optopt)
				return start_error("unknown option -%c (see paird --help)", optopt);
			return start_error("unknown option %s (see paird --help)",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return start_error("unexpected argument '%s' (see paird --help)", argv[optind]);
	return check_options(o);
}

/*
 * Reads the token: FILE's first line, trailing whitespace removed. NULL
 * with the reason in @why (at start it stops paird; on SIGHUP the old
 * token stays).
 */
static char *read_token(const char *path, char *why, size_t size)
{
	char buf[TOKEN_MAX + 2];
	struct stat st;
	/* A FIFO in the file's place is refused, never waited on. */
	int fd = pathsafe_open_read(path, 0, 0, &st);
	char *copy;
	size_t n = 0;
	ssize_t got;

	if (fd == -EINVAL) {
		snprintf(why, size, "the token file %s is not a regular file", path);
		return NULL;
	}
	if (fd < 0) {
		snprintf(why, size, "cannot read the token file %s: %s", path, strerror(-fd));
		return NULL;
	}
	if (st.st_mode & 077)
		log_warn("token file %s is readable by other users (mode %03o); chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
	/* The first line is all that counts, and one longer than TOKEN_MAX is refused. */
	while (n < sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, size, "cannot read the token file %s: %s", path,
				 strerror(errno));
			close(fd);
			explicit_bzero(buf, sizeof(buf));
			return NULL;
		}
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n < TOKEN_MIN || n > TOKEN_MAX || strpbrk(buf, " \t")) {
		explicit_bzero(buf, sizeof(buf));
		snprintf(why, size,
			 "the token file %s: its first line must be %d..%d characters without "
			 "spaces",
			 path, TOKEN_MIN, TOKEN_MAX);
		return NULL;
	}
	copy = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (!copy)
		snprintf(why, size, "out of memory");
	return copy;
}

/* Makes the directory holding @path (one level, mode 0755) unless it exists. */
static int make_parent(const char *path)
{
	char *dir = strdup(path), *slash;
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		/* 0755 whatever the umask: the socket's group must reach the socket. */
		if (mkdir(dir, 0755) == 0)
			ret = chmod(dir, 0755) < 0 ? -errno : 0;
		else if (errno != EEXIST)
			ret = -errno;
	}
	free(dir);
	return ret;
}

/*
 * Writes a new random token to @path, mode 0600, through a temporary file
 * renamed over it (a symlink at @path is replaced, never followed), into
 * @made what the file is (so that the exit removes it only if it is still
 * ours). A directory another user could change is refused (pathsafe.h):
 * they could swap the token for their own or read it. Returns the token or
 * NULL with the reason in @why.
 */
static char *generate_token(const char *path, struct stat *made, char *why, size_t size)
{
	char token[SECRET_HEX_LEN + 2], tmp[4096];
	struct fault f = FAULT_INIT;
	struct pathsafe ps;
	char *copy = NULL;
	int fd = -1, ret;

	ret = secret_hex(token, SECRET_BYTES);
	if (ret < 0) {
		snprintf(why, size, "no randomness for the token: %s", strerror(-ret));
		goto out;
	}
	ret = make_parent(path);
	if (ret < 0) {
		snprintf(why, size, "cannot create the directory of %s: %s", path, strerror(-ret));
		goto out;
	}
	if (pathsafe_walk("--token-out", path, &ps, &f) < 0) {
		snprintf(why, size, "%s", f.detail);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, size, "cannot write the token beside %s: %s", path, strerror(errno));
		goto out;
	}
	token[SECRET_HEX_LEN] = '\n'; /* one line, as --token-file reads it */
	if (write(fd, token, SECRET_HEX_LEN + 1) != SECRET_HEX_LEN + 1 || fsync(fd) < 0 ||
	    fstat(fd, made) < 0 || rename(tmp, path) < 0) {
		snprintf(why, size, "cannot write the token to %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	token[SECRET_HEX_LEN] = '\0';
	copy = strdup(token);
	if (!copy)
		snprintf(why, size, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	explicit_bzero(token, sizeof(token));
	return copy;
}

/* The default --token-out: "token" in the socket's directory (/run/paird without one). */
static char *token_out_default(const char *socket)
{
	const char *slash;
	char *path;

	if (!socket)
		return strdup("/run/paird/token");
	slash = strrchr(socket, '/');
	if (!slash)
		return strdup("token"); /* a socket in the working directory */
	if (asprintf(&path, "%.*s/token", (int)(slash - socket), socket) < 0)
		return NULL;
	return path;
}

/* --socket-group: a group name or a numeric GID. */
static int parse_group(const char *s, gid_t *out)
{
	const struct group *gr;
	unsigned long long v;

	if (parse_count(s, 0, (gid_t)-2, &v) == 0) {
		*out = (gid_t)v;
		return 0;
	}
	gr = getgrnam(s);
	if (!gr)
		return -ENOENT;
	*out = gr->gr_gid;
	return 0;
}

/* What SIGHUP needs to reach. */
struct hup {
	const struct options *o;
	struct api *api;
	struct portset *ports;
	char *token;	    /* the current one, owned by main() */
	char url_base[100]; /* "http://127.0.0.1:8080": login URLs start so */
};

static void log_login_url(struct hup *h, const char *when)
{
	char code[API_LOGIN_CODE_SIZE];

	if (api_login_code(h->api, code, sizeof(code)) < 0) {
		log_error("%s: no randomness for a login code", when);
		return;
	}
	log_info("%s: dashboard login URL (works once, for %d minutes): %s/login?code=%s", when,
		 API_LOGIN_CODE_MINUTES, h->url_base, code);
	explicit_bzero(code, sizeof(code));
}

/*
 * SIGHUP's second half: --config again. A file that cannot be read or is
 * invalid, or a change the kernel refuses, is logged and nothing changes
 * (config_apply() undoes what it did).
 */
static void hup_config(struct hup *h)
{
	struct fault f = FAULT_INIT;
	struct state_doc want = { 0 };
	struct config_plan *plan = NULL;

	if (!h->o->config)
		return;
	if (config_load(h->o->config, &want, &f) < 0) {
		log_error("SIGHUP received: --config %s", f.detail);
		return;
	}
	if (config_plan_new(h->ports, &want, &plan, &f) < 0)
		log_error("SIGHUP received: --config %s: %s%s%s; nothing changed", h->o->config,
			  f.field, f.field[0] ? ": " : "", f.detail);
	else if (!config_plan_count(plan))
		log_info("SIGHUP received: --config %s: nothing to change", h->o->config);
	else if (config_apply(h->ports, plan, &f) < 0)
		log_error("SIGHUP received: --config %s not applied: %s", h->o->config, f.detail);
	config_plan_free(plan);
	state_doc_free(&want);
}

static void hup_token(struct hup *h);

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct hup *h = arg;

	(void)sig;
	(void)what;
	hup_token(h);
	hup_config(h);
}

/* SIGHUP's first half: the TCP token. */
static void hup_token(struct hup *h)
{
	char why[512];
	char *t;

	if (!h->token) {
		log_info("SIGHUP received: no TCP token to re-read");
		return;
	}
	if (!h->o->token_file) {
		log_login_url(h, "SIGHUP received");
		return;
	}
	t = read_token(h->o->token_file, why, sizeof(why));
	if (!t) {
		log_error("SIGHUP received: %s; keeping the old token", why);
		return;
	}
	if (strcmp(t, h->token) == 0) {
		log_info("SIGHUP received: re-read the token file %s (token unchanged)",
			 h->o->token_file);
	} else if (api_set_token(h->api, t) < 0) {
		log_error("SIGHUP received: out of memory; keeping the old token");
	} else {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
		h->token = t;
		t = NULL;
		log_info("SIGHUP received: re-read the token file %s: new token in use, "
			 "dashboard sessions ended",
			 h->o->token_file);
	}
	if (t) {
		explicit_bzero(t, strlen(t));
		free(t);
	}
}

/* Tells the service manager (Type=notify units); without one it is a no-op. */
static void notify_or_log(const char *state)
{
	int ret = notify_send(state);

	if (ret < 0)
		log_warn("cannot tell the service manager %s: %s", state, strerror(-ret));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("%s received, shutting down", strsignal((int)sig));
	notify_or_log("STOPPING=1");
	event_base_loopbreak(arg);
}

static void on_link(const struct link_state *ls, bool deleted, void *arg)
{
	portset_link_event(arg, ls, deleted);
}

/* Removes the socket or token file at exit, unless something else has taken its place. */
static void remove_ours(const char *path, const struct stat *ours)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == ours->st_dev && st.st_ino == ours->st_ino)
		unlink(path);
}

/*
 * Everything main() builds, in the order it builds it; paird_fini() takes it
 * down in reverse. Resources start as -1/NULL so a failure at any step
 * leaves a state paird_fini() can release.
 */
struct paird {
	struct options o;
	gid_t group;	       /* the socket's */
	struct http_listen hl; /* the TCP listener; fd -1 once httpd owns it */
	char *token_out;       /* where the generated token was written */
	struct stat token_st;  /* the token file we made: removed at exit */
	int unix_fd;	       /* -1 once httpd_unix owns it */
	struct stat sock_st;   /* the socket file we made: removed at exit */
	int state_lock;	       /* --state's lock until the port set holds it, or -1 */
	struct event_base *base;
	struct loopshare *share; /* the loop between the ports and the API */
	struct port_io io;
	struct portset *ports;
	struct events *events; /* the port set posts to it; outlives both */
	struct linkmon *lm;
	/* The api keeps pointers to these two: they live as long as main(). */
	char hostname[256], listen_name[256];
	bool listen_any;
	struct api *api;
	struct httpd *httpd, *httpd_unix;
	struct hup hup;
	struct event *sigint, *sigterm, *sighup;
};

/* The TCP listener and its token (read, or generated and written out). */
static int open_tcp(struct paird *d)
{
	const struct options *o = &d->o;
	struct fault f = FAULT_INIT;
	char why[512];

	if (http_listen(o->listen, &d->hl, &f) < 0)
		return start_error("%s", f.detail);
	if (o->no_auth && !d->hl.loopback)
		return start_error("--no-auth is only for a loopback listener; %s would open "
				   "paird to the network",
				   o->listen);
	if (o->token_file) {
		d->hup.token = read_token(o->token_file, why, sizeof(why));
	} else if (!o->no_auth) {
		struct stat made = { 0 };

		d->token_out = o->token_out ? strdup(o->token_out) : token_out_default(o->socket);
		d->hup.token =
			d->token_out ? generate_token(d->token_out, &made, why, sizeof(why)) : NULL;
		d->token_st = made;
		if (!d->token_out)
			snprintf(why, sizeof(why), "out of memory");
	}
	if (!o->no_auth && !d->hup.token)
		return start_error("%s", why);
	return 0;
}

/* The listeners the flags ask for, before anything else: a taken address stops paird. */
static int open_listeners(struct paird *d)
{
	const struct options *o = &d->o;
	struct fault f = FAULT_INIT;
	int ret;

	if (o->socket_group && parse_group(o->socket_group, &d->group) < 0)
		return start_error("--socket-group: no group named \"%s\"", o->socket_group);
	/*
	 * The socket first: a paird already serving it is found before the
	 * token is generated, which goes beside the socket by default. A
	 * second paird refused later had replaced the running one's token
	 * file, then removed it at exit as its own.
	 */
	if (o->socket) {
		d->unix_fd = http_listen_unix(o->socket, d->group, &f);
		if (d->unix_fd < 0)
			return start_error("%s", f.detail);
		if (lstat(o->socket, &d->sock_st) < 0)
			d->sock_st.st_ino = 0;
	}
	/*
	 * The state file's lock before the token too: a second paird on the
	 * same --state, with another socket in the same directory (or none),
	 * wrote its token over the running one's, was refused, and removed it.
	 */
	if (o->state) {
		d->state_lock = state_lock(o->state, &f);
		if (d->state_lock < 0)
			return start_error("%s", f.detail);
	}
	if (o->listen) {
		ret = open_tcp(d);
		if (ret)
			return ret;
	}
	return 0;
}

/* The loop, the port I/O, the ports of the state file and the link monitor. */
static int build_service(struct paird *d)
{
	const struct options *o = &d->o;
	struct state_doc want = { 0 };
	struct fault f = FAULT_INIT;
	int ret;

	d->base = event_base_new();
	if (!d->base)
		return start_error("cannot create the event loop");
	ret = portio_kernel_init(&d->io);
	if (ret < 0)
		return start_error("cannot open rtnetlink: %s", strerror(-ret));
	d->share = loopshare_new(NULL, NULL);
	d->ports = portset_new(d->base, d->io, o->state, (unsigned)o->max_ports);
	if (!d->share || !d->ports)
		return start_error("out of memory");
	if (d->state_lock >= 0) {
		portset_adopt_state_lock(d->ports, d->state_lock);
		d->state_lock = -1;
	}
	portset_set_share(d->ports, d->share);
	if (portset_set_dataplane(d->ports, o->capture_memory, o->capture_ring,
				  (unsigned)o->max_bindings) < 0)
		return start_error("out of memory");
	/* Before the restore, so restored ports are what the first changes compare with. */
	d->events = events_new((unsigned)o->event_ring);
	if (!d->events || portset_set_events(d->ports, d->events, EVENTS_COUNTERS_MS) < 0)
		return start_error("cannot make the event ring: %s",
				   strerror(errno ? errno : ENOMEM));
	/* A bad --config stops the start before any port is made. */
	if (o->config && config_load(o->config, &want, &f) < 0)
		return start_error("--config %s", f.detail);
	if (portset_restore(d->ports, &f) < 0) {
		state_doc_free(&want);
		return start_error("%s", f.detail);
	}
	/* The state file restored what was applied last; the file says what is wanted now. */
	if (o->config) {
		struct config_plan *plan = NULL;

		ret = config_plan_new(d->ports, &want, &plan, &f);
		state_doc_free(&want);
		if (ret < 0)
			return start_error("--config %s: %s%s%s", o->config, f.field,
					   f.field[0] ? ": " : "", f.detail);
		ret = config_apply(d->ports, plan, &f);
		config_plan_free(plan);
		/* Its detail names the item already. */
		if (ret < 0)
			return start_error("--config %s: %s", o->config, f.detail);
	}
	d->lm = linkmon_new(d->base, on_link, d->ports);
	if (!d->lm)
		return start_error("cannot watch links over rtnetlink: %s", strerror(errno));
	return 0;
}

/* The API over the ports, and one HTTP server per listener. */
static int build_api(struct paird *d)
{
	const struct options *o = &d->o;
	struct fault f = FAULT_INIT;
	const char *port_sep;
	struct api_config ac;
	struct httpd_limits lim = {
		.max_connections = (unsigned)o->max_connections,
		.timeout_s = (unsigned)o->http_timeout,
		.request_timeout_s = (unsigned)o->request_timeout,
		.share = d->share,
	};

	/* Beyond loopback, clients name the machine: its name is a Host paird serves. */
	if (o->listen && !d->hl.loopback && gethostname(d->hostname, sizeof(d->hostname) - 1) < 0)
		d->hostname[0] = '\0';
	d->listen_any =
		o->listen && (strcmp(d->hl.host, "0.0.0.0") == 0 || strcmp(d->hl.host, "::") == 0);
	/* Login URLs name an address a browser on this machine reaches. */
	if (o->listen)
		snprintf(d->hup.url_base, sizeof(d->hup.url_base), "http://%s%s%s:%u",
			 strchr(d->hl.host, ':') ? "[" : "",
			 strcmp(d->hl.host, "0.0.0.0") == 0 ? "127.0.0.1"
			 : strcmp(d->hl.host, "::") == 0    ? "::1"
							    : d->hl.host,
			 strchr(d->hl.host, ':') ? "]" : "", d->hl.port);
	ac = (struct api_config){
		.ports = d->ports,
		.token = d->hup.token,
		.allow_hosts = o->allow_hosts,
		.n_allow_hosts = o->n_allow_hosts,
		.listen_host = o->listen ? d->hl.host : NULL,
		.listen_name = d->listen_name,
		.hostname = d->hostname[0] ? d->hostname : NULL,
		.listen_any = d->listen_any,
		.listen_port = d->hl.port,
		.url_base = o->listen ? d->hup.url_base : NULL,
		.max_streams = (unsigned)o->max_streams,
		.base = d->base,
		.events = d->events,
		.max_event_clients = (unsigned)o->max_event_clients,
		.event_heartbeat_s = (unsigned)o->event_heartbeat,
	};
	/* The host part of --listen as typed (a name, say), brackets removed. */
	if (o->listen && o->listen[0] != '[' && (port_sep = strrchr(o->listen, ':')))
		snprintf(d->listen_name, sizeof(d->listen_name), "%.*s",
			 (int)(port_sep - o->listen), o->listen);
	d->api = api_new(&ac);
	if (!d->api)
		return start_error("out of memory");
	if (d->hl.fd >= 0) {
		d->httpd = httpd_new(d->base, d->api, d->hl.fd, REQ_VIA_TCP, &lim, &f);
		d->hl.fd = -1; /* owned by httpd now, even on failure */
		if (!d->httpd)
			return start_error("%s", f.detail);
	}
	if (d->unix_fd >= 0) {
		d->httpd_unix = httpd_new(d->base, d->api, d->unix_fd, REQ_VIA_UNIX, &lim, &f);
		d->unix_fd = -1;
		if (!d->httpd_unix)
			return start_error("%s", f.detail);
	}
	return 0;
}

/* SIGINT and SIGTERM stop the loop; SIGHUP re-reads the token (on_hup()). */
static int install_signals(struct paird *d)
{
	d->hup.api = d->api;
	d->hup.ports = d->ports;
	d->sigint = evsignal_new(d->base, SIGINT, on_signal, d->base);
	d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d->base);
	d->sighup = evsignal_new(d->base, SIGHUP, on_hup, &d->hup);
	if (!d->sigint || !d->sigterm || !d->sighup || event_add(d->sigint, NULL) < 0 ||
	    event_add(d->sigterm, NULL) < 0 || event_add(d->sighup, NULL) < 0)
		return start_error("cannot install signal handlers");
	return 0;
}

/* What paird serves, where, and how a client gets in: the lines an operator reads first. */
static void log_started(struct paird *d)
{
	const struct options *o = &d->o;
	const struct http_listen *hl = &d->hl;

	if (o->listen) {
		const char *auth = o->no_auth	   ? "no authentication"
				   : o->token_file ? "token from --token-file"
						   : "token generated";

		log_info("paird %s listening on http://%s%s%s:%u/ (%s) and %s%s; %s", PAIRD_VERSION,
			 strchr(hl->host, ':') ? "[" : "", hl->host,
			 strchr(hl->host, ':') ? "]" : "", hl->port, auth,
			 o->socket ? "unix:" : "no Unix socket", o->socket ? o->socket : "",
			 o->state ? o->state : "no state file");
	} else {
		log_info("paird %s listening on unix:%s (no TCP listener); %s", PAIRD_VERSION,
			 o->socket, o->state ? o->state : "no state file");
	}
	if (o->socket)
		log_info("control socket %s: mode 0660, group %u; curl --unix-socket %s "
			 "http://localhost/api/v1/ports",
			 o->socket, (unsigned)d->group, o->socket);
	if (o->listen && o->no_auth)
		log_warn("WARNING: --no-auth: the TCP API on %s:%u needs NO token; every local "
			 "user can create ports, capture and send traffic with paird's privileges",
			 hl->host, hl->port);
	if (d->token_out) {
		log_info("the API token is in %s (mode 0600): send it as 'Authorization: Bearer "
			 "TOKEN'",
			 d->token_out);
		log_login_url(&d->hup, "started");
	}
	if (o->listen && !hl->loopback && !o->no_auth)
		log_warn(
			"the TCP API on %s:%u is plain HTTP: the token and session ids cross the "
			"network in clear; put a TLS proxy in front, or reach it over SSH or a VPN",
			hl->host, hl->port);
	if (o->listen && !hl->loopback)
		log_info("Host headers served: localhost, 127.0.0.1, ::1, %s%s%s%s%s; for any "
			 "other name clients use (a DNS name), add --allow-host NAME",
			 hl->host, d->hostname[0] ? ", " : "", d->hostname,
			 d->listen_any ? ", any address of this machine" : "",
			 o->n_allow_hosts ? " and the --allow-host names" : "");
}

/* Releases what was built, in reverse order, and leaves nothing that names a dead paird. */
static void paird_fini(struct paird *d)
{
	httpd_free(d->httpd);
	httpd_free(d->httpd_unix);
	api_free(d->api);
	linkmon_free(d->lm);
	portset_free(d->ports);
	loopshare_free(d->share);
	events_free(d->events);
	if (d->io.ops)
		portio_kernel_fini(&d->io);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sighup)
		event_free(d->sighup);
	if (d->base)
		event_base_free(d->base);
	if (d->hl.fd >= 0)
		close(d->hl.fd);
	if (d->unix_fd >= 0)
		close(d->unix_fd);
	if (d->state_lock >= 0)
		close(d->state_lock);
	/* Its socket and generated token. */
	if (d->o.socket && d->sock_st.st_ino)
		remove_ours(d->o.socket, &d->sock_st);
	if (d->token_out && d->hup.token && d->token_st.st_ino)
		remove_ours(d->token_out, &d->token_st);
	free(d->token_out);
	if (d->hup.token) {
		explicit_bzero(d->hup.token, strlen(d->hup.token));
		free(d->hup.token);
	}
}

int main(int argc, char **argv)
{
	/* The api and the signal events point into it: it lives until main() returns. */
	struct paird d = {
		.o = {
			.listen = "127.0.0.1:8080",
			.socket = SOCKET_DEFAULT,
			.max_bindings = PORTSET_DEFAULT_MAX_BINDINGS,
			.max_connections = 64,
			.max_streams = API_MAX_STREAMS_DEFAULT,
			.max_event_clients = API_EVENT_CLIENTS,
			.event_ring = EVENTS_RING_DEFAULT,
			.event_heartbeat = API_EVENT_HEARTBEAT,
			.http_timeout = 30,
			.request_timeout = 10,
			.capture_memory = CAPTURE_MEMORY_DEFAULT,
			.capture_ring = CAPTURE_RING_DEFAULT,
		},
		.hl = { .fd = -1 },
		.unix_fd = -1,
		.state_lock = -1,
	};
	int ret, status = EXIT_START;

	ret = parse_args(argc, argv, &d.o);
	if (ret)
		return ret;
	d.group = getegid();
	d.hup.o = &d.o;
	signal(SIGPIPE, SIG_IGN);
	/* Until the loop's handler is in place, a SIGHUP must not kill paird. */
	signal(SIGHUP, SIG_IGN);
	if (open_listeners(&d) || build_service(&d) || build_api(&d) || install_signals(&d))
		goto out;
	log_started(&d);
	/* Listening, and the state file's ports are back: units ordered after paird may go. */
	notify_or_log("READY=1\nSTATUS=serving the API");
	status = 1; /* from here on, a failure is not a start-up failure */
	if (event_base_dispatch(d.base) < 0) {
		log_error("the event loop failed");
		goto out;
	}
	status = 0;
out:
	paird_fini(&d);
	if (status == 0)
		log_info("stopped");
	return status;
}
