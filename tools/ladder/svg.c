/* The ladder as a standalone SVG picture: the same rows as the text, but
 * each arrow slanted from the row of its sending to the height of its
 * arrival, so the time a segment spends on the wire shows. No scripts, no
 * external fonts or images; every text escaped, so the file is well-formed
 * XML whatever the host names and notes hold. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/internal.h"

#define ROW_H 24.0         /* pixels per row */
#define FONT 11.0          /* label size; a monospace glyph is ~0.6 of it */
#define CHAR_W (FONT * 0.6)
#define TIME_X 78.0        /* right edge of the time labels */
#define STATE_W 104.0      /* a state box: "ESTABLISHED" and padding */
#define GAP_W 560.0        /* between the two lifelines */
#define LOST_AT 0.62       /* a lost arrow stops this far across */

#define COLOR_SEG "#1f4e9c"
#define COLOR_RTX "#d9822b"
#define COLOR_LOST "#c62828"
#define COLOR_NOTE "#555555"

struct picture {
    double x[2];           /* the lifelines */
    double top;            /* y of row 0 */
    double width, height;
    const struct ladder_layout *lay;
    double *ends[2];       /* heights where arrowheads end on each lifeline, sorted */
    size_t end_count[2];
};

/* Text as XML character data or attribute value: markup characters as
 * entities, control characters (not allowed in XML 1.0) and broken UTF-8
 * as '?' and U+FFFD. */
static void put_escaped(FILE *out, const char *s)
{
    uint32_t cp;
    for (size_t n; (n = ladder_utf8_next(s, &cp)) > 0; s += n) {
        switch (cp) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            if ((cp < 0x20 && cp != '\t') || cp == 0xfffe || cp == 0xffff)
                fputc('?', out);
            else if (cp == 0xfffd)
                fputs("\xef\xbf\xbd", out);
            else
                fwrite(s, 1, n, out);
        }
    }
}

static void format_ms(finack_time_t t, char *buf, size_t size)
{
    snprintf(buf, size, "%llu.%03llu", (unsigned long long)(t / 1000),
             (unsigned long long)(t % 1000));
}

static double row_y(const struct picture *p, size_t i)
{
    return p->top + ROW_H * (double)i;
}

/* The height of time t: the first row at t, or between the rows around it
 * in proportion, or a row below the last. */
static double time_y(const struct picture *p, finack_time_t t)
{
    const struct ladder_layout *lay = p->lay;
    size_t lo = 0, hi = lay->count; /* the first row at or after t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lay->rows[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t i = lo;
    if (i == lay->count) return row_y(p, lay->count ? lay->count - 1 : 0) + ROW_H;
    if (lay->rows[i].t == t || i == 0) return row_y(p, i);
    double t0 = (double)lay->rows[i - 1].t, t1 = (double)lay->rows[i].t;
    return row_y(p, i - 1) + ROW_H * ((double)t - t0) / (t1 - t0);
}

/* Where an arrow ends on side's lifeline (its head, or where a lost one
 * would have), as a height; false for an arrow that does not reach it. */
static bool arrow_end(const struct picture *p, const struct ladder_row *r, size_t i, int side,
                      double *y)
{
    if (r->kind != LADDER_ROW_ARROW || r->lost || r->from == side) return false;
    double y0 = row_y(p, i);
    *y = r->has_recv ? time_y(p, r->t_recv) : y0;
    if (*y < y0) *y = y0;
    return true;
}

/* Whether some arrowhead ends on side's lifeline within a row of y (the
 * lowest such end in *end): text written there beside the line would be
 * struck through by it. Arrows run downwards, so just below their end is
 * clear of them. */
static bool head_near(const struct picture *p, int side, double y, double *end)
{
    const double *e = p->ends[side];
    size_t lo = 0, hi = p->end_count[side];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid] <= y - ROW_H * 0.8)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool found = false;
    for (size_t i = lo; i < p->end_count[side] && e[i] < y + ROW_H * 0.8; i++) {
        *end = e[i];
        found = true;
    }
    return found;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int find_ends(struct picture *p)
{
    for (int side = 0; side < 2; side++) {
        p->ends[side] = malloc((p->lay->count ? p->lay->count : 1) * sizeof *p->ends[side]);
        if (!p->ends[side]) return -ENOMEM;
        p->end_count[side] = 0;
        for (size_t i = 0; i < p->lay->count; i++) {
            double at;
            if (arrow_end(p, &p->lay->rows[i], i, side, &at))
                p->ends[side][p->end_count[side]++] = at;
        }
        qsort(p->ends[side], p->end_count[side], sizeof *p->ends[side], cmp_double);
    }
    return 0;
}

static void put_text(FILE *out, double x, double y, const char *anchor, const char *style,
                     const char *text)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor,
            style[0] ? " " : "", style);
    put_escaped(out, text);
    fputs("</text>\n", out);
}

static void put_state(FILE *out, const struct picture *p, int col, double y, const char *state)
{
    double w = STATE_W - 8;
    double x = col == 0 ? p->x[0] - 8 - w : p->x[1] + 8;
    fprintf(out, "<rect class=\"state\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"4\"/>\n",
            x, y - 12, w);
    put_text(out, x + w / 2, y, "middle", "class=\"state\"", state);
}

/* A red cross centred on (x, y). */
static void put_cross(FILE *out, double x, double y)
{
    fprintf(out, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" stroke=\"%s\" "
                 "stroke-width=\"2.5\"/>\n",
            x - 6, y - 6, x + 6, y + 6, x - 6, y + 6, x + 6, y - 6, COLOR_LOST);
}

/* Where an arrow runs: from (x0, y) to (x1, y1). */
struct arrow_path {
    double x0, y, x1, y1;
};

static struct arrow_path arrow_path(const struct picture *p, const struct ladder_row *r, double y)
{
    int to = !r->from;
    struct arrow_path a = {p->x[r->from] + (r->from == 0 ? 1 : -1), y,
                           p->x[to] + (to == 0 ? 1 : -1), r->has_recv ? time_y(p, r->t_recv) : y};
    if (a.y1 < y) a.y1 = y;
    if (r->lost) {
        a.x1 = a.x0 + (a.x1 - a.x0) * LOST_AT;
        a.y1 = y + ROW_H * 0.5;
    }
    return a;
}

static const char *arrow_color(const struct ladder_row *r)
{
    return r->lost ? COLOR_LOST : r->seg->retransmit ? COLOR_RTX : COLOR_SEG;
}

static void arrow_label(const struct ladder *l, const struct ladder_options *o,
                        const struct ladder_row *r, char *label, size_t size)
{
    ladder_seg_label(l, r->seg, o->absolute, label, size);
    if (r->dup && strlen(label) + 6 < size) strcat(label, " (dup)");
}

/* The arrow itself, with its details as a tooltip. */
static void put_arrow_line(FILE *out, const struct ladder *l, const struct ladder_options *o,
                           const struct picture *p, const struct ladder_row *r, double y)
{
    struct arrow_path a = arrow_path(p, r, y);
    const char *color = arrow_color(r);
    char label[256], tip[512], t0[32], t1[32];
    arrow_label(l, o, r, label, sizeof label);
    format_ms(r->t, t0, sizeof t0);
    if (r->has_recv) {
        format_ms(r->t_recv, t1, sizeof t1);
        snprintf(tip, sizeof tip, "%s; sent %s ms, received %s ms%s%s", label, t0, t1,
                 r->seg->opts[0] ? "; " : "", r->seg->opts);
    } else {
        snprintf(tip, sizeof tip, "%s; %s %s ms%s%s", label, r->lost ? "lost, sent" : "at", t0,
                 r->seg->opts[0] ? "; " : "", r->seg->opts);
    }
    fputs("<g>\n<title>", out);
    put_escaped(out, tip);
    fputs("</title>\n", out);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\"%s%s/>\n",
            a.x0, a.y, a.x1, a.y1, color, r->seg->retransmit ? " stroke-dasharray=\"6 4\"" : "",
            r->lost ? "" : r->seg->retransmit ? " marker-end=\"url(#head-rtx)\""
                                              : " marker-end=\"url(#head)\"");
    if (r->lost) put_cross(out, a.x1, a.y1);
    fputs("</g>\n", out);
}

/* The label along the arrow, just above it, starting near the sender (past
 * an arrowhead that ends there): arrows sent on different rows and
 * arriving together fan out there, so their labels do not pile up. Never
 * upside down. Drawn after every line, so that its halo keeps it legible
 * where other arrows cross. */
/* Whether a label along (ux, uy) from (x0, y0), between distances from and
 * from + w, keeps clear of the notes and summaries of rows other than i. */
static bool label_clear(const struct picture *p, size_t i, double x0, double y0, double ux,
                        double uy, double from, double w)
{
    double xa = x0 + ux * from, xb = x0 + ux * (from + w);
    double ya = y0 + uy * from, yb = y0 + uy * (from + w);
    double lx = fmin(xa, xb), hx = fmax(xa, xb), ly = fmin(ya, yb) - 9, hy = fmax(ya, yb) + 3;
    double first = floor((ly - 3 - 4 - p->top) / ROW_H);
    size_t k0 = first > 0 ? (size_t)first : 0;
    for (size_t k = k0; k < p->lay->count && row_y(p, k) - 5 <= hy; k++) {
        const struct ladder_row *r = &p->lay->rows[k];
        if (k == i || (r->kind != LADDER_ROW_NOTE && r->kind != LADDER_ROW_SUMMARY)) continue;
        double base = row_y(p, k) + 4;
        if (base + 3 < ly || base - 9 > hy) continue;
        if (r->kind == LADDER_ROW_SUMMARY) return false;
        double nw = (double)ladder_text_width(r->note) * CHAR_W + 24;
        double nl = r->note_col == 0 ? p->x[0] : p->x[1] - nw;
        if (nl < hx && nl + nw > lx) return false;
    }
    return true;
}

static void put_arrow_label(FILE *out, const struct ladder *l, const struct ladder_options *o,
                            const struct picture *p, size_t i, double y)
{
    const struct ladder_row *r = &p->lay->rows[i];
    /* Below the line only if the row under it has no note on that side. */
    const struct ladder_row *next = i + 1 < p->lay->count ? &p->lay->rows[i + 1] : NULL;
    bool room_below = !next || next->kind != LADDER_ROW_NOTE || next->note_col != r->from;
    struct arrow_path a = arrow_path(p, r, y);
    char label[256];
    arrow_label(l, o, r, label, sizeof label);
    double dx = a.x1 - a.x0, dy = a.y1 - a.y, len = sqrt(dx * dx + dy * dy);
    double angle = atan2(dy, dx) * 180.0 / M_PI;
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    /* Along the arrow from near the sender, the baseline 4 px above it; or
     * 12 px below it where another arrow ends at its start (that one comes
     * from above) and the row below leaves room. The text runs along v,
     * left to right; n is its "up". Where notes lie on that stretch (a
     * steep arrow across rows of calls), the label moves along to the first
     * clear stretch, if there is one. */
    double ux = dx / len, uy = dy / len;
    double vx = ux < 0 ? -ux : ux, vy = ux < 0 ? -uy : uy, nx = vy, ny = -vx;
    double end, lift = room_below && head_near(p, r->from, y, &end) && end <= y + 2 ? -12 : 4;
    double along = lift < 0 ? 20 : 14, w = (double)ladder_text_width(label) * CHAR_W;
    double x0 = a.x0 + nx * lift, y0 = y + ny * lift;
    /* Along this side of the line, then along the other. */
    bool clear = label_clear(p, i, x0, y0, ux, uy, along, w);
    for (int side = 0; side < 2 && !clear; side++) {
        double l2 = side ? (lift < 0 ? 4 : -12) : lift;
        double x2 = a.x0 + nx * l2, y2 = y + ny * l2;
        for (double at = along + 12; at + w + 18 <= len && !clear; at += 12)
            if (label_clear(p, i, x2, y2, ux, uy, at, w)) {
                clear = true;
                along = at;
                x0 = x2, y0 = y2;
            }
    }
    double mx = x0 + ux * along, my = y0 + uy * along;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\" "
                 "transform=\"rotate(%.2f %.1f %.1f)\">",
            mx, my, r->from == 0 ? "start" : "end", arrow_color(r), angle, mx, my);
    put_escaped(out, label);
    fputs("</text>\n", out);
}

static void put_summary(FILE *out, const struct picture *p, const struct ladder_row *r, double y,
                        bool text_pass)
{
    char text[160], t1[32];
    const char *there = r->from == 0 ? "→" : "←", *back = r->from == 0 ? "←" : "→";
    format_ms(r->t_end, t1, sizeof t1);
    if (r->data_count)
        snprintf(text, sizeof text, "… %zu data segments, %u..%u %s / %zu ACKs %s (until %s ms)",
                 r->data_count, (unsigned)r->first_byte, (unsigned)r->last_byte, there,
                 r->ack_count, back, t1);
    else
        snprintf(text, sizeof text, "… %zu ACKs, ack=%u..%u %s (until %s ms)", r->ack_count,
                 (unsigned)r->first_byte, (unsigned)r->last_byte, there, t1);
    if (!text_pass)
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" "
                     "fill=\"#eef2f8\"/>\n",
                p->x[0] + 4, y - 13, p->x[1] - p->x[0] - 8);
    else
        put_text(out, (p->x[0] + p->x[1]) / 2, y, "middle", "class=\"summary\"", text);
}

/* A break in time: the lifelines cut by a white band with a zigzag edge,
 * so that the slope of the arrows across it means nothing. */
static void put_break(FILE *out, const struct picture *p, double y)
{
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" fill=\"#ffffff\"/>\n",
            p->x[0] - 8, y - 6, p->x[1] - p->x[0] + 16);
    for (int s = 0; s < 2; s++)
        for (int edge = -1; edge <= 1; edge += 2)
            fprintf(out, "<path d=\"M%.1f %.1fl4 -3l4 6l4 -3l4 3\" fill=\"none\" "
                         "stroke=\"#333333\" stroke-width=\"1.5\"/>\n",
                    p->x[s] - 8, y + 6.0 * edge);
}

static void put_legend(FILE *out, const struct picture *p)
{
    double y = p->height - 40, x = p->x[0];
    fprintf(out, "<g class=\"legend\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"30\" "
                 "fill=\"none\" stroke=\"#bbbbbb\"/>\n",
            x - 10, y - 18, p->x[1] - x + 20);
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\" marker-end=\"url(#head)\"/>\n",
            x, y - 4, x + 40, y - 4, COLOR_SEG);
    put_text(out, x + 48, y, "start", "", "segment");
    x += 120;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\" stroke-dasharray=\"6 4\" marker-end=\"url(#head-rtx)\"/>\n",
            x, y - 4, x + 40, y - 4, COLOR_RTX);
    put_text(out, x + 48, y, "start", "", "retransmission");
    x += 160;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\"/>\n",
            x, y - 4, x + 34, y - 4, COLOR_LOST);
    put_cross(out, x + 34, y - 4);
    put_text(out, x + 48, y, "start", "", "lost");
    x += 90;
    fprintf(out, "<rect class=\"state\" x=\"%.1f\" y=\"%.1f\" width=\"40\" height=\"16\" rx=\"4\"/>\n",
            x, y - 12);
    put_text(out, x + 48, y, "start", "", "state");
    x += 100;
    put_text(out, x, y, "start", "class=\"note\"", "(timer, drop, call)");
    fputs("</g>\n", out);
}

static void put_head(FILE *out, const struct ladder *l, const struct picture *p)
{
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, "
                 "monospace\" font-size=\"%.0f\">\n",
            p->width, p->height, p->width, p->height, FONT);
    fputs("<title>", out);
    put_escaped(out, l->title[0] ? l->title : "TCP ladder diagram");
    fputs("</title>\n", out);
    fprintf(out,
            "<style>\n"
            "text { paint-order: stroke; stroke: #ffffff; stroke-width: 3px; "
            "stroke-linejoin: round; }\n"
            "text.state { font-weight: bold; fill: #1b5e20; }\n"
            "rect.state { fill: #e8f5e9; stroke: #2e7d32; }\n"
            "text.note { font-style: italic; fill: %s; }\n"
            "text.summary { font-style: italic; fill: #333333; }\n"
            "text.host { font-weight: bold; font-size: 14px; }\n"
            "text.time { fill: #666666; }\n"
            "</style>\n"
            "<defs>\n"
            "<marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
            "markerHeight=\"8\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>\n"
            "<marker id=\"head-rtx\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" "
            "markerHeight=\"8\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>\n"
            "</defs>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
            COLOR_NOTE, COLOR_SEG, COLOR_RTX);
    double y = 22;
    if (l->title[0]) {
        put_text(out, p->width / 2, y, "middle", "font-size=\"14\"", l->title);
        y += 22;
    }
    for (int s = 0; s < 2; s++) {
        put_text(out, p->x[s], y + 4, "middle", "class=\"host\"", l->host[s][0] ? l->host[s] : "");
        put_text(out, p->x[s], y + 20, "middle", "", l->endpoint[s]);
    }
    put_text(out, TIME_X, y + 20, "end", "class=\"time\"", "time (ms)");
}

int ladder_write_svg(const struct ladder *l, const struct ladder_options *o, FILE *out)
{
    if (!l || !o || !out) return -EINVAL;
    struct ladder_layout lay;
    int err = ladder_layout_build(l, o, &lay);
    if (err) return err;
    struct picture p = {.lay = &lay};
    p.x[0] = TIME_X + 16 + STATE_W;
    p.x[1] = p.x[0] + GAP_W;
    p.top = (l->title[0] ? 44 : 22) + 50;
    p.width = p.x[1] + STATE_W + 16;
    p.height = p.top + ROW_H * (double)(lay.count ? lay.count : 1) + 70;
    err = find_ends(&p);
    if (err) {
        free(p.ends[0]), free(p.ends[1]);
        ladder_layout_free(&lay);
        return err;
    }
    put_head(out, l, &p);
    for (int s = 0; s < 2; s++)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\" "
                     "stroke-width=\"2\"/>\n",
                p.x[s], p.top - 18, p.x[s], p.height - 64);
    /* Summary bands, lines over them, then every text (with its white
     * halo) over both. */
    for (size_t i = 0; i < lay.count; i++) {
        if (lay.rows[i].kind == LADDER_ROW_SUMMARY)
            put_summary(out, &p, &lay.rows[i], row_y(&p, i) + 4, false);
        if (lay.rows[i].kind == LADDER_ROW_GAP) put_break(out, &p, row_y(&p, i));
    }
    for (size_t i = 0; i < lay.count; i++)
        if (lay.rows[i].kind == LADDER_ROW_ARROW)
            put_arrow_line(out, l, o, &p, &lay.rows[i], row_y(&p, i));
    for (size_t i = 0; i < lay.count; i++) {
        const struct ladder_row *r = &lay.rows[i];
        double y = row_y(&p, i);
        char t[32];
        format_ms(r->t, t, sizeof t);
        if (r->kind != LADDER_ROW_GAP) put_text(out, TIME_X, y + 4, "end", "class=\"time\"", t);
        for (int c = 0; c < 2; c++)
            if (r->state[c]) put_state(out, &p, c, y + 4, r->state[c]);
        switch (r->kind) {
        case LADDER_ROW_ARROW: put_arrow_label(out, l, o, &p, i, y); break;
        case LADDER_ROW_SUMMARY: put_summary(out, &p, r, y + 4, true); break;
        case LADDER_ROW_NOTE: {
            /* Clear of an arrowhead that ends beside it: past the head and
             * below the line that comes down to it. */
            double end, base = y + 4, inset = 8;
            if (head_near(&p, r->note_col, y, &end)) {
                inset = 16;
                if (end + 10 > base) base = end + 10;
            }
            if (r->note_col == 0)
                put_text(out, p.x[0] + inset, base, "start", "class=\"note\"", r->note);
            else
                put_text(out, p.x[1] - inset, base, "end", "class=\"note\"", r->note);
            break;
        }
        case LADDER_ROW_GAP: {
            char len[32], text[64];
            ladder_gap_text(r->t_end - r->t, len, sizeof len);
            snprintf(text, sizeof text, "⋯ %s ⋯", len);
            put_text(out, (p.x[0] + p.x[1]) / 2, y + 4, "middle", "class=\"note\"", text);
            break;
        }
        case LADDER_ROW_STATES: break;
        }
    }
    put_legend(out, &p);
    fputs("</svg>\n", out);
    free(p.ends[0]), free(p.ends[1]);
    ladder_layout_free(&lay);
    return ferror(out) ? -EIO : 0;
}
