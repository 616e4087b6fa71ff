/* A byte ring: the send buffer (bytes from SND.UNA on) and the receive
 * buffer (bytes from the application's read point to RCV.NXT). Memory is
 * allocated on first use, not at socket creation. */
#ifndef FINACK_TCP_RING_H
#define FINACK_TCP_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    size_t cap;   /* capacity once allocated (the socket's buffer size) */
    size_t head;  /* offset of the first byte */
    size_t len;   /* bytes held */
    size_t ahead; /* bytes past the held ones written by ring_write_at (a high mark) */
};

static inline size_t ring_free(const struct ring *r) { return r->cap - r->len; }

void ring_init(struct ring *r, size_t cap);
/* Allocate the memory if not yet done; 0 or -ENOMEM. */
int ring_reserve(struct ring *r);
void ring_free_memory(struct ring *r);
/* Change the capacity, keeping the bytes held: never below them (the
 * capacity becomes len then). 0, or -ENOMEM with the ring unchanged. */
int ring_resize(struct ring *r, size_t cap);
/* Append up to len bytes; returns how many were taken. */
size_t ring_write(struct ring *r, const void *data, size_t len);
/* Write len bytes offset bytes past the held data, without counting them
 * as held (out-of-order data waiting for the gap before it): they sit
 * where they will stay, so filling the gap never copies them again.
 * Returns how many fit. */
size_t ring_write_at(struct ring *r, size_t offset, const void *data, size_t len);
/* Count n more bytes as held: data ring_write_at put right after them. */
void ring_commit(struct ring *r, size_t n);
/* Copy len bytes starting offset bytes after the head, without consuming. */
void ring_peek(const struct ring *r, size_t offset, void *out, size_t len);
/* Drop len bytes from the head. */
void ring_consume(struct ring *r, size_t len);
/* Copy out and consume up to len bytes; returns how many. */
size_t ring_read(struct ring *r, void *out, size_t len);

#endif
