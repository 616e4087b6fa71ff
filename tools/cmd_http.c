/* finack http: a static-file HTTP/1.1 server on a TUN device.
 *
 * One thread serves every connection with non-blocking sockets and
 * finack_loop_poll(), as finack echo does. Each connection reads one
 * request head at a time (pipelined requests wait in its buffer), answers
 * it, and streams a file in 64 KiB chunks read with pread() as the send
 * buffer drains, so a file of any size costs one chunk of memory. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "finack/runtime.h"
#include "finack/socket.h"
#include "net.h"
#include "tool.h"

const char cmd_http_usage[] =
    "usage: finack http --tun IF --addr ADDR[/LEN] --port P --root DIR [OPTIONS]\n"
    "\n"
    "Run a stack on the TUN device IF and serve the files under DIR over\n"
    "HTTP/1.1 on port P until SIGINT or SIGTERM: GET and HEAD, persistent\n"
    "connections (Connection: close honoured; HTTP/1.0 closes unless it asks\n"
    "for keep-alive), pipelining, Content-Length on every response, index.html\n"
    "for a directory, Content-Type by extension. 404 for a missing file, 400 for\n"
    "a malformed request or a path with a '..' segment or one that leads outside\n"
    "DIR, 405 for other methods, 431 for a request head over 8 KiB. Prints\n"
    "'finack http: listening on ADDR:P' to stderr when ready.\n"
    "\n"
    "  --port P         the TCP port to listen on (1 to 65535)\n"
    "  --root DIR       the directory served\n"
    "  --idle SEC       close a connection that moved no byte either way for SEC\n"
    "                   seconds (default 60; decimals allowed), as nginx's\n"
    "                   client_header_timeout and keepalive_timeout\n"
    "\n" NET_OPTIONS_USAGE;

#define HTTP_HEAD_MAX 8192        /* request line and headers */
#define HTTP_CHUNK (64u << 10)    /* file bytes staged per connection */
#define HTTP_HEAD_OUT 512         /* room for a response head */
#define HTTP_BACKLOG 1024

struct http_conn {
    int fd;
    bool peer_eof;            /* the client closed its side */
    size_t req_len;           /* bytes in req (the head being read, then pipelined ones) */
    char req[HTTP_HEAD_MAX];
    /* The response under way: */
    bool responding;
    bool close_after;         /* close once it is sent */
    bool draining;            /* answered and shut down: reading what the client
                               * still sends, so that closing with unread
                               * bytes does not reset the answer away */
    size_t drained;
    finack_time_t last_active; /* when a byte last moved either way */
    int file;                 /* -1: no body from a file */
    off_t file_off, file_end;
    /* out[off..len) waits to be sent: the head, followed by as much of
     * the body as fits, then further file chunks. One send for head and
     * body, so a small response is one segment (a head sent on its own
     * would leave the body to Nagle and the client's delayed ACK). */
    size_t out_off, out_len;
    uint8_t out[HTTP_HEAD_OUT + HTTP_CHUNK];
};

struct http_server {
    struct net_session *net;
    char root[PATH_MAX];      /* realpath of --root */
    size_t root_len;
    int lfd;
    struct http_conn **conns;
    size_t count, cap;
    struct pollfd *pfds;
    size_t pfds_cap;
    finack_time_t idle;       /* --idle */
};

enum { OPT_PORT = NET_OPT__END, OPT_ROOT, OPT_IDLE };

#define HTTP_DEFAULT_IDLE FINACK_SEC(60)

struct http_options {
    struct net_options net;
    uint16_t port;
    const char *root;
    finack_time_t idle;
};

static void http_parse_options(int argc, char **argv, struct http_options *o)
{
    static const struct option options[] = {
        NET_LONG_OPTIONS,
        {"port", required_argument, NULL, OPT_PORT},
        {"root", required_argument, NULL, OPT_ROOT},
        {"idle", required_argument, NULL, OPT_IDLE},
        {NULL, 0, NULL, 0},
    };
    *o = (struct http_options){.idle = HTTP_DEFAULT_IDLE};
    net_options_init(&o->net);
    int c;
    while ((c = tool_next_option(argc, argv, options)) != -1) {
        if (net_option(&o->net, c, optarg)) continue;
        if (c == OPT_PORT) o->port = (uint16_t)tool_parse_uint("--port", optarg, 1, 65535);
        if (c == OPT_ROOT) o->root = optarg;
        if (c == OPT_IDLE) o->idle = tool_parse_seconds("--idle", optarg, 86400);
    }
    net_options_check(&o->net);
    if (o->port == 0) tool_usage_error("--port P is required");
    if (o->root == NULL) tool_usage_error("--root DIR is required");
}

/* ---- Responses ------------------------------------------------------------------- */

static const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
    }
}

static const char *http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"}, {".css", "text/css"},
        {".js", "text/javascript"},            {".json", "application/json"},
        {".png", "image/png"},                 {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
        {".svg", "image/svg+xml"},             {".pdf", "application/pdf"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* Start a response: the head, and either a file (fd, size) or a short
 * text body (error pages). head_only for HEAD. */
static void http_respond(struct http_conn *c, int status, const char *type, int file,
                         off_t size, bool head_only, const char *extra)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    c->file = -1;
    char page[64] = "";
    if (file < 0 && status != 200) {
        /* A one-line page saying what happened. */
        size = snprintf(page, sizeof page, "%d %s\n", status, http_reason(status));
        type = "text/plain; charset=utf-8";
    } else if (!head_only) {
        c->file = file;
        c->file_off = 0;
        c->file_end = size;
    }
    if (head_only && file >= 0) close(file);
    int n = snprintf((char *)c->out, HTTP_HEAD_OUT,
                     "HTTP/1.1 %d %s\r\nServer: finack\r\nDate: %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %lld\r\n%s%s\r\n",
                     status, http_reason(status), date, type, (long long)size,
                     c->close_after ? "Connection: close\r\n" : "", extra ? extra : "");
    c->out_len = (size_t)n < HTTP_HEAD_OUT ? (size_t)n : HTTP_HEAD_OUT - 1;
    c->out_off = 0;
    if (!head_only && page[0]) {
        memcpy(c->out + c->out_len, page, strlen(page));
        c->out_len += strlen(page);
    }
    c->responding = true;
}

/* ---- Requests ------------------------------------------------------------------------ */

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

/* The request target's path, %-decoded, without query; false if it is
 * malformed, holds a NUL, or has a "." or ".." segment. */
static bool http_decode_path(const char *target, size_t len, char *out, size_t cap)
{
    if (len == 0 || target[0] != '/') return false;
    size_t n = 0;
    for (size_t i = 0; i < len && target[i] != '?' && target[i] != '#'; i++) {
        char ch = target[i];
        if (ch == '%') {
            int hi = i + 2 < len ? hex_value(target[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(target[i + 2]) : -1;
            if (lo < 0) return false;
            ch = (char)(hi * 16 + lo);
            i += 2;
            if (ch == '\0') return false;
        }
        if (n + 1 >= cap) return false;
        out[n++] = ch;
    }
    out[n] = '\0';
    /* Segment by segment: no way up, and no '\\' games. */
    for (const char *seg = out; seg; seg = strchr(seg + 1, '/')) {
        const char *s = seg + 1;
        size_t sl = strcspn(s, "/");
        if ((sl == 1 && s[0] == '.') || (sl == 2 && s[0] == '.' && s[1] == '.')) return false;
    }
    return strchr(out, '\\') == NULL;
}

/* Open the file for path under root: the fd and its size, or -404 / -400
 * (a path that resolves outside root, through a symbolic link). */
static int http_open_file(const struct http_server *h, const char *path, off_t *size,
                          char *resolved)
{
    char full[PATH_MAX];
    int n = snprintf(full, sizeof full, "%s%s", h->root, path);
    if (n < 0 || (size_t)n >= sizeof full) return -404;
    struct stat st;
    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
        int more = snprintf(full + n, sizeof full - (size_t)n, "%sindex.html",
                            full[n - 1] == '/' ? "" : "/");
        if (more < 0 || (size_t)more >= sizeof full - (size_t)n) return -404;
    }
    if (!realpath(full, resolved)) return -404;
    if (strncmp(resolved, h->root, h->root_len) != 0 ||
        (resolved[h->root_len] != '/' && resolved[h->root_len] != '\0'))
        return -400;
    /* O_NONBLOCK: opening a FIFO (or a device) must not block the one
     * server thread; anything but a regular file is refused right after.
     * O_NOFOLLOW: the last component cannot have become a symbolic link
     * since realpath() looked. */
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) return -404;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -404;
    }
    *size = st.st_size;
    return fd;
}

/* Whether the comma-separated header value holds token (case-insensitive). */
static bool has_token(const char *value, size_t len, const char *token)
{
    size_t tl = strlen(token);
    size_t i = 0;
    while (i < len) {
        while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) i++;
        size_t start = i;
        while (i < len && value[i] != ',') i++;
        size_t end = i;
        while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t')) end--;
        if (end - start == tl && strncasecmp(value + start, token, tl) == 0) return true;
    }
    return false;
}

/* The end of a request head in buf: offset just past the blank line, or 0.
 * Lines end in CRLF or (tolerated, RFC 9112 §2.2) a bare LF. */
static size_t http_head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n') continue;
        if (i + 1 < len && buf[i + 1] == '\n') return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

struct http_request {
    const char *method, *target;
    size_t method_len, target_len;
    int minor;               /* HTTP/1.minor */
    bool conn_close, conn_keep_alive, has_body;
};

/* Parse the head in buf[0..len) (len includes the blank line). Returns
 * 0 or the status to answer with (400, 505). */
static int http_parse_request(char *buf, size_t len, struct http_request *r)
{
    *r = (struct http_request){0};
    char *end = buf + len;
    char *line = buf;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t ll = (size_t)(nl - line);
    if (ll && line[ll - 1] == '\r') ll--;
    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    char *sp1 = memchr(line, ' ', ll);
    if (!sp1 || sp1 == line) return 400;
    char *sp2 = memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - line));
    if (!sp2 || sp2 == sp1 + 1) return 400;
    r->method = line;
    r->method_len = (size_t)(sp1 - line);
    for (size_t i = 0; i < r->method_len; i++)
        if (!isupper((unsigned char)line[i])) return 400;
    r->target = sp1 + 1;
    r->target_len = (size_t)(sp2 - sp1 - 1);
    for (size_t i = 0; i < r->target_len; i++)
        if ((unsigned char)r->target[i] <= ' ' || r->target[i] == 0x7f) return 400;
    const char *version = sp2 + 1;
    size_t vl = ll - (size_t)(version - line);
    if (vl != 8 || strncmp(version, "HTTP/", 5) != 0 || !isdigit((unsigned char)version[5]) ||
        version[6] != '.' || !isdigit((unsigned char)version[7]))
        return 400;
    if (version[5] != '1') return 505;
    r->minor = version[7] - '0';
    /* Headers: NAME: VALUE, until the blank line. */
    for (line = nl + 1; line < end; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(end - line));
        ll = (size_t)(nl - line);
        if (ll && line[ll - 1] == '\r') ll--;
        if (ll == 0) break;
        if (line[0] == ' ' || line[0] == '\t') return 400; /* obsolete line folding */
        char *colon = memchr(line, ':', ll);
        if (!colon || colon == line) return 400;
        size_t nl_len = (size_t)(colon - line);
        for (size_t i = 0; i < nl_len; i++)
            if (line[i] <= ' ' || line[i] >= 0x7f) return 400; /* no space before ':' */
        const char *v = colon + 1;
        size_t vlen = ll - nl_len - 1;
        while (vlen && (*v == ' ' || *v == '\t')) v++, vlen--;
        if (nl_len == 10 && strncasecmp(line, "Connection", 10) == 0) {
            if (has_token(v, vlen, "close")) r->conn_close = true;
            if (has_token(v, vlen, "keep-alive")) r->conn_keep_alive = true;
        } else if (nl_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            for (size_t i = 0; i < vlen; i++)
                if (!isdigit((unsigned char)v[i]) && v[i] != ' ') return 400;
            for (size_t i = 0; i < vlen; i++)
                if (v[i] >= '1' && v[i] <= '9') r->has_body = true;
        } else if (nl_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            r->has_body = true;
        }
    }
    return 0;
}

/* Answer the request whose head is req[0..head_len). */
static void http_handle(struct http_server *h, struct http_conn *c, size_t head_len)
{
    struct http_request r;
    int status = http_parse_request(c->req, head_len, &r);
    if (status) {
        c->close_after = true; /* the stream cannot be trusted past a bad head */
        http_respond(c, status, NULL, -1, 0, false, NULL);
        return;
    }
    c->close_after = r.conn_close || (r.minor == 0 && !r.conn_keep_alive);
    bool get = r.method_len == 3 && memcmp(r.method, "GET", 3) == 0;
    bool head = r.method_len == 4 && memcmp(r.method, "HEAD", 4) == 0;
    if (!get && !head) {
        /* Its body (if any) is not read: close after answering. */
        c->close_after = true;
        http_respond(c, 405, NULL, -1, 0, head, "Allow: GET, HEAD\r\n");
        return;
    }
    if (r.has_body) {
        c->close_after = true;
        http_respond(c, 400, NULL, -1, 0, head, NULL);
        return;
    }
    char path[PATH_MAX], resolved[PATH_MAX];
    if (!http_decode_path(r.target, r.target_len, path, sizeof path)) {
        http_respond(c, 400, NULL, -1, 0, head, NULL);
        return;
    }
    off_t size = 0;
    int fd = http_open_file(h, path, &size, resolved);
    if (fd < 0) {
        http_respond(c, -fd, NULL, -1, 0, head, NULL);
        return;
    }
    /* HTTP/1.0 keep-alive must be confirmed in the response. */
    http_respond(c, 200, http_content_type(resolved), fd, size, head,
                 r.minor == 0 && !c->close_after ? "Connection: keep-alive\r\n" : NULL);
}

/* ---- Moving bytes ------------------------------------------------------------------------- */

/* Push the response on. 1 progress, 0 blocked, -1 failed, 2 done and the
 * connection is to close (close_after). */
static int http_push_response(struct finack_loop *loop, struct http_conn *c)
{
    if (c->file >= 0 && c->file_off < c->file_end && c->out_len < sizeof c->out) {
        /* Top the staging buffer up from the file first. */
        if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
        off_t left = c->file_end - c->file_off;
        size_t room = sizeof c->out - c->out_len;
        size_t want = left < (off_t)room ? (size_t)left : room;
        ssize_t n = pread(c->file, c->out + c->out_len, want, c->file_off);
        if (n <= 0) return -1; /* the file shrank or failed: the length promised is a lie */
        c->file_off += n;
        c->out_len += (size_t)n;
    }
    if (c->out_off < c->out_len) {
        ssize_t n = finack_loop_send(loop, c->fd, c->out + c->out_off, c->out_len - c->out_off, 0);
        if (n == -EAGAIN) return 0;
        if (n < 0) return -1;
        c->out_off += (size_t)n;
        if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
        return 1;
    }
    if (c->file >= 0 && c->file_off < c->file_end) return 1;
    /* Done. */
    if (c->file >= 0) close(c->file);
    c->file = -1;
    c->responding = false;
    return c->close_after ? 2 : 1;
}

/* Lingering close, as nginx's: after the last response, FIN, then read
 * and drop what the client still sends (the rest of an oversized head, a
 * body we did not read) until its FIN, up to HTTP_DRAIN_MAX bytes. Closing
 * with those bytes unread would send a RST, and a RST arriving before the
 * client has read the response makes its stack throw the response away. */
#define HTTP_DRAIN_MAX (1u << 20)

/* false: close now. */
static bool http_drain(struct finack_loop *loop, struct http_conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = finack_loop_recv(loop, c->fd, sink, sizeof sink, 0);
        if (n == -EAGAIN) return true;
        if (n <= 0) return false;
        c->drained += (size_t)n;
        if (c->drained > HTTP_DRAIN_MAX) return false;
    }
}

/* Move what can move without waiting. false: close the connection. */
static bool http_service(struct http_server *h, struct http_conn *c)
{
    struct finack_loop *loop = h->net->loop;
    for (;;) {
        if (c->draining) return http_drain(loop, c);
        if (c->responding) {
            int rc = http_push_response(loop, c);
            if (rc < 0) return false;
            if (rc == 0) return true;
            if (rc == 2) {
                if (c->peer_eof) return false; /* nothing unread can come */
                if (finack_loop_shutdown(loop, c->fd, SHUT_WR) < 0) return false;
                c->draining = true;
            }
            continue;
        }
        size_t end = http_head_end(c->req, c->req_len);
        if (end) {
            http_handle(h, c, end);
            memmove(c->req, c->req + end, c->req_len - end);
            c->req_len -= end;
            continue;
        }
        if (c->req_len == sizeof c->req) {
            c->close_after = true;
            c->req_len = 0;
            http_respond(c, 431, NULL, -1, 0, false, NULL);
            continue;
        }
        if (c->peer_eof) return false; /* nothing more will come */
        ssize_t n = finack_loop_recv(loop, c->fd, c->req + c->req_len, sizeof c->req - c->req_len, 0);
        if (n == -EAGAIN) return true;
        if (n < 0) return false;
        if (n == 0) c->peer_eof = true;
        c->req_len += (size_t)n;
    }
}

static short http_events(const struct http_conn *c)
{
    return c->responding && !c->draining ? POLLOUT : POLLIN;
}

/* ---- Connections and the loop (as in cmd_echo.c) ---------------------------------------------- */

static void http_accept_all(struct http_server *h)
{
    struct finack_loop *loop = h->net->loop;
    const struct net_options *o = h->net->options;
    for (;;) {
        int fd = finack_loop_accept(loop, h->lfd, NULL, NULL);
        if (fd < 0) return;
        if (h->count == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 64;
            struct http_conn **conns = realloc(h->conns, cap * sizeof *conns);
            if (!conns) {
                finack_loop_close(loop, fd);
                continue;
            }
            h->conns = conns;
            h->cap = cap;
        }
        struct http_conn *c = malloc(sizeof *c);
        if (!c || finack_loop_set_nonblock(loop, fd, true) < 0) {
            free(c);
            finack_loop_close(loop, fd);
            continue;
        }
        if (o->sndbuf) finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
                                              sizeof o->sndbuf);
        if (o->rcvbuf) finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
                                              sizeof o->rcvbuf);
        /* Responses go out whole (head and body in one send, files in
         * 64 KiB sends): only a response's last segment can be short, and
         * it should not wait for an ACK (as nginx's tcp_nodelay). */
        int one = 1;
        finack_loop_setsockopt(loop, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->out_off = c->out_len = 0;
        c->peer_eof = c->responding = c->close_after = c->draining = false;
        c->drained = 0;
        c->last_active = finack_clock_now();
        c->req_len = 0;
        c->file = -1;
        h->conns[h->count++] = c;
    }
}

static void http_close(struct http_server *h, size_t i)
{
    struct http_conn *c = h->conns[i];
    if (c->file >= 0) close(c->file);
    finack_loop_close(h->net->loop, c->fd);
    free(c);
    h->conns[i] = h->conns[--h->count];
}

static int http_serve(struct http_server *h)
{
    for (;;) {
        if (h->count + 1 > h->pfds_cap) {
            size_t cap = (h->count + 1) * 2;
            struct pollfd *p = realloc(h->pfds, cap * sizeof *p);
            if (!p) return -ENOMEM;
            h->pfds = p;
            h->pfds_cap = cap;
        }
        h->pfds[0] = (struct pollfd){.fd = h->lfd, .events = POLLIN};
        for (size_t i = 0; i < h->count; i++)
            h->pfds[i + 1] = (struct pollfd){.fd = h->conns[i]->fd,
                                             .events = http_events(h->conns[i])};
        size_t n = h->count;
        /* Wake for the connection that goes idle first. */
        finack_time_t until = FINACK_TIME_NEVER;
        for (size_t i = 0; i < n; i++)
            if (h->conns[i]->last_active + h->idle < until)
                until = h->conns[i]->last_active + h->idle;
        int rc = net_poll_until(h->net, h->pfds, n + 1, NULL, 0, until);
        if (rc == -EINTR) return 0;
        if (rc < 0) return rc;
        finack_time_t now = finack_clock_now();
        for (size_t i = n; i-- > 0;) {
            struct http_conn *c = h->conns[i];
            if (h->pfds[i + 1].revents == 0) {
                /* Idle too long (a client that connects and says nothing,
                 * sends half a request, or stops reading): close it. */
                if (now >= c->last_active + h->idle) http_close(h, i);
                continue;
            }
            c->last_active = now;
            if (!http_service(h, c)) http_close(h, i);
        }
        if (h->pfds[0].revents) http_accept_all(h);
    }
}

static int http_listen(struct http_server *h, uint16_t port)
{
    struct finack_loop *loop = h->net->loop;
    int fd = net_socket(h->net);
    if (fd < 0) return fd;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    int rc = finack_loop_bind(loop, fd, (struct sockaddr *)&sin, sizeof sin);
    if (rc == 0) rc = finack_loop_listen(loop, fd, HTTP_BACKLOG);
    if (rc < 0) {
        finack_loop_close(loop, fd);
        return rc;
    }
    h->lfd = fd;
    return 0;
}

int cmd_http(int argc, char **argv)
{
    struct http_options o;
    http_parse_options(argc, argv, &o);
    static struct http_server h; /* PATH_MAX inside: not on the stack */
    h = (struct http_server){.lfd = -1, .idle = o.idle};
    struct stat st;
    if (!realpath(o.root, h.root) || stat(h.root, &st) < 0)
        tool_usage_error("--root '%s': %s", o.root, strerror(errno));
    if (!S_ISDIR(st.st_mode)) tool_usage_error("--root '%s': not a directory", o.root);
    h.root_len = strlen(h.root);
    if (h.root_len == 1) h.root_len = 0; /* "/": every path is under it */

    struct net_session net;
    if (net_open(&net, &o.net, "http") < 0) return TOOL_EXIT_FAILURE;
    h.net = &net;
    int rc = http_listen(&h, o.port);
    if (rc < 0) {
        tool_error("cannot listen on port %u: %s", (unsigned)o.port, tool_strerror(rc));
    } else {
        char ep[22];
        fprintf(stderr, "finack http: listening on %s\n",
                net_format_endpoint(o.net.addr, o.port, ep));
        rc = http_serve(&h);
        if (rc < 0 && rc != -ENETDOWN) tool_error("%s", tool_strerror(rc)); /* net_poll said */
    }
    while (h.count) http_close(&h, h.count - 1);
    if (h.lfd >= 0) finack_loop_close(net.loop, h.lfd);
    free(h.conns);
    free(h.pfds);
    net_close(&net);
    return rc < 0 ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
