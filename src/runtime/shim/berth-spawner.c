/*
 * berth-spawner: a tiny fork server for berth-shim.
 *
 * Why: libuv (Node 20) starts a child with a real fork() of the whole daemon, page tables
 * and all, on the event loop: 10-20 ms per container at berthd's size, during which
 * nothing else (API, events) runs. This process is a few hundred kilobytes, so its fork
 * costs microseconds, and it runs beside the daemon's event loop instead of on it.
 *
 * Protocol. stdin: requests, each a uint32 (little-endian) byte count followed by that
 * many bytes of NUL-terminated strings: the program, then its arguments. stdout, one line
 * per event: "ok PID" (in request order) when a request was forked, "err ERRNO" when fork
 * failed, and "exit PID CODE" when a child ends (CODE = exit status, or 128+signal).
 * Each child runs in its own session with /dev/null as stdio, so it outlives us; stdin's
 * end (berthd gone) ends the spawner, never its children.
 *
 * The program "@berth-shim" is berth-shim itself, linked into this binary: the child runs
 * it straight after fork. An exec costs milliseconds on a busy VM (page tables, ld.so,
 * libc faults); the shim's code is already mapped here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "berth-shim.h"

#define SHIM "@berth-shim"
extern char **environ;
#define MAX_REQUEST (1 << 20)
#define MAX_ARGS 4096

static char buf[MAX_REQUEST + 4];
static size_t have;
static int sfd = -1;

static void say(const char *fmt, long a, long b) {
  char line[64];
  int n = snprintf(line, sizeof line, fmt, a, b);
  if (write(STDOUT_FILENO, line, (size_t)n) != n) _exit(1);
}

/* Where our own argv and environment strings lie, end to end: room for a shim's title. */
static char *title_at;
static size_t title_room;

static void find_title_room(char **argv) {
  char *end = argv[0];
  for (char **a = argv; *a && *a == end; a++) end += strlen(*a) + 1;
  for (char **e = environ; *e && *e == end; e++) end += strlen(*e) + 1;
  title_at = argv[0];
  title_room = (size_t)(end - argv[0]);
}

/*
 * A forked shim still shows our command line; ps and the lab's clean-up find shims by
 * theirs (it names the state dir). Rewriting /proc/PID/cmdline's memory in place, as
 * setproctitle does, needs no capability (PR_SET_MM would need CAP_SYS_RESOURCE); the text
 * runs on over the environment strings, which the shim never reads (it builds the
 * command's own), and is cut to fit.
 */
static void set_title(int argc, char **argv) {
  if (title_room < 2) return;
  char title[4096];
  size_t n = (size_t)snprintf(title, sizeof title, "berth-shim");
  for (int i = 1; i < argc && n < sizeof title - 1; i++)
    n += (size_t)snprintf(title + n, sizeof title - n, " %s", argv[i]);
  if (n > sizeof title - 1) n = sizeof title - 1;
  if (n > title_room - 1) n = title_room - 1;
  memset(title_at, 0, title_room);
  memcpy(title_at, title, n);
}

/* In the child: run the linked-in shim (it exits; argv still points into our request). */
static void become_shim(int argc, char **argv) {
  prctl(PR_SET_NAME, "berth-shim", 0, 0, 0);
  clearenv(); /* its strings are about to hold the title */
  set_title(argc, argv);
  exit(berth_shim_main(argc, argv));
}

/* In a new child: its own session, /dev/null as stdio, default signal handling. */
static void child_setup(const sigset_t *old) {
  close(sfd); /* no exec to close it for us */
  sigprocmask(SIG_SETMASK, old, NULL);
  signal(SIGPIPE, SIG_DFL);
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
}

static int split_args(char *req, size_t len, char **argv) {
  int argc = 0;
  for (size_t i = 0; i < len && argc < MAX_ARGS; argc++) {
    argv[argc] = req + i;
    i += strnlen(req + i, len - i) + 1;
  }
  argv[argc] = NULL;
  return argc;
}

static uint32_t get_len(const char *p) {
  return (uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 |
         (uint32_t)(unsigned char)p[2] << 16 | (uint32_t)(unsigned char)p[3] << 24;
}

/*
 * The spare: a child forked ahead of need, waiting on a pipe for the next shim request.
 * A fork and the first writes of the child (each a copy-on-write fault) cost a millisecond
 * or more on a busy VM; the spare pays them while berthd is busy elsewhere (network set-up),
 * not while a start waits. Made after the first shim request, again after each hand-over.
 */
static pid_t spare = -1;
static int spare_fd = -1;
/* the directory of the containers' netns files, from the last shim request (for the template) */
static char netns_dir[4096];
/*
 * The template mount namespace the spares enter (berth-shim.c): made for netns_dir, kept
 * TEMPLATE_AGE_S seconds. A mount made on the host since, which the template may miss, only
 * sends a shim that needs it back to the host's namespace; a newer template catches up.
 */
#define TEMPLATE_AGE_S 30
static int template_fd = -1;
static char template_dir[4096];
static time_t template_made;

static void refresh_template(void) {
  time_t now = time(NULL);
  if (template_fd >= 0 && strcmp(template_dir, netns_dir) == 0 && now - template_made < TEMPLATE_AGE_S) return;
  if (template_fd >= 0) close(template_fd);
  template_fd = netns_dir[0] ? berth_make_template(netns_dir) : -1;
  snprintf(template_dir, sizeof template_dir, "%s", netns_dir);
  template_made = now;
}

static int read_full(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t k = read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int write_full(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* The stack a shim's relay loop runs on (its buffers are big): touched once, ahead. */
static void __attribute__((noinline)) touch_stack(void) {
  volatile char pad[192 * 1024];
  for (size_t i = 0; i < sizeof pad; i += 4096) pad[i] = 0;
}

/* In the spare: fault in what a shim writes first, then wait for the request (EOF: we are gone). */
static void spare_main(int rfd) {
  static char *argv[MAX_ARGS + 1];
  berth_shim_prepare(getppid(), template_fd);
  touch_stack();
  memset(buf, 0, 65536);
  memset(argv, 0, sizeof argv);
  if (read_full(rfd, buf, 4) != 0) _exit(0);
  uint32_t len = get_len(buf);
  if (len > MAX_REQUEST || read_full(rfd, buf, len) != 0) _exit(0);
  close(rfd);
  become_shim(split_args(buf, len, argv), argv);
}

static void make_spare(const sigset_t *old) {
  int p[2];
  if (spare >= 0 || pipe2(p, O_CLOEXEC) != 0) return;
  refresh_template();
  pid_t pid = fork();
  if (pid < 0) { close(p[0]); close(p[1]); return; }
  if (pid == 0) {
    close(p[1]);
    child_setup(old);
    spare_main(p[0]);
  }
  close(p[0]);
  spare = pid;
  spare_fd = p[1];
}

/* Passes a shim request (length word + body) to the spare; 0 when there is none alive. */
static int hand_to_spare(const char *msg, size_t n) {
  if (spare < 0) return 0;
  pid_t pid = spare;
  int fd = spare_fd, ok = write_full(fd, msg, n) == 0;
  close(fd);
  spare = -1;
  spare_fd = -1;
  if (!ok) return 0; /* it died; reap() reports its end, which nobody waits for */
  say("ok %ld\n", pid, 0);
  return 1;
}

static int want_spare;

static void spawn_one(char *msg, size_t len, const sigset_t *old) {
  static char *argv[MAX_ARGS + 1];
  char *req = msg + 4;
  int argc = split_args(req, len, argv);
  if (argc == 0) { say("err %ld\n", EINVAL, 0); return; }
  int shim = strcmp(argv[0], SHIM) == 0;
  want_spare |= shim;
  for (int i = 1; shim && i + 1 < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--netns") == 0 && berth_netns_dir(argv[i + 1], netns_dir, sizeof netns_dir) != 0) netns_dir[0] = 0;
  if (shim && hand_to_spare(msg, 4 + len)) return;
  pid_t pid = fork();
  if (pid < 0) { say("err %ld\n", errno, 0); return; }
  if (pid == 0) {
    child_setup(old);
    if (template_fd >= 0) close(template_fd); /* not for this one: it would keep an old template alive */
    if (shim) become_shim(argc, argv);
    execv(argv[0], argv);
    _exit(127);
  }
  say("ok %ld\n", pid, 0);
}

static void take_requests(const sigset_t *old) {
  for (;;) {
    if (have < 4) break;
    uint32_t len = get_len(buf);
    if (len > MAX_REQUEST) _exit(2);
    if (have < 4 + len) break;
    spawn_one(buf, len, old);
    memmove(buf, buf + 4 + len, have - 4 - len);
    have -= 4 + len;
  }
  if (want_spare) make_spare(old);
}

static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    if (pid == spare) { /* died unused: nobody knows of it */
      close(spare_fd);
      spare = -1;
      spare_fd = -1;
      continue;
    }
    long code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    say("exit %ld %ld\n", pid, code);
  }
}

int main(int argc, char **argv) {
  (void)argc;
  find_title_room(argv);
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, &old);
  sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {}
      reap();
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(STDIN_FILENO, buf + have, sizeof buf - have);
      if (n <= 0) return 0;
      have += (size_t)n;
      take_requests(&old);
    }
  }
}
