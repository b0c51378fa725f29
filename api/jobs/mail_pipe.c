/* Hands one framed message to PATROND_MAIL_COMMAND: `sh -c` on the
 * operator's string, the message on its stdin, bounded in time so a hung
 * mail program cannot stall the job thread or shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "mail.h"

extern char **environ;

#define POLL_STEP_MS 20

struct child {
    pid_t pid;
    int in;  /* its stdin; -1 once closed */
    int err; /* its stderr; -1 once at end */
    size_t sent;
    bool short_read; /* it stopped reading before the end of the message */
    char errtext[MAIL_OUTPUT_MAX];
    size_t errlen;
};

/* The mail program needs PATH, HOME and the like, not the database
 * password or the providers' webhook secrets. */
static bool is_secret_var(const char *kv)
{
    return !strncmp(kv, "DATABASE_URL=", 13) || !strncmp(kv, "PATROND_", 8) ||
           !strncmp(kv, "PG", 2);
}

static char **child_env(void)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++)
        if (!is_secret_var(*e)) env[k++] = *e;
    return env;
}

/* Close-on-exec, so no other child inherits our ends. */
static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0) return errno;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0)
        return 0;
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    fds[0] = fds[1] = -1;
    return e;
}

static int spawn_attrs(posix_spawnattr_t *attr)
{
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    /* Its own process group, so a timeout kills whatever sh started too. */
    int rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
    if (!rc) rc = posix_spawnattr_setsigmask(attr, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(attr, &defaults);
    if (!rc) rc = posix_spawnattr_setpgroup(attr, 0);
    return rc;
}

static int spawn_files(posix_spawn_file_actions_t *fa, int in, int err)
{
    int rc = posix_spawn_file_actions_adddup2(fa, in, 0);
    if (!rc) rc = posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(fa, err, 2);
    return rc;
}

static int spawn_sh(const char *command, int in, int err, pid_t *pid)
{
    char **env = child_env();
    if (!env) return ENOMEM;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) {
        free(env);
        return rc;
    }
    rc = posix_spawnattr_init(&attr);
    if (!rc) {
        rc = spawn_files(&fa, in, err);
        if (!rc) rc = spawn_attrs(&attr);
        char *argv[] = {"sh", "-c", (char *)command, NULL};
        if (!rc) rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, env);
        posix_spawnattr_destroy(&attr);
    }
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return rc;
}

static int start(const char *command, struct child *c)
{
    int in[2] = {-1, -1}, err[2] = {-1, -1};
    int rc = make_pipe(in);
    if (rc) return rc;
    rc = make_pipe(err);
    if (!rc) rc = spawn_sh(command, in[0], err[1], &c->pid);
    close(in[0]);
    if (rc) {
        close(in[1]);
        if (err[0] >= 0) close(err[0]);
        if (err[1] >= 0) close(err[1]);
        return rc;
    }
    close(err[1]);
    c->in = in[1];
    c->err = err[0];
    fcntl(c->in, F_SETFL, O_NONBLOCK);
    fcntl(c->err, F_SETFL, O_NONBLOCK);
    return 0;
}

static void close_in(struct child *c)
{
    if (c->in < 0) return;
    close(c->in);
    c->in = -1;
}

static void feed(struct child *c, const char *text, size_t len)
{
    ssize_t n = len > c->sent ? write(c->in, text + c->sent, len - c->sent) : 0;
    if (n > 0)
        c->sent += (size_t)n;
    else if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    else if (n < 0)
        c->short_read = true;
    if (c->sent == len || c->short_read) close_in(c);
}

/* Keeps the start of its stderr for last_error; reads the rest away. */
static void drain(struct child *c)
{
    char chunk[512];
    ssize_t n = read(c->err, chunk, sizeof chunk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        close(c->err);
        c->err = -1;
        return;
    }
    size_t room = sizeof c->errtext - 1 - c->errlen;
    size_t keep = room < (size_t)n ? room : (size_t)n;
    memcpy(c->errtext + c->errlen, chunk, keep);
    c->errlen += keep;
}

static void wait_io(struct child *c, const char *text, size_t len, long long left)
{
    struct pollfd fds[2];
    nfds_t n = 0;
    if (c->in >= 0) fds[n++] = (struct pollfd){.fd = c->in, .events = POLLOUT};
    if (c->err >= 0) fds[n++] = (struct pollfd){.fd = c->err, .events = POLLIN};
    int ms = left < POLL_STEP_MS ? (int)left : POLL_STEP_MS;
    if (poll(fds, n, ms) <= 0) return;
    for (nfds_t i = 0; i < n; i++) {
        if (!fds[i].revents) continue;
        if (fds[i].fd == c->in)
            feed(c, text, len);
        else
            drain(c);
    }
}

enum outcome { EXITED, TIMED_OUT, LOST };

/* Feeds and watches the child until it exits or the deadline passes (then
 * its process group is killed). LOST: it could not be waited for, so
 * whether it sent anything is unknown. */
static enum outcome supervise(struct child *c, const char *text, size_t len, int timeout_ms,
                              int *status)
{
    long long deadline = clock_ms() + timeout_ms;
    if (len == 0) close_in(c);
    for (;;) {
        pid_t w = waitpid(c->pid, status, WNOHANG);
        if (w == c->pid) break;
        if (w < 0 && errno != EINTR) return LOST;
        long long left = deadline - clock_ms();
        if (left <= 0) {
            kill(-c->pid, SIGKILL);
            while (waitpid(c->pid, status, 0) < 0 && errno == EINTR) {
            }
            return TIMED_OUT;
        }
        wait_io(c, text, len, left);
    }
    if (c->in >= 0 && c->sent < len) c->short_read = true;
    while (c->err >= 0 && c->errlen + 1 < sizeof c->errtext) {
        size_t before = c->errlen;
        drain(c);
        if (c->errlen == before) break;
    }
    return EXITED;
}

static void describe(const struct child *c, enum outcome how, int status, int timeout_ms,
                     struct mail_failure *f)
{
    if (how == TIMED_OUT)
        snprintf(f->what, sizeof f->what, "timed out after %d s", timeout_ms / 1000);
    else if (how == LOST)
        snprintf(f->what, sizeof f->what, "lost track of it; it may have sent");
    else if (WIFSIGNALED(status))
        snprintf(f->what, sizeof f->what, "killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(f->what, sizeof f->what, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(f->what, sizeof f->what, "exited without reading the whole message");
    size_t n = 0;
    for (size_t i = 0; i < c->errlen && n + 1 < sizeof f->output; i++)
        /* printable ASCII only: it is stored as text and may be cut anywhere */
        f->output[n++] = c->errtext[i] < 0x20 || c->errtext[i] > 0x7e ? ' ' : c->errtext[i];
    while (n && f->output[n - 1] == ' ')
        n--;
    f->output[n] = '\0';
}

bool mail_pipe(const char *command, const char *text, size_t len, int timeout_ms,
               struct mail_failure *f)
{
    f->what[0] = f->output[0] = '\0';
    /* A child that exits early makes our write EPIPE: the server ignores
     * SIGPIPE (cli/serve.c). */
    struct child c = {.in = -1, .err = -1};
    int rc = start(command, &c);
    bool ok = false;
    if (rc) {
        snprintf(f->what, sizeof f->what, "cannot start /bin/sh: %s", strerror(rc));
    } else {
        int status = 0;
        enum outcome how = supervise(&c, text, len, timeout_ms, &status);
        close_in(&c);
        if (c.err >= 0) close(c.err);
        ok = how == EXITED && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !c.short_read;
        if (!ok) describe(&c, how, status, timeout_ms, f);
    }
    return ok;
}
