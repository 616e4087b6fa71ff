/* The byte ring behind the send and receive buffers: ring_resize() keeps
 * the bytes in order across a wrap, never drops below what is held, and
 * only records the size while no memory is allocated. */
#include "tcp/ring.h"
#include "test.h"

static void fill(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(first + i);
}

static void test_resize_unallocated_sets_capacity(void)
{
    struct ring r;
    ring_init(&r, 16);
    CHECK_EQ(ring_resize(&r, 100), 0);
    CHECK(r.buf == NULL);
    CHECK_EQ(r.cap, 100);
    ring_free_memory(&r);
}

static void test_resize_keeps_wrapped_bytes(void)
{
    struct ring r;
    ring_init(&r, 8);
    uint8_t in[8], out[16];
    fill(in, 8, 1);
    CHECK_EQ(ring_write(&r, in, 6), 6);
    ring_consume(&r, 4);                        /* head at 4, two bytes held */
    CHECK_EQ(ring_write(&r, in + 6, 2), 2);     /* up to the end */
    fill(in, 3, 100);
    CHECK_EQ(ring_write(&r, in, 3), 3);         /* wraps: 7 held */
    CHECK_EQ(r.len, 7);
    CHECK_EQ(ring_resize(&r, 12), 0);
    CHECK_EQ(r.cap, 12);
    CHECK_EQ(r.len, 7);
    CHECK_EQ(ring_free(&r), 5);
    CHECK_EQ(ring_read(&r, out, sizeof out), 7);
    static const uint8_t want[] = {5, 6, 7, 8, 100, 101, 102};
    CHECK_MEM(out, want, sizeof want);
    ring_free_memory(&r);
}

static void test_resize_never_below_held(void)
{
    struct ring r;
    ring_init(&r, 64);
    uint8_t in[40], out[40];
    fill(in, sizeof in, 0);
    CHECK_EQ(ring_write(&r, in, 40), 40);
    CHECK_EQ(ring_resize(&r, 10), 0);
    CHECK_EQ(r.cap, 40);                        /* as far as the bytes allow */
    CHECK_EQ(ring_write(&r, in, 1), 0);         /* full */
    CHECK_EQ(ring_read(&r, out, 30), 30);
    CHECK_MEM(out, in, 30);
    CHECK_EQ(ring_resize(&r, 10), 0);           /* now it fits */
    CHECK_EQ(r.cap, 10);
    CHECK_EQ(ring_read(&r, out, 40), 10);
    CHECK_MEM(out, in + 30, 10);
    CHECK_EQ(r.len, 0);
    ring_free_memory(&r);
}

TEST_MAIN("tcp_ring", TEST_CASE(test_resize_unallocated_sets_capacity),
          TEST_CASE(test_resize_keeps_wrapped_bytes), TEST_CASE(test_resize_never_below_held))
