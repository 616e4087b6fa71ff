/* The control socket (see finack/control.h).
 *
 * One thread per server: it waits in poll() on the listening socket and an
 * eventfd that stop() writes, and serves one client at a time — read the
 * command line, take the answer, write it, close. The answer is built
 * where the stack may be touched (under the loop's lock through
 * finack_loop_call(), or on the owner's thread in polled mode) into memory,
 * and written out after: a slow client never holds the stack. Every client
 * socket has receive and send timeouts, so a client that connects and says
 * nothing costs the server a second at most. */
#include "finack/control.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "finack/loop.h"
#include "finack/runtime.h"
#include "finack/socket.h"

#define CONTROL_COMMAND_MAX 64          /* longest command line read */
#define CONTROL_NAME_MAX 32
#define CONTROL_READ_TIMEOUT_MS 1000    /* a client that says nothing */
#define CONTROL_WRITE_TIMEOUT_MS 5000   /* a client that does not read */
#define CONTROL_OWNER_TIMEOUT_MS 5000   /* polled mode: an owner that does not poll */
#define CONTROL_BACKLOG 16

/* ---- Answers: a growing text buffer ------------------------------------------ */

struct text {
    char *data;
    size_t len, cap;
    bool failed; /* out of memory: the answer is cut short */
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len <= (size_t)n) cap *= 2;
        char *data = realloc(t->data, cap);
        if (!data) {
            t->failed = true;
            return;
        }
        t->data = data;
        t->cap = cap;
    }
}

/* ---- What the commands answer (on the stack's side) ------------------------- */

struct request {
    const char *command;
    const char *name;
    struct text answer;
    finack_time_t now;
};

static int add_conn_row(void *ctx, const struct finack_conn_info *r)
{
    struct request *req = ctx;
    char la[16], ra[16];
    uint64_t left = 0;
    if (r->timer && r->timer_expires > req->now) left = r->timer_expires - req->now;
    text_add(&req->answer,
             "conn %s %s:%u %s:%u %d %" PRIu32 " %" PRIu32 " %s %" PRIu64 " %" PRIu32 " %" PRIu32
             " %" PRIu32 " %" PRIu32 "\n",
             r->state, finack_format_ipv4(r->laddr, la), r->lport,
             finack_format_ipv4(r->raddr, ra), r->rport, r->fd, r->recv_q, r->send_q,
             r->timer ? r->timer : "-", left, r->retransmits, r->rtt_us, r->rto_us, r->cwnd);
    return 0;
}

static void add_stats(struct request *req, struct finack_stack *stack)
{
    for (int i = 0; i < FINACK_CTR__COUNT; i++) {
        uint64_t v = finack_stack_counter(stack, (enum finack_counter)i);
        if (v)
            text_add(&req->answer, "counter %s %" PRIu64 " %s\n",
                     finack_counter_name((enum finack_counter)i), v,
                     finack_counter_text((enum finack_counter)i));
    }
    for (int i = 0; i < FINACK_DROP__COUNT; i++) {
        uint64_t v = finack_stack_drops(stack, (enum finack_drop_reason)i);
        if (v && i != FINACK_DROP_NONE)
            text_add(&req->answer, "drop %s %" PRIu64 " %s\n",
                     finack_drop_reason_name((enum finack_drop_reason)i), v,
                     finack_drop_reason_text((enum finack_drop_reason)i));
    }
}

/* Runs where the stack may be touched. The real-time drivers keep the
 * stack's clock on CLOCK_MONOTONIC, so time left is measured against it. */
static void answer(void *ctx, struct finack_stack *stack)
{
    struct request *req = ctx;
    req->now = finack_clock_now();
    text_add(&req->answer, "finack-control %d %ld %s\n", FINACK_CONTROL_VERSION, (long)getpid(),
             req->name);
    if (strcmp(req->command, "conns") == 0 || strcmp(req->command, "conns all") == 0)
        (void)finack_stack_connections(stack, strcmp(req->command, "conns all") == 0,
                                       add_conn_row, req);
    else if (strcmp(req->command, "stats") == 0)
        add_stats(req, stack);
    else
        text_add(&req->answer, "error unknown command '%s' (conns, conns all, stats)\n",
                 req->command);
}

/* ---- The server ---------------------------------------------------------------- */

struct finack_control {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char name[CONTROL_NAME_MAX];
    int listen_fd;
    int stop_fd;
    pthread_t thread;
    bool thread_started;
    struct finack_loop *loop; /* loop mode; NULL in polled mode */
    /* Polled mode: one request handed to the owner at a time, under mu. */
    void (*wake)(void *ctx);
    void *wake_ctx;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct request *pending; /* waiting for the owner */
    struct request *taken;   /* being answered by the owner */
    bool stopping;
};

static void set_timeout(int fd, int opt, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    (void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* One line (up to '\n', EOF or the timeout), without the newline and
 * trailing blanks. false if nothing usable arrived. */
static bool read_command(int fd, char *line, size_t cap)
{
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = recv(fd, line + len, cap - 1 - len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        char *nl = memchr(line + len, '\n', (size_t)n);
        len += (size_t)n;
        if (nl) {
            len = (size_t)(nl - line);
            break;
        }
    }
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\n')) len--;
    line[len] = '\0';
    return len > 0;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; /* the client went away or stopped reading */
        data += n;
        len -= (size_t)n;
    }
}

static void add_ms(struct timespec *ts, int ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Polled mode: hand req to the owner and wait until it is answered. An
 * owner that does not poll in time (or a stop) withdraws the request —
 * unless the owner already took it, in which case it is finished first
 * (req lives on this thread's stack). */
static void ask_owner(struct finack_control *ctl, struct request *req)
{
    pthread_mutex_lock(&ctl->mu);
    ctl->pending = req;
    pthread_mutex_unlock(&ctl->mu);
    if (ctl->wake) ctl->wake(ctl->wake_ctx);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    add_ms(&deadline, CONTROL_OWNER_TIMEOUT_MS);
    pthread_mutex_lock(&ctl->mu);
    while (ctl->pending == req && !ctl->stopping) {
        if (pthread_cond_timedwait(&ctl->cond, &ctl->mu, &deadline) == ETIMEDOUT) break;
    }
    if (ctl->pending == req) {
        ctl->pending = NULL;
        text_add(&req->answer, "error the stack's owner did not answer\n");
    }
    while (ctl->taken == req) pthread_cond_wait(&ctl->cond, &ctl->mu);
    pthread_mutex_unlock(&ctl->mu);
}

int finack_control_poll(struct finack_control *ctl, struct finack_stack *stack)
{
    if (!ctl || ctl->loop) return -EINVAL;
    pthread_mutex_lock(&ctl->mu);
    struct request *req = ctl->pending;
    ctl->pending = NULL;
    ctl->taken = req;
    pthread_mutex_unlock(&ctl->mu);
    if (!req) return 0;
    answer(req, stack);
    pthread_mutex_lock(&ctl->mu);
    ctl->taken = NULL;
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
    return 1;
}

static void loop_answer(void *ctx, struct finack_stack *stack) { answer(ctx, stack); }

static void serve_client(struct finack_control *ctl, int fd)
{
    set_timeout(fd, SO_RCVTIMEO, CONTROL_READ_TIMEOUT_MS);
    set_timeout(fd, SO_SNDTIMEO, CONTROL_WRITE_TIMEOUT_MS);
    char line[CONTROL_COMMAND_MAX];
    if (!read_command(fd, line, sizeof line)) return;
    struct request req = {.command = line, .name = ctl->name};
    if (ctl->loop) finack_loop_call(ctl->loop, loop_answer, &req);
    else ask_owner(ctl, &req);
    if (req.answer.failed) text_add(&req.answer, "error out of memory\n");
    write_all(fd, req.answer.data ? req.answer.data : "", req.answer.len);
    free(req.answer.data);
}

static void *control_main(void *arg)
{
    struct finack_control *ctl = arg;
    for (;;) {
        struct pollfd fds[2] = {{.fd = ctl->listen_fd, .events = POLLIN},
                                {.fd = ctl->stop_fd, .events = POLLIN}};
        int n = poll(fds, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || fds[1].revents) break;
        if (!(fds[0].revents & POLLIN)) continue;
        int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue; /* the client gave up already, or no memory */
        serve_client(ctl, fd);
        close(fd);
    }
    return NULL;
}

/* ---- The run directory ------------------------------------------------------------ */

int finack_control_run_dir(char *buf, size_t len)
{
    const char *env = getenv("FINACK_RUN_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (env && *env) n = snprintf(buf, len, "%s", env);
    else if (geteuid() == 0) n = snprintf(buf, len, "/run/finack");
    else if (xdg && *xdg) n = snprintf(buf, len, "%s/finack", xdg);
    else n = snprintf(buf, len, "/tmp/finack-%ld", (long)geteuid());
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The directory is made mode 0700. One that exists must be ours and
 * writable by nobody else (in /tmp anyone could have made it first, and
 * put a socket of theirs where ours would be); its mode is otherwise left
 * alone ($FINACK_RUN_DIR may name a directory the user keeps open). */
static int make_run_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return -errno;
    struct stat st;
    if (lstat(dir, &st) < 0) return -errno;
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) return -EPERM;
    return 0;
}

static int control_path(char *path, size_t len)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int rc = finack_control_run_dir(dir, sizeof dir);
    if (rc) return rc;
    rc = make_run_dir(dir);
    if (rc) return rc;
    int n = snprintf(path, len, "%s/%ld.sock", dir, (long)getpid());
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int open_listener(struct finack_control *ctl)
{
    int rc = control_path(ctl->path, sizeof ctl->path);
    if (rc) return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
    /* A file of an earlier process with our pid: that process is gone. */
    (void)unlink(ctl->path);
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    ctl->listen_fd = fd;
    return 0;
}

/* Whitespace would split the header line: the name is one word. */
static void set_name(struct finack_control *ctl, const char *name)
{
    snprintf(ctl->name, sizeof ctl->name, "%s", name && *name ? name : "finack");
    for (char *p = ctl->name; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') *p = '_';
}

static void control_free(struct finack_control *ctl)
{
    if (ctl->listen_fd >= 0) {
        close(ctl->listen_fd);
        (void)unlink(ctl->path);
    }
    if (ctl->stop_fd >= 0) close(ctl->stop_fd);
    pthread_mutex_destroy(&ctl->mu);
    pthread_cond_destroy(&ctl->cond);
    free(ctl);
}

static int control_start(struct finack_control **out, struct finack_loop *loop, const char *name,
                         void (*wake)(void *ctx), void *ctx)
{
    if (!out) return -EINVAL;
    struct finack_control *ctl = calloc(1, sizeof *ctl);
    if (!ctl) return -ENOMEM;
    ctl->listen_fd = ctl->stop_fd = -1;
    ctl->loop = loop;
    ctl->wake = wake;
    ctl->wake_ctx = ctx;
    set_name(ctl, name);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ctl->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&ctl->mu, NULL);
    int rc = open_listener(ctl);
    if (rc == 0) {
        ctl->stop_fd = eventfd(0, EFD_CLOEXEC);
        if (ctl->stop_fd < 0) rc = -errno;
    }
    if (rc == 0) {
        /* The thread takes no signals: SIGINT and friends stay with the
         * application's threads (and cut their waits short). */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = -pthread_create(&ctl->thread, NULL, control_main, ctl);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        ctl->thread_started = rc == 0;
    }
    if (rc) {
        control_free(ctl);
        return rc;
    }
    *out = ctl;
    return 0;
}

int finack_control_start(struct finack_control **out, struct finack_loop *loop, const char *name)
{
    if (!loop) return -EINVAL;
    return control_start(out, loop, name, NULL, NULL);
}

int finack_control_start_polled(struct finack_control **out, const char *name,
                                void (*wake)(void *ctx), void *ctx)
{
    return control_start(out, NULL, name, wake, ctx);
}

const char *finack_control_path(const struct finack_control *ctl) { return ctl->path; }

void finack_control_stop(struct finack_control *ctl)
{
    if (!ctl) return;
    pthread_mutex_lock(&ctl->mu);
    ctl->stopping = true;
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
    uint64_t one = 1;
    ssize_t n = write(ctl->stop_fd, &one, sizeof one);
    (void)n; /* fails only if the counter would overflow: readable anyway */
    if (ctl->thread_started) pthread_join(ctl->thread, NULL);
    control_free(ctl);
}

/* ---- The client ----------------------------------------------------------------------- */

int finack_control_query(const char *path, const char *command, char **out)
{
    if (!path || !command || !out) return -EINVAL;
    *out = NULL;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) return -ENAMETOOLONG;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    /* The server answers within its owner timeout; beyond that, give up. */
    set_timeout(fd, SO_RCVTIMEO, CONTROL_OWNER_TIMEOUT_MS + CONTROL_WRITE_TIMEOUT_MS);
    set_timeout(fd, SO_SNDTIMEO, CONTROL_WRITE_TIMEOUT_MS);
    struct text t = {0};
    text_add(&t, "%s\n", command);
    if (t.failed) {
        close(fd);
        free(t.data);
        return -ENOMEM;
    }
    write_all(fd, t.data, t.len);
    t.len = 0;
    for (;;) {
        if (t.cap - t.len < 2048) {
            size_t cap = t.cap * 2 + 4096;
            char *data = realloc(t.data, cap);
            if (!data) {
                rc = -ENOMEM;
                break;
            }
            t.data = data;
            t.cap = cap;
        }
        ssize_t n = recv(fd, t.data + t.len, t.cap - t.len - 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
            break;
        }
        if (n == 0) break;
        t.len += (size_t)n;
    }
    close(fd);
    if (rc) {
        free(t.data);
        return rc;
    }
    t.data[t.len] = '\0';
    *out = t.data;
    return 0;
}

/* "1234.sock" -> 1234; 0 for any other name. */
static long socket_pid(const char *name)
{
    char *end = NULL;
    if (name[0] < '1' || name[0] > '9') return 0;
    long pid = strtol(name, &end, 10);
    return end && strcmp(end, ".sock") == 0 ? pid : 0;
}

static int by_pid(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The pids with a socket file in dir, sorted; *out malloc'd. */
static int list_pids(const char *dir, long **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -errno;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = socket_pid(e->d_name);
        if (!pid) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            long *pids = realloc(*out, cap * sizeof *pids);
            if (!pids) {
                rc = -ENOMEM;
                break;
            }
            *out = pids;
        }
        (*out)[(*count)++] = pid;
    }
    closedir(d);
    if (*count) qsort(*out, *count, sizeof **out, by_pid);
    return rc;
}

int finack_control_query_all(const char *command, long only_pid, finack_control_answer_fn fn,
                             void *ctx)
{
    if (!command || !fn) return -EINVAL;
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int rc = finack_control_run_dir(dir, sizeof dir);
    if (rc) return rc;
    long *pids;
    size_t count;
    rc = list_pids(dir, &pids, &count);
    if (rc) {
        free(pids);
        return rc;
    }
    int answered = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (only_pid && pids[i] != only_pid) continue;
        char path[sizeof dir + 32];
        snprintf(path, sizeof path, "%s/%ld.sock", dir, pids[i]);
        char *text = NULL;
        int err = finack_control_query(path, command, &text);
        if (err == -ECONNREFUSED) {
            (void)unlink(path); /* its process is gone */
            continue;
        }
        if (err == -ENOENT) continue; /* it stopped meanwhile */
        rc = fn(ctx, pids[i], text, err);
        if (!err) answered++;
        free(text);
    }
    free(pids);
    return rc ? rc : answered;
}
