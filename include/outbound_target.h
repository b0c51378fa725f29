#ifndef PATROND_OUTBOUND_TARGET_H
#define PATROND_OUTBOUND_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Where outbound webhooks may go (SPEC §4b): https URLs whose addresses are
 * public, never loopback, private, link-local or otherwise special, unless
 * PATROND_WEBHOOK_ALLOW_PRIVATE=1, which also allows http. Pure logic. */

/* Whether the address (AF_INET or AF_INET6; an IPv6 address that embeds an
 * IPv4 one, such as ::ffff:a.b.c.d, is judged by that one) is public. */
bool outbound_addr_public(const struct sockaddr *sa);

/* Whether an endpoint URL an admin gives is acceptable: NULL if so, else
 * why not, for the client. Parsed by libcurl, which sends to it, so the
 * check reads the URL as the sender will. A host name is not resolved
 * here (it may resolve elsewhere at send time): the sender checks every
 * address it connects to. */
const char *outbound_url_problem(const char *url, bool allow_private);

#endif
