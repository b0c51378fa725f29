#ifndef PATROND_SERVER_H
#define PATROND_SERVER_H

#include <sys/socket.h>

struct MHD_Daemon;

/* Starts the HTTP daemon on addr with cfg's thread pool; NULL on failure. */
struct MHD_Daemon *server_start(const struct sockaddr *addr);

#endif
