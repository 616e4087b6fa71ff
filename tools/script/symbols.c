/* The names a script may use for constants: socket-API symbols and every
 * Linux errno name, with their values from the system headers (finack's
 * socket layer uses Linux's values, so these are the ones the runner
 * compares against). Two fixed tables, searched linearly: a script has a
 * few hundred lookups at most. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "script.h"

struct symbol {
    const char *name;
    int64_t value;
};

#define SYM(x) {#x, (int64_t)(x)}

/* None of these may start with 'E': the parser takes a name after a return
 * value as an errno name when it starts with 'E' and has an errno value. */
static const struct symbol socket_symbols[] = {
    /* socket(), address families */
    SYM(AF_INET), SYM(AF_INET6), SYM(AF_UNSPEC), SYM(PF_INET), SYM(PF_INET6),
    SYM(SOCK_STREAM), SYM(SOCK_DGRAM), SYM(SOCK_RAW), SYM(SOCK_NONBLOCK), SYM(SOCK_CLOEXEC),
    SYM(IPPROTO_IP), SYM(IPPROTO_TCP), SYM(IPPROTO_UDP), SYM(IPPROTO_IPV6), SYM(IPPROTO_ICMP),
    /* setsockopt() levels and options */
    SYM(SOL_SOCKET), SYM(SOL_TCP), SYM(SOL_IP),
    SYM(SO_REUSEADDR), SYM(SO_REUSEPORT), SYM(SO_KEEPALIVE), SYM(SO_LINGER), SYM(SO_SNDBUF),
    SYM(SO_RCVBUF), SYM(SO_ERROR), SYM(SO_RCVLOWAT), SYM(SO_SNDLOWAT), SYM(SO_RCVTIMEO),
    SYM(SO_SNDTIMEO), SYM(SO_TYPE), SYM(SO_ACCEPTCONN), SYM(SO_DOMAIN), SYM(SO_PROTOCOL),
    SYM(SO_OOBINLINE), SYM(SO_BROADCAST),
    SYM(TCP_NODELAY), SYM(TCP_MAXSEG), SYM(TCP_CORK), SYM(TCP_KEEPIDLE), SYM(TCP_KEEPINTVL),
    SYM(TCP_KEEPCNT), SYM(TCP_SYNCNT), SYM(TCP_LINGER2), SYM(TCP_WINDOW_CLAMP),
    SYM(TCP_USER_TIMEOUT), SYM(TCP_INFO), SYM(TCP_QUICKACK), SYM(TCP_DEFER_ACCEPT),
    SYM(TCP_FASTOPEN), SYM(TCP_CONGESTION), SYM(TCP_NOTSENT_LOWAT),
    /* fcntl() */
    SYM(O_RDONLY), SYM(O_WRONLY), SYM(O_RDWR), SYM(O_NONBLOCK), SYM(O_CLOEXEC),
    SYM(F_GETFL), SYM(F_SETFL), SYM(F_GETFD), SYM(F_SETFD), SYM(FD_CLOEXEC),
    /* ioctl() */
    SYM(FIONREAD), SYM(FIONBIO), SYM(SIOCINQ), SYM(SIOCOUTQ),
    /* shutdown() */
    SYM(SHUT_RD), SYM(SHUT_WR), SYM(SHUT_RDWR),
    /* poll() */
    SYM(POLLIN), SYM(POLLPRI), SYM(POLLOUT), SYM(POLLERR), SYM(POLLHUP), SYM(POLLNVAL),
    SYM(POLLRDNORM), SYM(POLLRDBAND), SYM(POLLWRNORM), SYM(POLLWRBAND), SYM(POLLRDHUP),
    /* send() / recv() flags */
    SYM(MSG_PEEK), SYM(MSG_DONTWAIT), SYM(MSG_WAITALL), SYM(MSG_NOSIGNAL), SYM(MSG_MORE),
    SYM(MSG_TRUNC), SYM(MSG_OOB), SYM(MSG_EOR), SYM(MSG_CTRUNC), SYM(MSG_ERRQUEUE),
    SYM(MSG_FASTOPEN),
};

/* Every Linux errno name. Where two names share a value the preferred one
 * comes first (EAGAIN before EWOULDBLOCK, EDEADLK before EDEADLOCK,
 * EOPNOTSUPP before ENOTSUP), so script_errno_name gives it. */
static const struct symbol errno_symbols[] = {
    SYM(EPERM), SYM(ENOENT), SYM(ESRCH), SYM(EINTR), SYM(EIO), SYM(ENXIO), SYM(E2BIG),
    SYM(ENOEXEC), SYM(EBADF), SYM(ECHILD), SYM(EAGAIN), SYM(EWOULDBLOCK), SYM(ENOMEM),
    SYM(EACCES), SYM(EFAULT), SYM(ENOTBLK), SYM(EBUSY), SYM(EEXIST), SYM(EXDEV), SYM(ENODEV),
    SYM(ENOTDIR), SYM(EISDIR), SYM(EINVAL), SYM(ENFILE), SYM(EMFILE), SYM(ENOTTY), SYM(ETXTBSY),
    SYM(EFBIG), SYM(ENOSPC), SYM(ESPIPE), SYM(EROFS), SYM(EMLINK), SYM(EPIPE), SYM(EDOM),
    SYM(ERANGE), SYM(EDEADLK), SYM(EDEADLOCK), SYM(ENAMETOOLONG), SYM(ENOLCK), SYM(ENOSYS),
    SYM(ENOTEMPTY), SYM(ELOOP), SYM(ENOMSG), SYM(EIDRM), SYM(ECHRNG), SYM(EL2NSYNC),
    SYM(EL3HLT), SYM(EL3RST), SYM(ELNRNG), SYM(EUNATCH), SYM(ENOCSI), SYM(EL2HLT), SYM(EBADE),
    SYM(EBADR), SYM(EXFULL), SYM(ENOANO), SYM(EBADRQC), SYM(EBADSLT), SYM(EBFONT), SYM(ENOSTR),
    SYM(ENODATA), SYM(ETIME), SYM(ENOSR), SYM(ENONET), SYM(ENOPKG), SYM(EREMOTE), SYM(ENOLINK),
    SYM(EADV), SYM(ESRMNT), SYM(ECOMM), SYM(EPROTO), SYM(EMULTIHOP), SYM(EDOTDOT), SYM(EBADMSG),
    SYM(EOVERFLOW), SYM(ENOTUNIQ), SYM(EBADFD), SYM(EREMCHG), SYM(ELIBACC), SYM(ELIBBAD),
    SYM(ELIBSCN), SYM(ELIBMAX), SYM(ELIBEXEC), SYM(EILSEQ), SYM(ERESTART), SYM(ESTRPIPE),
    SYM(EUSERS), SYM(ENOTSOCK), SYM(EDESTADDRREQ), SYM(EMSGSIZE), SYM(EPROTOTYPE),
    SYM(ENOPROTOOPT), SYM(EPROTONOSUPPORT), SYM(ESOCKTNOSUPPORT), SYM(EOPNOTSUPP), SYM(ENOTSUP),
    SYM(EPFNOSUPPORT), SYM(EAFNOSUPPORT), SYM(EADDRINUSE), SYM(EADDRNOTAVAIL), SYM(ENETDOWN),
    SYM(ENETUNREACH), SYM(ENETRESET), SYM(ECONNABORTED), SYM(ECONNRESET), SYM(ENOBUFS),
    SYM(EISCONN), SYM(ENOTCONN), SYM(ESHUTDOWN), SYM(ETOOMANYREFS), SYM(ETIMEDOUT),
    SYM(ECONNREFUSED), SYM(EHOSTDOWN), SYM(EHOSTUNREACH), SYM(EALREADY), SYM(EINPROGRESS),
    SYM(ESTALE), SYM(EUCLEAN), SYM(ENOTNAM), SYM(ENAVAIL), SYM(EISNAM), SYM(EREMOTEIO),
    SYM(EDQUOT), SYM(ENOMEDIUM), SYM(EMEDIUMTYPE), SYM(ECANCELED), SYM(ENOKEY),
    SYM(EKEYEXPIRED), SYM(EKEYREVOKED), SYM(EKEYREJECTED), SYM(EOWNERDEAD),
    SYM(ENOTRECOVERABLE), SYM(ERFKILL), SYM(EHWPOISON),
};

#undef SYM

static bool lookup(const struct symbol *table, size_t count, const char *name, int64_t *value)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(table[i].name, name) == 0) {
            *value = table[i].value;
            return true;
        }
    }
    return false;
}

bool script_symbol_value(const char *name, int64_t *value)
{
    if (!name) return false;
    return lookup(socket_symbols, sizeof socket_symbols / sizeof socket_symbols[0], name, value) ||
           lookup(errno_symbols, sizeof errno_symbols / sizeof errno_symbols[0], name, value);
}

const char *script_errno_name(int err)
{
    for (size_t i = 0; i < sizeof errno_symbols / sizeof errno_symbols[0]; i++)
        if (errno_symbols[i].value == err) return errno_symbols[i].name;
    return NULL;
}
