// SPDX-License-Identifier: MIT
/*
 * paird: holds tun/tap ports and serves them over an HTTP/JSON API from a
 * single thread running one libevent loop. main() parses the flags, builds
 * the pieces in dependency order (listen socket, loop, port I/O, port set
 * from the state file, link monitor, API, HTTP server), runs the loop until
 * SIGINT or SIGTERM, and tears everything down in reverse order.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../api/api.h"
#include "../api/http.h"
#include "linkmon.h"
#include "log.h"
#include "portio_kernel.h"
#include "portset.h"

#ifndef PAIRD_VERSION
#define PAIRD_VERSION "0.0.0"
#endif

#define MAX_ALLOW_HOSTS 16
#define TOKEN_MIN	16
#define TOKEN_MAX	512

struct options {
	const char *listen;
	const char *state;
	const char *token_file;
	const char *allow_hosts[MAX_ALLOW_HOSTS];
	size_t n_allow_hosts;
	unsigned long max_ports;
	unsigned long max_bindings;
	unsigned long max_connections;
	unsigned long http_timeout;
	unsigned long request_timeout;
	unsigned long long capture_memory;
	unsigned long long capture_ring;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: paird [OPTION]...\n"
		"Hold Linux tun/tap ports and serve them over an HTTP/JSON API.\n"
		"\n"
		"  -l, --listen ADDR:PORT     where the API listens (default 127.0.0.1:8080);\n"
		"                             :0 picks a free port, [ADDR6]:PORT for IPv6\n"
		"  -s, --state FILE           keep every acknowledged change in FILE and\n"
		"                             recreate the ports from it at start\n"
		"  -t, --token-file FILE      require 'Authorization: Bearer TOKEN' on /api/\n"
		"                             and /metrics; TOKEN is FILE's first line\n"
		"                             (%d..%d characters); required to listen beyond\n"
		"                             loopback\n"
		"  -a, --allow-host NAME      also accept Host: NAME (repeatable; '*' accepts\n"
		"                             any); loopback names and the listen address are\n"
		"                             always accepted\n"
		"      --max-ports N          ports paird will hold (default %d)\n"
		"      --max-bindings N       bindings per port (default %d)\n"
		"      --capture-memory SIZE  memory for all capture rings (default 64M;\n"
		"                             suffixes K, M, G)\n"
		"      --capture-ring SIZE    each port's capture ring, taken from it\n"
		"                             (default 8M, at most 1G)\n"
		"      --max-connections N    concurrent HTTP connections (default 64)\n"
		"      --http-timeout SEC     idle HTTP connection timeout (default 30)\n"
		"      --request-timeout SEC  a request's headers and body must arrive within\n"
		"                             SEC of the connection opening or of its previous\n"
		"                             response (default 10)\n"
		"  -L, --log-level LEVEL      error, warn, info (default) or debug\n"
		"  -h, --help                 show this help and exit\n"
		"  -V, --version              show the version and exit\n",
		TOKEN_MIN, TOKEN_MAX, PORTSET_DEFAULT_MAX, PORTSET_DEFAULT_MAX_BINDINGS);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mult = 1ull << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ull << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ull << 30;
	else if (*end)
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	if (v > max / mult || v * mult < min)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

enum {
	OPT_MAX_PORTS = 256,
	OPT_MAX_BINDINGS,
	OPT_MAX_CONNS,
	OPT_HTTP_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_CAPTURE_MEMORY,
	OPT_CAPTURE_RING,
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "allow-host", required_argument, NULL, 'a' },
		{ "max-ports", required_argument, NULL, OPT_MAX_PORTS },
		{ "max-bindings", required_argument, NULL, OPT_MAX_BINDINGS },
		{ "capture-memory", required_argument, NULL, OPT_CAPTURE_MEMORY },
		{ "capture-ring", required_argument, NULL, OPT_CAPTURE_RING },
		{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
		{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
		{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, lvl;

	while ((c = getopt_long(argc, argv, "l:s:t:a:L:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 's':
			o->state = optarg;
			break;
		case 't':
			o->token_file = optarg;
			break;
		case 'a':
			if (o->n_allow_hosts == MAX_ALLOW_HOSTS) {
				fprintf(stderr, "paird: at most %d --allow-host\n", MAX_ALLOW_HOSTS);
				return 2;
			}
			o->allow_hosts[o->n_allow_hosts++] = optarg;
			break;
		case OPT_MAX_PORTS:
			if (parse_ulong(optarg, 1, 4096, &o->max_ports) < 0) {
				fprintf(stderr, "paird: --max-ports takes 1..4096\n");
				return 2;
			}
			break;
		case OPT_MAX_BINDINGS:
			if (parse_ulong(optarg, 1, 4096, &o->max_bindings) < 0) {
				fprintf(stderr, "paird: --max-bindings takes 1..4096\n");
				return 2;
			}
			break;
		case OPT_CAPTURE_MEMORY:
			if (parse_size(optarg, 0, 1ull << 40, &o->capture_memory) < 0) {
				fprintf(stderr, "paird: --capture-memory takes a size up to 1024G "
						"(e.g. 64M)\n");
				return 2;
			}
			break;
		case OPT_CAPTURE_RING:
			if (parse_size(optarg, 64ull << 10, 1ull << 30, &o->capture_ring) < 0) {
				fprintf(stderr, "paird: --capture-ring takes a size 64K..1G\n");
				return 2;
			}
			break;
		case OPT_MAX_CONNS:
			if (parse_ulong(optarg, 1, 4096, &o->max_connections) < 0) {
				fprintf(stderr, "paird: --max-connections takes 1..4096\n");
				return 2;
			}
			break;
		case OPT_HTTP_TIMEOUT:
			if (parse_ulong(optarg, 1, 3600, &o->http_timeout) < 0) {
				fprintf(stderr, "paird: --http-timeout takes 1..3600 seconds\n");
				return 2;
			}
			break;
		case OPT_REQUEST_TIMEOUT:
			if (parse_ulong(optarg, 1, 3600, &o->request_timeout) < 0) {
				fprintf(stderr, "paird: --request-timeout takes 1..3600 seconds\n");
				return 2;
			}
			break;
		case 'L':
			lvl = log_level_parse(optarg);
			if (lvl < 0) {
				fprintf(stderr, "paird: --log-level takes error, warn, info or debug\n");
				return 2;
			}
			log_set_level((enum log_level)lvl);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("paird %s\n", PAIRD_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "paird: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Reads the token: FILE's first line, trailing whitespace removed. */
static char *read_token(const char *path)
{
	char buf[TOKEN_MAX + 2];
	struct stat st;
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp) {
		log_error("cannot read token file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077))
		log_warn("token file %s is readable by other users (mode %03o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n < TOKEN_MIN || n > TOKEN_MAX || strpbrk(buf, " \t")) {
		log_error("token file %s: the token must be %d..%d characters without spaces", path,
			  TOKEN_MIN, TOKEN_MAX);
		return NULL;
	}
	return strdup(buf);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("%s received, shutting down", strsignal((int)sig));
	event_base_loopbreak(arg);
}

static void on_link(const struct link_state *ls, bool deleted, void *arg)
{
	portset_link_event(arg, ls, deleted);
}

int main(int argc, char **argv)
{
	struct options o = {
		.listen = "127.0.0.1:8080",
		.max_bindings = PORTSET_DEFAULT_MAX_BINDINGS,
		.max_connections = 64,
		.http_timeout = 30,
		.request_timeout = 10,
		.capture_memory = CAPTURE_MEMORY_DEFAULT,
		.capture_ring = CAPTURE_RING_DEFAULT,
	};
	struct fault f = FAULT_INIT;
	struct http_listen hl = { .fd = -1 };
	struct port_io io = { 0 };
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct portset *ports = NULL;
	struct linkmon *lm = NULL;
	struct api *api = NULL;
	struct httpd *httpd = NULL;
	char *token = NULL;
	int ret, status = 1;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	signal(SIGPIPE, SIG_IGN);
	if (o.token_file && !(token = read_token(o.token_file)))
		goto out;
	if (http_listen(o.listen, &hl, &f) < 0) {
		log_error("%s", f.detail);
		goto out;
	}
	if (!hl.loopback && !token) {
		log_error("refusing to listen on %s:%u without --token-file: the API would be "
			  "open to the network",
			  hl.host, hl.port);
		goto out;
	}
	base = event_base_new();
	if (!base) {
		log_error("cannot create the event loop");
		goto out;
	}
	ret = portio_kernel_init(&io);
	if (ret < 0) {
		log_error("cannot open rtnetlink: %s", strerror(-ret));
		goto out;
	}
	ports = portset_new(base, io, o.state, (unsigned)o.max_ports);
	if (!ports) {
		log_error("out of memory");
		goto out;
	}
	if (portset_set_dataplane(ports, o.capture_memory, o.capture_ring,
				  (unsigned)o.max_bindings) < 0) {
		log_error("out of memory");
		goto out;
	}
	if (portset_restore(ports, &f) < 0) {
		log_error("%s", f.detail);
		goto out;
	}
	lm = linkmon_new(base, on_link, ports);
	if (!lm) {
		log_error("cannot watch links over rtnetlink: %s", strerror(errno));
		goto out;
	}
	{
		struct api_config ac = {
			.ports = ports,
			.token = token,
			.allow_hosts = o.allow_hosts,
			.n_allow_hosts = o.n_allow_hosts,
			.listen_host = hl.host,
			.listen_port = hl.port,
		};
		struct httpd_limits lim = {
			.max_connections = (unsigned)o.max_connections,
			.timeout_s = (unsigned)o.http_timeout,
			.request_timeout_s = (unsigned)o.request_timeout,
		};

		api = api_new(&ac);
		if (!api) {
			log_error("out of memory");
			goto out;
		}
		httpd = httpd_new(base, api, hl.fd, &lim, &f);
		hl.fd = -1; /* owned by httpd now, even on failure */
		if (!httpd) {
			log_error("%s", f.detail);
			goto out;
		}
	}
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	if (!sigint || !sigterm || event_add(sigint, NULL) < 0 || event_add(sigterm, NULL) < 0) {
		log_error("cannot install signal handlers");
		goto out;
	}
	log_info("paird %s listening on http://%s%s%s:%u/ (%s, token %s)", PAIRD_VERSION,
		 strchr(hl.host, ':') ? "[" : "", hl.host, strchr(hl.host, ':') ? "]" : "", hl.port,
		 o.state ? o.state : "no state file", token ? "required" : "not required");
	if (event_base_dispatch(base) < 0) {
		log_error("the event loop failed");
		goto out;
	}
	status = 0;
out:
	httpd_free(httpd);
	api_free(api);
	linkmon_free(lm);
	portset_free(ports);
	if (io.ops)
		portio_kernel_fini(&io);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (base)
		event_base_free(base);
	if (hl.fd >= 0)
		close(hl.fd);
	free(token);
	if (status == 0)
		log_info("stopped");
	return status;
}
