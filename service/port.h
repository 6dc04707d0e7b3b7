/* SPDX-License-Identifier: MIT */
/*
 * A port: one tun or tap device held open by paird, its link configuration,
 * its read loop and its counters (DESIGN.md, "Ports"). The port set
 * (portset.c) creates and destroys ports; the data plane plugs in through
 * the frame sink; the API reads the snapshot accessors.
 *
 * Every OS call goes through the struct port_io given at open, so the same
 * code runs on the kernel and on the memory implementation.
 */
#ifndef PAIRD_PORT_H
#define PAIRD_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fault.h"
#include "gso.h"
#include "parse.h"
#include "portcfg.h"
#include "portio.h"

struct event_base;
struct loopshare;
struct port;

/* The largest frame: MTU 65535 plus Ethernet, one VLAN tag and the PI header. */
#define PORT_FRAME_MAX (65535 + 14 + 4 + 4)
/*
 * What one read of a port with a virtio-net header may bring: the header
 * and the largest GSO super-frame (an IPv6 payload of 65535 bytes after
 * its 40-byte header).
 */
#define PORT_VNET_READ_MAX (GSO_VNET_HDR_LEN + PORT_FRAME_MAX + 40)
#define PORT_READ_BUDGET   ((size_t)256 * 1024)
/*
 * Frames per readiness turn, besides the byte budget: 256 KiB is 4,096
 * frames of 64 bytes (2,473 tap frames with 64 bytes of UDP payload), 3.7 ms
 * of a turn at 675k frames/s and 8-10 ms on a slower host, which every other
 * event (the API's requests, the other ports) would wait for. 256 frames is
 * 0.2-0.6 ms, for one more epoll_wait per 256 frames (well under 1 %).
 * NAPI's weight (64 frames a poll) is the same idea. A vnet_hdr port counts
 * reads here: a super-frame is one.
 */
#define PORT_READ_FRAMES 256
#define PORT_ERRNO_SLOTS 134 /* errno values 1..133; slot 0 collects any other */
#define PORT_KADDR_MAX	 32  /* kernel addresses a port keeps track of */

/* Where the link differs from the port's configuration (port_drift()). */
enum {
	PORT_DRIFT_UP = 1 << 0,
	PORT_DRIFT_MTU = 1 << 1,
	PORT_DRIFT_MAC = 1 << 2,
	PORT_DRIFT_ADDRESSES = 1 << 3,
};

enum port_state { PORT_STATE_UP, PORT_STATE_DOWN, PORT_STATE_ERROR, PORT_STATE_GONE };

struct port_counters {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t truncated;
	/*
	 * vnet_hdr ports: GSO super-frames read (each also counted as the
	 * datagrams it holds in rx_frames and rx_bytes), and frames refused
	 * because their virtio-net header or lengths did not hold together
	 * (dropped, in neither rx_frames nor rx_bytes).
	 */
	uint64_t rx_gso_frames, rx_gso_bad;
	/*
	 * vnet_hdr ports: UDP GSO super-frames written, each holding replies
	 * of one flow that the kernel cuts back into them (coalesce.h); they
	 * count in tx_frames and tx_bytes as those datagrams.
	 */
	uint64_t tx_gso_frames;
	uint64_t read_errors[PORT_ERRNO_SLOTS];
	uint64_t write_errors[PORT_ERRNO_SLOTS];
};

/* The slot of read_errors and write_errors that counts @err. */
static inline unsigned port_errno_slot(int err)
{
	return err > 0 && err < PORT_ERRNO_SLOTS ? (unsigned)err : 0;
}

struct port_error {
	int err;     /* errno, 0 when no error was ever recorded */
	char op[16]; /* "open", "read", "write", "link", ... */
	char message[320];
	struct timespec when;
};

/* What the port's owner hears about a port (state changes). */
enum port_event { PORT_EV_ERROR, PORT_EV_GONE };
typedef void (*port_event_fn)(struct port *port, enum port_event ev, void *arg);

/* What a port knows of a frame it hands its sink: 0 or more of these. */
enum port_rx {
	/* Only the first @len bytes of a longer frame. */
	PORT_RX_TRUNCATED = 1 << 0,
	/*
	 * A datagram cut from a super-frame (vnet_hdr): its TCP or UDP
	 * checksum is good, as paird summed it or, for a sink that reads no
	 * payload (port_set_sink_reads()), left unsummed: the sender gave it
	 * to the device to fill, so the datagram is intact by construction.
	 */
	PORT_RX_L4_CSUM_OK = 1 << 1,
	/*
	 * Only to a sink that reads no payload: the first datagram of a
	 * super-frame, whose rest have its headers but for their lengths,
	 * IPv4 id, TCP sequence number and flags, and checksums. What the
	 * sink decided of it holds for every one of them: they follow in one
	 * port_train_fn call, or one by one when the sink refuses that
	 * (issue 11).
	 */
	PORT_RX_LEAD = 1 << 2,
};

/* Called for every frame read, in the read callback; @rx: enum port_rx. */
typedef void (*port_frame_fn)(struct port *port, const uint8_t *frame, size_t len, unsigned rx,
			      void *arg);
/*
 * Only to a sink that reads no payload, right after the lead of a train
 * (PORT_RX_LEAD): the rest of it, @n datagrams of @bytes in all, in one
 * call, none of them built. Returns true when the sink counted them as it
 * counted the lead; false, with nothing done, when it must see each one
 * (the lead was not clean): they are then built and handed over one by
 * one.
 */
typedef bool (*port_train_fn)(struct port *port, uint64_t n, uint64_t bytes, void *arg);

struct port_env {
	struct event_base *base; /* NULL: nobody polls; tests call port_read_ready() */
	struct port_io io;
	size_t read_budget;	 /* bytes per readiness turn; 0 means PORT_READ_BUDGET */
	unsigned read_frames;	 /* frames per readiness turn; 0 means PORT_READ_FRAMES */
	struct loopshare *share; /* told when frames are left waiting; may be NULL */
	port_event_fn on_event;
	void *event_arg;
};

/*
 * The addresses the last port_reconfigure() of @p removed beside its
 * configuration (an address put on a link paird created from outside),
 * at most @max into @out; how many. port_addrs_restore() adds @n of them
 * back (a change undone after the reconfigure succeeded).
 */
unsigned port_strays_removed(const struct port *p, struct ip_prefix *out, unsigned max);
void port_addrs_restore(struct port *p, const struct ip_prefix *pfx, unsigned n);

/*
 * Whether @cfg's name is free to create, or there to attach to, as it
 * asks: 0, or a conflict (an interface of that name exists) or a not-found
 * (nothing to attach to) in @f. port_open() asks it first; a plan asks it
 * before any step (config.c).
 */
int port_name_check(const struct port_env *env, const struct port_config *cfg, struct fault *f);

/*
 * Opens the device @cfg names and configures its link. On failure returns
 * NULL with @f filled and nothing left behind: no fd, no interface, no link
 * change. @env must outlive the port.
 */
struct port *port_open(const struct port_env *env, const struct port_config *cfg, struct fault *f);

/*
 * A port that could not be opened (e.g. restored from the state file while
 * its device is missing): kept in state "error" with @why as last error so
 * its configuration is neither lost nor silently dropped.
 */
struct port *port_new_failed(const struct port_env *env, const struct port_config *cfg,
			     const struct fault *why);

/*
 * Gives an attached link back as port_open() found it (up, MTU, MAC; the
 * addresses paird added are removed): for a port dropped because its
 * creation could not be saved. Nothing to do for a device paird created,
 * which disappears with its fd.
 */
void port_unconfigure(struct port *port);

/*
 * Releases the device (a device paird created disappears with its fd; an
 * attached one is only detached) and frees the port. Safe from inside the
 * port's own callbacks: the memory is then freed when the callback returns.
 * port_free(NULL) is a no-op.
 */
void port_free(struct port *port);

/*
 * Brings the link to @want (up, MTU, MAC, addresses). Either every change
 * is made or, on the first refusal, the ones made are undone and @f says
 * which step failed. On success @want becomes the port's configuration.
 * Addresses are compared with what the kernel holds, so asking again for
 * the same list adds back an address the kernel lost.
 */
int port_reconfigure(struct port *port, const struct port_config *want, struct fault *f);

/*
 * After a link or address event (port_link_update() first for a link
 * event): reads the link's addresses back and adds configured ones the
 * kernel lost (an outside `ip link set
 * down`, `ip addr del`, an MTU change). What cannot be added back (an IPv6
 * address below MTU 1280) stays visible through port_drift(). Does
 * nothing on a port without an open, local link.
 */
int port_reconcile(struct port *port);
/*
 * After lost notifications: reads the link back (a link deleted meanwhile
 * makes the port gone), then port_reconcile().
 */
int port_resync(struct port *port);

/*
 * The link's administrator addresses as the kernel last reported them
 * (global and permanent: see port_io_ops.addr_list); NULL with *@n = 0 when
 * unknown (no open device, the link moved, the kernel did not answer).
 */
const struct ip_prefix *port_kernel_addrs(const struct port *port, unsigned *n);

/*
 * PORT_DRIFT_* bits for what the link holds and the configuration says
 * otherwise: up, MTU or MAC given and different, a configured address
 * missing, or (on a device paird created) an administrator address it
 * did not configure. 0 on a port without an open, local link.
 */
unsigned port_drift(const struct port *port);

/*
 * Writes one frame. EINTR is retried; other errors are counted and
 * returned. On a vnet_hdr port a zeroed virtio-net header goes with it
 * (after the packet information, where tun reads it): no offload asked;
 * and a write made during a port's read turn in this thread (a reply on
 * its own port, a forward to another) may wait until the turn ends, so
 * that a run of UDP datagrams of one flow goes out as one USO super-frame
 * (vnet.h, coalesce.h). An error of that later write is counted, not
 * returned.
 */
int port_write(struct port *port, const void *frame, size_t len);

/*
 * The IPv4 identification for the next datagram paird itself sends on
 * @port from queue @q (0: the main loop), numbered up per queue: replies
 * are atomic datagrams (DF), whose identification RFC 6864 4.1 leaves to
 * the sender, and numbered ones can be coalesced (coalesce.h).
 */
uint16_t port_next_ip_id(struct port *port, unsigned q);

/*
 * The read loop body: drains the device within the byte budget and the
 * frame cap; a turn that stops on either leaves the port backlogged (its
 * env's loopshare is told) until a turn ends on EAGAIN.
 */
void port_read_ready(struct port *port);

/* The interface disappeared (RTM_DELLINK or EBADFD): stop, release, state gone. */
void port_mark_gone(struct port *port);
/*
 * The interface moved to another network namespace: frames still flow
 * through the fd, but paird can no longer see or change the link.
 */
void port_mark_moved(struct port *port);
/* True once the interface moved away (link changes are refused). */
bool port_moved(const struct port *port);
/* The kernel reported a change of the link (RTM_NEWLINK). */
void port_link_update(struct port *port, const struct link_state *ls);

/* @train may be NULL: every datagram of a train then comes on its own. */
void port_set_sink(struct port *port, port_frame_fn fn, port_train_fn train, void *arg);
/*
 * Whether the sink reads frames' bytes beyond their headers (a capture, a
 * reply, a tap: the default) or only dispatches and counts them. A sink
 * that does not is handed the segments of a super-frame without their
 * TCP or UDP checksum filled in, which is most of a segment's cost at
 * 1,400 bytes (issue 11). Set with the port paused (port_pause()).
 */
void port_set_sink_reads(struct port *port, bool reads);

const char *port_name(const struct port *port);
/* How frames on this port are framed: Ethernet (tap), IP, or IP after packet info (tun). */
enum frame_link port_frame_link(const struct port *port);
const struct port_config *port_config(const struct port *port);
enum port_state port_state(const struct port *port);
const char *port_state_name(enum port_state state);
int port_ifindex(const struct port *port);
/* TUNGETIFF flags as the kernel reported them at open (IFF_TAP, IFF_NO_PI, ...). */
unsigned int port_tun_flags(const struct port *port);
/* The TUN_F_* offloads the kernel accepted at open (vnet_hdr ports); 0 otherwise. */
unsigned int port_offloads(const struct port *port);
/* Writes the names of @offloads ("TUN_F_CSUM", ...) to @names; returns how many. */
size_t port_offload_names(unsigned int offloads, const char **names, size_t max);
const struct link_state *port_link(const struct port *port);
const struct port_counters *port_counters(const struct port *port);
const struct port_error *port_last_error(const struct port *port);
struct timespec port_created(const struct port *port);

/*
 * The MAC a host on the far side of a tap uses by default (transmitted
 * frames, ARP and NDP answers): the tap's own MAC with the last octet
 * inverted and the locally administered bit set, so the two never collide.
 * False on a port without a MAC (tun).
 */
bool port_peer_mac(const struct port *port, uint8_t mac[6]);

/*
 * Multi-queue ports (queue.h has the design and the threading rule).
 * port_queues(): the queues running (1 for a single-queue port, or one
 * whose device is released). port_pause()/port_resume(): every change to
 * what a queue worker reads (the configuration, the link, the sinks, the
 * stack's bindings) is made between them; nested, main thread only, and a
 * no-op with one queue.
 */
unsigned port_queues(const struct port *port);
uint64_t port_queue_rx_frames(const struct port *port, unsigned q);
void port_pause(struct port *port);
void port_resume(struct port *port);
/*
 * The sink of queues 1..N-1: called on queue @q's worker thread with it
 * paused for the main thread; returns true when it handed work off, which
 * @drain then runs in the main loop. Set with the queues paused.
 */
typedef bool (*port_queue_frame_fn)(void *arg, unsigned q, const uint8_t *frame, size_t len,
				    unsigned rx);
/* As port_train_fn, on queue @q's worker. */
typedef bool (*port_queue_train_fn)(void *arg, unsigned q, uint64_t n, uint64_t bytes);
typedef void (*port_queue_drain_fn)(void *arg, unsigned q);
void port_set_queue_sink(struct port *port, port_queue_frame_fn fn, port_queue_train_fn train,
			 port_queue_drain_fn drain, void *arg);
/* From queue @q's worker (1..N-1): one frame on its own fd, counted on its own counters. */
int port_queue_write(struct port *port, unsigned q, const void *frame, size_t len);
/* Tests without a main event_base: a worker's read turn, and the main loop's turn. */
void port_queue_read_ready(struct port *port, unsigned q);
void port_queues_service(struct port *port);

/* Writes the names of @flags ("IFF_TAP", ...) to @names; returns how many. */
size_t port_tun_flag_names(unsigned int flags, const char **names, size_t max);

#endif
