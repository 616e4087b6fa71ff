/* Which copy of a segment arrived: an "in" pairs with the "out" it is a
 * copy of, told apart by window and options as well as seq/ack/flags/len,
 * and among identical copies the oldest first (a link keeps one
 * direction's order). The rcvd column and the lost crosses depend on it. */
#include "ladder/ladder.h"

#include <stdlib.h>

#include "test.h"

static void add_seg(struct ladder *l, finack_time_t t, int side, bool out, uint32_t ack,
                    uint32_t win, const char *opts)
{
    struct ladder_event e = {.t = t, .kind = FINACK_TRACE_SEG, .side = side, .out = out,
                             .flags = FINACK_TCP_ACK, .seq = 1, .ack = ack, .win = win,
                             .win_raw = win >> 7};
    snprintf(e.opts, sizeof e.opts, "%s", opts);
    CHECK_EQ(ladder_append(l, &e), 0);
}

static long *pair(struct ladder *l)
{
    long *peer = malloc(l->count * sizeof *peer);
    if (!peer) abort();
    CHECK_EQ(ladder_pair_segments(l, peer), 0);
    return peer;
}

/* Two ACKs of one ack number sent together, the window update second:
 * each arrival pairs with its own window, not the other one's. */
static void test_twins_told_apart_by_window(void)
{
    struct ladder l;
    ladder_init(&l);
    add_seg(&l, 46688, 1, true, 1449, 129536, "");  /* 0 */
    add_seg(&l, 46688, 1, true, 1449, 131072, "");  /* 1 */
    add_seg(&l, 56896, 0, false, 1449, 129536, ""); /* 2 */
    add_seg(&l, 57104, 0, false, 1449, 131072, ""); /* 3 */
    long *peer = pair(&l);
    CHECK_EQ(peer[0], 2);
    CHECK_EQ(peer[1], 3);
    free(peer);
    ladder_free(&l);
}

/* Identical copies (same millisecond, same everything): first out, first in. */
static void test_identical_copies_pair_in_order(void)
{
    struct ladder l;
    ladder_init(&l);
    add_seg(&l, 40000, 1, true, 7241, 131072, "TS val 5 ecr 4");  /* 0 */
    add_seg(&l, 40500, 1, true, 7241, 131072, "TS val 5 ecr 4");  /* 1 */
    add_seg(&l, 50000, 0, false, 7241, 131072, "TS val 5 ecr 4"); /* 2 */
    add_seg(&l, 50500, 0, false, 7241, 131072, "TS val 5 ecr 4"); /* 3 */
    long *peer = pair(&l);
    CHECK_EQ(peer[0], 2);
    CHECK_EQ(peer[2], 0);
    CHECK_EQ(peer[1], 3);
    free(peer);
    ladder_free(&l);
}

/* A lost original and its retransmission: the timestamp says which one got
 * through, so the original stays unpaired (drawn lost). */
static void test_lost_original_stays_unpaired(void)
{
    struct ladder l;
    ladder_init(&l);
    add_seg(&l, 30000, 0, true, 1, 131072, "TS val 30 ecr 20");   /* 0: lost */
    add_seg(&l, 250000, 0, true, 1, 131072, "TS val 250 ecr 20"); /* 1: rtx */
    add_seg(&l, 260000, 1, false, 1, 131072, "TS val 250 ecr 20");
    long *peer = pair(&l);
    CHECK_EQ(peer[0], -1);
    CHECK_EQ(peer[1], 2);
    free(peer);
    ladder_free(&l);
}

/* Without timestamps a retransmission looks like its original: the copy
 * that got through is the retransmission, sent because the first was lost. */
static void test_retransmission_without_options_wins(void)
{
    struct ladder l;
    ladder_init(&l);
    add_seg(&l, 21500, 0, true, 1, 65536, "");   /* 0: lost */
    struct ladder_event rtx = l.events[0];
    rtx.t = 221500;
    rtx.retransmit = true;
    CHECK_EQ(ladder_append(&l, &rtx), 0);        /* 1 */
    add_seg(&l, 231500, 1, false, 1, 65536, ""); /* 2 */
    long *peer = pair(&l);
    CHECK_EQ(peer[0], -1);
    CHECK_EQ(peer[1], 2);
    free(peer);
    ladder_free(&l);
}

/* Options differing only in a SACK block make two copies. */
static void test_options_tell_copies_apart(void)
{
    struct ladder l;
    ladder_init(&l);
    add_seg(&l, 0, 1, true, 1449, 131072, "sack 2897:4345");  /* 0 */
    add_seg(&l, 0, 1, true, 1449, 131072, "sack 2897:5793");  /* 1 */
    add_seg(&l, 10000, 0, false, 1449, 131072, "sack 2897:5793");
    long *peer = pair(&l);
    CHECK_EQ(peer[0], -1);
    CHECK_EQ(peer[1], 2);
    CHECK(!ladder_same_segment(&l.events[0], &l.events[1]));
    free(peer);
    ladder_free(&l);
}

TEST_MAIN("ladder_pair", TEST_CASE(test_twins_told_apart_by_window),
          TEST_CASE(test_identical_copies_pair_in_order),
          TEST_CASE(test_lost_original_stays_unpaired),
          TEST_CASE(test_retransmission_without_options_wins), TEST_CASE(test_options_tell_copies_apart))
