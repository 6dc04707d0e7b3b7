/* SPDX-License-Identifier: MIT */
/* The drop handler (h_drop.c): no options, the frame ends here. */
#ifndef PAIRD_H_DROP_H
#define PAIRD_H_DROP_H

extern const struct handler_ops handler_drop;

#endif
