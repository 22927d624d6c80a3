/*
 * berth-shim: the tiny supervisor of one container process (a "mini conmon").
 *
 * Why C and not Node: a container process must join a network namespace and make new
 * UTS, mount, ipc and pid namespaces of its own before it execs. setns(CLONE_NEWNS) and unshare()
 * need a single-threaded process, and Node is never single-threaded, nor can it fork.
 * One exec of this small binary (like runc's nsexec or conmon) is the fastest safe way.
 *
 * berth-spawner links this file in and runs run mode in a forked child without exec
 * (one exec less per container start); this binary serves join mode and manual use.
 *
 * Two modes:
 *   run:  berth-shim --id ID --state-dir DIR [--netns PATH] [--hostname H] [--rootfs DIR]
 *                    [--bind SRC:DST[:ro]]... [--workdir D] [--env K=V]... [--interactive]
 *                    [--tty] [--pidns host|PATH] [--hide PATH]... [--caps HEX]
 *                    [--no-new-privs] -- CMD ARGS...
 *         Spawned detached by the daemon (its own session, so it outlives a daemon
 *         restart). Forks the container process, writes DIR/pid once set-up succeeded
 *         (DIR/error when it failed), relays output into DIR/log in Docker's multiplexed
 *         framing, feeds DIR/stdin (a FIFO) to the process with --interactive, obeys
 *         lines on the DIR/ctl FIFO ("resize ROWS COLS", "close-stdin"), and writes
 *         DIR/exit = {"exitCode":N,"finishedAt":"..."} when the process ends.
 *         The process is pid 1 of a new pid namespace (Docker's default), so when it ends
 *         the kernel ends every other process of the container; with --pidns it shares the
 *         host's (host) or another container's (PATH: that container's /proc/PID/ns/pid),
 *         and the shim itself then ends what the container left behind (sweep_leftovers).
 *         It sees a fresh /proc, a minimal /dev and a read-only /sys (container-fs.c);
 *         each --hide path (berth's own: its sockets, data-root, exec-root) is masked; with
 *         --rootfs that directory becomes its root by pivot_root, the host's tree detached.
 *         Last, it keeps only the capabilities in --caps (bit N = capability N; absent:
 *         all) and, with --no-new-privs, can gain none by exec (container-security.c).
 *   join: berth-shim --join PID [--env K=V]... [--workdir D] [--tty] [--caps HEX]
 *                    [--no-new-privs] -- CMD ARGS...
 *         Runs CMD inside the net, uts, ipc, mount and pid namespaces and the root of
 *         process PID (docker exec), with the capabilities of --caps. Without --tty it
 *         runs CMD on the caller's stdio (it execs CMD itself when the pid namespace is
 *         its own; else it forks into it and waits). With --tty it relays its stdin/stdout to a pseudo-terminal of the
 *         container's devpts and reads "ROWS COLS" lines from fd 3; its exit code is CMD's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "berth-shim.h"
#include "container-fs.h"
#include "container-security.h"

#define MAX_LIST 256
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

struct bind {
  const char *src;
  char dst[4096];
  int ro;
};

struct opts {
  const char *id, *state_dir, *netns, *hostname, *rootfs, *workdir;
  const char *pidns; /* NULL: a new one; "host": ours; else the path of one to join */
  int join_pid, interactive, tty;
  uint64_t caps; /* the capabilities kept (bit N = capability N), when caps_given */
  int caps_given, no_new_privs;
  const char *hide[MAX_LIST];
  int nhide;
  struct bind binds[MAX_LIST];
  int nbinds;
  const char *env[MAX_LIST];
  int nenv;
  char **argv;
};

static struct opts o;

/* ---- small helpers -------------------------------------------------------------- */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("berth-shim: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(125);
}

static void state_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", o.state_dir, name);
}

/* Writes DIR/name atomically (tmp + rename), so readers never see half a file. */
static int write_state_file(const char *name, const char *text) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", o.state_dir, name);
  state_path(dst, sizeof dst, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  close(fd);
  if (n != (ssize_t)len) return -1;
  return rename(tmp, dst);
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---- argument parsing ----------------------------------------------------------- */

static const char *need(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) die("%s needs a value", argv[*i]);
  return argv[++*i];
}

static void parse_bind(const char *spec) {
  if (o.nbinds >= MAX_LIST) die("too many --bind");
  struct bind *b = &o.binds[o.nbinds++];
  char *copy = strdup(spec);
  char *colon = strchr(copy, ':');
  if (!colon || colon == copy) die("bad --bind %s (want SRC:DST[:ro])", spec);
  *colon = 0;
  char *dst = colon + 1, *mode = strchr(dst, ':');
  if (mode) {
    *mode++ = 0;
    if (strcmp(mode, "ro") == 0) b->ro = 1;
    else if (strcmp(mode, "rw") != 0) die("bad --bind mode %s", mode);
  }
  if (dst[0] != '/') die("bind target must be absolute: %s", dst);
  b->src = copy;
  snprintf(b->dst, sizeof b->dst, "%s", dst);
}

static void parse_caps(const char *hex) {
  char *end;
  errno = 0;
  o.caps = strtoull(hex, &end, 16);
  if (errno || end == hex || *end) die("bad --caps %s (want a hexadecimal mask)", hex);
  o.caps_given = 1;
}

static void parse_args(int argc, char **argv) {
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) { i++; break; }
    else if (strcmp(a, "--id") == 0) o.id = need(argc, argv, &i);
    else if (strcmp(a, "--state-dir") == 0) o.state_dir = need(argc, argv, &i);
    else if (strcmp(a, "--netns") == 0) o.netns = need(argc, argv, &i);
    else if (strcmp(a, "--hostname") == 0) o.hostname = need(argc, argv, &i);
    else if (strcmp(a, "--rootfs") == 0) o.rootfs = need(argc, argv, &i);
    else if (strcmp(a, "--workdir") == 0) o.workdir = need(argc, argv, &i);
    else if (strcmp(a, "--pidns") == 0) o.pidns = need(argc, argv, &i);
    else if (strcmp(a, "--bind") == 0) parse_bind(need(argc, argv, &i));
    else if (strcmp(a, "--join") == 0) o.join_pid = atoi(need(argc, argv, &i));
    else if (strcmp(a, "--interactive") == 0) o.interactive = 1;
    else if (strcmp(a, "--tty") == 0) o.tty = 1;
    else if (strcmp(a, "--no-new-privs") == 0) o.no_new_privs = 1;
    else if (strcmp(a, "--caps") == 0) parse_caps(need(argc, argv, &i));
    else if (strcmp(a, "--hide") == 0) {
      if (o.nhide >= MAX_LIST) die("too many --hide");
      o.hide[o.nhide] = need(argc, argv, &i);
      if (o.hide[o.nhide++][0] != '/') die("--hide needs an absolute path");
    }
    else if (strcmp(a, "--env") == 0) {
      if (o.nenv >= MAX_LIST - 3) die("too many --env");
      o.env[o.nenv++] = need(argc, argv, &i);
    } else die("unknown option %s", a);
  }
  if (i >= argc) die("no command given (after --)");
  o.argv = &argv[i];
  if (!o.join_pid && !o.state_dir) die("--state-dir is required");
}

/* ---- the environment the command gets -------------------------------------------- */

static int has_env(const char *key) {
  size_t k = strlen(key);
  for (int i = 0; i < o.nenv; i++)
    if (strncmp(o.env[i], key, k) == 0 && o.env[i][k] == '=') return 1;
  return 0;
}

/* Exactly the given variables, plus PATH and HOSTNAME defaults when absent (as Docker). */
static char **build_env(void) {
  static char *envp[MAX_LIST];
  static char host_var[300];
  int n = 0;
  for (int i = 0; i < o.nenv; i++) envp[n++] = (char *)o.env[i];
  if (!has_env("PATH")) envp[n++] = DEFAULT_PATH;
  if (!has_env("HOSTNAME") && !o.join_pid) {
    char h[256] = "";
    gethostname(h, sizeof h - 1);
    snprintf(host_var, sizeof host_var, "HOSTNAME=%s", h);
    envp[n++] = host_var;
  }
  envp[n] = NULL;
  return envp;
}

/* Never returns: execvp with the container's env (PATH lookup uses the new PATH). */
static void exec_command(void) {
  signal(SIGPIPE, SIG_DFL); /* the shim ignores it; the container must not inherit that */
  environ = build_env();
  execvp(o.argv[0], o.argv);
  int err = errno;
  int code = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
  const char *why = strerror(err);
  if (err == ENOENT) why = strchr(o.argv[0], '/') ? "no such file or directory" : "executable file not found in $PATH";
  dprintf(2, "berth-shim: exec \"%s\": %s\n", o.argv[0], why);
  _exit(code);
}

/* ---- pseudo-terminal -------------------------------------------------------------- */

/*
 * A terminal for an exec: from the container's own devpts (through /proc/PID/root), so
 * that `tty` inside names it; from the host's for a container started before berth gave
 * containers a devpts of their own.
 */
static int open_pty(pid_t pid, int *slave) {
  char ptmx[64];
  int number;
  snprintf(ptmx, sizeof ptmx, "/proc/%d/root/dev/pts/ptmx", (int)pid);
  int m = berth_open_pty_at(ptmx, slave, &number);
  return m >= 0 ? m : berth_open_pty_at("/dev/ptmx", slave, &number);
}

/* In the child: the pty slave becomes its controlling terminal and stdio. */
static void take_tty(int slave, int stdin_too) {
  setsid();
  ioctl(slave, TIOCSCTTY, 0);
  if (stdin_too) dup2(slave, 0);
  dup2(slave, 1);
  dup2(slave, 2);
}

/* ---- container set-up (runs in the forked child) --------------------------------- */

static char setup_err[1024];

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(setup_err, sizeof setup_err, fmt, ap);
  va_end(ap);
  return -1;
}

/* In an image root the target may not exist yet (tiny rootfs): make an empty file for it. */
static int ensure_target(const char *path, int is_dir) {
  struct stat st;
  if (stat(path, &st) == 0) return 0;
  char tmp[8192];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(tmp, 0755);
    *p = '/';
  }
  if (is_dir) return mkdir(path, 0755);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static int do_binds(void) {
  for (int i = 0; i < o.nbinds; i++) {
    struct bind *b = &o.binds[i];
    char target[8192];
    snprintf(target, sizeof target, "%s%s", o.rootfs ? o.rootfs : "", b->dst);
    struct stat st;
    if (stat(b->src, &st) != 0) return fail("bind source %s: %s", b->src, strerror(errno));
    if (o.rootfs && ensure_target(target, S_ISDIR(st.st_mode)) != 0)
      return fail("bind target %s: %s", target, strerror(errno));
    if (mount(b->src, target, NULL, MS_BIND, NULL) != 0)
      return fail("bind mount %s on %s: %s", b->src, b->dst, strerror(errno));
    if (b->ro && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
      return fail("read-only remount of %s: %s", b->dst, strerror(errno));
  }
  return 0;
}

/*
 * Our copy of the mount table holds the netns bind mount of every other container (berth
 * keeps them in one directory, a mount point of its own). Each copy would keep that network
 * namespace alive for as long as this container lives, after its own container is gone,
 * and at 1,000 containers make a million mounts. The container needs none of them: our
 * netns is already open. Detached in our private copy only; EINVAL (no such mount) is fine.
 */
int berth_netns_dir(const char *netns, char *dir, size_t len) {
  snprintf(dir, len, "%s", netns);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return -1;
  *slash = 0;
  const char *base = strrchr(dir, '/');
  return base && strcmp(base + 1, "netns") == 0 ? 0 : -1;
}

static void drop_netns_mounts(void) {
  char dir[4096];
  if (o.netns && berth_netns_dir(o.netns, dir, sizeof dir) == 0) umount2(dir, MNT_DETACH);
}

/* The container's terminal, from its own devpts: the master goes back to the shim over
   sock, the slave becomes the controlling terminal and stdio, and /dev/console. */
static int container_tty(const char *root, int sock) {
  char ptmx[4200];
  int slave, number;
  snprintf(ptmx, sizeof ptmx, "%s/dev/pts/ptmx", root);
  int master = berth_open_pty_at(ptmx, &slave, &number);
  if (master < 0) return fail("open a terminal of the container's devpts: %s", strerror(errno));
  if (berth_send_fd(sock, master) != 0) return fail("pass the terminal to the shim: %s", strerror(errno));
  close(master);
  if (berth_bind_console(root, number, setup_err, sizeof setup_err) != 0) return -1;
  take_tty(slave, 1);
  close(slave);
  return 0;
}

/*
 * berth's own paths, masked in the container's mount namespace once its own binds are in
 * place (their sources live under those paths). Under --rootfs only a path inside the
 * image's directory could be seen: it is masked where it is, before the pivot.
 */
static int hide_paths(const char *root) {
  char devnull[4200];
  size_t rlen = o.rootfs ? strlen(o.rootfs) : 0;
  while (rlen > 1 && o.rootfs[rlen - 1] == '/') rlen--;
  snprintf(devnull, sizeof devnull, "%s/dev/null", root);
  for (int i = 0; i < o.nhide; i++) {
    const char *p = o.hide[i];
    if (strcmp(p, "/") == 0) continue;
    if (o.rootfs && (strncmp(p, o.rootfs, rlen) != 0 || p[rlen] != '/')) continue;
    if (berth_mask_path(p, devnull, setup_err, sizeof setup_err) != 0) return -1;
  }
  return 0;
}

/* What the process may do, set last: mounts and the pivot need CAP_SYS_ADMIN. */
static int lock_down(void) {
  if (o.caps_given && berth_restrict_capabilities(o.caps, setup_err, sizeof setup_err) != 0) return -1;
  if (o.no_new_privs && berth_no_new_privs(setup_err, sizeof setup_err) != 0) return -1;
  return 0;
}

/* Runs in the container child: it is already in its pid namespace (clone made or chose it). */
static int container_setup(int netns_fd, int pty_sock) {
  const char *root = o.rootfs ? o.rootfs : "";
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0)
    return fail("join network namespace %s: %s", o.netns, strerror(errno));
  if (unshare(CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC) != 0) return fail("unshare uts+mount+ipc: %s", strerror(errno));
  /* private, so our binds never propagate back to the host's mount namespace */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail("make / private: %s", strerror(errno));
  drop_netns_mounts();
  /* a mount point of its own, for pivot_root; everything below is mounted on this copy */
  if (o.rootfs && mount(o.rootfs, o.rootfs, NULL, MS_BIND | MS_REC, NULL) != 0)
    return fail("bind %s on itself: %s", o.rootfs, strerror(errno));
  if (o.hostname && sethostname(o.hostname, strlen(o.hostname)) != 0)
    return fail("set hostname %s: %s", o.hostname, strerror(errno));
  /* first, as Docker orders them: a bind may land inside /dev or /proc */
  if (berth_mount_container_fs(root, setup_err, sizeof setup_err) != 0) return -1;
  if (o.tty && container_tty(root, pty_sock) != 0) return -1;
  if (do_binds() != 0) return -1;
  if (hide_paths(root) != 0) return -1;
  if (o.rootfs && berth_pivot_root(o.rootfs, setup_err, sizeof setup_err) != 0) return -1;
  const char *wd = o.workdir ? o.workdir : "/";
  if (chdir(wd) != 0) return fail("chdir to working directory %s: %s", wd, strerror(errno));
  return lock_down();
}

/* ---- the relay loop (both modes) -------------------------------------------------- */

struct relay {
  int out[2];        /* sources: [0] stream 1 (or the pty master), [1] stream 2 */
  int log_fd;        /* framed sink (run mode); -1 = raw to fd 1 (join+tty) */
  int in_src;        /* stdin source: the FIFO (run) or fd 0 (join+tty); -1 = none */
  int in_dst;        /* child's stdin: pipe write end or pty master */
  int ctl;           /* control lines: ctl FIFO (run) or fd 3 (join+tty) */
  int master;        /* pty master or -1 */
  int sig;           /* signalfd */
  pid_t child;
  int status, done;
  char inbuf[65536];
  size_t inlen, inoff;
  int close_in;      /* close in_dst once inbuf is flushed */
  char ctlbuf[256];
  size_t ctllen;
};

static void emit(struct relay *r, int stream, const char *buf, size_t n) {
  if (r->log_fd < 0) { write_all(1, buf, n); return; }
  unsigned char hdr[8] = {(unsigned char)stream, 0, 0, 0,
                          (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
  struct iovec iov[2] = {{hdr, 8}, {(void *)buf, n}};
  /* O_APPEND + one writev: a frame is never interleaved with another */
  if (writev(r->log_fd, iov, 2) < 0) { /* nothing better to do than drop it */ }
}

/* Reads what is there from an output source; returns 0 on EOF/EIO (source closed). */
static int pump_out(struct relay *r, int idx) {
  char buf[32768];
  for (;;) {
    ssize_t n = read(r->out[idx], buf, sizeof buf);
    if (n > 0) { emit(r, idx + 1, buf, (size_t)n); continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 1;
    if (r->out[idx] == r->master) { r->master = -1; r->in_dst = -1; r->inlen = 0; }
    close(r->out[idx]);
    r->out[idx] = -1;
    return 0;
  }
}

static void close_stdin_now(struct relay *r) {
  if (r->in_dst < 0) return;
  if (r->master >= 0) { char eof = 4; write(r->master, &eof, 1); } /* ^D: EOF for the tty reader */
  else close(r->in_dst);
  r->in_dst = -1;
  if (r->in_src > 0) close(r->in_src);
  r->in_src = -1;
}

/* Moves stdin bytes to the child until the source is empty or the child's pipe is full. */
static void pump_in(struct relay *r) {
  while (r->in_dst >= 0) {
    if (r->inlen == 0) {
      if (r->in_src < 0) break;
      ssize_t n = read(r->in_src, r->inbuf, sizeof r->inbuf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n <= 0) { /* stdin ended (join+tty: the caller closed its side) */
        if (r->in_src > 0) close(r->in_src);
        r->in_src = -1;
        if (r->master < 0) r->close_in = 1;
        break;
      }
      r->inlen = (size_t)n;
      r->inoff = 0;
    }
    ssize_t n = write(r->in_dst, r->inbuf + r->inoff, r->inlen);
    if (n < 0 && errno == EAGAIN) return; /* wait for POLLOUT */
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { r->inlen = 0; close_stdin_now(r); return; } /* EPIPE: reader gone */
    r->inoff += (size_t)n;
    r->inlen -= (size_t)n;
  }
  /* close-stdin is obeyed only once everything written before it has been passed on */
  if (r->inlen == 0 && r->close_in) close_stdin_now(r);
}

static void ctl_line(struct relay *r, char *line) {
  unsigned rows, cols;
  if (strcmp(line, "close-stdin") == 0) { r->close_in = 1; return; }
  if (strncmp(line, "resize ", 7) == 0) line += 7;
  if (sscanf(line, "%u %u", &rows, &cols) == 2 && r->master >= 0) {
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    ioctl(r->master, TIOCSWINSZ, &ws);
  }
}

static void pump_ctl(struct relay *r) {
  ssize_t n = read(r->ctl, r->ctlbuf + r->ctllen, sizeof r->ctlbuf - r->ctllen - 1);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (r->ctl > 2) close(r->ctl);
    r->ctl = -1;
    return;
  }
  if (n < 0) return;
  r->ctllen += (size_t)n;
  r->ctlbuf[r->ctllen] = 0;
  char *start = r->ctlbuf, *nl;
  while ((nl = strchr(start, '\n'))) {
    *nl = 0;
    ctl_line(r, start);
    start = nl + 1;
  }
  r->ctllen = strlen(start);
  memmove(r->ctlbuf, start, r->ctllen);
  if (r->ctllen == sizeof r->ctlbuf - 1) r->ctllen = 0; /* overlong line: drop it */
}

/* SIGCHLD: reap everything (we are a subreaper); remember our child's status. */
static void pump_sig(struct relay *r) {
  struct signalfd_siginfo si;
  while (read(r->sig, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo != SIGCHLD && r->child > 0 && !r->done) kill(r->child, (int)si.ssi_signo);
  }
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
    if (p == r->child) { r->status = st; r->done = 1; }
  }
}

static void relay_loop(struct relay *r) {
  while (!r->done || r->out[0] >= 0 || r->out[1] >= 0) {
    struct pollfd p[6];
    int n = 0, ii = -1, iw = -1, ic = -1, o0 = -1, o1 = -1;
    p[n] = (struct pollfd){r->sig, POLLIN, 0}; n++;
    if (r->out[0] >= 0) { o0 = n; p[n++] = (struct pollfd){r->out[0], POLLIN, 0}; }
    if (r->out[1] >= 0) { o1 = n; p[n++] = (struct pollfd){r->out[1], POLLIN, 0}; }
    if (r->in_src >= 0 && r->inlen == 0 && r->in_dst >= 0) { ii = n; p[n++] = (struct pollfd){r->in_src, POLLIN, 0}; }
    if (r->inlen > 0 && r->in_dst >= 0) { iw = n; p[n++] = (struct pollfd){r->in_dst, POLLOUT, 0}; }
    if (r->ctl >= 0) { ic = n; p[n++] = (struct pollfd){r->ctl, POLLIN, 0}; }
    /* once the child is gone, only drain what is already buffered (a grandchild may
       still hold the pipes open; it must not keep the exit from being reported) */
    int timeout = r->done ? 0 : -1;
    int k = poll(p, (nfds_t)n, timeout);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0 && r->done) break;
    if (p[0].revents) pump_sig(r);
    if (o0 >= 0 && p[o0].revents) pump_out(r, 0);
    if (o1 >= 0 && p[o1].revents) pump_out(r, 1);
    if (ic >= 0 && p[ic].revents) pump_ctl(r);
    if ((ii >= 0 && p[ii].revents) || (iw >= 0 && p[iw].revents) || r->close_in) pump_in(r);
  }
}

static int exit_code_of(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

static int make_sigfd(sigset_t *old) {
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, old);
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* ---- run mode ---------------------------------------------------------------------- */

static int open_fifo(const char *name) {
  char path[4096];
  state_path(path, sizeof path, name);
  if (mkfifo(path, 0600) != 0 && errno != EEXIST) return -1;
  /* read-write: we are our own writer, so the FIFO never reports EOF between clients */
  return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

static void report_setup_error(const char *msg) {
  char line[1200];
  snprintf(line, sizeof line, "%s\n", msg);
  write_state_file("error", line);
}

static void write_exit(int code) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[64], json[160];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(json, sizeof json, "{\"exitCode\":%d,\"finishedAt\":\"%s.%09ldZ\"}\n", code, when, ts.tv_nsec);
  write_state_file("exit", json);
}

static void clear_state_files(void) {
  const char *names[] = {"pid", "error", "exit"};
  char path[4096];
  for (int i = 0; i < 3; i++) { state_path(path, sizeof path, names[i]); unlink(path); }
}

/* What the container child needs; verdict is its word back ('K' set up, 'E' failed). */
struct child_args {
  sigset_t old;
  int in, out, err, netns_fd, pty_sock;
  volatile char verdict;
};

static int container_child(void *p) {
  struct child_args *a = p;
  sigprocmask(SIG_SETMASK, &a->old, NULL);
  if (!o.tty) setsid(); /* with a tty, container_tty makes the session */
  if (a->in >= 0) dup2(a->in, 0);
  if (a->out >= 0) dup2(a->out, 1);
  if (a->err >= 0) dup2(a->err, 2);
  if (container_setup(a->netns_fd, a->pty_sock) != 0) {
    a->verdict = 'E'; /* setup_err holds why: our memory is the shim's */
    _exit(125);
  }
  a->verdict = 'K';
  exec_command(); /* an exec failure after this is the command's exit code, 126/127 */
  return 0;
}

/*
 * The container process, made as posix_spawn makes children: clone(CLONE_VM|CLONE_VFORK)
 * on a stack of its own. No page tables copied and no copy-on-write faults (a fork costs a
 * millisecond or two on a busy VM), and the kernel holds us until the child exec'd or died,
 * which is just when we may report its pid. The child writes only its own stack, the
 * verdict, setup_err and the command's environment (we never read ours again).
 */
static char child_stack[256 * 1024] __attribute__((aligned(16)));

static pid_t start_child(struct child_args *a) {
  a->verdict = 0;
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (o.pidns ? 0 : CLONE_NEWPID);
  return clone(container_child, child_stack + sizeof child_stack, flags, a);
}

/*
 * The kernel lets a vfork parent go on as soon as the child's exec dropped the old memory,
 * a moment before the new program's argv and environment are in place: until then
 * /proc/PID/environ reads empty (and `docker exec` takes its environment from there). The
 * command's environment always holds PATH, so wait, briefly, until there is something
 * (or the child is gone: a failed exec, 126/127). Asleep, not sched_yield: on a busy
 * machine a yield gives the CPU away for a whole time slice; the rest of an exec takes
 * some tens of microseconds.
 */
static void wait_until_exec_done(pid_t pid) {
  char path[64], byte;
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  for (int i = 0; i < 4000; i++) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, &byte, 1);
    close(fd);
    siginfo_t si = {0};
    if (n != 0 || (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)) return;
    usleep(20);
  }
}

/* --pidns PATH: our children are made in that namespace (we stay where we are). */
static int join_pidns(void) {
  if (!o.pidns || strcmp(o.pidns, "host") == 0) return 0;
  int fd = open(o.pidns, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWPID) != 0) {
    snprintf(setup_err, sizeof setup_err, "join pid namespace %s: %s", o.pidns, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

/* Fields 4 (ppid), 6 (session) and 22 (start, clock ticks since boot) of /proc/PID/stat;
   0 when it is gone or a zombie. */
static int live_ids(long pid, long *ppid, long *sid, unsigned long long *start) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')'), state;
  long pgrp;
  if (!p || sscanf(p + 1, " %c %ld %ld %ld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                    &state, ppid, &pgrp, sid, start) != 5) return 0;
  return state != 'Z' && state != 'X';
}

/*
 * In a pid namespace that is not its own (--pidns), nothing ends the container's other
 * processes when its init exits (Docker kills its cgroup): the shim does. They are our
 * children (we are their subreaper), or, inside another container's namespace (whose init
 * inherits them), members of the session the init began: that session's number stays
 * reserved while one member lives; once none does, init's pid may go to a stranger that
 * begins a session of its own, so only processes started before the sweep count. Orphans
 * of the killed become ours in turn: again until none is left.
 */
static unsigned long long boot_ticks(void) {
  struct timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now); /* /proc's start times count from boot, in ticks */
  unsigned long long hz = (unsigned long long)sysconf(_SC_CLK_TCK);
  return (unsigned long long)now.tv_sec * hz + (unsigned long long)now.tv_nsec / (1000000000ULL / hz);
}

static void sweep_leftovers(pid_t init) {
  long me = getpid();
  unsigned long long limit = boot_ticks();
  for (int round = 0; round < 2000; round++) {
    int found = 0, members = 0;
    unsigned long long scan = boot_ticks();
    DIR *d = opendir("/proc");
    if (!d) return;
    struct dirent *e;
    long ppid, sid;
    unsigned long long start;
    while ((e = readdir(d))) {
      long pid = atol(e->d_name);
      if (pid <= 0 || !live_ids(pid, &ppid, &sid, &start)) continue;
      if (ppid != me && (sid != (long)init || start > limit)) continue;
      kill((pid_t)pid, SIGKILL);
      found++;
      members += sid == (long)init;
    }
    /* a member lived through this scan: the session's number was still reserved when it began */
    if (members) limit = scan;
    closedir(d);
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    if (!found) return;
    usleep(1000);
  }
}

/*
 * The template mount namespace. Each container's unshare(CLONE_NEWNS) copies the mount
 * table it is made from, and the host's holds one netns mount per container: at 1,000
 * containers the copy and the detach of those mounts took ~6 ms of every start. The
 * spawner makes a namespace without them (a slave of the host's, so new shared mounts
 * still reach it) and keeps it; each spare enters it with setns, which copies nothing, and
 * containers are copied from that one. (Made afresh for every spare, as it once was, the
 * copy and detach were the spawner's CPU at 10,000 containers: ~9 ms per start at 5,000.)
 * host_pid is then the spawner, whose /proc/PID/root is the host's view: the netns file is
 * opened through it, and when any path the container uses looks different from here (a
 * mount the template missed), the shim goes back to the host's namespace, as before.
 */
static pid_t host_pid;

static void back_to_host(void);

/* The template is made by a short-lived child: the spawner itself never leaves the host's
   namespace, for a spare opens the host's paths through /proc/SPAWNER/root meanwhile. */
int berth_make_template(const char *netns_dir) {
  int ready[2], done[2], fd = -1;
  char ok = 0;
  if (pipe2(ready, O_CLOEXEC) != 0) return -1;
  if (pipe2(done, O_CLOEXEC) != 0) { close(ready[0]); close(ready[1]); return -1; }
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(done[1]); /* or its own read would never see the end */
    ok = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 && umount2(netns_dir, MNT_DETACH) == 0;
    if (write(ready[1], &ok, 1) == 1) (void)!read(done[0], &ok, 1); /* until the spawner holds the namespace */
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  if (pid > 0 && read(ready[0], &ok, 1) == 1 && ok) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC); /* a fork keeps it: the spares get it */
  }
  close(ready[0]);
  close(done[1]);
  if (pid > 0) waitpid(pid, NULL, 0);
  return fd;
}

static void enter_template(pid_t host, int template_fd) {
  if (template_fd < 0) return;
  if (setns(template_fd, CLONE_NEWNS) == 0) host_pid = host;
  close(template_fd);
}

static void back_to_host(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)host_pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNS) != 0) die("cannot return to the host's mount namespace: %s", strerror(errno));
  close(fd);
  host_pid = 0;
}

/* The path as the host sees it (through the spawner's root while in the template). */
static void host_path(char *buf, size_t len, const char *path) {
  if (host_pid) snprintf(buf, len, "/proc/%d/root%s", (int)host_pid, path);
  else snprintf(buf, len, "%s", path);
}

static int same_here(const char *path) {
  char there[8192];
  struct stat a, b;
  host_path(there, sizeof there, path);
  int ra = stat(path, &a), rb = stat(there, &b);
  if (ra != 0 || rb != 0) return ra == rb;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Everything the container is built from must look the same from the template. */
static void check_template(void) {
  if (!host_pid) return;
  int same = same_here(o.state_dir) && (!o.rootfs || same_here(o.rootfs));
  for (int i = 0; same && i < o.nbinds; i++) same = same_here(o.binds[i].src);
  if (!same) back_to_host();
}

void berth_shim_prepare(pid_t host, int template_fd) {
  enter_template(host, template_fd);
  memset(child_stack + sizeof child_stack - 65536, 0, 65536);
  memset(&o, 0, sizeof o.id * 16);
  memset(setup_err, 0, sizeof setup_err);
  free(malloc(256));
}

static int run_mode(void) {
  struct relay r = {.out = {-1, -1}, .in_src = -1, .in_dst = -1, .ctl = -1, .master = -1};
  char path[4096];
  check_template();
  clear_state_files();
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphans of the container are reaped here */
  signal(SIGPIPE, SIG_IGN);
  state_path(path, sizeof path, "log");
  r.log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (r.log_fd < 0) { report_setup_error("cannot open the log file"); return 1; }

  int child_in = -1, child_out = -1, child_err = -1, pty_sock[2] = {-1, -1}, pfd[2];
  if (o.tty) {
    /* the terminal is made inside, in the container's devpts; its master comes back here */
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pty_sock) != 0) { report_setup_error("cannot make the terminal socket"); return 1; }
  } else {
    if (pipe2(pfd, O_CLOEXEC) != 0) return 1;
    r.out[0] = pfd[0]; child_out = pfd[1];
    if (pipe2(pfd, O_CLOEXEC) != 0) return 1;
    r.out[1] = pfd[0]; child_err = pfd[1];
  }
  if (o.interactive) {
    r.in_src = open_fifo("stdin");
    if (r.in_src < 0) { report_setup_error("cannot make the stdin FIFO"); return 1; }
    if (!o.tty) {
      if (pipe2(pfd, O_CLOEXEC) != 0) return 1;
      child_in = pfd[0]; r.in_dst = pfd[1];
    }
  }
  if (!o.interactive && !o.tty) child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  r.ctl = open_fifo("ctl");

  int netns_fd = -1;
  char netns_path[4200];
  if (o.netns) host_path(netns_path, sizeof netns_path, o.netns);
  if (o.netns && (netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC)) < 0) {
    snprintf(setup_err, sizeof setup_err, "open network namespace %s: %s", o.netns, strerror(errno));
    report_setup_error(setup_err);
    return 1;
  }
  if (join_pidns() != 0) { report_setup_error(setup_err); return 1; }
  sigset_t old;
  r.sig = make_sigfd(&old);
  struct child_args a = {.old = old, .in = child_in, .out = child_out, .err = child_err, .netns_fd = netns_fd, .pty_sock = pty_sock[1]};

  pid_t pid = start_child(&a);
  if (pid < 0) {
    /* EAGAIN: the host's tasks are at kernel.pid_max or threads-max (or a pids cgroup's max) */
    snprintf(setup_err, sizeof setup_err, "fork failed: %s", strerror(errno));
    report_setup_error(setup_err);
    return 1;
  }
  /* we resume once the child exec'd (or died): /proc/PID is the command itself (its
     environ, its exe), as `docker exec` right after `start` expects */
  r.child = pid;
  if (pty_sock[1] >= 0) close(pty_sock[1]);
  if (child_in >= 0) close(child_in);
  if (child_out >= 0) close(child_out);
  if (child_err >= 0) close(child_err);
  if (netns_fd >= 0) close(netns_fd);
  if (a.verdict != 'K') {
    report_setup_error(a.verdict == 'E' ? setup_err : "container process died during set-up");
    waitpid(pid, NULL, 0);
    return 1;
  }
  wait_until_exec_done(pid);
  if (o.tty) {
    r.out[0] = r.master = berth_recv_fd(pty_sock[0]);
    if (r.master < 0) { kill(pid, SIGKILL); report_setup_error("the container's terminal did not arrive"); waitpid(pid, NULL, 0); return 1; }
    if (o.interactive) r.in_dst = r.master;
    close(pty_sock[0]);
  }
  char pidtext[32];
  snprintf(pidtext, sizeof pidtext, "%d\n", pid);
  write_state_file("pid", pidtext);

  set_nonblock(r.out[0]);
  if (r.out[1] >= 0) set_nonblock(r.out[1]);
  if (r.in_dst >= 0) set_nonblock(r.in_dst);
  relay_loop(&r);
  if (o.pidns) sweep_leftovers(pid);
  write_exit(exit_code_of(r.status));
  return 0;
}

/* ---- join mode (exec) ------------------------------------------------------------- */

static int open_ns(const char *what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", o.join_pid, what);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("cannot open %s (is the container running?): %s", path, strerror(errno));
  return fd;
}

/* Net, uts, ipc, mount namespaces and the root of the target; then its (or the given) cwd. */
static void join_container(int ns[4], int root, int cwd) {
  static const int types[4] = {CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS};
  for (int i = 0; i < 4; i++)
    if (setns(ns[i], types[i]) != 0) die("setns: %s", strerror(errno));
  /* setns put us at the namespace's root, which pivot_root made the container's; the
     chroot matters for a container started (chrooted) by a berth before that */
  if (fchdir(root) != 0 || chroot(".") != 0) die("enter container root: %s", strerror(errno));
  if (o.workdir) {
    if (chdir(o.workdir) != 0) die("chdir to %s: %s", o.workdir, strerror(errno));
  } else if (fchdir(cwd) != 0 && chdir("/") != 0) {
    die("chdir /: %s", strerror(errno));
  }
}

/* Our children are made in the target's pid namespace from now on; 1 when it is not ours
   (a process cannot move itself into a pid namespace: the command must be forked). */
static int enter_target_pidns(void) {
  int fd = open_ns("ns/pid");
  struct stat theirs, ours;
  if (fstat(fd, &theirs) != 0 || stat("/proc/self/ns/pid", &ours) != 0) die("stat pid namespace: %s", strerror(errno));
  int other = theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev;
  if (other && setns(fd, CLONE_NEWPID) != 0) die("join pid namespace: %s", strerror(errno));
  close(fd);
  return other;
}

static int join_mode(void) {
  int ns[4] = {open_ns("ns/net"), open_ns("ns/uts"), open_ns("ns/ipc"), open_ns("ns/mnt")};
  int root = open_ns("root"), cwd = open_ns("cwd");
  int must_fork = enter_target_pidns();
  if (!o.tty && !must_fork) {
    join_container(ns, root, cwd);
    if (lock_down() != 0) die("%s", setup_err);
    exec_command();
  }
  /* without a tty we only wait and pass signals on: the command has our stdio */
  struct relay r = {.out = {-1, -1}, .log_fd = -1, .in_src = -1, .in_dst = -1, .ctl = -1, .master = -1};
  int slave = -1;
  signal(SIGPIPE, SIG_IGN);
  if (o.tty) {
    r.master = open_pty(o.join_pid, &slave);
    if (r.master < 0) die("cannot allocate a pseudo-terminal");
    r.out[0] = r.in_dst = r.master;
    r.in_src = 0;
    r.ctl = fcntl(3, F_GETFD) < 0 ? -1 : 3;
  }
  sigset_t old;
  r.sig = make_sigfd(&old);
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (o.tty) take_tty(slave, 1);
    if (r.ctl >= 0) close(r.ctl);
    join_container(ns, root, cwd);
    if (lock_down() != 0) die("%s", setup_err);
    exec_command();
  }
  r.child = pid;
  if (o.tty) {
    close(slave);
    set_nonblock(r.master);
    set_nonblock(0);
    if (r.ctl >= 0) set_nonblock(r.ctl);
  }
  relay_loop(&r);
  return exit_code_of(r.status);
}

/* Also the entry point of a shim forked inside berth-spawner (see berth-shim.h). */
int berth_shim_main(int argc, char **argv) {
  parse_args(argc, argv);
  return o.join_pid ? join_mode() : run_mode();
}

#ifndef BERTH_SHIM_EMBEDDED
int main(int argc, char **argv) { return berth_shim_main(argc, argv); }
#endif
