/* finack demo: the main job on the built-in default. The key figures of the
 * seed article, each played by two finack stacks on the simulated link
 * (virtual clock) and printed as a ladder with a sentence on what to see,
 * then a transfer of the user's own on a lossy link. No root, no network.
 * The scenarios are those of `finack sim` (tools/sim/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finack/pcap.h"
#include "sim/scenario.h"
#include "tool.h"

const char cmd_demo_usage[] =
    "usage: finack demo [--seed N] [--loss P] [--delay MS] [--bytes N] [--pcap FILE] [--ascii]\n"
    "\n"
    "Plays the key scenarios of TCP's state machine between two finack stacks on\n"
    "the simulated link and prints each as a ladder, with a sentence on what to\n"
    "notice: the handshake, the 4-way close, a lost last ACK answered from\n"
    "TIME_WAIT, a simultaneous close, a zero window. Then a transfer of your own:\n"
    "the client sends --bytes over a lossy link, half-closes, and both ends close.\n"
    "Each segment shows flags, seq/ack relative to the ISNs, window and length;\n"
    "each end its states and the application's calls; lost segments end in a cross.\n"
    "More scenarios, SVG and JSON output: finack sim --list.\n"
    "\n"
    "  --seed N      seed of the stacks' secrets and the link's faults (default 22)\n"
    "  --loss P      the transfer's loss probability each way, 0..0.5 (default 0.02)\n"
    "  --delay MS    the transfer's one-way latency in milliseconds (default 10)\n"
    "  --bytes N     bytes the client sends in the transfer (default 12000)\n"
    "  --pcap FILE   also write the transfer's packets, as the client saw them, to FILE\n"
    "  --ascii       plain ASCII ladders instead of box drawing\n";

/* The scenarios shown, in order: what the article's figures are about. */
static const char *const tour[] = {"handshake", "close", "time-wait-lost-ack",
                                   "simultaneous-close", "zero-window"};
#define TOUR_COUNT (sizeof tour / sizeof tour[0])

struct options {
    struct sim_params transfer;
    const char *pcap;
    bool ascii;
};

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'}, {"loss", required_argument, NULL, 'l'},
        {"delay", required_argument, NULL, 'd'}, {"bytes", required_argument, NULL, 'b'},
        {"pcap", required_argument, NULL, 'p'}, {"ascii", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    sim_params_init(&o->transfer);
    o->transfer.loss = SIM_DEMO_LOSS;
    o->transfer.seed = SIM_DEMO_SEED;
    int c;
    while ((c = tool_next_option(argc, argv, longopts)) != -1) {
        switch (c) {
        case 's': o->transfer.seed = tool_parse_uint("--seed", optarg, 0, UINT64_MAX); break;
        case 'b': o->transfer.bytes = tool_parse_uint("--bytes", optarg, 1, 100u << 20); break;
        case 'd':
            o->transfer.delay = FINACK_MSEC(tool_parse_uint("--delay", optarg, 0, 10000));
            break;
        case 'p': o->pcap = optarg; break;
        case 'a': o->ascii = true; break;
        case 'l': {
            char *end;
            o->transfer.loss = strtod(optarg, &end);
            if (*end || end == optarg || !(o->transfer.loss >= 0 && o->transfer.loss <= 0.5))
                tool_usage_error("--loss: '%s' is not a probability in 0..0.5", optarg);
            break;
        }
        }
    }
}

/* text after prefix, folded at spaces into lines of at most 78 columns. */
static void print_wrapped(const char *prefix, const char *text)
{
    size_t col = (size_t)printf("%s", prefix);
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > 0 && col + 1 + word > 78) {
            putchar('\n');
            col = 0;
        } else if (col > 0) {
            putchar(' ');
            col++;
        }
        col += (size_t)printf("%.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    putchar('\n');
}

/* "the SYN", "2 data segments", "1 ACK": what a count of lost segments of
 * one kind reads as; "" for none. */
static void lost_words(char *buf, size_t size, size_t n, const char *one, const char *many)
{
    if (n == 0)
        buf[0] = 0;
    else if (n == 1)
        snprintf(buf, size, "%s", one);
    else
        snprintf(buf, size, "%zu %s", n, many);
}

/* What to notice in a run: the scenario's sentence; for the transfer, what
 * was lost (as the ladder draws it: a cross) and what became of it. */
static const char *notice_of(const struct sim_result *r)
{
    if (strcmp(r->scenario->name, "custom") != 0) return r->scenario->notice;
    size_t syn = 0, synack = 0, data = 0, acks = 0, resent = 0, timed = 0;
    bool *arrived = sim_segments_arrived(r);
    for (size_t i = 0; arrived && i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        if (e->note || e->injected || e->kind != FINACK_TRACE_SEG || !e->out) continue;
        resent += e->retransmit;
        /* A resend at the instant its side's retransmission timer fired
         * came from the timeout; the others from duplicate ACKs. */
        for (size_t j = i; e->retransmit && j-- > 0 && r->events[j].t == e->t;)
            if (!r->events[j].note && r->events[j].side == e->side &&
                r->events[j].kind == FINACK_TRACE_TIMER && strcmp(r->events[j].timer, "DELACK")) {
                timed++;
                break;
            }
        if (arrived[i]) continue;
        if ((e->flags & FINACK_TCP_SYN) && (e->flags & FINACK_TCP_ACK))
            synack++;
        else if (e->flags & FINACK_TCP_SYN)
            syn++;
        else if (e->len || (e->flags & FINACK_TCP_FIN))
            data++;
        else
            acks++;
    }
    free(arrived);
    if (syn + synack + data + acks == 0) {
        if (resent)
            return "no segment was lost, yet some were sent again (rtx): a timer ran out "
                   "before their ACK came.";
        return "no segment was lost this time; another --seed or a higher --loss shows lost "
               "segments sent again.";
    }
    char w[4][64];
    lost_words(w[0], sizeof w[0], syn, "a SYN", "SYNs");
    lost_words(w[1], sizeof w[1], synack, "a SYN+ACK", "SYN+ACKs");
    lost_words(w[2], sizeof w[2], data, "a segment with data or FIN", "segments with data or FIN");
    lost_words(w[3], sizeof w[3], acks, "an ACK", "ACKs");
    static char text[400];
    size_t n = (size_t)snprintf(text, sizeof text, "lost on the way (a cross):");
    const char *sep = " ";
    for (int k = 0; k < 4; k++) {
        if (!w[k][0]) continue;
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", sep, w[k]);
        sep = " and ";
    }
    const char *why = timed == resent ? "when its timer ran out"
                      : timed == 0    ? "after duplicate ACKs told the sender"
                                      : "after a timeout or duplicate ACKs";
    if (syn + synack + data)
        snprintf(text + n, sizeof text - n,
                 ". What the sender missed an ACK for was sent again (rtx) %s, until every byte "
                 "was in%s",
                 why, acks ? "; a lost ACK is not resent: the next one covers the same bytes." : ".");
    else
        snprintf(text + n, sizeof text - n,
                 ". A lost ACK is not resent: the next ACK covers the same bytes, so nothing is "
                 "sent again.");
    return text;
}

/* Play one scenario and print its ladder under a heading and the sentence
 * of what to notice. Returns 0 or the run's error. */
static int show(const struct sim_scenario *sc, const struct sim_params *p, const char *heading,
                bool ascii, struct sim_result *r)
{
    printf("%s\n", heading);
    int err = sim_run(sc, p, r);
    print_wrapped("Notice:", notice_of(r));
    putchar('\n');
    int draw = sim_draw(r, SIM_FORMAT_TEXT, ascii, stdout);
    putchar('\n');
    if (err) tool_error("%s did not play out: %s", sc->name, tool_strerror(err));
    if (draw) tool_error("cannot draw %s: %s", sc->name, tool_strerror(draw));
    return err ? err : draw;
}

int cmd_demo(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    printf("finack demo: TCP's state machine as the seed article draws it, played by two\n"
           "finack stacks on a simulated link (virtual clock, 10 ms each way, seed %llu).\n\n",
           (unsigned long long)o.transfer.seed);
    int failed = 0;
    struct sim_params p;
    sim_params_init(&p);
    p.seed = o.transfer.seed;
    for (size_t i = 0; i < TOUR_COUNT; i++) {
        const struct sim_scenario *sc = sim_scenario_find(tour[i]);
        char heading[128];
        snprintf(heading, sizeof heading, "== %zu. %s: %s", i + 1, sc->name, sc->summary);
        struct sim_result r;
        failed |= show(sc, &p, heading, o.ascii, &r) != 0;
        sim_result_free(&r);
    }

    /* The transfer: what `finack demo` has always shown, now as `sim custom`. */
    struct finack_pcap *capture = NULL;
    if (o.pcap) {
        int err = finack_pcap_open_file(&capture, o.pcap);
        if (err) {
            tool_error("cannot write %s: %s", o.pcap, tool_strerror(err));
            return TOOL_EXIT_FAILURE;
        }
        o.transfer.capture = capture;
    }
    char heading[160];
    snprintf(heading, sizeof heading,
             "== %zu. your transfer: %llu bytes, %.0f ms each way, %.0f%% loss each way",
             TOUR_COUNT + 1, (unsigned long long)o.transfer.bytes,
             (double)o.transfer.delay / 1000.0, o.transfer.loss * 100);
    struct sim_result r;
    int err = show(sim_scenario_find("custom"), &o.transfer, heading, o.ascii, &r);
    failed |= err != 0;
    printf("%llu of %llu bytes delivered in order (finack sim custom --help for more knobs).\n",
           (unsigned long long)r.delivered, (unsigned long long)o.transfer.bytes);
    failed |= r.delivered != o.transfer.bytes;
    sim_result_free(&r);
    if (capture && finack_pcap_close(capture)) {
        tool_error("cannot write %s: %s", o.pcap, strerror(errno));
        failed = 1;
    }
    return failed ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
