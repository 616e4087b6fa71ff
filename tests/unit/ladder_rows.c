/* What the rows say beyond the events. Drops that were answered: a
 * segment the receiver did not take but replied to (an ACK for an
 * out-of-window FIN or probe, a RST where there is no connection) is drawn
 * in words that say so, before the reply's row, though the core traces the
 * drop after the reply. A simultaneous open's SYN+ACKs are not drawn as
 * retransmissions. */
#include "ladder/ladder.h"

#include <stdlib.h>
#include <string.h>

#include "test.h"

static struct ladder_event *seg(struct ladder *l, finack_time_t t, int side, bool out,
                                uint8_t flags, uint32_t len)
{
    struct ladder_event e = {.t = t, .kind = FINACK_TRACE_SEG, .side = side, .out = out,
                             .flags = flags, .seq = 1, .ack = 2, .win = 1000, .len = len};
    CHECK_EQ(ladder_append(l, &e), 0);
    return &l->events[l->count - 1];
}

static void drop(struct ladder *l, finack_time_t t, int side, const char *reason)
{
    struct ladder_event e = {.t = t, .kind = FINACK_TRACE_DROP, .side = side};
    snprintf(e.reason, sizeof e.reason, "%s", reason);
    CHECK_EQ(ladder_append(l, &e), 0);
}

static char *draw(const struct ladder *l)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) abort();
    struct ladder_options o = {.width = 100};
    CHECK_EQ(ladder_write_text(l, &o, out), 0);
    fclose(out);
    return text;
}

/* The retransmitted FIN reaching TIME_WAIT, the re-ACK, then the drop. */
static void test_time_wait_reack_is_not_a_drop(void)
{
    struct ladder l;
    ladder_init(&l);
    seg(&l, 0, 1, true, FINACK_TCP_FIN | FINACK_TCP_ACK, 0);
    seg(&l, 10000, 0, false, FINACK_TCP_FIN | FINACK_TCP_ACK, 0);
    seg(&l, 10000, 0, true, FINACK_TCP_ACK, 0);
    drop(&l, 10000, 0, "TCP_NOT_ACCEPTABLE");
    seg(&l, 20000, 1, false, FINACK_TCP_ACK, 0);
    char *text = draw(&l);
    const char *why = strstr(text, "(old FIN, out of window: ACKed again)");
    const char *reply = strstr(text, "── ACK seq=1");
    CHECK(why != NULL);
    CHECK(reply != NULL);
    CHECK(why && reply && why < reply);
    CHECK(strstr(text, "TCP_NOT_ACCEPTABLE") == NULL);
    free(text);
    ladder_free(&l);
}

static void test_no_socket_answered_with_rst(void)
{
    struct ladder l;
    ladder_init(&l);
    seg(&l, 0, 1, true, FINACK_TCP_SYN | FINACK_TCP_ACK, 0);
    seg(&l, 10000, 0, false, FINACK_TCP_SYN | FINACK_TCP_ACK, 0);
    seg(&l, 10000, 0, true, FINACK_TCP_RST, 0);
    drop(&l, 10000, 0, "TCP_NO_SOCKET");
    char *text = draw(&l);
    const char *why = strstr(text, "(no connection: answered with RST)");
    const char *reply = strstr(text, "── RST");
    CHECK(why != NULL && reply != NULL && why < reply);
    free(text);
    ladder_free(&l);
}

/* A drop with no reply stays a drop, with its reason. */
static void test_unanswered_drop_keeps_its_reason(void)
{
    struct ladder l;
    ladder_init(&l);
    seg(&l, 0, 1, true, FINACK_TCP_ACK, 100);
    seg(&l, 10000, 0, false, FINACK_TCP_ACK, 100);
    drop(&l, 10000, 0, "TCP_NOT_ACCEPTABLE");
    char *text = draw(&l);
    CHECK(strstr(text, "(drop TCP_NOT_ACCEPTABLE)") != NULL);
    free(text);
    ladder_free(&l);
}

/* Both SYNs cross; each end answers the other's with a SYN+ACK on its own
 * SYN's seq, which the stack marks rtx. Not drawn as a resend; a SYN+ACK
 * sent again after that still is. */
static void test_simultaneous_open_synack_not_rtx(void)
{
    const uint8_t syn = FINACK_TCP_SYN, synack = FINACK_TCP_SYN | FINACK_TCP_ACK;
    struct ladder l;
    ladder_init(&l);
    seg(&l, 0, 0, true, syn, 0);
    seg(&l, 0, 1, true, syn, 0);
    seg(&l, 10000, 0, false, syn, 0);
    seg(&l, 10000, 1, false, syn, 0);
    seg(&l, 10000, 0, true, synack, 0)->retransmit = true;
    seg(&l, 10000, 1, true, synack, 0)->retransmit = true;
    seg(&l, 1010000, 0, true, synack, 0)->retransmit = true; /* a real resend */
    char *text = draw(&l);
    const char *first = strstr(text, "SYN+ACK");
    CHECK(first != NULL);
    CHECK(first && strncmp(first - 4, "rtx ", 4) != 0);
    const char *rtx = strstr(text, "rtx SYN+ACK");
    CHECK(rtx != NULL);
    CHECK(rtx && strstr(rtx, "1010.000") == NULL); /* only the last row is rtx */
    CHECK(strstr(text, "╌") != NULL);
    free(text);
    ladder_free(&l);
}

/* SVG: text has a white halo and is drawn after every arrow line, and a
 * note beside an arrowhead moves clear of it (below the line's end). */
static void test_svg_text_over_lines_and_clear_of_heads(void)
{
    struct ladder l;
    ladder_init(&l);
    seg(&l, 0, 0, true, FINACK_TCP_ACK, 0);
    seg(&l, 10000, 1, false, FINACK_TCP_ACK, 0);
    struct ladder_note n = {.t = 10000, .side = 1, .text = "accept() = 1"};
    CHECK_EQ(ladder_add_note(&l, &n), 0);
    seg(&l, 20000, 1, true, FINACK_TCP_ACK, 0);
    seg(&l, 30000, 0, false, FINACK_TCP_ACK, 0);
    char *svg = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&svg, &len);
    if (!out) abort();
    struct ladder_options o = {0};
    CHECK_EQ(ladder_write_svg(&l, &o, out), 0);
    fclose(out);
    CHECK(strstr(svg, "paint-order: stroke") != NULL);
    const char *legend = strstr(svg, "<g class=\"legend\">");
    const char *label = strstr(svg, "transform=\"rotate(");
    REQUIRE(legend && label);
    const char *last_arrow = NULL;
    for (const char *line = strstr(svg, "marker-end="); line && line < legend;
         line = strstr(line + 1, "marker-end="))
        last_arrow = line;
    CHECK(last_arrow != NULL && last_arrow < label);
    /* The note's baseline: below the arrowhead's row (y + 4 otherwise). */
    const char *note = strstr(svg, ">accept() = 1<");
    REQUIRE(note != NULL);
    const char *tag = note;
    while (tag > svg && strncmp(tag, "<text", 5) != 0) tag--;
    double x = 0, y = 0;
    CHECK_EQ(sscanf(tag, "<text x=\"%lf\" y=\"%lf\"", &x, &y), 2);
    const char *row = strstr(svg, ">10.000<");
    REQUIRE(row != NULL);
    const char *rtag = row;
    while (rtag > svg && strncmp(rtag, "<text", 5) != 0) rtag--;
    double rx = 0, ry = 0;
    CHECK_EQ(sscanf(rtag, "<text x=\"%lf\" y=\"%lf\"", &rx, &ry), 2);
    CHECK(y > ry);
    free(svg);
    ladder_free(&l);
}

static char *draw_ascii(const struct ladder *l)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) abort();
    struct ladder_options o = {.width = 100, .ascii = true};
    CHECK_EQ(ladder_write_text(l, &o, out), 0);
    fclose(out);
    return text;
}

/* Rows far apart in time (TIME_WAIT's 2 MSL) get a break row saying how
 * long; evenly spaced ones do not. */
static void test_time_gap_marked(void)
{
    struct ladder l;
    ladder_init(&l);
    for (int k = 0; k < 6; k++) seg(&l, (finack_time_t)k * 10000, k % 2, true, FINACK_TCP_ACK, 0);
    char *text = draw(&l);
    CHECK(strstr(text, "⋯") == NULL);
    free(text);
    struct ladder_note n = {.t = 50000 + FINACK_SEC(120), .side = 0, .text = "later"};
    CHECK_EQ(ladder_add_note(&l, &n), 0);
    text = draw(&l);
    CHECK(strstr(text, "⋯ 120 s ⋯") != NULL);
    free(text);
    text = draw_ascii(&l);
    CHECK(strstr(text, "... 120 s ...") != NULL);
    free(text);
    ladder_free(&l);
}

static char *draw_width(const struct ladder *l, unsigned width)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) abort();
    struct ladder_options o = {.width = width};
    CHECK_EQ(ladder_write_text(l, &o, out), 0);
    fclose(out);
    return text;
}

/* The window leaves a label only when the label with it does not fit
 * between the lifelines at the width asked for. */
static void test_window_dropped_only_when_needed(void)
{
    struct ladder l;
    ladder_init(&l);
    struct ladder_event *e = seg(&l, 0, 0, true, FINACK_TCP_FIN | FINACK_TCP_PSH | FINACK_TCP_ACK,
                                 1176);
    e->seq = 18825, e->ack = 1, e->win = 131072;
    seg(&l, 10000, 1, false, FINACK_TCP_FIN | FINACK_TCP_PSH | FINACK_TCP_ACK, 1176)->seq = 18825;
    l.events[1].ack = 1, l.events[1].win = 131072;
    /* 47 columns of label and 6 of arrow: they fit between the lifelines
     * at 120 columns, not at 100 beside the state and rcvd columns. */
    char *text = draw_width(&l, 120);
    CHECK(strstr(text, "FIN+PSH+ACK seq=18825 ack=1 win=131072 len=1176") != NULL);
    free(text);
    /* Narrow: the label no longer fits whole beside the rcvd column. */
    text = draw_width(&l, 90);
    CHECK(strstr(text, "win=") == NULL);
    CHECK(strstr(text, "FIN+PSH+ACK seq=18825 ack=1") != NULL);
    free(text);
    ladder_free(&l);
}

TEST_MAIN("ladder_rows", TEST_CASE(test_window_dropped_only_when_needed), TEST_CASE(test_time_gap_marked), TEST_CASE(test_svg_text_over_lines_and_clear_of_heads), TEST_CASE(test_simultaneous_open_synack_not_rtx), TEST_CASE(test_time_wait_reack_is_not_a_drop),
          TEST_CASE(test_no_socket_answered_with_rst),
          TEST_CASE(test_unanswered_drop_keeps_its_reason))
