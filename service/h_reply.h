/* SPDX-License-Identifier: MIT */
/*
 * The options of arp_reply and ndp_reply (h_reply.c): the addresses they
 * answer for and, when given, the MAC they answer with.
 */
#ifndef PAIRD_H_REPLY_H
#define PAIRD_H_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLY_ADDR_MAX 16

struct reply_opts {
	unsigned n_addrs;
	uint8_t addrs[REPLY_ADDR_MAX][16]; /* IPv4 (4 bytes used) for arp, IPv6 for ndp */
	bool has_mac;
	uint8_t mac[6]; /* answer with this MAC instead of the port's */
};

extern const struct handler_ops handler_arp_reply, handler_ndp_reply;

#endif
