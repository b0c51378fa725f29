#ifndef PATROND_LOG_H
#define PATROND_LOG_H

#include <stdbool.h>

/* One JSON object per line on stderr: {"time","level","msg",...}. Never
 * pass secrets, tokens or payloads. */
void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

/* The access line written once per request; `client` (the client's
 * address, see req_client_ip) may be NULL when unknown. While buffering
 * is on, access lines are written in batches, at the latest 50 ms later
 * (so a crash loses at most that much of the access log); every other
 * line is written at once, after the access lines before it. */
void log_access(const char *request_id, const char *client, const char *method, const char *path,
                unsigned status, double duration_ms);

/* Buffering, by a flusher thread: `serve` starts it once it listens and
 * stops it (writing what is left) after the last request. While it is on,
 * no caller ever waits for stderr: lines that find the buffer full (its
 * reader has stalled) are dropped, access lines first. False when the
 * thread cannot start; lines are then written at once. */
bool log_buffer_start(void);
void log_buffer_stop(void);

/* Lines dropped since start, for want of room or because stderr could not
 * be written (/metrics). */
unsigned long log_dropped(void);

/* Current time as RFC 3339 UTC with milliseconds and Z. buf >= 32. */
void log_timestamp(char *buf, unsigned long len);

#endif
