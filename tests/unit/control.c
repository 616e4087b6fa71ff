/* The control socket (finack/control.h): a server in front of a real run
 * loop over a datagram socketpair, and the polled mode a single-threaded
 * owner uses. Real threads and sockets, no sleeps: every wait is on a call
 * under test, each bounded by its timeout. The run directory is a fresh
 * temporary one ($FINACK_RUN_DIR). */
#include "finack/control.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "finack/loop.h"
#include "finack/socket.h"
#include "loop_pair.h"
#include "test.h"

#define PORT 7070

static char run_dir[64];

/* Each test makes it and removes it again. */
static void make_run_dir(void)
{
    snprintf(run_dir, sizeof run_dir, "/tmp/finack-control-test.XXXXXX");
    if (!mkdtemp(run_dir)) abort();
    /* The server makes the directory itself: hand it one that is not there. */
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run", run_dir);
    setenv("FINACK_RUN_DIR", sub, 1);
}

static void remove_run_dir(void)
{
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run", run_dir);
    rmdir(sub);
    rmdir(run_dir);
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, len) == 0) n++;
    return n;
}

static void expected_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/run/%ld.sock", run_dir, (long)getpid());
}

/* A listener on A, one connection from B (accepted, then B closes so A's
 * side sits in CLOSE_WAIT): what `conns`, `conns all` and `stats` say. */
static void test_loop_server_answers(void)
{
    make_run_dir();
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    struct finack_control *ctl = NULL;
    REQUIRE(finack_control_start(&ctl, p.loop_a, "echo server") == 0);
    char want_path[128];
    expected_path(want_path, sizeof want_path);
    CHECK_STR(finack_control_path(ctl), want_path);
    struct stat st;
    char dir[96];
    snprintf(dir, sizeof dir, "%s/run", run_dir);
    CHECK_EQ(stat(dir, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0700);
    CHECK_EQ(stat(want_path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));

    int lfd = finack_loop_socket(p.loop_a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin_of(0, PORT);
    CHECK_EQ(finack_loop_bind(p.loop_a, lfd, (struct sockaddr *)&any, sizeof any), 0);
    CHECK_EQ(finack_loop_listen(p.loop_a, lfd, 8), 0);
    int cfd = finack_loop_socket(p.loop_b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = sin_of(ADDR_A, PORT);
    CHECK_EQ(finack_loop_connect(p.loop_b, cfd, (struct sockaddr *)&to, sizeof to), 0);
    int afd = finack_loop_accept(p.loop_a, lfd, NULL, NULL);
    CHECK(afd >= 0);
    CHECK_EQ(finack_loop_close(p.loop_b, cfd), 0);
    /* The FIN has arrived once recv() says EOF. */
    char c;
    CHECK_EQ(finack_loop_recv(p.loop_a, afd, &c, 1, 0), 0);

    char header[96];
    snprintf(header, sizeof header, "finack-control 1 %ld echo_server\n", (long)getpid());
    char *text = NULL;
    REQUIRE(finack_control_query(want_path, "conns all", &text) == 0);
    CHECK(strncmp(text, header, strlen(header)) == 0);
    CHECK_EQ(count_lines(text, "conn LISTEN 0.0.0.0:7070 0.0.0.0:0 0 0 8 - 0 "), 1);
    CHECK_EQ(count_lines(text, "conn CLOSE_WAIT 10.0.0.1:7070 10.0.0.2:"), 1);
    CHECK_EQ(count_lines(text, "conn "), 2);
    free(text);

    REQUIRE(finack_control_query(want_path, "conns", &text) == 0);
    CHECK_EQ(count_lines(text, "conn CLOSE_WAIT "), 1);
    CHECK_EQ(count_lines(text, "conn "), 1);
    free(text);

    REQUIRE(finack_control_query(want_path, "stats", &text) == 0);
    CHECK(strncmp(text, header, strlen(header)) == 0);
    CHECK_EQ(count_lines(text, "counter TcpInSegs "), 1);
    CHECK_EQ(count_lines(text, "counter IpInReceives "), 1);
    CHECK_EQ(count_lines(text, "conn "), 0);
    free(text);

    REQUIRE(finack_control_query(want_path, "frobnicate", &text) == 0);
    CHECK_EQ(count_lines(text, "error unknown command 'frobnicate'"), 1);
    free(text);

    finack_control_stop(ctl);
    CHECK_EQ(stat(want_path, &st), -1);
    CHECK_EQ(finack_control_query(want_path, "conns", &text), -ENOENT);
    CHECK(text == NULL);
    loop_pair_close(&p);
    remove_run_dir();
}

/* A client that connects and leaves without a word does not stall the
 * server: the next one is answered. */
static void test_silent_client(void)
{
    make_run_dir();
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    struct finack_control *ctl = NULL;
    REQUIRE(finack_control_start(&ctl, p.loop_a, "x") == 0);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", finack_control_path(ctl));
    CHECK_EQ(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    char *text = NULL;
    CHECK_EQ(finack_control_query(finack_control_path(ctl), "conns", &text), 0);
    CHECK(text && strncmp(text, "finack-control 1 ", 17) == 0);
    free(text);
    finack_control_stop(ctl);
    loop_pair_close(&p);
    remove_run_dir();
}

/* A socket file nobody listens on (its process died): connect says
 * ECONNREFUSED, which is how readers know to remove it. */
static void test_dead_socket_refuses(void)
{
    make_run_dir();
    char path[96];
    snprintf(path, sizeof path, "%s/dead.sock", run_dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    CHECK_EQ(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    char *text = NULL;
    CHECK_EQ(finack_control_query(path, "conns", &text), -ECONNREFUSED);
    unlink(path);
    remove_run_dir();
}

/* ---- Polled mode --------------------------------------------------------------- */

struct polled {
    int wake_fd; /* eventfd the wake callback bumps */
    const char *path;
    char *text;
    int rc;
};

static void on_wake(void *ctx)
{
    struct polled *p = ctx;
    uint64_t one = 1;
    ssize_t n = write(p->wake_fd, &one, sizeof one);
    (void)n;
}

static void *query_thread(void *arg)
{
    struct polled *p = arg;
    p->rc = finack_control_query(p->path, "conns all", &p->text);
    return NULL;
}

/* The owner answers on its own thread when woken: the answer is the
 * stack's table as it is then. */
static void test_polled_mode(void)
{
    make_run_dir();
    struct finack_dgram_link *la, *lb;
    REQUIRE(finack_dgram_link_pair(&la, &lb, 1500) == 0);
    struct finack_loop_link l = finack_dgram_link_loop(la);
    struct finack_stack *stack = loop_new_stack("up", l.link, ADDR_A);
    REQUIRE(stack);
    int lfd = finack_socket(stack, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin_of(ADDR_A, 22);
    CHECK_EQ(finack_bind(stack, lfd, (struct sockaddr *)&any, sizeof any), 0);
    CHECK_EQ(finack_listen(stack, lfd, 128), 0);

    struct polled p = {.wake_fd = eventfd(0, EFD_CLOEXEC)};
    struct finack_control *ctl = NULL;
    REQUIRE(finack_control_start_polled(&ctl, "up", on_wake, &p) == 0);
    CHECK_EQ(finack_control_poll(ctl, stack), 0); /* nothing waits */
    p.path = finack_control_path(ctl);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, query_thread, &p) == 0);
    uint64_t count;
    CHECK_EQ(read(p.wake_fd, &count, sizeof count), (ssize_t)sizeof count);
    CHECK_EQ(finack_control_poll(ctl, stack), 1);
    pthread_join(t, NULL);
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(count_lines(p.text, "finack-control 1 "), 1);
    CHECK_EQ(count_lines(p.text, "conn LISTEN 10.0.0.1:22 0.0.0.0:0 0 0 128 - 0 "), 1);
    free(p.text);
    CHECK_EQ(finack_control_poll(NULL, stack), -EINVAL);

    finack_control_stop(ctl);
    close(p.wake_fd);
    finack_stack_destroy(stack);
    finack_dgram_link_free(la);
    finack_dgram_link_free(lb);
    remove_run_dir();
}

/* An owner that stops while a client waits: the client gets an error
 * line, not a hang, and the socket file is gone. */
static void test_polled_stop_while_waiting(void)
{
    make_run_dir();
    struct polled p = {.wake_fd = eventfd(0, EFD_CLOEXEC)};
    struct finack_control *ctl = NULL;
    REQUIRE(finack_control_start_polled(&ctl, "up", on_wake, &p) == 0);
    char path[128];
    snprintf(path, sizeof path, "%s", finack_control_path(ctl));
    p.path = path;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, query_thread, &p) == 0);
    uint64_t count;
    CHECK_EQ(read(p.wake_fd, &count, sizeof count), (ssize_t)sizeof count);
    finack_control_stop(ctl);
    pthread_join(t, NULL);
    CHECK_EQ(p.rc, 0);
    CHECK_EQ(count_lines(p.text, "error the stack's owner did not answer"), 1);
    free(p.text);
    struct stat st;
    CHECK_EQ(stat(path, &st), -1);
    close(p.wake_fd);
    remove_run_dir();
}

/* A run directory others may write to is refused (anyone could have made
 * /tmp/finack-UID first); one the user made closed is used as it is. */
static void test_run_dir_checked(void)
{
    make_run_dir();
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run", run_dir);
    CHECK_EQ(mkdir(sub, 0777), 0);
    CHECK_EQ(chmod(sub, 0777), 0);
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    struct finack_control *ctl = NULL;
    CHECK_EQ(finack_control_start(&ctl, p.loop_a, "x"), -EPERM);
    CHECK(ctl == NULL);
    CHECK_EQ(chmod(sub, 0755), 0);
    CHECK_EQ(finack_control_start(&ctl, p.loop_a, "x"), 0);
    struct stat st;
    CHECK_EQ(stat(sub, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0755);
    finack_control_stop(ctl);
    loop_pair_close(&p);
    remove_run_dir();
}

static void test_run_dir_choice(void)
{
    char saved[256] = "";
    const char *env = getenv("FINACK_RUN_DIR");
    if (env) snprintf(saved, sizeof saved, "%s", env);
    char buf[128];
    setenv("FINACK_RUN_DIR", "/somewhere/else", 1);
    CHECK_EQ(finack_control_run_dir(buf, sizeof buf), 0);
    CHECK_STR(buf, "/somewhere/else");
    CHECK_EQ(finack_control_run_dir(buf, 8), -ENAMETOOLONG);
    unsetenv("FINACK_RUN_DIR");
    CHECK_EQ(finack_control_run_dir(buf, sizeof buf), 0);
    if (geteuid() == 0) CHECK_STR(buf, "/run/finack");
    if (saved[0]) setenv("FINACK_RUN_DIR", saved, 1);
}

TEST_MAIN("unit.control", TEST_CASE(test_loop_server_answers), TEST_CASE(test_silent_client),
          TEST_CASE(test_dead_socket_refuses), TEST_CASE(test_polled_mode),
          TEST_CASE(test_polled_stop_while_waiting), TEST_CASE(test_run_dir_checked),
          TEST_CASE(test_run_dir_choice))
