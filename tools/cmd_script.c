/* finack script: packetdrill scripts run against finack on the simulated
 * link, on the virtual clock. The language and finack's differences from
 * packetdrill are in docs/SCRIPT.md. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "script/script.h"
#include "tool.h"

const char cmd_script_usage[] =
    "usage: finack script [--verbose] [--trace FILE] [--pcap FILE] [--tolerance-usecs N]\n"
    "                     [--seed N] FILE.pkt...\n"
    "       finack script --summary DIR\n"
    "\n"
    "Runs packetdrill scripts against a fresh finack stack each, over the\n"
    "simulated link on the virtual clock: inbound packets ('<') are injected,\n"
    "outbound ones ('>') must match what the stack sends, system calls go to\n"
    "finack's socket API. Prints PASS, FAIL or UNSUPPORTED per script with\n"
    "the first mismatch; exits 1 unless every script passed.\n"
    "\n"
    "  --verbose             print every event with its time as it runs\n"
    "  --trace FILE          write every event as a JSON line (one script only)\n"
    "  --pcap FILE           capture the stack's packets (one script only)\n"
    "  --tolerance-usecs N   timing tolerance (default 4000, as packetdrill)\n"
    "  --seed N              the simulator's seed: ISNs and ports (default 1)\n"
    "  --summary DIR         run every .pkt under DIR and print pass / fail /\n"
    "                        unsupported counts (exit 0 unless DIR is unusable);\n"
    "                        an unexpected packet then fails only at the next\n"
    "                        '>' line, as in packetdrill\n";

struct counts {
    unsigned pass, fail, unsupported;
};

static char *read_file(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    *err = ferror(f) ? EIO : ENOMEM;
    fclose(f);
    if (buf && *err == EIO) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* One script: parse, run, print its verdict line. */
static enum script_result run_one(const char *path, const struct script_options *o, bool quiet_pass)
{
    size_t len = 0;
    int err = 0;
    char *text = read_file(path, &len, &err);
    if (!text) {
        printf("FAIL %s: cannot read: %s\n", path, strerror(err));
        return SCRIPT_FAIL;
    }
    struct script s;
    char why[512];
    int rc = script_parse(path, text, len, &s, why, sizeof why);
    free(text);
    if (rc < 0) {
        printf("FAIL %s: does not parse: %s\n", path, why);
        return SCRIPT_FAIL;
    }
    enum script_result res = script_run(&s, o, why, sizeof why);
    script_free(&s);
    switch (res) {
    case SCRIPT_PASS:
        if (!quiet_pass) printf("PASS %s\n", path);
        break;
    case SCRIPT_FAIL: printf("FAIL %s: %s\n", path, why); break;
    case SCRIPT_UNSUPPORTED: printf("UNSUPPORTED %s: %s\n", path, why); break;
    }
    fflush(stdout);
    return res;
}

static void count(struct counts *c, enum script_result r)
{
    if (r == SCRIPT_PASS) c->pass++;
    else if (r == SCRIPT_FAIL) c->fail++;
    else c->unsupported++;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .pkt under dir, in name order, depth first. */
static int walk(const char *dir, const struct script_options *o, struct counts *c)
{
    DIR *d = opendir(dir);
    if (!d) return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) break;
            names = bigger;
        }
        names[n] = strdup(e->d_name);
        if (names[n]) n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(path, o, c);
        } else if (strlen(names[i]) > 4 && !strcmp(names[i] + strlen(names[i]) - 4, ".pkt")) {
            count(c, run_one(path, o, false));
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

int cmd_script(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"pcap", required_argument, NULL, 'p'},
        {"trace", required_argument, NULL, 'T'},
        {"tolerance-usecs", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"summary", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    struct script_options o;
    script_options_init(&o);
    const char *summary = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'v': o.verbose = true; break;
        case 'p': o.pcap_path = optarg; break;
        case 'T': o.trace_path = optarg; break;
        case 't': o.tolerance = (int64_t)tool_parse_uint("--tolerance-usecs", optarg, 0, 60000000); break;
        case 's': o.seed = tool_parse_uint("--seed", optarg, 0, UINT64_MAX); break;
        case 'S': summary = optarg; break;
        case ':': tool_usage_error("option '%s' needs a value", argv[optind - 1]);
        default: tool_usage_error("unknown option '%s' (try 'finack help script')", argv[optind - 1]);
        }
    }
    if (summary) {
        if (optind < argc) tool_usage_error("--summary takes a directory and no script files");
        o.strict = false; /* judge an external suite by packetdrill's own rules */
        struct counts n = {0};
        int rc = walk(summary, &o, &n);
        if (rc < 0) {
            tool_error("cannot read directory %s: %s", summary, strerror(-rc));
            return TOOL_EXIT_FAILURE;
        }
        printf("summary: %u scripts: %u pass, %u fail, %u unsupported\n",
               n.pass + n.fail + n.unsupported, n.pass, n.fail, n.unsupported);
        return TOOL_EXIT_OK;
    }
    if (optind >= argc) tool_usage_error("no script given (try 'finack help script')");
    if ((o.pcap_path || o.trace_path) && argc - optind > 1)
        tool_usage_error("--pcap and --trace take one script");
    struct counts n = {0};
    for (int i = optind; i < argc; i++) count(&n, run_one(argv[i], &o, false));
    return n.fail || n.unsupported ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
