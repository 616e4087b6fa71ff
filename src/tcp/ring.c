#include "tcp/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ring_init(struct ring *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
}

int ring_reserve(struct ring *r)
{
    if (r->buf) return 0;
    r->buf = malloc(r->cap ? r->cap : 1);
    return r->buf ? 0 : -ENOMEM;
}

void ring_free_memory(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->head = r->len = r->ahead = 0;
}

int ring_resize(struct ring *r, size_t cap)
{
    if (cap < r->len) cap = r->len;
    if (cap == r->cap) return 0;
    if (!r->buf) {
        r->cap = cap; /* allocated at that size on first use */
        return 0;
    }
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return -ENOMEM;
    /* Bytes written ahead of the held ones keep their offsets. */
    size_t keep = r->len + r->ahead < cap ? r->len + r->ahead : cap;
    if (r->ahead > keep - r->len) r->ahead = keep - r->len;
    if (keep) ring_peek(r, 0, buf, keep);
    free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
    return 0;
}

size_t ring_write(struct ring *r, const void *data, size_t len)
{
    if (len > ring_free(r)) len = ring_free(r);
    if (!len || ring_reserve(r)) return 0;
    size_t tail = (r->head + r->len) % r->cap;
    size_t first = r->cap - tail < len ? r->cap - tail : len;
    memcpy(r->buf + tail, data, first);
    memcpy(r->buf, (const uint8_t *)data + first, len - first);
    r->len += len;
    r->ahead = r->ahead > len ? r->ahead - len : 0;
    return len;
}

size_t ring_write_at(struct ring *r, size_t offset, const void *data, size_t len)
{
    if (offset >= ring_free(r)) return 0;
    if (len > ring_free(r) - offset) len = ring_free(r) - offset;
    if (!len || ring_reserve(r)) return 0;
    size_t at = (r->head + r->len + offset) % r->cap;
    size_t first = r->cap - at < len ? r->cap - at : len;
    memcpy(r->buf + at, data, first);
    memcpy(r->buf, (const uint8_t *)data + first, len - first);
    if (offset + len > r->ahead) r->ahead = offset + len;
    return len;
}

void ring_commit(struct ring *r, size_t n)
{
    if (n > ring_free(r)) n = ring_free(r);
    r->len += n;
    r->ahead = r->ahead > n ? r->ahead - n : 0;
}

void ring_peek(const struct ring *r, size_t offset, void *out, size_t len)
{
    size_t start = (r->head + offset) % r->cap;
    size_t first = r->cap - start < len ? r->cap - start : len;
    memcpy(out, r->buf + start, first);
    memcpy((uint8_t *)out + first, r->buf, len - first);
}

void ring_consume(struct ring *r, size_t len)
{
    if (len > r->len) len = r->len;
    r->len -= len;
    /* The head moves even when the ring empties: out-of-order bytes may
     * wait past the end at fixed offsets. */
    r->head = r->cap ? (r->head + len) % r->cap : 0;
}

size_t ring_read(struct ring *r, void *out, size_t len)
{
    if (len > r->len) len = r->len;
    if (!len) return 0;
    ring_peek(r, 0, out, len);
    ring_consume(r, len);
    return len;
}
