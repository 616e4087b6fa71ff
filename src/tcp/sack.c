/* SACK-based loss recovery as a sender: RFC 6675's scoreboard, IsLost,
 * SetPipe and NextSeg, with the sending rate during recovery set by
 * Proportional Rate Reduction (RFC 6937), as Linux's tcp_cwnd_reduction.
 *
 * The scoreboard is a fixed array of sorted, disjoint sequence ranges the
 * peer reported holding above SND.UNA (no allocation per packet). IsLost is
 * monotonic in the sequence number — the more a byte lies below SACKed
 * data, the more is SACKed above it — so one "lost edge" splits the
 * unSACKed bytes: all below it are lost, none above. It lies at the start
 * of the range from which, counting down from the top, DupThresh ranges or
 * more than (DupThresh - 1) * SMSS SACKed bytes lie above (RFC 6675 §4).
 *
 * NextSeg (§4) is rules 1, 2 and 4: the first lost hole not yet resent,
 * then new data, then once per recovery the rescue retransmission of the
 * highest unSACKed segment. Rule 3 (resending holes not yet deemed lost
 * when there is no new data) is left out, as Linux does: under reordering
 * it resends what was only late. Added, as Linux's tcp_mark_lost_retrans:
 * the retransmission of the hole at SND.UNA counts as lost once more than
 * (DupThresh - 1) * SMSS bytes sent after it are SACKed, and goes again
 * (TcpExtTCPLostRetransmit); other lost retransmissions wait for the RTO. */
#include <string.h>

#include "stack.h"
#include "tcp/tcp.h"

static uint32_t smss(const struct tcp_conn *conn)
{
    return tcp_effective_mss(conn);
}

static void recount(struct tcp_conn *conn)
{
    uint32_t n = 0;
    for (uint8_t i = 0; i < conn->sacked_count; i++) n += conn->sacked[i].end - conn->sacked[i].start;
    conn->sacked_bytes = n;
}

void tcp_sack_clear(struct tcp_conn *conn)
{
    conn->sacked_count = 0;
    conn->sacked_bytes = 0;
}

bool tcp_sack_trim(struct tcp_conn *conn)
{
    if (!conn->sacked_count) return false;
    /* RFC 2018 §8: a receiver may discard what it SACKed (reneging). An ACK
     * that stops at or inside SACKed data says it did: what we thought it
     * held must be sent again, so forget all of it (Linux's
     * tcp_check_sack_reneging). */
    if (seq_leq(conn->sacked[0].start, conn->snd_una) && seq_lt(conn->snd_una, conn->sacked[0].end)) {
        stack_count(conn->tcp->stack, FINACK_CTR_TCP_SACK_RENEGING);
        tcp_sack_clear(conn);
        return true;
    }
    uint8_t drop = 0;
    while (drop < conn->sacked_count && seq_leq(conn->sacked[drop].end, conn->snd_una)) drop++;
    if (!drop) return false;
    conn->sacked_count = (uint8_t)(conn->sacked_count - drop);
    memmove(&conn->sacked[0], &conn->sacked[drop], conn->sacked_count * sizeof conn->sacked[0]);
    recount(conn);
    return false;
}

/* Merge [start, end) into the scoreboard. When full, the highest range
 * goes: the ranges near SND.UNA decide what is lost first. */
static void insert(struct tcp_conn *conn, uint32_t start, uint32_t end)
{
    uint8_t i = 0;
    while (i < conn->sacked_count && seq_lt(conn->sacked[i].end, start)) i++;
    uint8_t j = i;
    while (j < conn->sacked_count && seq_leq(conn->sacked[j].start, end)) {
        start = seq_min(start, conn->sacked[j].start);
        end = seq_max(end, conn->sacked[j].end);
        j++;
    }
    uint8_t merged = (uint8_t)(j - i);
    if (merged == 0 && conn->sacked_count == TCP_SACK_RANGES) {
        if (i == TCP_SACK_RANGES) return; /* above them all: not kept */
        conn->sacked_count--;             /* the highest makes room */
        if (j > conn->sacked_count) j = conn->sacked_count;
    }
    uint8_t tail = (uint8_t)(conn->sacked_count - j);
    if (merged != 1) memmove(&conn->sacked[i + 1], &conn->sacked[j], tail * sizeof conn->sacked[0]);
    conn->sacked[i] = (struct tcp_sack_range){start, end};
    conn->sacked_count = (uint8_t)(i + 1 + tail);
}

/* UnSACKed sequence numbers in [a, b), a and b within [SND.UNA, SND.MAX]. */
static uint32_t unsacked_between(const struct tcp_conn *conn, uint32_t a, uint32_t b)
{
    if (!seq_lt(a, b)) return 0;
    uint32_t n = b - a;
    for (uint8_t i = 0; i < conn->sacked_count; i++) {
        uint32_t s = seq_max(a, conn->sacked[i].start), e = seq_min(b, conn->sacked[i].end);
        if (seq_lt(s, e)) n -= e - s;
    }
    return n;
}

bool tcp_sack_update(struct tcp_conn *conn, const struct tcp_segment *seg)
{
    if (!conn->sack_ok || !seg->opt.sack_count) return false;
    bool news = false;
    for (uint8_t k = 0; k < seg->opt.sack_count; k++) {
        uint32_t left = seg->opt.sack[k].left, right = seg->opt.sack[k].right;
        /* Only what lies in (SND.UNA, SND.MAX]: a block below SND.UNA is a
         * D-SACK (RFC 2883) or old, one beyond SND.MAX is bogus. */
        if (!seq_lt(left, right) || seq_gt(right, conn->snd_max) || seq_leq(right, conn->snd_una))
            continue;
        if (seq_lt(left, conn->snd_una)) left = conn->snd_una;
        if (unsacked_between(conn, left, right)) news = true;
        insert(conn, left, right);
    }
    recount(conn);
    return news;
}

/* RFC 6675 §4 IsLost, as one edge: every unSACKed byte below it is lost. */
static uint32_t lost_edge(const struct tcp_conn *conn)
{
    uint32_t bytes = 0, thresh = (TCP_DUPACK_THRESHOLD - 1) * smss(conn);
    for (int i = conn->sacked_count - 1, n = 1; i >= 0; i--, n++) {
        bytes += conn->sacked[i].end - conn->sacked[i].start;
        if (n >= TCP_DUPACK_THRESHOLD || bytes > thresh) return conn->sacked[i].start;
    }
    return conn->snd_una;
}

bool tcp_sack_is_lost(const struct tcp_conn *conn, uint32_t seq)
{
    return seq_lt(seq, lost_edge(conn));
}

bool tcp_sack_covers(const struct tcp_conn *conn, uint32_t seq, uint32_t *end)
{
    for (uint8_t i = 0; i < conn->sacked_count; i++) {
        if (seq_lt(seq, conn->sacked[i].start)) return false;
        if (seq_lt(seq, conn->sacked[i].end)) {
            *end = conn->sacked[i].end;
            return true;
        }
    }
    return false;
}

uint32_t tcp_sack_next_start(const struct tcp_conn *conn, uint32_t seq)
{
    for (uint8_t i = 0; i < conn->sacked_count; i++)
        if (seq_geq(conn->sacked[i].start, seq)) return conn->sacked[i].start;
    return conn->snd_max;
}

uint32_t tcp_sack_bytes_below(const struct tcp_conn *conn, uint32_t seq)
{
    return (seq - conn->snd_una) - unsacked_between(conn, conn->snd_una, seq);
}

/* RFC 6675 §4 SetPipe: each unSACKed byte counts once if not lost, and
 * once more if recovery resent it (below HighRxt). */
uint32_t tcp_sack_pipe(const struct tcp_conn *conn)
{
    uint32_t edge = lost_edge(conn);
    uint32_t pipe = unsacked_between(conn, edge, conn->snd_max);
    if (conn->in_recovery && seq_gt(conn->high_rxt, conn->snd_una))
        pipe += unsacked_between(conn, conn->snd_una, seq_min(conn->high_rxt, conn->snd_max));
    return pipe;
}

/* RFC 6937 §3, on every ACK in recovery (PRR-SSRB when pipe is below
 * ssthresh): cwnd = pipe + what may be sent now. The first ACK always lets
 * the fast retransmission go (Linux's tcp_cwnd_reduction). */
void tcp_sack_on_ack(struct tcp_conn *conn, uint32_t delivered)
{
    conn->prr_delivered += delivered;
    uint32_t pipe = tcp_sack_pipe(conn), mss = smss(conn);
    int64_t sndcnt;
    if (pipe > conn->ssthresh) {
        uint64_t fs = conn->recover_fs ? conn->recover_fs : 1;
        uint64_t due = ((uint64_t)conn->prr_delivered * conn->ssthresh + fs - 1) / fs;
        sndcnt = (int64_t)due - (int64_t)conn->prr_out;
    } else {
        int64_t limit = (int64_t)conn->prr_delivered - (int64_t)conn->prr_out;
        if (limit < (int64_t)delivered) limit = delivered;
        limit += mss;
        sndcnt = (int64_t)(conn->ssthresh - pipe);
        if (sndcnt > limit) sndcnt = limit;
    }
    if (sndcnt < 0) sndcnt = 0;
    if (!conn->prr_out && sndcnt < (int64_t)mss) sndcnt = mss;
    conn->cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 6675 §5 step 4, with RFC 6937's start: RecoveryPoint = HighData,
 * ssthresh from the congestion control, and the first hole goes now. */
void tcp_sack_enter_recovery(struct tcp_conn *conn, finack_time_t now)
{
    struct finack_stack *stack = conn->tcp->stack;
    stack_count(stack, FINACK_CTR_TCP_FAST_RETRANS);
    stack_count(stack, FINACK_CTR_TCP_SACK_RECOVERY);
    conn->ssthresh = conn->cc->ssthresh(conn);
    conn->recover = conn->snd_max;
    conn->in_recovery = true;
    conn->sack_recovery = true;
    conn->high_rxt = conn->snd_una;
    conn->rescue_sent = false;
    conn->prr_delivered = conn->prr_out = 0;
    conn->recover_fs = conn->snd_max - conn->snd_una;
    tcp_sack_on_ack(conn, 0);
    /* Step 4.3: the segment at SND.UNA is presumed lost, whatever the
     * scoreboard says (three duplicate ACKs without SACK blocks). */
    if (seq_leq(conn->snd_max, conn->snd_una)) return;
    uint32_t limit = tcp_sack_next_start(conn, conn->snd_una) - conn->snd_una;
    uint32_t sent = tcp_retransmit_range(conn, conn->snd_una, limit, now);
    stack_count(stack, FINACK_CTR_TCP_SACK_RETRANS);
    conn->high_rxt = conn->snd_una + sent;
    conn->head_rxt_mark = conn->snd_max;
    conn->prr_out += sent;
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    tcp_arm_retransmit(conn, now);
    tcp_sack_output(conn, now);
}

/* The retransmission of the hole at SND.UNA was lost: data sent after it
 * is SACKed beyond what reordering explains. */
static bool head_rxt_lost(const struct tcp_conn *conn)
{
    if (!seq_gt(conn->high_rxt, conn->snd_una) || !seq_gt(conn->snd_max, conn->head_rxt_mark))
        return false;
    uint32_t after = conn->snd_max - conn->head_rxt_mark -
                     unsacked_between(conn, conn->head_rxt_mark, conn->snd_max);
    return after > (TCP_DUPACK_THRESHOLD - 1) * smss(conn);
}

/* One segment by NextSeg's rules 1, then 2, then 4, if cwnd - pipe has
 * room for it. Returns the sequence space sent, 0 if none. */
static uint32_t next_seg(struct tcp_conn *conn, uint32_t room, finack_time_t now)
{
    struct finack_stack *stack = conn->tcp->stack;
    uint32_t mss = smss(conn);
    uint32_t cap = room < mss ? room : mss;
    if (head_rxt_lost(conn)) {
        uint32_t limit = tcp_sack_next_start(conn, conn->snd_una) - conn->snd_una;
        if (limit > mss) limit = mss;
        if (limit > room) return 0;
        stack_count(stack, FINACK_CTR_TCP_LOST_RETRANSMIT);
        stack_count(stack, FINACK_CTR_TCP_SACK_RETRANS);
        conn->head_rxt_mark = conn->snd_max;
        return tcp_retransmit_range(conn, conn->snd_una, limit, now);
    }
    /* Rule 1: the first unSACKed byte above HighRxt, if lost. */
    uint32_t seq = seq_max(conn->high_rxt, conn->snd_una), end;
    while (tcp_sack_covers(conn, seq, &end)) seq = end;
    uint32_t edge = lost_edge(conn);
    if (seq_lt(seq, edge)) {
        uint32_t hole = tcp_sack_next_start(conn, seq) - seq;
        uint32_t len = hole < mss ? hole : mss;
        if (len > room) return 0;
        uint32_t sent = tcp_retransmit_range(conn, seq, len, now);
        if (!sent) return 0;
        stack_count(stack, FINACK_CTR_TCP_SACK_RETRANS);
        if (seq == conn->snd_una) conn->head_rxt_mark = conn->snd_max;
        conn->high_rxt = seq + sent;
        return sent;
    }
    /* Rule 2: new data the peer's window takes. */
    if (tcp_has_unsent(conn)) {
        uint32_t sent = tcp_send_next_new(conn, cap, now);
        if (sent || cap < mss) return sent;
        /* The window or the sender's own rules hold new data back. */
    }
    /* Rule 4: once per recovery, the highest unSACKed segment, once the
     * cumulative ACK has reached the highest hole: nothing SACKed lies
     * above it to make it count as lost, and no more ACKs may come. (RFC
     * 6675 lets it go as soon as nothing else can; waiting for the partial
     * ACK keeps it from resending a tail that is merely still in flight.) */
    if (conn->rescue_sent && !seq_gt(conn->snd_una, conn->rescue_rxt)) return 0;
    uint32_t top = conn->snd_max;
    if (conn->sacked_count && conn->sacked[conn->sacked_count - 1].end == top)
        top = conn->sacked[conn->sacked_count - 1].start;
    if (conn->sacked_count && seq_lt(conn->sacked[0].end, top)) return 0; /* holes below */
    uint32_t floor = seq_max(conn->high_rxt, conn->snd_una); /* not resent yet */
    if (!seq_lt(floor, top)) return 0;
    uint32_t len = top - floor < mss ? top - floor : mss;
    if (len > room) return 0;
    uint32_t sent = tcp_retransmit_range(conn, top - len, len, now);
    if (!sent) return 0;
    stack_count(stack, FINACK_CTR_TCP_SACK_RESCUE);
    stack_count(stack, FINACK_CTR_TCP_SACK_RETRANS);
    conn->rescue_sent = true;
    conn->rescue_rxt = conn->recover;
    return sent;
}

/* RFC 6675 §5 step C: while cwnd - pipe allows, send what NextSeg picks;
 * what goes counts toward PRR's prr_out. */
void tcp_sack_output(struct tcp_conn *conn, finack_time_t now)
{
    for (;;) {
        uint32_t pipe = tcp_sack_pipe(conn);
        if (conn->cwnd <= pipe) return;
        uint32_t sent = next_seg(conn, conn->cwnd - pipe, now);
        if (!sent) return;
        conn->prr_out += sent;
    }
}
