/* SPDX-License-Identifier: MIT */
/* The echo handler (h_echo.c): no options; UDP and ICMP/ICMPv6 echo. */
#ifndef PAIRD_H_ECHO_H
#define PAIRD_H_ECHO_H

extern const struct handler_ops handler_echo;

#endif
