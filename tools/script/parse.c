/* The script parser: packetdrill's language (TCP over IPv4) → struct script.
 *
 * One event per line; a line break inside (), [] or {} continues the event,
 * and `commands`, %{ code }% and block comments may span lines. `//` comments
 * run to the end of the line. The grammar, as this parser accepts it:
 *
 *   script   := { line }
 *   line     := { --name[=value] }          options, only before the first event
 *             | `command` | %{ code }%       untimed (packetdrill's init/cleanup command)
 *             | time action | (empty)
 *   time     := '*' | T | '+' T | T '~' T | '+' T '~' '+' T
 *   T        := seconds: 0  1  0.100  .1     (decimal digits → exact µs, not via double;
 *                                            digits past the sixth decimal are dropped)
 *   action   := `command` | %{ code }% | packet | [ '...' T ] syscall
 *   packet   := ('<' | '>') [ '[noecn]' ] flags [ N ':' N '(' N ')' ]
 *               [ 'ack' N ] [ 'win' N ] [ 'urg' N ] [ '<' ( '...' | opt { ',' opt } ) '>' ]
 *   flags    := letters of FSRPEWU, then an optional '.' (ACK) | '.' | '-' (none)
 *   opt      := nop | eol | mss N | wscale N | sackOK | sack N:N {N:N} | TS val N ecr N
 *   syscall  := name '(' [ expr { ',' expr } ] ')' '=' result [ ERRNO ] [ '(' note ')' ]
 *   result   := '...' | integer | symbol { '|' symbol }
 *   expr     := primary { '|' primary }                       (OR nodes, left-assoc)
 *   primary  := '...' | [ '-' ] N | symbol | name '=' expr    (FIELD)
 *             | "string" { "string" } | '[' [ expr { ',' expr } ] ']'   (LIST)
 *             | '{' [ expr { ',' expr } ] '}'                            (STRUCT)
 *
 * Blocking calls: in `S...E call()` packetdrill reads E on the same base as S
 * (absolute for an absolute S; for `+S...E` both are offsets from the previous
 * event), so `+.1...0.2` returns 0.1 s after it starts. script_time.end holds
 * E - S, the µs after the start.
 *
 * Lines packetdrill accepts but finack cannot run become
 * SCRIPT_EVENT_UNSUPPORTED with the reason in text: other TCP options (FO,
 * md5, ...), IP annotations ([ect0], (tos 0x4)...; [noecn] is ignored since
 * finack never sets ECN bits), udp/icmp packets, encapsulation prefixes,
 * explicit ports or addresses, AccECN flags, fuzzing, function-like
 * expressions (htons(...), inet_addr(...), msghdr's msg_name(...)) and
 * "string"... prefix matches. Everything else that does not fit is an error.
 *
 * Beyond script.h's comments: a SYSCALL event's text holds the note in the
 * parentheses after the return value ("Operation now in progress"), or NULL;
 * a STRING expression's value holds its length in bytes (it may contain
 * "\0"); a STRUCT's items are whatever was written between the braces
 * (FIELDs, or e.g. readv's {..., 100}); a FIELD may appear wherever an
 * expression may, as in packetdrill; untimed `command`s and %{ code }% get
 * the time +0. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "wire/tcp.h"

/* ---- Tokens --------------------------------------------------------------------- */

enum tok_kind {
    TOK_EOF,
    TOK_NEWLINE,  /* only outside (), [], {} */
    TOK_NUMBER,   /* 12, 0x1f, 0.100, .1 (checked when converted) */
    TOK_WORD,     /* [A-Za-z_][A-Za-z0-9_]* */
    TOK_STRING,   /* "..." with the quotes */
    TOK_COMMAND,  /* `...` with the backquotes */
    TOK_CODE,     /* %{ ... }% with the delimiters */
    TOK_OPTION,   /* --name[=value] */
    TOK_ELLIPSIS, /* ... */
    TOK_PUNCT,    /* any other single character, in ch */
};

struct token {
    enum tok_kind kind;
    const char *start;
    size_t len;
    int line;
    char ch;
};

struct parser {
    const char *path;
    const char *text;
    size_t len;
    size_t pos;            /* lexer position */
    int line;              /* lexer line */
    int depth;             /* open (, [, { */
    struct token tok;      /* the current token */
    char *err;
    size_t err_len;
    bool failed;
    char *unsupported;     /* why the current event cannot run, or NULL */
    bool outbound_packet;  /* the current event is a '>' packet */
    struct script *out;
    size_t cap;            /* allocated out->events */
};

/* ---- Errors ----------------------------------------------------------------------- */

static bool fail_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_at(struct parser *p, int line, const char *fmt, ...)
{
    if (p->failed) return false;
    p->failed = true;
    if (!p->err || p->err_len == 0) return false;
    int n = snprintf(p->err, p->err_len, "%s:%d: ", p->path, line);
    if (n < 0 || (size_t)n >= p->err_len) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

#define fail(p, ...) fail_at((p), (p)->tok.line, __VA_ARGS__)

/* A token for "got ..." in messages: quoted, cut at a line break or after
 * 40 characters (messages are one line). */
struct desc {
    char s[56];
};

static struct desc describe(const struct token *t)
{
    struct desc d;
    if (t->kind == TOK_EOF) {
        snprintf(d.s, sizeof d.s, "end of file");
    } else if (t->kind == TOK_NEWLINE) {
        snprintf(d.s, sizeof d.s, "end of line");
    } else {
        size_t n = 0;
        while (n < t->len && n < 40 && t->start[n] != '\n') n++;
        snprintf(d.s, sizeof d.s, "'%.*s%s'", (int)n, t->start, n < t->len ? "..." : "");
    }
    return d;
}

#define GOT(p) (describe(&(p)->tok).s)

static bool out_of_memory(struct parser *p) { return fail(p, "out of memory"); }

/* Notes why the current event cannot run (the first reason wins). */
static bool set_unsupported(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool set_unsupported(struct parser *p, const char *fmt, ...)
{
    if (p->unsupported) return true;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return out_of_memory(p);
    p->unsupported = malloc((size_t)n + 1);
    if (!p->unsupported) return out_of_memory(p);
    va_start(ap, fmt);
    vsnprintf(p->unsupported, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return true;
}

/* ---- Lexer ------------------------------------------------------------------------- */

static char peek_char(const struct parser *p, size_t ahead)
{
    return p->pos + ahead < p->len ? p->text[p->pos + ahead] : '\0';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_word_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Skips to just past the two-character terminator a b, counting lines.
 * Returns false at the end of the text. */
static bool skip_past(struct parser *p, char a, char b)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c == a && peek_char(p, 1) == b) {
            p->pos += 2;
            return true;
        }
        if (c == '\n') p->line++;
        p->pos++;
    }
    return false;
}

static void set_tok(struct parser *p, enum tok_kind kind, size_t start, int line)
{
    p->tok.kind = kind;
    p->tok.start = p->text + start;
    p->tok.len = p->pos - start;
    p->tok.line = line;
    p->tok.ch = kind == TOK_PUNCT ? p->text[start] : '\0';
}

/* Skips blanks and comments; true if it stopped at a line break outside
 * brackets (the end of an event), with that line in *newline_line. */
static bool skip_space(struct parser *p, int *newline_line)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c == '\n') {
            if (p->depth == 0) {
                *newline_line = p->line++;
                p->pos++;
                return true;
            }
            p->line++;
            p->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            p->pos++;
        } else if (c == '/' && peek_char(p, 1) == '/') {
            while (p->pos < p->len && p->text[p->pos] != '\n') p->pos++;
        } else if (c == '/' && peek_char(p, 1) == '*') {
            int first = p->line; /* a block comment is a blank, even across lines */
            if (!skip_past(p, '*', '/')) return fail_at(p, first, "unterminated /* comment");
        } else {
            break;
        }
    }
    return false;
}

/* Makes the next token current. False on a lexical error. */
static bool advance(struct parser *p)
{
    int newline_line = 0;
    bool newline = skip_space(p, &newline_line);
    if (p->failed) return false;
    if (newline) {
        p->tok = (struct token){TOK_NEWLINE, p->text + p->pos, 0, newline_line, '\0'};
        return true;
    }
    size_t start = p->pos;
    int line = p->line;
    if (p->pos >= p->len) {
        p->tok = (struct token){TOK_EOF, p->text + p->pos, 0, line, '\0'};
        return true;
    }
    char c = p->text[p->pos];
    if (is_digit(c) || (c == '.' && is_digit(peek_char(p, 1)))) {
        while (is_word_char(peek_char(p, 0))) p->pos++;
        if (peek_char(p, 0) == '.' && is_digit(peek_char(p, 1))) {
            p->pos++;
            while (is_word_char(peek_char(p, 0))) p->pos++;
        }
        set_tok(p, TOK_NUMBER, start, line);
    } else if (is_word_start(c)) {
        while (is_word_char(peek_char(p, 0))) p->pos++;
        set_tok(p, TOK_WORD, start, line);
    } else if (c == '"') {
        p->pos++;
        for (;;) {
            char s = peek_char(p, 0);
            if (p->pos >= p->len || s == '\n') return fail_at(p, line, "unterminated string");
            if (s == '\\' && p->pos + 1 < p->len && peek_char(p, 1) != '\n') p->pos++;
            p->pos++;
            if (s == '"') break;
        }
        set_tok(p, TOK_STRING, start, line);
    } else if (c == '`') {
        p->pos++;
        for (;;) {
            if (p->pos >= p->len) return fail_at(p, line, "unterminated `command`");
            char s = p->text[p->pos];
            if (s == '\\' && p->pos + 1 < p->len) {
                if (peek_char(p, 1) == '\n') p->line++;
                p->pos++;
            } else if (s == '\n') {
                p->line++;
            }
            p->pos++;
            if (s == '`') break;
        }
        set_tok(p, TOK_COMMAND, start, line);
    } else if (c == '%' && peek_char(p, 1) == '{') {
        p->pos += 2;
        if (!skip_past(p, '}', '%')) return fail_at(p, line, "unterminated %%{ code }%%");
        set_tok(p, TOK_CODE, start, line);
    } else if (c == '.' && peek_char(p, 1) == '.' && peek_char(p, 2) == '.') {
        p->pos += 3;
        set_tok(p, TOK_ELLIPSIS, start, line);
    } else if (c == '-' && peek_char(p, 1) == '-' && is_word_char(peek_char(p, 2))) {
        while (p->pos < p->len && !isspace((unsigned char)p->text[p->pos])) p->pos++;
        set_tok(p, TOK_OPTION, start, line);
    } else {
        p->pos++;
        if (c == '(' || c == '[' || c == '{') p->depth++;
        if ((c == ')' || c == ']' || c == '}') && p->depth > 0) p->depth--;
        set_tok(p, TOK_PUNCT, start, line);
    }
    return true;
}

static bool is_punct(const struct parser *p, char c)
{
    return p->tok.kind == TOK_PUNCT && p->tok.ch == c;
}

static bool tok_is(const struct token *t, const char *s)
{
    return strlen(s) == t->len && memcmp(t->start, s, t->len) == 0;
}

static bool is_word(const struct parser *p, const char *w)
{
    return p->tok.kind == TOK_WORD && tok_is(&p->tok, w);
}

static bool at_eol(const struct parser *p)
{
    return p->tok.kind == TOK_NEWLINE || p->tok.kind == TOK_EOF;
}

static bool expect_punct(struct parser *p, char c, const char *where)
{
    if (!is_punct(p, c)) return fail(p, "expected '%c' %s, got %s", c, where, GOT(p));
    return advance(p);
}

static bool expect_eol(struct parser *p)
{
    if (!at_eol(p)) return fail(p, "expected end of line after the event, got %s", GOT(p));
    return p->tok.kind == TOK_EOF || advance(p);
}

/* Skips the rest of an event that will not run. */
static bool skip_event(struct parser *p)
{
    while (!at_eol(p))
        if (!advance(p)) return false;
    return true;
}

/* Consumes a bracketed group starting at the current opener; with text,
 * returns what was inside (trimmed). */
static bool skip_group(struct parser *p, char **text)
{
    int line = p->tok.line;
    char open = p->tok.ch;
    const char *inner = p->tok.start + 1;
    int level = 0;
    for (;;) {
        if (p->tok.kind == TOK_EOF) return fail_at(p, line, "unterminated '%c'", open);
        if (p->tok.kind == TOK_PUNCT) {
            char c = p->tok.ch;
            if (c == '(' || c == '[' || c == '{') level++;
            if (c == ')' || c == ']' || c == '}') level--;
            if (level == 0) break;
        }
        if (!advance(p)) return false;
    }
    const char *end = p->tok.start;
    if (text) {
        while (inner < end && isspace((unsigned char)*inner)) inner++;
        while (end > inner && isspace((unsigned char)end[-1])) end--;
        *text = strndup(inner, (size_t)(end - inner));
        if (!*text) return out_of_memory(p);
    }
    if (advance(p)) return true;
    if (text) {
        free(*text);
        *text = NULL;
    }
    return false;
}

/* ---- Numbers and times ------------------------------------------------------------ */

static int hex_value(char c)
{
    if (is_digit(c)) return c - '0';
    if (isxdigit((unsigned char)c)) return tolower((unsigned char)c) - 'a' + 10;
    return -1;
}

/* The current NUMBER token as an unsigned integer (decimal or 0x hex). */
static bool token_u64(struct parser *p, uint64_t *out)
{
    const char *s = p->tok.start;
    size_t n = p->tok.len, i = 0;
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        int digit = hex_value(s[i]);
        unsigned d = (unsigned)digit;
        if (digit < 0 || d >= base) return fail(p, "malformed number %s", GOT(p));
        if (v > (UINT64_MAX - d) / base) return fail(p, "number %s is too large", GOT(p));
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* A NUMBER in [0, max] for the field what, consumed. */
static bool number_max(struct parser *p, const char *what, uint64_t max, uint32_t *out)
{
    if (p->tok.kind != TOK_NUMBER) return fail(p, "expected %s, got %s", what, GOT(p));
    uint64_t v;
    if (!token_u64(p, &v)) return false;
    if (v > max)
        return fail(p, "%s %" PRIu64 " is out of range (0..%" PRIu64 ")", what, v, max);
    *out = (uint32_t)v;
    return advance(p);
}

/* A time T (seconds with up to six decimals) as µs, consumed. */
static bool read_time(struct parser *p, const char *what, int64_t *us)
{
    if (is_punct(p, '-')) return fail(p, "expected %s, got '-': times cannot be negative", what);
    if (p->tok.kind != TOK_NUMBER) return fail(p, "expected %s, got %s", what, GOT(p));
    const char *s = p->tok.start;
    size_t n = p->tok.len, i = 0;
    int64_t secs = 0, frac = 0;
    int places = 0;
    for (; i < n && is_digit(s[i]); i++) {
        secs = secs * 10 + (s[i] - '0');
        if (secs > INT64_MAX / 1000000 - 1) return fail(p, "time %s is too large", GOT(p));
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++) {
            if (places < 6) {
                frac = frac * 10 + (s[i] - '0');
                places++;
            }
        }
    }
    if (i != n) return fail(p, "malformed time %s", GOT(p));
    for (; places < 6; places++) frac *= 10;
    *us = secs * 1000000 + frac;
    return advance(p);
}

static bool parse_time(struct parser *p, struct script_time *t)
{
    memset(t, 0, sizeof *t);
    if (is_punct(p, '*')) {
        t->kind = SCRIPT_TIME_ANY;
        return advance(p);
    }
    bool relative = is_punct(p, '+');
    if (relative && !advance(p)) return false;
    t->kind = relative ? SCRIPT_TIME_RELATIVE : SCRIPT_TIME_ABSOLUTE;
    if (!read_time(p, relative ? "a time after '+'" : "a time (0, +0.1, *, ...) to start the event",
                   &t->start))
        return false;
    if (!is_punct(p, '~')) return true;
    int line = p->tok.line;
    if (!advance(p)) return false;
    if (relative) {
        if (!is_punct(p, '+'))
            return fail(p, "expected '+' after '~' (a relative range ends relative), got %s",
                        GOT(p));
        if (!advance(p)) return false;
    } else if (is_punct(p, '+')) {
        return fail(p, "an absolute time range cannot end with a relative time");
    }
    if (!read_time(p, "the end of the time range", &t->range_end)) return false;
    t->has_range = true;
    if (t->range_end < t->start) return fail_at(p, line, "time range is backwards");
    return true;
}

/* ---- Expressions --------------------------------------------------------------------- */

static void expr_free(struct script_expr *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->count; i++) expr_free(e->items[i]);
    free(e->items);
    free(e->name);
    free(e);
}

static struct script_expr *expr_new(struct parser *p, enum script_expr_kind kind)
{
    struct script_expr *e = calloc(1, sizeof *e);
    if (!e) {
        out_of_memory(p);
        return NULL;
    }
    e->kind = kind;
    return e;
}

/* Appends child to e->items; frees child on failure. */
static bool expr_append(struct parser *p, struct script_expr *e, struct script_expr *child)
{
    struct script_expr **items = realloc(e->items, (e->count + 1) * sizeof *items);
    if (!items) {
        expr_free(child);
        return out_of_memory(p);
    }
    e->items = items;
    e->items[e->count++] = child;
    return true;
}

static char *token_dup(struct parser *p)
{
    char *s = strndup(p->tok.start, p->tok.len);
    if (!s) out_of_memory(p);
    return s;
}

/* Appends the current STRING token's bytes, C escapes decoded, to *buf. */
static bool decode_string(struct parser *p, char **buf, size_t *len)
{
    const char *s = p->tok.start + 1;
    size_t n = p->tok.len - 2;
    char *b = realloc(*buf, *len + n + 1);
    if (!b) return out_of_memory(p);
    *buf = b;
    size_t j = *len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            b[j++] = c;
            continue;
        }
        c = s[++i]; /* the lexer saw to it that an escape has a character */
        switch (c) {
        case 'n': b[j++] = '\n'; break;
        case 't': b[j++] = '\t'; break;
        case 'r': b[j++] = '\r'; break;
        case 'a': b[j++] = '\a'; break;
        case 'b': b[j++] = '\b'; break;
        case 'f': b[j++] = '\f'; break;
        case 'v': b[j++] = '\v'; break;
        case '\\': case '"': case '\'': case '?': b[j++] = c; break;
        case 'x': {
            int v = 0, digits = 0;
            while (digits < 2 && i + 1 < n && hex_value(s[i + 1]) >= 0) {
                v = v * 16 + hex_value(s[++i]);
                digits++;
            }
            if (digits == 0) return fail(p, "'\\x' without hex digits in string %s", GOT(p));
            b[j++] = (char)v;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0', digits = 1;
                while (digits < 3 && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7') {
                    v = v * 8 + (s[++i] - '0');
                    digits++;
                }
                if (v > 0xff) return fail(p, "octal escape out of range in string %s", GOT(p));
                b[j++] = (char)v;
                break;
            }
            return fail(p, "unknown escape '\\%c' in string %s", c, GOT(p));
        }
    }
    b[j] = '\0';
    *len = j;
    return true;
}

static bool parse_expr(struct parser *p, struct script_expr **out);

/* '[' items ']' or '{' items '}' into e->items. */
static bool parse_items(struct parser *p, struct script_expr *e, char close, const char *what)
{
    if (!advance(p)) return false;
    if (is_punct(p, close)) return advance(p);
    for (;;) {
        struct script_expr *item;
        if (!parse_expr(p, &item) || !expr_append(p, e, item)) return false;
        if (is_punct(p, close)) return advance(p);
        if (!is_punct(p, ','))
            return fail(p, "expected ',' or '%c' in %s, got %s", close, what, GOT(p));
        if (!advance(p)) return false;
    }
}

static bool parse_primary(struct parser *p, struct script_expr **out)
{
    struct script_expr *e = NULL;
    *out = NULL;
    if (p->tok.kind == TOK_ELLIPSIS) {
        if (!(e = expr_new(p, SCRIPT_EXPR_ELLIPSIS))) return false;
        *out = e;
        return advance(p);
    }
    if (p->tok.kind == TOK_NUMBER || is_punct(p, '-')) {
        bool negative = is_punct(p, '-');
        if (negative && !advance(p)) return false;
        if (p->tok.kind != TOK_NUMBER)
            return fail(p, "expected a number after '-', got %s", GOT(p));
        uint64_t v;
        if (!token_u64(p, &v)) return false;
        if (v > (uint64_t)INT64_MAX + (negative ? 1 : 0))
            return fail(p, "number %s%s is out of range", GOT(p),
                        negative ? " (after '-')" : "");
        if (!(e = expr_new(p, SCRIPT_EXPR_INT))) return false;
        e->value = !negative ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        *out = e;
        return advance(p);
    }
    if (p->tok.kind == TOK_WORD) {
        char *name = token_dup(p);
        if (!name || !advance(p)) {
            free(name);
            return false;
        }
        if (is_punct(p, '(')) {
            /* htons(8080), inet_addr("..."), msg_name(...)=...: packetdrill's
             * special forms, which finack does not run. */
            bool ok = set_unsupported(p, "expression '%s(...)'", name) && skip_group(p, NULL);
            free(name);
            if (ok && is_punct(p, '=')) {
                struct script_expr *value = NULL;
                ok = advance(p) && parse_expr(p, &value);
                expr_free(value);
            }
            if (!ok || !(e = expr_new(p, SCRIPT_EXPR_ELLIPSIS))) return false;
            *out = e;
            return true;
        }
        bool field = is_punct(p, '=');
        if (!(e = expr_new(p, field ? SCRIPT_EXPR_FIELD : SCRIPT_EXPR_SYMBOL))) {
            free(name);
            return false;
        }
        e->name = name;
        *out = e;
        if (!field) {
            script_symbol_value(name, &e->value); /* unknown: 0, the runner reports it */
            return true;
        }
        struct script_expr *value;
        return advance(p) && parse_expr(p, &value) && expr_append(p, e, value);
    }
    if (p->tok.kind == TOK_STRING) {
        if (!(e = expr_new(p, SCRIPT_EXPR_STRING))) return false;
        *out = e;
        size_t len = 0;
        do { /* "a" "b" concatenates */
            if (!decode_string(p, &e->name, &len) || !advance(p)) return false;
        } while (p->tok.kind == TOK_STRING);
        e->value = (int64_t)len;
        if (p->tok.kind == TOK_ELLIPSIS) {
            if (!set_unsupported(p, "string prefix match \"...\"...")) return false;
            return advance(p);
        }
        return true;
    }
    if (is_punct(p, '[') || is_punct(p, '{')) {
        bool list = is_punct(p, '[');
        if (!(e = expr_new(p, list ? SCRIPT_EXPR_LIST : SCRIPT_EXPR_STRUCT))) return false;
        *out = e;
        return parse_items(p, e, list ? ']' : '}', list ? "a list" : "a struct");
    }
    return fail(p, "expected an expression, got %s", GOT(p));
}

/* primary { '|' primary }. On failure *out is freed and NULL. */
static bool parse_expr(struct parser *p, struct script_expr **out)
{
    struct script_expr *lhs;
    bool ok = parse_primary(p, &lhs);
    while (ok && is_punct(p, '|')) {
        struct script_expr *or = expr_new(p, SCRIPT_EXPR_OR), *rhs = NULL;
        ok = or && expr_append(p, or, lhs);
        lhs = or ? or : lhs;
        ok = ok && advance(p) && parse_primary(p, &rhs);
        if (ok) ok = expr_append(p, or, rhs);
        else expr_free(rhs);
    }
    if (!ok) {
        expr_free(lhs);
        lhs = NULL;
    }
    *out = lhs;
    return ok;
}

/* The value of an INT, a known SYMBOL or an OR of those. */
static bool fold(const struct script_expr *e, int64_t *value)
{
    int64_t a, b;
    switch (e->kind) {
    case SCRIPT_EXPR_INT: *value = e->value; return true;
    case SCRIPT_EXPR_SYMBOL: return script_symbol_value(e->name, value);
    case SCRIPT_EXPR_OR:
        if (!fold(e->items[0], &a) || !fold(e->items[1], &b)) return false;
        *value = a | b;
        return true;
    default: return false;
    }
}

/* ---- System calls -------------------------------------------------------------------- */

static bool is_errno_name(const char *name, int64_t *value)
{
    return name[0] == 'E' && script_symbol_value(name, value) && *value > 0 &&
           *value <= 4096 && script_errno_name((int)*value) != NULL;
}

/* The current token is the call's name (or '...' before it). */
static bool parse_syscall(struct parser *p, struct script_event *ev)
{
    struct script_syscall *call = &ev->call;
    ev->kind = SCRIPT_EVENT_SYSCALL;
    if (p->tok.kind == TOK_ELLIPSIS) {
        if (ev->time.kind == SCRIPT_TIME_ANY)
            return fail(p, "a return time ('...') needs a start time, not '*'");
        int64_t end;
        if (!advance(p) || !read_time(p, "the return time after '...'", &end)) return false;
        if (end < ev->time.start)
            return fail_at(p, ev->line, "the return time is before the start time");
        ev->time.has_end = true;
        ev->time.end = end - ev->time.start; /* see the comment at the top */
        if (p->tok.kind != TOK_WORD)
            return fail(p, "expected a system call after the return time, got %s", GOT(p));
    }
    if (!(call->name = token_dup(p)) || !advance(p)) return false;
    if (!is_punct(p, '('))
        return fail(p, "expected '(' after system call name '%s', got %s", call->name, GOT(p));
    if (!advance(p)) return false;
    while (!is_punct(p, ')')) {
        struct script_expr *arg;
        if (!parse_expr(p, &arg)) return false;
        struct script_expr **args = realloc(call->args, (call->arg_count + 1) * sizeof *args);
        if (!args) {
            expr_free(arg);
            return out_of_memory(p);
        }
        call->args = args;
        call->args[call->arg_count++] = arg;
        if (is_punct(p, ',')) {
            if (!advance(p)) return false;
        } else if (!is_punct(p, ')')) {
            return fail(p, "expected ',' or ')' in the arguments of %s(), got %s", call->name,
                        GOT(p));
        }
    }
    if (!advance(p)) return false;
    if (!is_punct(p, '='))
        return fail(p, "expected '=' and the return value after %s(...), got %s", call->name,
                    GOT(p));
    if (!advance(p)) return false;

    if (p->tok.kind == TOK_ELLIPSIS) {
        call->ret_any = true;
        if (!advance(p)) return false;
    } else {
        struct desc first = describe(&p->tok);
        int line = p->tok.line;
        struct script_expr *ret;
        if (!parse_expr(p, &ret)) return false;
        bool ok = fold(ret, &call->ret);
        expr_free(ret);
        if (!ok)
            return fail_at(p, line,
                           "expected an integer, a known symbol or '...' as the return value of "
                           "%s(), got %s",
                           call->name, first.s);
    }
    if (p->tok.kind == TOK_WORD) {
        int64_t value;
        if (!(call->errno_name = token_dup(p))) return false;
        if (!is_errno_name(call->errno_name, &value))
            return fail(p, "expected an errno name or '(' after the return value, got %s",
                        GOT(p));
        if (call->ret_any || call->ret != -1)
            return fail(p, "errno %s given but the return value is not -1", call->errno_name);
        call->errno_value = (int)value;
        if (!advance(p)) return false;
    }
    if (is_punct(p, '(')) return skip_group(p, &ev->text);
    return true;
}

/* ---- Packets ----------------------------------------------------------------------------- */

static bool unsupported_packet(struct parser *p, const char *what, const struct token *t)
{
    if (t) {
        size_t n = 0;
        while (n < t->len && t->start[n] != '\n') n++;
        if (!set_unsupported(p, "%s '%.*s'", what, (int)n, t->start)) return false;
    } else if (!set_unsupported(p, "%s", what)) {
        return false;
    }
    return skip_event(p);
}

/* One of the flag letters F S R P E W U into flags; false for any other. */
static bool flag_letter(char c, uint8_t *flags)
{
    static const char letters[] = "FSRPEWU";
    static const uint8_t bits[] = {TCP_FLAG_FIN, TCP_FLAG_SYN, TCP_FLAG_RST, TCP_FLAG_PSH,
                                   TCP_FLAG_ECE, TCP_FLAG_CWR, TCP_FLAG_URG};
    const char *at = c ? strchr(letters, c) : NULL;
    if (!at) return false;
    *flags |= bits[at - letters];
    return true;
}

static bool parse_flags(struct parser *p, struct script_packet *pk, char dir)
{
    struct token all = p->tok; /* the flags as written, for the AccECN message */
    bool accecn = false;
    pk->flags = 0;
    if (is_punct(p, '-')) return advance(p); /* no flags at all */
    if (p->tok.kind == TOK_WORD) {
        for (size_t i = 0; i < p->tok.len; i++) {
            char c = p->tok.start[i];
            if (flag_letter(c, &pk->flags)) continue;
            if (c == 'A' || (c >= '0' && c <= '7')) accecn = true; /* the AE bit, the ACE field */
            else return fail(p, "expected packet flags after '%c', got %s", dir, GOT(p));
        }
        if (!advance(p)) return false;
    } else if (!is_punct(p, '.') && !(p->tok.kind == TOK_NUMBER && p->tok.start[0] == '.')) {
        return fail(p, "expected packet flags after '%c', got %s", dir, GOT(p));
    }
    if (is_punct(p, '.') || (p->tok.kind == TOK_NUMBER && p->tok.start[0] == '.')) {
        /* "S.", "." is ACK; ".5", "S.1" is ACK with an AccECN ACE value */
        pk->flags |= TCP_FLAG_ACK;
        accecn = accecn || p->tok.kind == TOK_NUMBER;
        all.len = (size_t)(p->tok.start + p->tok.len - all.start);
        const char *dot_end = p->tok.start + p->tok.len;
        if (!advance(p)) return false;
        /* Letters right after the '.', as tcpdump prints them ("P.U", ".W"). */
        if (p->tok.kind == TOK_WORD && p->tok.start == dot_end) {
            for (size_t i = 0; i < p->tok.len; i++)
                if (!flag_letter(p->tok.start[i], &pk->flags))
                    return fail(p, "expected packet flags after '%c', got %s", dir, GOT(p));
            all.len = (size_t)(p->tok.start + p->tok.len - all.start);
            if (!advance(p)) return false;
        }
    }
    return accecn ? unsupported_packet(p, "AccECN flags", &all) : true;
}

static bool parse_tcp_option(struct parser *p, struct script_option *o, bool *stop)
{
    memset(o, 0, sizeof *o);
    if (p->tok.kind != TOK_WORD) return fail(p, "expected a TCP option, got %s", GOT(p));
    if (is_word(p, "nop")) {
        o->kind = SCRIPT_OPT_NOP;
        return advance(p);
    }
    if (is_word(p, "eol")) {
        o->kind = SCRIPT_OPT_EOL;
        return advance(p);
    }
    if (is_word(p, "sackOK")) {
        o->kind = SCRIPT_OPT_SACK_PERMITTED;
        return advance(p);
    }
    if (is_word(p, "mss")) {
        o->kind = SCRIPT_OPT_MSS;
        return advance(p) && number_max(p, "mss value", 0xffff, &o->a);
    }
    if (is_word(p, "wscale")) {
        o->kind = SCRIPT_OPT_WSCALE;
        return advance(p) && number_max(p, "wscale shift", 0xff, &o->a);
    }
    if (is_word(p, "TS")) {
        o->kind = SCRIPT_OPT_TIMESTAMP;
        if (!advance(p)) return false;
        if (!is_word(p, "val")) return fail(p, "expected 'val' after 'TS', got %s", GOT(p));
        if (!advance(p) || !number_max(p, "TS val", UINT32_MAX, &o->a)) return false;
        if (!is_word(p, "ecr")) return fail(p, "expected 'ecr' after the TS val, got %s", GOT(p));
        return advance(p) && number_max(p, "TS ecr", UINT32_MAX, &o->b);
    }
    if (is_word(p, "sack")) {
        o->kind = SCRIPT_OPT_SACK;
        if (!advance(p)) return false;
        if (p->tok.kind != TOK_NUMBER)
            return fail(p, "expected a SACK block left:right after 'sack', got %s", GOT(p));
        while (p->tok.kind == TOK_NUMBER) {
            if (o->block_count == SCRIPT_MAX_SACK)
                return fail(p, "more than %d SACK blocks", SCRIPT_MAX_SACK);
            uint32_t *block = o->blocks[o->block_count++];
            if (!number_max(p, "SACK block left edge", UINT32_MAX, &block[0]) ||
                !expect_punct(p, ':', "in the SACK block left:right") ||
                !number_max(p, "SACK block right edge", UINT32_MAX, &block[1]))
                return false;
        }
        return true;
    }
    *stop = true; /* FO, FOEXP, md5, ...: finack does not speak them */
    return unsupported_packet(p, "TCP option", &p->tok);
}

static bool parse_tcp_options(struct parser *p, struct script_packet *pk)
{
    if (!advance(p)) return false;
    if (p->tok.kind == TOK_ELLIPSIS) {
        if (!pk->outbound)
            return fail(p, "<...> for TCP options can only be used with outbound packets");
        pk->any_options = true;
        return advance(p) && expect_punct(p, '>', "after '<...'");
    }
    for (;;) {
        struct script_option o;
        bool stop = false;
        if (!parse_tcp_option(p, &o, &stop)) return false;
        if (stop) return true;
        if (pk->option_count == SCRIPT_MAX_OPTIONS)
            return fail(p, "more than %d TCP options", SCRIPT_MAX_OPTIONS);
        pk->options[pk->option_count++] = o;
        if (is_punct(p, '>')) return advance(p);
        if (!is_punct(p, ','))
            return fail(p, "expected ',' or '>' in the TCP options, got %s", GOT(p));
        if (!advance(p)) return false;
    }
}

/* Whether the current token starts packetdrill's "8080>80" port pair or an
 * address ("192.0.2.1:8080 > ..." lexes as 192.0 .2 .1 ...). */
static bool ports_or_address(const struct parser *p)
{
    if (p->tok.kind != TOK_NUMBER || p->tok.start[0] == '.') return false;
    if (memchr(p->tok.start, '.', p->tok.len)) return true;
    const char *c = p->tok.start + p->tok.len, *end = p->text + p->len;
    while (c < end && (*c == ' ' || *c == '\t')) c++;
    return c < end && *c == '>';
}

/* The current token is '<' or '>'. */
static bool parse_packet(struct parser *p, struct script_event *ev)
{
    struct script_packet *pk = &ev->packet;
    char dir = p->tok.ch;
    ev->kind = SCRIPT_EVENT_PACKET;
    pk->outbound = p->outbound_packet = dir == '>';
    if (!advance(p)) return false;

    if (is_punct(p, '[') || is_punct(p, '(')) { /* [ect0], (tos 0x4), [noecn] */
        struct token open = p->tok;
        char *inside;
        if (!skip_group(p, &inside)) return false;
        bool noecn = strcmp(inside, "noecn") == 0;
        free(inside);
        if (!noecn) {
            struct token whole = open;
            whole.len = (size_t)(p->tok.start - open.start);
            while (whole.len > 0 && isspace((unsigned char)whole.start[whole.len - 1]))
                whole.len--;
            return unsupported_packet(p, "IP annotation", &whole);
        }
    }
    if (ports_or_address(p))
        return unsupported_packet(p, "packet with explicit ports or addresses", NULL);
    if (is_word(p, "udp")) return unsupported_packet(p, "UDP packet", NULL);
    if (is_word(p, "icmp")) return unsupported_packet(p, "ICMP packet", NULL);
    if (is_word(p, "ipv4") || is_word(p, "ipv6") || is_word(p, "gre") || is_word(p, "GREv0") ||
        is_word(p, "mpls"))
        return unsupported_packet(p, "encapsulated packet", &p->tok);

    if (!parse_flags(p, pk, dir)) return false;
    if (p->unsupported) return true;

    if (p->tok.kind == TOK_NUMBER) {
        int line = p->tok.line;
        pk->has_seq = true;
        if (!number_max(p, "start sequence number", UINT32_MAX, &pk->seq) ||
            !expect_punct(p, ':', "in the sequence range start:end(length)") ||
            !number_max(p, "end sequence number", UINT32_MAX, &pk->seq_end) ||
            !expect_punct(p, '(', "after start:end") ||
            !number_max(p, "payload length", 0xffff, &pk->len) ||
            !expect_punct(p, ')', "after the payload length"))
            return false;
        if ((uint32_t)(pk->seq + pk->len) != pk->seq_end)
            return fail_at(p, line, "inconsistent sequence range %" PRIu32 ":%" PRIu32 "(%" PRIu32
                           "): end must be start + length", pk->seq, pk->seq_end, pk->len);
    }
    if (is_word(p, "ack")) {
        pk->has_ack = true;
        if (!advance(p) || !number_max(p, "ack number", UINT32_MAX, &pk->ack)) return false;
    }
    if (is_word(p, "win")) {
        pk->has_win = true;
        if (!advance(p) || !number_max(p, "window", 0xffff, &pk->win)) return false;
    }
    if (is_word(p, "urg")) {
        pk->has_urg = true;
        if (!advance(p) || !number_max(p, "urgent pointer", 0xffff, &pk->urg)) return false;
    }
    if (is_punct(p, '<')) {
        if (!parse_tcp_options(p, pk)) return false;
        if (p->unsupported) return true;
    }
    if (is_punct(p, '{')) return unsupported_packet(p, "packet fuzzing {...}", NULL);
    if (!at_eol(p))
        return fail(p, "expected 'ack', 'win', 'urg', '<' TCP options or end of line in the "
                       "packet, got %s", GOT(p));
    return true;
}

/* ---- Events ------------------------------------------------------------------------------ */

static void event_free(struct script_event *e)
{
    free(e->call.name);
    for (size_t i = 0; i < e->call.arg_count; i++) expr_free(e->call.args[i]);
    free(e->call.args);
    free(e->call.errno_name);
    free(e->text);
    memset(e, 0, sizeof *e);
}

/* Takes ownership of *ev's contents. */
static bool push_event(struct parser *p, struct script_event *ev)
{
    struct script *s = p->out;
    if (s->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct script_event *events = realloc(s->events, cap * sizeof *events);
        if (!events) return out_of_memory(p);
        s->events = events;
        p->cap = cap;
    }
    s->events[s->count++] = *ev;
    memset(ev, 0, sizeof *ev);
    return true;
}

/* The text of a `command` or %{ code }% token into ev. */
static bool take_text(struct parser *p, struct script_event *ev)
{
    const char *s = p->tok.start;
    size_t n = p->tok.len;
    if (p->tok.kind == TOK_COMMAND) {
        ev->kind = SCRIPT_EVENT_SHELL;
        s += 1;
        n -= 2;
    } else { /* like packetdrill, strip spaces and tabs around the code */
        ev->kind = SCRIPT_EVENT_CODE;
        s += 2;
        n -= 4;
        while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    }
    if (!(ev->text = strndup(s, n))) return out_of_memory(p);
    return advance(p);
}

static bool parse_action(struct parser *p, struct script_event *ev)
{
    switch (p->tok.kind) {
    case TOK_COMMAND:
    case TOK_CODE: return take_text(p, ev);
    case TOK_ELLIPSIS:
    case TOK_WORD: return parse_syscall(p, ev);
    case TOK_PUNCT:
        if (is_punct(p, '<') || is_punct(p, '>')) return parse_packet(p, ev);
        break;
    default: break;
    }
    return fail(p, "expected a packet ('<' or '>'), a system call, a `command` or %%{ code }%% "
                   "after the time, got %s", GOT(p));
}

static bool parse_event(struct parser *p)
{
    struct script_event ev;
    memset(&ev, 0, sizeof ev);
    ev.line = p->tok.line;
    p->outbound_packet = false;
    bool ok = parse_time(p, &ev.time) && parse_action(p, &ev);
    if (ok && ev.time.kind == SCRIPT_TIME_ANY && !p->outbound_packet)
        ok = fail_at(p, ev.line, "the time '*' can only be used with outbound packets");
    if (ok && ev.time.has_range && !p->outbound_packet)
        ok = fail_at(p, ev.line, "a time range can only be used with outbound packets");
    if (!ok) {
        event_free(&ev);
        return false;
    }
    if (p->unsupported) { /* keep the time and line, drop the rest */
        int line = ev.line;
        struct script_time time = ev.time;
        event_free(&ev);
        ev.kind = SCRIPT_EVENT_UNSUPPORTED;
        ev.line = line;
        ev.time = time;
        ev.text = p->unsupported;
        p->unsupported = NULL;
    }
    if (expect_eol(p) && push_event(p, &ev)) return true;
    event_free(&ev);
    return false;
}

/* A --name[=value] line before the first event; only tolerance_usecs is kept. */
static bool parse_option(struct parser *p)
{
    const char *name = p->tok.start + 2;
    size_t n = p->tok.len - 2;
    const char *eq = memchr(name, '=', n);
    size_t name_len = eq ? (size_t)(eq - name) : n;
    if (p->out->count > 0)
        return fail(p, "option %s must come before the first event", GOT(p));
    if (name_len == strlen("tolerance_usecs") && memcmp(name, "tolerance_usecs", name_len) == 0) {
        const char *v = eq ? eq + 1 : NULL, *end = name + n;
        int64_t usecs = 0;
        if (!v || v == end) return fail(p, "option --tolerance_usecs needs a value");
        for (; v < end; v++) {
            if (!is_digit(*v) || usecs > (INT64_MAX - 9) / 10)
                return fail(p, "malformed value in option %s", GOT(p));
            usecs = usecs * 10 + (*v - '0');
        }
        p->out->tolerance = usecs;
    }
    if (!advance(p)) return false;
    if (!at_eol(p) && p->tok.kind != TOK_OPTION)
        return fail(p, "expected end of line after an option, got %s", GOT(p));
    return true;
}

static bool parse_script(struct parser *p)
{
    if (!advance(p)) return false;
    for (;;) {
        bool ok;
        switch (p->tok.kind) {
        case TOK_EOF: return true;
        case TOK_NEWLINE: ok = advance(p); break;
        case TOK_OPTION: ok = parse_option(p); break;
        case TOK_COMMAND:
        case TOK_CODE: { /* untimed: packetdrill's init or cleanup command */
            struct script_event ev;
            memset(&ev, 0, sizeof ev);
            ev.line = p->tok.line;
            ev.time.kind = SCRIPT_TIME_RELATIVE;
            ok = take_text(p, &ev) && expect_eol(p) && push_event(p, &ev);
            if (!ok) event_free(&ev);
            break;
        }
        default: ok = parse_event(p); break;
        }
        if (!ok) return false;
    }
}

int script_parse(const char *path, const char *text, size_t len, struct script *out, char *err,
                 size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->tolerance = -1;
    if (err && err_len) err[0] = '\0';
    struct parser p;
    memset(&p, 0, sizeof p);
    p.path = path ? path : "(script)";
    p.text = text ? text : "";
    p.len = text ? len : 0;
    p.line = 1;
    p.err = err;
    p.err_len = err_len;
    p.out = out;
    p.tok.start = p.text;
    p.tok.line = 1;
    bool ok = (out->path = strdup(p.path)) != NULL ? parse_script(&p) : out_of_memory(&p);
    free(p.unsupported);
    if (!ok) {
        script_free(out);
        return -1;
    }
    return 0;
}

void script_free(struct script *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->count; i++) event_free(&s->events[i]);
    free(s->events);
    free(s->path);
    memset(s, 0, sizeof *s);
    s->tolerance = -1;
}
