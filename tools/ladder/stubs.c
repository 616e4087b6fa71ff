/* Placeholders until the readers and the SVG writer land. */
#include <errno.h>

#include "ladder/internal.h"

int ladder_read_json(struct ladder *l, FILE *in, char *err, size_t errlen)
{
    (void)l, (void)in;
    snprintf(err, errlen, "JSON traces are not read yet");
    return -ENOSYS;
}

int ladder_read_pcap(struct ladder *l, const char *path, char *err, size_t errlen)
{
    (void)l, (void)path;
    snprintf(err, errlen, "pcap files are not read yet");
    return -ENOSYS;
}

int ladder_write_svg(const struct ladder *l, const struct ladder_options *o, FILE *out)
{
    (void)l, (void)o, (void)out;
    return -ENOSYS;
}

int ladder_write_json(const struct ladder *l, FILE *out)
{
    (void)l, (void)out;
    return -ENOSYS;
}
