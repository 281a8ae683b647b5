/*
 * hook.c - the double-fork runner of external programs (see hook.h).
 * Between fork and exec only async-signal-safe calls are made.
 *
 * Descriptors: radiusd's threads run hooks at once, and a fork taken by one
 * thread copies every descriptor another thread has open at that moment,
 * including the write end of that thread's status pipe between its pipe2()
 * and its close().  O_CLOEXEC drops it at exec, but the intermediate process
 * never execs and lives as long as its own hook: so it closes at once every
 * descriptor but its own write end, or the other thread would wait for an
 * end-of-file that comes only when this hook ends.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE			/* close_range, pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

#define HOOK_OUTPUT_MAX 4096
#define STATUS_MARK "\n#vrms2fa-hook-status "

/* Async-signal-safe: write a decimal number. */
static void write_number(int fd, int n)
{
	char buf[16];
	size_t i = sizeof(buf);
	unsigned u = n < 0 ? (unsigned)-n : (unsigned)n;

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i > 1);
	if (n < 0) buf[--i] = '-';
	(void)!write(fd, buf + i, sizeof(buf) - i);
}

/*
 * Async-signal-safe: close every descriptor from 'first' to 'last'
 * (inclusive).  close_range(2) (Linux 5.9) in one call; on an older kernel
 * (ENOSYS) one close() per number up to 'fd_limit', the process's
 * RLIMIT_NOFILE taken before the fork.
 */
static void close_fds(unsigned first, unsigned last, unsigned fd_limit)
{
	unsigned fd;

	if (first > last) return;
	if (close_range(first, last, 0) == 0) return;
	if (last >= fd_limit) last = fd_limit - 1;
	for (fd = first; fd <= last; fd++) (void)close((int)fd);
}

static void __attribute__((noreturn)) run_grandchild(char const *const argv[], char const *const envp[], int errfd,
						     unsigned fd_limit)
{
	int devnull = open("/dev/null", O_RDWR);
	static char const msg[] = "cannot execute the hook program (errno ";

	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errfd, 2) < 0) _exit(126);
	close_fds(3, ~0U, fd_limit);
	execve(argv[0], (char *const *)(uintptr_t)argv, (char *const *)(uintptr_t)envp);
	{
		int e = errno;
		(void)!write(2, msg, sizeof(msg) - 1);
		write_number(2, e);
		(void)!write(2, ")\n", 2);
	}
	_exit(127);
}

/*
 * The intermediate process: first of all drops every descriptor it copied
 * from radiusd but its own write end (see the top of this file), standard
 * ones included (the grandchild gets /dev/null and the pipe); then runs the
 * program as its child, waits for it and writes its exit status.
 */
static void __attribute__((noreturn)) run_intermediate(char const *const argv[], char const *const envp[], int writefd,
						       unsigned fd_limit)
{
	pid_t pid;
	int status = 0, code;

	if (writefd < 3) {			/* keep 0-2 free for the grandchild's dup2s */
		int moved = fcntl(writefd, F_DUPFD, 3);

		if (moved < 0) _exit(123);
		writefd = moved;
	}
	close_fds(0, (unsigned)writefd - 1, fd_limit);
	close_fds((unsigned)writefd + 1, ~0U, fd_limit);
	(void)setpgid(0, 0);
	pid = fork();
	if (pid < 0) _exit(125);
	if (pid == 0) run_grandchild(argv, envp, writefd, fd_limit);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) _exit(124);
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	(void)!write(writefd, STATUS_MARK, sizeof(STATUS_MARK) - 1);
	write_number(writefd, code);
	(void)!write(writefd, "\n", 1);
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last non-empty line before the status mark, made printable. */
static void last_line(char const *out, size_t len, char *msg, size_t msglen)
{
	size_t end = len, start;
	size_t i, j = 0;

	while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == '\r')) end--;
	start = end;
	while (start > 0 && out[start - 1] != '\n') start--;
	for (i = start; i < end && j + 1 < msglen; i++) {
		unsigned char c = (unsigned char)out[i];
		msg[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	msg[j] = '\0';
}

void hook_gate_init(hook_gate_t *gate, unsigned max)
{
	gate->max = max;
	atomic_init(&gate->running, 0);
}

bool hook_gate_enter(hook_gate_t *gate)
{
	unsigned now = atomic_load(&gate->running);

	do {
		if (now >= gate->max) return false;
	} while (!atomic_compare_exchange_weak(&gate->running, &now, now + 1));
	return true;
}

void hook_gate_leave(hook_gate_t *gate)
{
	atomic_fetch_sub(&gate->running, 1);
}

int hook_run(char const *const argv[], char const *const envp[], unsigned timeout_ms, hook_result_t *res)
{
	char out[HOOK_OUTPUT_MAX + 1];
	size_t used = 0;
	long long deadline;
	struct rlimit nofile;
	unsigned fd_limit;
	int fds[2];
	pid_t pid;
	char *mark;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (!argv || !argv[0] || argv[0][0] != '/') {
		snprintf(res->message, sizeof(res->message), "the hook must be an absolute path");
		return -1;
	}
	if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
		snprintf(res->message, sizeof(res->message), "getrlimit: %s", strerror(errno));
		return -1;
	}
	fd_limit = (nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > 1048576) ? 1048576 : (unsigned)nofile.rlim_cur;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(res->message, sizeof(res->message), "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(res->message, sizeof(res->message), "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) run_intermediate(argv, envp, fds[1], fd_limit);
	/*
	 * Its own process group, set from both sides: whichever runs first,
	 * the group exists before the kill(-pid) of a timeout.  (It fails
	 * only when the child has exited and been reaped already.)
	 */
	(void)setpgid(pid, pid);
	close(fds[1]);

	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left <= 0) {
			res->timed_out = true;
			break;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR) continue;
		if (rc < 0) break;
		if (rc == 0) {
			res->timed_out = true;
			break;
		}
		if (used == HOOK_OUTPUT_MAX) {		/* keep the tail: the status comes last */
			memmove(out, out + HOOK_OUTPUT_MAX / 2, HOOK_OUTPUT_MAX / 2);
			used = HOOK_OUTPUT_MAX / 2;
		}
		n = read(fds[0], out + used, HOOK_OUTPUT_MAX - used);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		used += (size_t)n;
	}
	close(fds[0]);
	out[used] = '\0';

	if (res->timed_out) (void)kill(-pid, SIGKILL);
	/* radiusd's reaper may have taken it already (ECHILD): either way it is gone. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}

	mark = NULL;
	for (char *p = out; (p = strstr(p, STATUS_MARK)); p++) mark = p;
	if (mark && !res->timed_out) {
		res->exit_status = (int)strtol(mark + strlen(STATUS_MARK), NULL, 10);
		used = (size_t)(mark - out);
	}
	last_line(out, used, res->message, sizeof(res->message));
	if (res->timed_out) {
		snprintf(res->message, sizeof(res->message), "the hook did not finish within %u ms", timeout_ms);
	} else if (res->exit_status < 0 && res->message[0] == '\0') {
		snprintf(res->message, sizeof(res->message), "the hook ended without a status");
	}
	return res->exit_status == 0 ? 0 : -1;
}
