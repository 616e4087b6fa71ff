/* The ladder as text, in the article's style: the two hosts as columns,
 * time on the left, one row per arrow, note or state change. Lines are laid
 * out on a grid of display cells so that the width limit counts what the
 * terminal shows (a box-drawing character is 3 bytes but one column; a
 * Hangul syllable in a host name is two). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/internal.h"

/* ---- UTF-8 and display width ------------------------------------------------------ */

/* Decode one UTF-8 sequence at s; invalid bytes decode as U+FFFD, one byte
 * at a time. Returns the bytes used (at least 1 unless *s is NUL). */
size_t ladder_utf8_next(const char *s, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) {
        *cp = p[0];
        return p[0] ? 1 : 0;
    }
    size_t n = p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
    if (n == 0) {
        *cp = 0xfffd;
        return 1;
    }
    uint32_t v = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = v << 6 | (p[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) v = 0xfffd;
    *cp = v;
    return n;
}

/* Columns a code point takes: 0 for combining marks and zero-width
 * characters, 2 for East Asian wide and fullwidth ones, 1 otherwise. */
static int cp_width(uint32_t cp)
{
    if (cp == 0) return 0;
    if ((cp >= 0x300 && cp < 0x370) || (cp >= 0x200b && cp <= 0x200f) || cp == 0xfeff ||
        (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x1ab0 && cp < 0x1b00) ||
        (cp >= 0x20d0 && cp < 0x2100) || (cp >= 0x1160 && cp < 0x1200))
        return 0;
    if ((cp >= 0x1100 && cp < 0x1160) || (cp >= 0x2e80 && cp < 0x303f) ||
        (cp >= 0x3041 && cp < 0x3400) || (cp >= 0x3400 && cp < 0x4dc0) ||
        (cp >= 0x4e00 && cp < 0xa4d0) || (cp >= 0xac00 && cp < 0xd7a4) ||
        (cp >= 0xf900 && cp < 0xfb00) || (cp >= 0xfe30 && cp < 0xfe50) ||
        (cp >= 0xff00 && cp < 0xff61) || (cp >= 0xffe0 && cp < 0xffe7) ||
        (cp >= 0x1f300 && cp < 0x1f650) || (cp >= 0x1f900 && cp < 0x1fa00) ||
        (cp >= 0x20000 && cp < 0x3fffe))
        return 2;
    return 1;
}

size_t ladder_text_width(const char *s)
{
    size_t w = 0;
    uint32_t cp;
    for (size_t n; (n = ladder_utf8_next(s, &cp)) > 0; s += n) w += (size_t)cp_width(cp);
    return w;
}

/* ---- A line of cells ---------------------------------------------------------------- */

struct cell {
    char s[12];   /* the character's bytes, combining marks after it */
    bool cont;    /* the right half of a wide character */
};

struct canvas {
    struct cell *cells;
    unsigned width;
    bool ascii;
};

static void canvas_clear(struct canvas *cv)
{
    for (unsigned i = 0; i < cv->width; i++) {
        strcpy(cv->cells[i].s, " ");
        cv->cells[i].cont = false;
    }
}

/* Write text from column col, not past column end (exclusive); in ASCII
 * mode every non-ASCII character becomes '?'. Returns the columns used. */
static unsigned put_text(struct canvas *cv, unsigned col, unsigned end, const char *text)
{
    if (end > cv->width) end = cv->width;
    unsigned c = col;
    uint32_t cp;
    for (size_t n; (n = ladder_utf8_next(text, &cp)) > 0; text += n) {
        int w = cp_width(cp);
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            /* a control character would move the terminal's cursor */
            w = 1;
            cp = '?';
        } else if (cv->ascii && cp >= 0x80) {
            if (w == 0) continue;
            w = 1;
            cp = '?';
        }
        if (w == 0) {
            /* a combining mark joins the character before it, if there is room */
            if (c > col && strlen(cv->cells[c - 1].s) + n < sizeof cv->cells[0].s)
                strncat(cv->cells[c - 1].s, text, n);
            continue;
        }
        if (c + (unsigned)w > end) break;
        struct cell *cell = &cv->cells[c];
        if (cp == 0xfffd && !cv->ascii) {
            strcpy(cell->s, "\xef\xbf\xbd");
        } else if (cp == '?') {
            strcpy(cell->s, "?");
        } else {
            memcpy(cell->s, text, n);
            cell->s[n] = 0;
        }
        cell->cont = false;
        if (w == 2) {
            cv->cells[c + 1].s[0] = 0;
            cv->cells[c + 1].cont = true;
        }
        c += (unsigned)w;
    }
    return c - col;
}

/* Text cut to at most max columns, ending in an ellipsis when cut. */
static void fit(char *buf, size_t size, const char *text, unsigned max, const char *ellipsis)
{
    snprintf(buf, size, "%s", text);
    if (ladder_text_width(buf) <= max) return;
    unsigned ew = (unsigned)ladder_text_width(ellipsis);
    size_t cut = 0, w = 0;
    uint32_t cp;
    for (size_t n; (n = ladder_utf8_next(buf + cut, &cp)) > 0; cut += n) {
        if (w + (size_t)cp_width(cp) + ew > max) break;
        w += (size_t)cp_width(cp);
    }
    buf[cut] = 0;
    if (ew <= max && strlen(buf) + strlen(ellipsis) < size) strcat(buf, ellipsis);
}

static void put_repeat(struct canvas *cv, unsigned col, unsigned count, const char *glyph)
{
    for (unsigned i = 0; i < count; i++) put_text(cv, col + i, col + i + 1, glyph);
}

static int canvas_emit(struct canvas *cv, FILE *out)
{
    unsigned last = cv->width;
    while (last > 0 && strcmp(cv->cells[last - 1].s, " ") == 0) last--;
    for (unsigned i = 0; i < last; i++)
        if (!cv->cells[i].cont) fputs(cv->cells[i].s, out);
    fputc('\n', out);
    canvas_clear(cv);
    return ferror(out) ? -EIO : 0;
}

/* ---- The diagram ------------------------------------------------------------------ */

struct glyphs {
    const char *line, *dashed, *head_right, *head_left, *lost, *life, *ellipsis, *gap;
};

static const struct glyphs unicode_glyphs = {"─", "╌", "→", "←", "✕", "│", "…", "⋯"};
static const struct glyphs ascii_glyphs = {"-", ".", ">", "<", "x", "|", "...", "..."};

/* Where things go, in columns. */
struct geometry {
    unsigned width;
    unsigned time_w;     /* the time column */
    unsigned x[2];       /* the two lifelines */
    unsigned recv_w;     /* the receive-time column, 0 if none */
    unsigned total;      /* columns of the widest line */
};

static void format_ms(finack_time_t t, char *buf, size_t size)
{
    snprintf(buf, size, "%llu.%03llu", (unsigned long long)(t / 1000),
             (unsigned long long)(t % 1000));
}

static unsigned ms_width(finack_time_t t)
{
    char buf[32];
    format_ms(t, buf, sizeof buf);
    return (unsigned)strlen(buf);
}

static void gap_text(const struct ladder_row *r, const struct glyphs *g, char *buf, size_t size)
{
    char len[32];
    ladder_gap_text(r->t_end - r->t, len, sizeof len);
    snprintf(buf, size, "%s %s %s", g->gap, len, g->gap);
}

static void summary_text(const struct ladder_row *r, const struct glyphs *g, char *buf, size_t size)
{
    const char *there = r->from == 0 ? "→" : "←", *back = r->from == 0 ? "←" : "→";
    if (g == &ascii_glyphs) {
        there = r->from == 0 ? "->" : "<-";
        back = r->from == 0 ? "<-" : "->";
    }
    if (r->data_count == 0) {
        snprintf(buf, size, "%s %zu ACKs, ack=%u..%u %s", g->ellipsis, r->ack_count,
                 (unsigned)r->first_byte, (unsigned)r->last_byte, there);
        return;
    }
    int n = snprintf(buf, size, "%s %zu data segments, %u..%u %s", g->ellipsis, r->data_count,
                     (unsigned)r->first_byte, (unsigned)r->last_byte, there);
    if (r->ack_count && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " / %zu ACK%s %s", r->ack_count,
                 r->ack_count == 1 ? "" : "s", back);
}

/* The arrow's label, the window left out if the whole does not fit in max
 * columns (the caller cuts what still does not). */
static void arrow_label(const struct ladder *l, const struct ladder_options *o,
                        const struct ladder_row *r, unsigned max, char *buf, size_t size)
{
    ladder_seg_label(l, r->seg, o->absolute, buf, size);
    if (r->dup && strlen(buf) + 6 < size) strcat(buf, " (dup)");
    if (ladder_text_width(buf) <= max) return;
    ladder_seg_label_short(l, r->seg, o->absolute, buf, size);
    if (r->dup && strlen(buf) + 6 < size) strcat(buf, " (dup)");
}

/* The middle of the widest row, in columns, with labels in full or as
 * short as they get before they are cut. */
static unsigned widest_middle(const struct ladder *l, const struct ladder_options *o,
                              const struct ladder_layout *lay, const struct glyphs *g, bool full)
{
    unsigned widest = 0;
    char buf[256];
    for (size_t i = 0; i < lay->count; i++) {
        const struct ladder_row *r = &lay->rows[i];
        unsigned w = 0;
        if (r->kind == LADDER_ROW_ARROW) {
            arrow_label(l, o, r, full ? UINT32_MAX : 0, buf, sizeof buf);
            w = (unsigned)ladder_text_width(buf) + 6 + (r->lost ? 3 : 0);
        } else if (r->kind == LADDER_ROW_NOTE) {
            w = (unsigned)ladder_text_width(r->note) + 2;
        } else if (r->kind == LADDER_ROW_SUMMARY) {
            summary_text(r, g, buf, sizeof buf);
            w = (unsigned)ladder_text_width(buf) + 4;
        } else if (r->kind == LADDER_ROW_GAP) {
            gap_text(r, g, buf, sizeof buf);
            w = (unsigned)ladder_text_width(buf) + 4;
        }
        if (w > widest) widest = w;
    }
    return widest;
}

#define MIN_GAP 12

static int plan(const struct ladder *l, const struct ladder_options *o,
                const struct ladder_layout *lay, const struct glyphs *g, struct geometry *geo)
{
    geo->width = o->width ? o->width : LADDER_DEFAULT_WIDTH;
    if (geo->width < LADDER_MIN_WIDTH) return -EINVAL;
    geo->time_w = 9; /* "time (ms)" */
    geo->recv_w = 0;
    for (size_t i = 0; i < lay->count; i++) {
        const struct ladder_row *r = &lay->rows[i];
        if (ms_width(r->t) > geo->time_w) geo->time_w = ms_width(r->t);
        if (lay->any_recv && r->has_recv) {
            if (geo->recv_w < 9) geo->recv_w = 9; /* "rcvd (ms)" */
            if (ms_width(r->t_recv) > geo->recv_w) geo->recv_w = ms_width(r->t_recv);
        }
    }
    geo->x[0] = geo->time_w + 1 + LADDER_STATE_COLS + 1;
    unsigned gap = widest_middle(l, o, lay, g, true);
    unsigned gap_short = widest_middle(l, o, lay, g, false);
    unsigned hosts = 0;
    for (int s = 0; s < 2; s++) {
        unsigned w = (unsigned)ladder_text_width(l->host[s]);
        unsigned e = (unsigned)ladder_text_width(l->endpoint[s]);
        if (w < e) w = e;
        hosts += w / 2 + 1;
    }
    if (gap < hosts + 2) gap = hosts + 2;
    if (gap < 30) gap = 30;
    /* Labels matter more than receive times: where even the short labels
     * do not fit beside them, the receive-time column goes. */
    unsigned right = 2 + LADDER_STATE_COLS + (geo->recv_w ? 1 + geo->recv_w : 0);
    if (geo->recv_w && geo->x[0] + 1 + gap_short + 1 + right > geo->width) {
        geo->recv_w = 0;
        right = 2 + LADDER_STATE_COLS;
    }
    if (geo->x[0] + 1 + gap + 1 + right > geo->width) {
        if (geo->width < geo->x[0] + 1 + MIN_GAP + 1 + right) return -EINVAL;
        gap = geo->width - (geo->x[0] + 1 + 1 + right);
    }
    geo->x[1] = geo->x[0] + 1 + gap;
    geo->total = geo->x[1] + 1 + right;
    return 0;
}

/* Text centered on column c, kept within [lo, hi). */
static void put_centered(struct canvas *cv, unsigned c, unsigned lo, unsigned hi, const char *text)
{
    unsigned w = (unsigned)ladder_text_width(text);
    unsigned start = c > w / 2 ? c - w / 2 : 0;
    if (start < lo) start = lo;
    if (start + w > hi) start = hi > w && hi - w > lo ? hi - w : lo;
    put_text(cv, start, hi, text);
}

static int write_header(const struct ladder *l, const struct geometry *geo, const struct glyphs *g,
                        struct canvas *cv, FILE *out)
{
    int err = 0;
    char buf[160];
    if (l->title[0]) {
        fit(buf, sizeof buf, l->title, geo->width, g->ellipsis);
        put_text(cv, 0, geo->width, buf);
        err = canvas_emit(cv, out);
    }
    unsigned mid = (geo->x[0] + geo->x[1]) / 2;
    const char *lines[2][2] = {{l->host[0], l->host[1]}, {l->endpoint[0], l->endpoint[1]}};
    for (int k = 0; k < 2 && !err; k++) {
        if (!lines[k][0][0] && !lines[k][1][0]) continue;
        put_centered(cv, geo->x[0], 0, mid, lines[k][0]);
        put_centered(cv, geo->x[1], mid + 1, geo->width, lines[k][1]);
        err = canvas_emit(cv, out);
    }
    if (err) return err;
    put_text(cv, 0, geo->time_w, "time (ms)");
    put_text(cv, geo->x[0], geo->x[0] + 1, g->life);
    put_text(cv, geo->x[1], geo->x[1] + 1, g->life);
    if (geo->recv_w) put_text(cv, geo->total - 9, geo->total, "rcvd (ms)");
    return canvas_emit(cv, out);
}

static void put_arrow(const struct ladder *l, const struct ladder_options *o,
                      const struct geometry *geo, const struct glyphs *g,
                      const struct ladder_row *r, struct canvas *cv)
{
    unsigned a = geo->x[0] + 1, b = geo->x[1]; /* the gap: [a, b) */
    unsigned gap = b - a, tail = r->lost ? 3 : 0;
    char raw[256], label[256];
    unsigned max = gap > 6 + tail ? gap - 6 - tail : 0;
    arrow_label(l, o, r, max, raw, sizeof raw);
    fit(label, sizeof label, raw, max, g->ellipsis);
    unsigned lw = (unsigned)ladder_text_width(label);
    const char *body = r->seg->retransmit ? g->dashed : g->line;
    if (r->from == 0) {
        unsigned head = b - 1 - tail;
        put_repeat(cv, a, 2, body);
        put_text(cv, a + 3, head, label);
        put_repeat(cv, a + 4 + lw, head - (a + 4 + lw), body);
        put_text(cv, head, head + 1, r->lost ? g->lost : g->head_right);
    } else {
        unsigned head = a + tail;
        unsigned label_at = b - 3 - lw;
        put_text(cv, head, head + 1, r->lost ? g->lost : g->head_left);
        put_repeat(cv, head + 1, label_at - 1 - (head + 1), body);
        put_text(cv, label_at, b - 3, label);
        put_repeat(cv, b - 2, 2, body);
    }
}

static int write_row(const struct ladder *l, const struct ladder_options *o,
                     const struct geometry *geo, const struct glyphs *g,
                     const struct ladder_row *r, struct canvas *cv, FILE *out)
{
    char buf[256], text[256];
    format_ms(r->t, buf, sizeof buf);
    if (r->kind != LADDER_ROW_GAP) put_text(cv, geo->time_w - (unsigned)strlen(buf), geo->time_w, buf);
    for (int c = 0; c < 2; c++) {
        put_text(cv, geo->x[c], geo->x[c] + 1, g->life);
        if (!r->state[c]) continue;
        snprintf(buf, sizeof buf, "[%s]", r->state[c]);
        fit(text, sizeof text, buf, LADDER_STATE_COLS, g->ellipsis);
        unsigned w = (unsigned)ladder_text_width(text);
        if (c == 0)
            put_text(cv, geo->x[0] - 1 - w, geo->x[0] - 1, text);
        else
            put_text(cv, geo->x[1] + 2, geo->x[1] + 2 + LADDER_STATE_COLS, text);
    }
    unsigned a = geo->x[0] + 1, b = geo->x[1];
    switch (r->kind) {
    case LADDER_ROW_ARROW:
        put_arrow(l, o, geo, g, r, cv);
        if (geo->recv_w && r->has_recv) {
            format_ms(r->t_recv, buf, sizeof buf);
            put_text(cv, geo->total - (unsigned)strlen(buf), geo->total, buf);
        }
        break;
    case LADDER_ROW_NOTE:
        fit(text, sizeof text, r->note, b - a - 2, g->ellipsis);
        if (r->note_col == 0)
            put_text(cv, a + 1, b - 1, text);
        else
            put_text(cv, b - 1 - (unsigned)ladder_text_width(text), b - 1, text);
        break;
    case LADDER_ROW_SUMMARY:
        summary_text(r, g, buf, sizeof buf);
        fit(text, sizeof text, buf, b - a - 2, g->ellipsis);
        put_centered(cv, (a + b) / 2, a + 1, b - 1, text);
        break;
    case LADDER_ROW_GAP:
        gap_text(r, g, buf, sizeof buf);
        fit(text, sizeof text, buf, b - a - 2, g->ellipsis);
        put_centered(cv, (a + b) / 2, a + 1, b - 1, text);
        break;
    case LADDER_ROW_STATES:
        break;
    }
    return canvas_emit(cv, out);
}

int ladder_write_text(const struct ladder *l, const struct ladder_options *o, FILE *out)
{
    if (!l || !o || !out) return -EINVAL;
    const struct glyphs *g = o->ascii ? &ascii_glyphs : &unicode_glyphs;
    struct ladder_layout lay;
    int err = ladder_layout_build(l, o, &lay);
    if (err) return err;
    struct geometry geo;
    err = plan(l, o, &lay, g, &geo);
    struct canvas cv = {.width = geo.width, .ascii = o->ascii};
    cv.cells = err ? NULL : calloc(geo.width, sizeof *cv.cells);
    if (!err && !cv.cells) err = -ENOMEM;
    if (!err) {
        canvas_clear(&cv);
        err = write_header(l, &geo, g, &cv, out);
    }
    for (size_t i = 0; !err && i < lay.count; i++)
        err = write_row(l, o, &geo, g, &lay.rows[i], &cv, out);
    free(cv.cells);
    ladder_layout_free(&lay);
    return err;
}
