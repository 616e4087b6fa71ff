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
    for (size_t i = 0; i < lay->count; i++) {
        if (lay->rows[i].t < t) continue;
        if (lay->rows[i].t == t || i == 0) return row_y(p, i);
        double t0 = (double)lay->rows[i - 1].t, t1 = (double)lay->rows[i].t;
        return row_y(p, i - 1) + ROW_H * ((double)t - t0) / (t1 - t0);
    }
    return row_y(p, lay->count ? lay->count - 1 : 0) + ROW_H;
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

static void put_arrow(FILE *out, const struct ladder *l, const struct ladder_options *o,
                      const struct picture *p, const struct ladder_row *r, double y)
{
    int to = !r->from;
    double x0 = p->x[r->from] + (r->from == 0 ? 1 : -1), x1 = p->x[to] + (to == 0 ? 1 : -1);
    double y1 = r->has_recv ? time_y(p, r->t_recv) : y;
    if (y1 < y) y1 = y;
    if (r->lost) {
        x1 = x0 + (x1 - x0) * LOST_AT;
        y1 = y + ROW_H * 0.5;
    }
    const char *color = r->lost ? COLOR_LOST : r->seg->retransmit ? COLOR_RTX : COLOR_SEG;
    char label[256], tip[512], t0[32], t1[32];
    ladder_seg_label(l, r->seg, o->absolute, label, sizeof label);
    if (r->dup && strlen(label) + 6 < sizeof label) strcat(label, " (dup)");
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
            x0, y, x1, y1, color, r->seg->retransmit ? " stroke-dasharray=\"6 4\"" : "",
            r->lost ? "" : r->seg->retransmit ? " marker-end=\"url(#head-rtx)\""
                                              : " marker-end=\"url(#head)\"");
    if (r->lost) put_cross(out, x1, y1);
    /* The label along the arrow, just above it, starting near the sender:
     * arrows sent on different rows and arriving together fan out there,
     * so their labels do not pile up. Never upside down. */
    double dx = x1 - x0, dy = y1 - y, len = sqrt(dx * dx + dy * dy);
    double angle = atan2(dy, dx) * 180.0 / M_PI;
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    double mx = x0 + dx / len * 14, my = y + dy / len * 14 - 4;
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\" "
                 "transform=\"rotate(%.2f %.1f %.1f)\">",
            mx, my, r->from == 0 ? "start" : "end", color, angle, mx, my);
    put_escaped(out, label);
    fputs("</text>\n</g>\n", out);
}

static void put_summary(FILE *out, const struct picture *p, const struct ladder_row *r, double y)
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
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"#eef2f8\"/>\n",
            p->x[0] + 4, y - 13, p->x[1] - p->x[0] - 8);
    put_text(out, (p->x[0] + p->x[1]) / 2, y, "middle", "class=\"summary\"", text);
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
    put_head(out, l, &p);
    for (int s = 0; s < 2; s++)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\" "
                     "stroke-width=\"2\"/>\n",
                p.x[s], p.top - 18, p.x[s], p.height - 64);
    for (size_t i = 0; i < lay.count; i++) {
        const struct ladder_row *r = &lay.rows[i];
        double y = row_y(&p, i);
        char t[32];
        format_ms(r->t, t, sizeof t);
        put_text(out, TIME_X, y + 4, "end", "class=\"time\"", t);
        for (int c = 0; c < 2; c++)
            if (r->state[c]) put_state(out, &p, c, y + 4, r->state[c]);
        switch (r->kind) {
        case LADDER_ROW_ARROW: put_arrow(out, l, o, &p, r, y); break;
        case LADDER_ROW_SUMMARY: put_summary(out, &p, r, y + 4); break;
        case LADDER_ROW_NOTE:
            if (r->note_col == 0)
                put_text(out, p.x[0] + 8, y + 4, "start", "class=\"note\"", r->note);
            else
                put_text(out, p.x[1] - 8, y + 4, "end", "class=\"note\"", r->note);
            break;
        case LADDER_ROW_STATES: break;
        }
    }
    put_legend(out, &p);
    fputs("</svg>\n", out);
    ladder_layout_free(&lay);
    return ferror(out) ? -EIO : 0;
}
