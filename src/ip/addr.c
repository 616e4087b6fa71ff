/* Dotted-quad addresses for tools and configuration. */
#include <errno.h>
#include <stdio.h>

#include "finack/finack.h"

/* Strict: four decimal parts 0..255 without leading '+' or spaces, and an
 * optional "/len" with len 0..32; nothing may follow. */
static int parse_decimal(const char **p, unsigned max, unsigned *out)
{
    unsigned value = 0, digits = 0;
    while (**p >= '0' && **p <= '9') {
        value = value * 10 + (unsigned)(**p - '0');
        if (++digits > 3 || value > max) return -EINVAL;
        (*p)++;
    }
    if (!digits) return -EINVAL;
    *out = value;
    return 0;
}

int finack_parse_ipv4(const char *text, uint32_t *addr, uint8_t *prefix_len)
{
    if (!text || !addr) return -EINVAL;
    const char *p = text;
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        unsigned octet;
        if (part && *p++ != '.') return -EINVAL;
        if (parse_decimal(&p, 255, &octet)) return -EINVAL;
        value = value << 8 | octet;
    }
    unsigned len = 32;
    if (*p == '/') {
        p++;
        if (parse_decimal(&p, 32, &len)) return -EINVAL;
    }
    if (*p) return -EINVAL;
    if (!prefix_len && len != 32) return -EINVAL;
    *addr = value;
    if (prefix_len) *prefix_len = (uint8_t)len;
    return 0;
}

char *finack_format_ipv4(uint32_t addr, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
             addr & 255);
    return buf;
}
