/* finack ladder: a pcap or a JSON-lines trace drawn as the article draws a
 * connection — two hosts, an arrow per segment, the states at each end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ladder/ladder.h"
#include "tool.h"

const char cmd_ladder_usage[] =
    "usage: finack ladder [--format ascii|svg|json] [--ascii] [--absolute]\n"
    "                     [--collapse|--no-collapse] [--width N] [--title TEXT]\n"
    "                     [--out FILE] FILE\n"
    "\n"
    "Draws one TCP connection as a ladder diagram: the two hosts as columns,\n"
    "time on the left, each segment an arrow with its flags, seq, ack, window\n"
    "and length, each end's state where it changes, lost segments ending in a\n"
    "cross, retransmissions marked 'rtx'. FILE is a pcap (Ethernet, raw IPv4\n"
    "or Linux cooked; the first TCP connection in it, states inferred from the\n"
    "segments) or a JSON-lines trace (docs/TRACE.md; '-' reads stdin).\n"
    "\n"
    "  --format F      ascii: text (default); svg: a standalone SVG picture;\n"
    "                  json: the events as a JSON-lines trace\n"
    "  --ascii         plain ASCII instead of Unicode box drawing\n"
    "  --absolute      absolute sequence numbers (default: relative to the ISN)\n"
    "  --collapse      fold steady-state runs of data and ACKs into one row\n"
    "                  (default for a pcap)\n"
    "  --no-collapse   draw every segment (default for a trace)\n"
    "  --width N       text lines at most N columns, 64..1000 (default 100)\n"
    "  --title TEXT    a title above the diagram\n"
    "  --out FILE      write to FILE instead of stdout\n";

enum format { FORMAT_TEXT, FORMAT_SVG, FORMAT_JSON };

struct options {
    enum format format;
    struct ladder_options draw;
    int collapse;          /* -1 unset: by the kind of input */
    const char *title, *out, *input;
};

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"ascii", no_argument, NULL, 'a'},
        {"absolute", no_argument, NULL, 'A'},     {"collapse", no_argument, NULL, 'c'},
        {"no-collapse", no_argument, NULL, 'C'},  {"width", required_argument, NULL, 'w'},
        {"title", required_argument, NULL, 't'},  {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.collapse = -1};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "ascii") == 0 || strcmp(optarg, "text") == 0)
                o->format = FORMAT_TEXT;
            else if (strcmp(optarg, "svg") == 0)
                o->format = FORMAT_SVG;
            else if (strcmp(optarg, "json") == 0)
                o->format = FORMAT_JSON;
            else
                tool_usage_error("--format '%s': expected ascii, svg or json", optarg);
            break;
        case 'a': o->draw.ascii = true; break;
        case 'A': o->draw.absolute = true; break;
        case 'c': o->collapse = 1; break;
        case 'C': o->collapse = 0; break;
        case 'w':
            o->draw.width = (unsigned)tool_parse_uint("--width", optarg, LADDER_MIN_WIDTH, 1000);
            break;
        case 't': o->title = optarg; break;
        case 'o': o->out = optarg; break;
        case ':': tool_usage_error("option '%s' needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s' (try 'finack help ladder')", argv[optind - 1]);
        }
    }
    if (optind >= argc) tool_usage_error("no input file given (try 'finack help ladder')");
    if (argc - optind > 1) tool_usage_error("unexpected argument '%s'", argv[optind + 1]);
    o->input = argv[optind];
}

enum input_kind { INPUT_JSON, INPUT_PCAP, INPUT_PCAPNG };

/* By the first four bytes: the pcap magic in either byte order and either
 * resolution, pcapng's section header; anything else is taken for JSON. */
static int sniff(const char *path, enum input_kind *kind)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    uint8_t m[4] = {0};
    size_t n = fread(m, 1, sizeof m, f);
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    uint32_t le = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    uint32_t be = (uint32_t)m[3] | (uint32_t)m[2] << 8 | (uint32_t)m[1] << 16 | (uint32_t)m[0] << 24;
    *kind = INPUT_JSON;
    if (n == 4 && (le == 0xa1b2c3d4u || be == 0xa1b2c3d4u || le == 0xa1b23c4du || be == 0xa1b23c4du))
        *kind = INPUT_PCAP;
    else if (n == 4 && le == 0x0a0d0d0au)
        *kind = INPUT_PCAPNG;
    return err;
}

/* A JSON-lines trace starts with '{' (or is blank): anything else at the
 * first byte is neither that nor a pcap (which sniff() knows), and saying
 * so beats "line 1: expected '{'". */
static bool looks_like_json(FILE *f)
{
    int c = getc(f);
    if (c != EOF) ungetc(c, f);
    return c == EOF || c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read the JSON-lines trace in f (named name in messages): the same errors
 * for a file and for stdin. */
static int read_json(struct ladder *l, FILE *f, const char *name)
{
    char err[256] = "";
    if (!looks_like_json(f)) {
        tool_error("%s: neither a pcap nor a JSON-lines trace", name);
        return -EINVAL;
    }
    int rc = ladder_read_json(l, f, err, sizeof err);
    if (rc) {
        tool_error("%s: %s", name, err);
    } else if (l->count == 0) {
        tool_error("%s: no trace events (a JSON-lines trace or a pcap was expected)", name);
        rc = -EINVAL;
    }
    return rc;
}

static int read_input(struct ladder *l, const char *path, enum input_kind *kind)
{
    char err[256] = "";
    int rc = 0;
    *kind = INPUT_JSON;
    if (strcmp(path, "-") == 0) return read_json(l, stdin, "stdin");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        tool_error("cannot read %s: is a directory", path);
        return -EISDIR;
    }
    rc = sniff(path, kind);
    if (rc) {
        tool_error("cannot read %s: %s", path, strerror(-rc));
        return rc;
    }
    if (*kind == INPUT_PCAPNG) {
        tool_error("%s is pcapng; convert it first: editcap -F pcap %s out.pcap", path, path);
        return -EINVAL;
    }
    if (*kind == INPUT_PCAP) {
        rc = ladder_read_pcap(l, path, err, sizeof err);
        if (rc) tool_error("%s", err);
        return rc;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        tool_error("cannot read %s: %s", path, strerror(errno));
        return -errno;
    }
    rc = read_json(l, f, path);
    fclose(f);
    return rc;
}

int cmd_ladder(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    struct ladder l;
    ladder_init(&l);
    enum input_kind kind;
    if (read_input(&l, o.input, &kind)) {
        ladder_free(&l);
        return TOOL_EXIT_FAILURE;
    }
    if (o.title) snprintf(l.title, sizeof l.title, "%s", o.title);
    o.draw.collapse = o.collapse >= 0 ? o.collapse == 1 : kind == INPUT_PCAP;
    FILE *out = o.out ? fopen(o.out, "w") : stdout;
    if (!out) {
        tool_error("cannot write %s: %s", o.out, strerror(errno));
        ladder_free(&l);
        return TOOL_EXIT_FAILURE;
    }
    int rc;
    switch (o.format) {
    case FORMAT_SVG: rc = ladder_write_svg(&l, &o.draw, out); break;
    case FORMAT_JSON: rc = ladder_write_json(&l, out); break;
    default: rc = ladder_write_text(&l, &o.draw, out); break;
    }
    if (fflush(out) != 0 && !rc) rc = -EIO;
    if (o.out && fclose(out) != 0 && !rc) rc = -EIO;
    ladder_free(&l);
    if (rc == -EINVAL && o.format == FORMAT_TEXT)
        tool_error("--width %u is too narrow for this ladder", o.draw.width);
    else if (rc)
        tool_error("cannot write %s: %s", o.out ? o.out : "the output", strerror(-rc));
    return rc ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
