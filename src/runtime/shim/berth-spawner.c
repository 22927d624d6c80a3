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

static void spawn_one(char *req, size_t len, const sigset_t *old) {
  char *argv[MAX_ARGS + 1];
  int argc = 0;
  for (size_t i = 0; i < len && argc < MAX_ARGS; argc++) {
    argv[argc] = req + i;
    i += strnlen(req + i, len - i) + 1;
  }
  argv[argc] = NULL;
  if (argc == 0) { say("err %ld\n", EINVAL, 0); return; }
  pid_t pid = fork();
  if (pid < 0) { say("err %ld\n", errno, 0); return; }
  if (pid == 0) {
    close(sfd); /* no exec to close it for us */
    sigprocmask(SIG_SETMASK, old, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
    if (strcmp(argv[0], SHIM) == 0) become_shim(argc, argv);
    execv(argv[0], argv);
    _exit(127);
  }
  say("ok %ld\n", pid, 0);
}

static void take_requests(const sigset_t *old) {
  for (;;) {
    if (have < 4) return;
    uint32_t len = (uint32_t)(unsigned char)buf[0] | (uint32_t)(unsigned char)buf[1] << 8 |
                   (uint32_t)(unsigned char)buf[2] << 16 | (uint32_t)(unsigned char)buf[3] << 24;
    if (len > MAX_REQUEST) _exit(2);
    if (have < 4 + len) return;
    spawn_one(buf + 4, len, old);
    memmove(buf, buf + 4 + len, have - 4 - len);
    have -= 4 + len;
  }
}

static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
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
