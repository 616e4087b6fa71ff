/* Placeholders until the readers and the SVG writer land. */
#include <errno.h>

#include "ladder/internal.h"

int ladder_write_svg(const struct ladder *l, const struct ladder_options *o, FILE *out)
{
    (void)l, (void)o, (void)out;
    return -ENOSYS;
}
