/* JSON-lines traces (docs/TRACE.md): read with a small strict parser of
 * our own (RFC 8259 syntax, one object per line; unknown keys and unknown
 * "ev" kinds are skipped so that newer traces still draw), and written back
 * in the same schema. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/internal.h"

/* ---- Values ------------------------------------------------------------------------ */

#define JSON_STRING_MAX 256
#define JSON_DEPTH_MAX 32

enum json_type { JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL, JSON_NESTED };

struct json_value {
    enum json_type type;
    char str[JSON_STRING_MAX];  /* JSON_STRING, decoded to UTF-8 */
    bool too_long;              /* the string did not fit in str */
    bool is_uint;               /* JSON_NUMBER: digits only */
    bool overflow;              /* is_uint but above UINT64_MAX */
    uint64_t u;
    bool b;                     /* JSON_BOOL */
};

struct json_parser {
    const char *s;
    size_t pos;
    char msg[128];              /* the first error, "" if none */
};

static bool fail(struct json_parser *p, const char *what)
{
    if (!p->msg[0]) snprintf(p->msg, sizeof p->msg, "%s at column %zu", what, p->pos + 1);
    return false;
}

static void skip_ws(struct json_parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\r' ||
           p->s[p->pos] == '\n')
        p->pos++;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct json_parser *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->s[p->pos]);
        if (d < 0) return fail(p, "bad \\u escape");
        v = v << 4 | (uint32_t)d;
        p->pos++;
    }
    *out = v;
    return true;
}

static void put_utf8(struct json_value *v, size_t *n, uint32_t cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp, k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
    }
    if (*n + k >= sizeof v->str) {
        v->too_long = true;
        return;
    }
    memcpy(v->str + *n, b, k);
    *n += k;
    v->str[*n] = 0;
}

/* An escape after the backslash; \uD83D\uDE00 pairs join. */
static bool read_escape(struct json_parser *p, uint32_t *cp)
{
    char c = p->s[p->pos++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        *cp = (unsigned char)to[k - from];
        return true;
    }
    if (c != 'u') {
        p->pos--;
        return fail(p, "bad escape in string");
    }
    if (!read_hex4(p, cp)) return false;
    if (*cp >= 0xdc00 && *cp < 0xe000) return fail(p, "lone low surrogate in string");
    if (*cp < 0xd800 || *cp >= 0xdc00) return true;
    uint32_t low;
    if (p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
        return fail(p, "high surrogate without its low half");
    p->pos += 2;
    if (!read_hex4(p, &low)) return false;
    if (low < 0xdc00 || low >= 0xe000) return fail(p, "high surrogate without its low half");
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
    return true;
}

/* Bytes of one UTF-8 character at s (1..4), 0 if not well formed. */
static size_t utf8_length(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
             : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 0;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
    return n;
}

static bool read_string(struct json_parser *p, struct json_value *v)
{
    v->type = JSON_STRING;
    v->str[0] = 0;
    v->too_long = false;
    size_t n = 0;
    p->pos++; /* the opening quote */
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return true;
        }
        if (c == 0) return fail(p, "unterminated string");
        if (c < 0x20) return fail(p, "control character in string");
        if (c == '\\') {
            p->pos++;
            uint32_t cp;
            if (!read_escape(p, &cp)) return false;
            put_utf8(v, &n, cp);
            continue;
        }
        size_t k = utf8_length((const unsigned char *)p->s + p->pos);
        if (k == 0) return fail(p, "invalid UTF-8 in string");
        if (n + k < sizeof v->str) {
            memcpy(v->str + n, p->s + p->pos, k);
            n += k;
            v->str[n] = 0;
        } else {
            v->too_long = true;
        }
        p->pos += k;
    }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool read_number(struct json_parser *p, struct json_value *v)
{
    v->type = JSON_NUMBER;
    v->is_uint = true;
    v->overflow = false;
    v->u = 0;
    if (p->s[p->pos] == '-') {
        v->is_uint = false;
        p->pos++;
    }
    if (!is_digit(p->s[p->pos])) return fail(p, "bad number");
    if (p->s[p->pos] == '0' && is_digit(p->s[p->pos + 1])) return fail(p, "leading zero in number");
    for (; is_digit(p->s[p->pos]); p->pos++) {
        unsigned d = (unsigned)(p->s[p->pos] - '0');
        if (v->u > (UINT64_MAX - d) / 10) v->overflow = true;
        v->u = v->u * 10 + d;
    }
    if (p->s[p->pos] == '.') {
        v->is_uint = false;
        p->pos++;
        if (!is_digit(p->s[p->pos])) return fail(p, "bad number");
        while (is_digit(p->s[p->pos])) p->pos++;
    }
    if (p->s[p->pos] == 'e' || p->s[p->pos] == 'E') {
        v->is_uint = false;
        p->pos++;
        if (p->s[p->pos] == '+' || p->s[p->pos] == '-') p->pos++;
        if (!is_digit(p->s[p->pos])) return fail(p, "bad number");
        while (is_digit(p->s[p->pos])) p->pos++;
    }
    return true;
}

static bool read_word(struct json_parser *p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(p->s + p->pos, word, n) != 0) return fail(p, "unexpected character");
    p->pos += n;
    return true;
}

static bool read_value(struct json_parser *p, struct json_value *v, int depth);

/* An object or array inside the line's object: checked, not kept. */
static bool read_nested(struct json_parser *p, int depth)
{
    if (depth > JSON_DEPTH_MAX) return fail(p, "nested too deeply");
    char close = p->s[p->pos] == '{' ? '}' : ']';
    bool object = close == '}';
    p->pos++;
    skip_ws(p);
    if (p->s[p->pos] == close) {
        p->pos++;
        return true;
    }
    struct json_value *v = malloc(sizeof *v);
    if (!v) return fail(p, "out of memory");
    bool ok = true;
    for (;;) {
        skip_ws(p);
        if (object) {
            if (p->s[p->pos] != '"') {
                ok = fail(p, "expected a key");
                break;
            }
            if (!(ok = read_string(p, v))) break;
            skip_ws(p);
            if (p->s[p->pos] != ':') {
                ok = fail(p, "expected ':'");
                break;
            }
            p->pos++;
        }
        if (!(ok = read_value(p, v, depth + 1))) break;
        skip_ws(p);
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        ok = fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    free(v);
    return ok;
}

static bool read_value(struct json_parser *p, struct json_value *v, int depth)
{
    skip_ws(p);
    char c = p->s[p->pos];
    if (c == '"') return read_string(p, v);
    if (c == '-' || is_digit(c)) return read_number(p, v);
    if (c == '{' || c == '[') {
        v->type = JSON_NESTED;
        return read_nested(p, depth);
    }
    if (c == 't' || c == 'f') {
        v->type = JSON_BOOL;
        v->b = c == 't';
        return read_word(p, c == 't' ? "true" : "false");
    }
    if (c == 'n') {
        v->type = JSON_NULL;
        return read_word(p, "null");
    }
    return fail(p, c ? "unexpected character" : "value missing");
}

/* Copy src into dst[size], cut at a character boundary if it is longer. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* ---- One trace line ------------------------------------------------------------------ */

/* The fields a line may carry, by key. */
enum field {
    F_T_US, F_HOST, F_CONN, F_EV, F_FROM, F_TO, F_DIR, F_FLAGS, F_SEQ, F_ACK, F_WIN, F_LEN,
    F_WIN_RAW, F_OPTS, F_RTX, F_REASON, F_TIMER, F_TEXT, F__COUNT
};

static const struct {
    const char *key;
    enum json_type type;
    uint64_t max;        /* numbers */
} fields[F__COUNT] = {
    [F_T_US] = {"t_us", JSON_NUMBER, UINT64_MAX}, [F_HOST] = {"host", JSON_STRING, 0},
    [F_CONN] = {"conn", JSON_STRING, 0},          [F_EV] = {"ev", JSON_STRING, 0},
    [F_FROM] = {"from", JSON_STRING, 0},          [F_TO] = {"to", JSON_STRING, 0},
    [F_DIR] = {"dir", JSON_STRING, 0},            [F_FLAGS] = {"flags", JSON_STRING, 0},
    [F_SEQ] = {"seq", JSON_NUMBER, UINT32_MAX},   [F_ACK] = {"ack", JSON_NUMBER, UINT32_MAX},
    [F_WIN] = {"win", JSON_NUMBER, UINT32_MAX},   [F_LEN] = {"len", JSON_NUMBER, UINT32_MAX},
    [F_OPTS] = {"opts", JSON_STRING, 0},          [F_RTX] = {"rtx", JSON_BOOL, 0},
    [F_REASON] = {"reason", JSON_STRING, 0},      [F_TIMER] = {"timer", JSON_STRING, 0},
    [F_TEXT] = {"text", JSON_STRING, 0},
    [F_WIN_RAW] = {"win_raw", JSON_NUMBER, UINT32_MAX},
};

struct line {
    bool have[F__COUNT];
    struct json_value v[F__COUNT];
};

static int field_of(const char *key)
{
    for (int f = 0; f < F__COUNT; f++)
        if (strcmp(fields[f].key, key) == 0) return f;
    return -1;
}

static const char *type_name(enum json_type t)
{
    switch (t) {
    case JSON_STRING: return "a string";
    case JSON_NUMBER: return "a number";
    case JSON_BOOL: return "true or false";
    case JSON_NULL: return "null";
    case JSON_NESTED: return "an object or array";
    }
    return "?";
}

/* The line's object into ln; false with p->msg on any error. */
static bool read_line(struct json_parser *p, struct line *ln, struct json_value *scratch)
{
    memset(ln->have, 0, sizeof ln->have);
    skip_ws(p);
    if (p->s[p->pos] != '{') return fail(p, "expected '{'");
    p->pos++;
    skip_ws(p);
    if (p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            skip_ws(p);
            if (p->s[p->pos] != '"') return fail(p, "expected a key");
            if (!read_string(p, scratch)) return false;
            int f = field_of(scratch->str);
            if (f >= 0 && ln->have[f]) return fail(p, "duplicate key");
            char key[32];
            copy_text(key, sizeof key, scratch->str);
            skip_ws(p);
            if (p->s[p->pos] != ':') return fail(p, "expected ':' after key");
            p->pos++;
            skip_ws(p);
            size_t at = p->pos;
            struct json_value *v = f >= 0 ? &ln->v[f] : scratch;
            if (!read_value(p, v, 1)) return false;
            if (f >= 0) {
                p->pos = at;
                char what[96];
                if (v->type != fields[f].type) {
                    snprintf(what, sizeof what, "\"%s\" must be %s", key, type_name(fields[f].type));
                    return fail(p, what);
                }
                if (v->type == JSON_NUMBER && (!v->is_uint || v->overflow || v->u > fields[f].max)) {
                    snprintf(what, sizeof what, "\"%s\" must be an integer in 0..%llu", key,
                             (unsigned long long)fields[f].max);
                    return fail(p, what);
                }
                if (v->type == JSON_STRING && v->too_long) {
                    snprintf(what, sizeof what, "\"%s\" is too long", key);
                    return fail(p, what);
                }
                read_value(p, v, 1);
                ln->have[f] = true;
            }
            skip_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == '}') {
                p->pos++;
                break;
            }
            return fail(p, "expected ',' or '}'");
        }
    }
    skip_ws(p);
    if (p->s[p->pos]) return fail(p, "text after the object");
    return true;
}

static bool parse_ipv4(const char **s, uint32_t *out)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        if (i && *(*s)++ != '.') return false;
        if (!is_digit(**s)) return false;
        unsigned v = 0, digits = 0;
        while (is_digit(**s) && digits < 4) v = v * 10 + (unsigned)(*(*s)++ - '0'), digits++;
        if (v > 255 || digits > 3) return false;
        a = a << 8 | v;
    }
    *out = a;
    return true;
}

static bool parse_port(const char **s, uint16_t *out)
{
    if (*(*s)++ != ':' || !is_digit(**s)) return false;
    unsigned v = 0;
    for (int digits = 0; is_digit(**s); digits++) {
        if (digits == 5) return false;
        v = v * 10 + (unsigned)(*(*s)++ - '0');
    }
    if (v > 65535) return false;
    *out = (uint16_t)v;
    return true;
}

/* "10.0.0.1:5000-10.0.0.2:80" */
static bool parse_conn(const char *s, struct ladder_tuple *c)
{
    return parse_ipv4(&s, &c->laddr) && parse_port(&s, &c->lport) && *s++ == '-' &&
           parse_ipv4(&s, &c->raddr) && parse_port(&s, &c->rport) && *s == 0;
}

/* tcpdump's letters, any order; "" for none. */
static bool parse_flags(const char *s, uint8_t *out)
{
    static const char letters[] = "FSRPAUEC";
    uint8_t f = 0;
    for (; *s; s++) {
        const char *k = strchr(letters, *s);
        if (!k) return false;
        f |= (uint8_t)(1u << (k - letters));
    }
    *out = f;
    return true;
}

/* What each kind needs beside t_us, host and ev. */
static const enum field needs_state[] = {F_CONN, F_FROM, F_TO, F__COUNT};
static const enum field needs_seg[] = {F_CONN, F_DIR, F_FLAGS, F_SEQ, F_ACK, F_WIN, F_LEN, F__COUNT};
static const enum field needs_drop[] = {F_REASON, F__COUNT};
static const enum field needs_timer[] = {F_CONN, F_TIMER, F__COUNT};
static const enum field needs_note[] = {F_TEXT, F__COUNT};
static const enum field needs_any[] = {F_T_US, F_HOST, F_EV, F__COUNT};

static bool check_fields(const struct line *ln, const enum field *need, char *msg, size_t size)
{
    for (; *need != F__COUNT; need++) {
        if (ln->have[*need]) continue;
        snprintf(msg, size, "\"%s\" missing", fields[*need].key);
        return false;
    }
    return true;
}

/* The event a parsed line describes, added to l; msg on error. */
static int add_line(struct ladder *l, const struct line *ln, char *msg, size_t size)
{
    if (!check_fields(ln, needs_any, msg, size)) return -EINVAL;
    const char *ev = ln->v[F_EV].str;
    struct ladder_event e = {.t = ln->v[F_T_US].u};
    const enum field *need;
    if (strcmp(ev, "state") == 0) {
        e.kind = FINACK_TRACE_STATE, need = needs_state;
    } else if (strcmp(ev, "seg") == 0) {
        e.kind = FINACK_TRACE_SEG, need = needs_seg;
    } else if (strcmp(ev, "drop") == 0) {
        e.kind = FINACK_TRACE_DROP, need = needs_drop;
    } else if (strcmp(ev, "timer") == 0) {
        e.kind = FINACK_TRACE_TIMER, need = needs_timer;
    } else if (strcmp(ev, "note") == 0) {
        e.kind = LADDER_NOTE, need = needs_note;
    } else {
        return 0; /* a kind newer than this reader */
    }
    if (!check_fields(ln, need, msg, size)) return -EINVAL;
    struct ladder_tuple conn = {0};
    if (ln->have[F_CONN] && !parse_conn(ln->v[F_CONN].str, &conn)) {
        snprintf(msg, size, "\"conn\" is not ADDR:PORT-ADDR:PORT: \"%.40s\"", ln->v[F_CONN].str);
        return -EINVAL;
    }
    switch ((int)e.kind) {
    case FINACK_TRACE_STATE:
        copy_text(e.from, sizeof e.from, ln->v[F_FROM].str);
        copy_text(e.to, sizeof e.to, ln->v[F_TO].str);
        break;
    case FINACK_TRACE_SEG: {
        const char *dir = ln->v[F_DIR].str;
        if (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0) {
            snprintf(msg, size, "\"dir\" must be \"in\" or \"out\"");
            return -EINVAL;
        }
        if (!parse_flags(ln->v[F_FLAGS].str, &e.flags)) {
            snprintf(msg, size, "\"flags\" must be letters of FSRPAUEC: \"%.20s\"",
                     ln->v[F_FLAGS].str);
            return -EINVAL;
        }
        e.out = dir[0] == 'o';
        e.seq = (uint32_t)ln->v[F_SEQ].u;
        e.ack = (uint32_t)ln->v[F_ACK].u;
        e.win = (uint32_t)ln->v[F_WIN].u;
        if (ln->have[F_WIN_RAW]) e.win_raw = (uint32_t)ln->v[F_WIN_RAW].u;
        e.len = (uint32_t)ln->v[F_LEN].u;
        e.retransmit = ln->have[F_RTX] && ln->v[F_RTX].b;
        if (ln->have[F_OPTS]) copy_text(e.opts, sizeof e.opts, ln->v[F_OPTS].str);
        break;
    }
    case FINACK_TRACE_DROP:
        copy_text(e.reason, sizeof e.reason, ln->v[F_REASON].str);
        break;
    case FINACK_TRACE_TIMER:
        copy_text(e.timer, sizeof e.timer, ln->v[F_TIMER].str);
        break;
    default:
        copy_text(e.opts, sizeof e.opts, ln->v[F_TEXT].str);
        break;
    }
    return ladder_add_traced(l, ln->v[F_HOST].str, &conn, &e);
}

int ladder_read_json(struct ladder *l, FILE *in, char *err, size_t errlen)
{
    if (!l || !in) return -EINVAL;
    char *buf = NULL;
    size_t cap = 0;
    struct line *ln = malloc(sizeof *ln);
    struct json_value *scratch = malloc(sizeof *scratch);
    int rc = ln && scratch ? 0 : -ENOMEM;
    if (rc) snprintf(err, errlen, "out of memory");
    for (unsigned long n = 1; !rc; n++) {
        ssize_t len = getline(&buf, &cap, in);
        if (len < 0) {
            if (ferror(in)) {
                snprintf(err, errlen, "line %lu: read error", n);
                rc = -EIO;
            }
            break;
        }
        if (strlen(buf) != (size_t)len) {
            snprintf(err, errlen, "line %lu: NUL byte in the line", n);
            rc = -EINVAL;
            break;
        }
        if (len > 0 && buf[len - 1] == '\n') buf[--len] = 0;
        struct json_parser p = {.s = buf};
        skip_ws(&p);
        if (!buf[p.pos]) continue; /* blank lines are allowed */
        char msg[160];
        if (!read_line(&p, ln, scratch)) {
            snprintf(err, errlen, "line %lu: %s", n, p.msg);
            rc = -EINVAL;
        } else if ((rc = add_line(l, ln, msg, sizeof msg)) != 0) {
            if (rc == -ENOMEM) snprintf(msg, sizeof msg, "out of memory");
            snprintf(err, errlen, "line %lu: %s", n, msg);
        }
    }
    free(buf);
    free(ln);
    free(scratch);
    return rc;
}

/* ---- Writing ------------------------------------------------------------------------ */

void ladder_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void format_addr(uint32_t a, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u:", (unsigned)(a >> 24), (unsigned)(a >> 16 & 255),
             (unsigned)(a >> 8 & 255), (unsigned)(a & 255));
}

int ladder_write_json(const struct ladder *l, FILE *out)
{
    if (!l || !out) return -EINVAL;
    size_t *idx = ladder_time_order(l);
    if (!idx) return -ENOMEM;
    for (size_t n = 0; n < l->count; n++) {
        const struct ladder_event *e = &l->events[idx[n]];
        int s = e->side;
        char host[40], la[24], ra[24];
        if (l->host[s][0])
            copy_text(host, sizeof host, l->host[s]);
        else
            copy_text(host, sizeof host, s == 0 ? "A" : "B");
        /* The event's own 4-tuple where it is known (a listener's stays a
         * listener's), else the connection drawn; a note has none. */
        uint32_t laddr = e->have_conn ? e->laddr : l->addr[s];
        uint32_t raddr = e->have_conn ? e->raddr : l->addr[!s];
        unsigned lport = e->have_conn ? e->lport : l->port[s];
        unsigned rport = e->have_conn ? e->rport : l->port[!s];
        format_addr(laddr, la, sizeof la);
        format_addr(raddr, ra, sizeof ra);
        fprintf(out, "{\"t_us\":%llu,\"host\":", (unsigned long long)e->t);
        ladder_json_string(out, host);
        if (e->kind == LADDER_NOTE)
            fputs(",\"ev\":", out);
        else
            fprintf(out, ",\"conn\":\"%s%u-%s%u\",\"ev\":", la, lport, ra, rport);
        char flags[16];
        switch ((int)e->kind) {
        case FINACK_TRACE_STATE:
            fputs("\"state\",\"from\":", out);
            ladder_json_string(out, e->from);
            fputs(",\"to\":", out);
            ladder_json_string(out, e->to);
            break;
        case FINACK_TRACE_SEG:
            fprintf(out, "\"seg\",\"dir\":\"%s\",\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,"
                         "\"win\":%u,",
                    e->out ? "out" : "in", finack_trace_flags(e->flags, flags), (unsigned)e->seq,
                    (unsigned)e->ack, (unsigned)e->win);
            /* Known when given, and always for a zero window. */
            if (e->win_raw || e->win == 0) fprintf(out, "\"win_raw\":%u,", (unsigned)e->win_raw);
            fprintf(out, "\"len\":%u,\"opts\":", (unsigned)e->len);
            ladder_json_string(out, e->opts);
            if (e->retransmit) fputs(",\"rtx\":true", out);
            break;
        case FINACK_TRACE_DROP:
            fputs("\"drop\",\"reason\":", out);
            ladder_json_string(out, e->reason);
            break;
        case FINACK_TRACE_TIMER:
            fputs("\"timer\",\"timer\":", out);
            ladder_json_string(out, e->timer);
            break;
        default:
            fputs("\"note\",\"text\":", out);
            ladder_json_string(out, e->opts);
            break;
        }
        fputs("}\n", out);
    }
    free(idx);
    return ferror(out) ? -EIO : 0;
}
