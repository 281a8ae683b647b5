/*
 * test_hook.c - the external program runner: success, exit status and the
 * last stderr line, the exact environment, a program that hangs (killed at
 * the deadline, with its children), a missing program, a relative path,
 * and the descriptor race between hooks run at once by different threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

static char dir[] = "/tmp/vrms2fa-hook-test-XXXXXX";

static void write_script(char const *name, char const *body, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_success(void **state)
{
	char path[256];
	char const *argv[] = { path, NULL };
	char const *envp[] = { "PATH=/usr/bin:/bin", NULL };
	hook_result_t r;

	(void)state;
	write_script("ok.sh", "exit 0", path, sizeof(path));
	assert_int_equal(hook_run(argv, envp, 5000, &r), 0);
	assert_int_equal(r.exit_status, 0);
	assert_false(r.timed_out);
}

static void test_failure_message(void **state)
{
	char path[256];
	char const *argv[] = { path, NULL };
	char const *envp[] = { NULL };
	hook_result_t r;

	(void)state;
	write_script("fail.sh", "echo first line >&2\necho 'cannot connect: refused' >&2\nexit 3", path, sizeof(path));
	assert_int_equal(hook_run(argv, envp, 5000, &r), -1);
	assert_int_equal(r.exit_status, 3);
	assert_string_equal(r.message, "cannot connect: refused");
}

static void test_environment_and_args(void **state)
{
	char path[256], out[256], cmd[512], line[512];
	char const *argv[] = { path, out, NULL };
	char const *envp[] = { "VRMS2FA_LOGIN=alice", "VRMS2FA_CODE=123456", NULL };
	hook_result_t r;
	FILE *f;

	(void)state;
	snprintf(out, sizeof(out), "%s/env.out", dir);
	write_script("env.sh", "env > \"$1\"", path, sizeof(path));
	assert_int_equal(hook_run(argv, envp, 5000, &r), 0);
	snprintf(cmd, sizeof(cmd), "grep -c . %s", out);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	/* only what we passed, plus what /bin/sh itself adds (PWD, SHLVL, _) */
	f = fopen(out, "r");
	assert_non_null(f);
	{
		int login = 0, code = 0, home = 0;
		while (fgets(line, sizeof(line), f)) {
			if (strcmp(line, "VRMS2FA_LOGIN=alice\n") == 0) login = 1;
			if (strcmp(line, "VRMS2FA_CODE=123456\n") == 0) code = 1;
			if (strncmp(line, "HOME=", 5) == 0) home = 1;
		}
		fclose(f);
		assert_true(login);
		assert_true(code);
		assert_false(home);	/* nothing of our environment leaks in */
	}
}

static void test_timeout_kills(void **state)
{
	char path[256], pidfile[256], body[512];
	char const *argv[] = { path, NULL };
	char const *envp[] = { "PATH=/usr/bin:/bin", NULL };
	hook_result_t r;
	long long t0, elapsed;
	FILE *f;
	int pid = 0;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/sleeper.pid", dir);
	snprintf(body, sizeof(body), "echo $$ > %s\nexec sleep 30", pidfile);
	write_script("hang.sh", body, path, sizeof(path));
	t0 = ms_now();
	assert_int_equal(hook_run(argv, envp, 300, &r), -1);
	elapsed = ms_now() - t0;
	assert_true(r.timed_out);
	assert_true(elapsed >= 280 && elapsed < 2000);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	usleep(100000);
	{
		/* the hung program is gone: no process, or a zombie waiting for init */
		char stat_path[64], st[256] = "";
		FILE *sf;

		snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", pid);
		sf = fopen(stat_path, "r");
		if (sf) {
			char *close_paren;

			assert_non_null(fgets(st, sizeof(st), sf));
			fclose(sf);
			close_paren = strrchr(st, ')');
			assert_non_null(close_paren);
			assert_int_equal(close_paren[2], 'Z');
		}
	}
}

static void test_missing_and_relative(void **state)
{
	char const *missing[] = { "/nonexistent/vrms2fa-hook", NULL };
	char const *relative[] = { "hook.sh", NULL };
	char const *envp[] = { NULL };
	hook_result_t r;

	(void)state;
	assert_int_equal(hook_run(missing, envp, 2000, &r), -1);
	assert_int_equal(r.exit_status, 127);
	assert_non_null(strstr(r.message, "cannot execute"));
	assert_int_equal(hook_run(relative, envp, 2000, &r), -1);
	assert_int_equal(r.exit_status, -1);
}

static void test_gate(void **state)
{
	hook_gate_t gate;

	(void)state;
	hook_gate_init(&gate, 2);
	assert_true(hook_gate_enter(&gate));
	assert_true(hook_gate_enter(&gate));
	assert_false(hook_gate_enter(&gate));	/* the third waits for nobody: refused at once */
	hook_gate_leave(&gate);
	assert_true(hook_gate_enter(&gate));
	hook_gate_leave(&gate);
	hook_gate_leave(&gate);
	assert_int_equal(atomic_load(&gate.running), 0);
}

/*
 * The race between concurrent hooks (issue 21, item 1).  Thread A makes its
 * status pipe and forks; thread B forks in between and its intermediate
 * process inherits A's write end.  If B's intermediate keeps it open while
 * B's hook runs, A never sees end-of-file and reports its quick hook as
 * "did not finish" although it exited 0 long before.  The window is A's
 * fork (copy_files runs before copy_mm, so B's fork takes A's descriptors
 * and then waits for A to finish copying the memory), which a large
 * resident set widens: as in radiusd, whose RSS is hundreds of MB.
 *
 * One thread runs /bin/true hooks (deadline 2 s) for 3 s, beside 16 threads
 * running `sleep 30` hooks, killed at their 3 s deadline; all start at
 * once (a burst of logins from new addresses), so that the first quick
 * hook's fork meets 16 others.  A leaked write end holds a quick hook until
 * the slow hook that took it is killed, about 3 s: well past the quick
 * hook's 2 s, whereas a quick hook takes tens of ms (a few hundred under
 * AddressSanitizer on a loaded machine), so a slow machine alone does not
 * make it time out.  Under AddressSanitizer a fork costs several times more
 * and 16 of them queue behind each other (a fork holds the memory map's
 * lock), so the defaults there are 64 MB and 8 slow threads: the sanitized
 * run looks for memory errors, the plain one for the race.
 *
 * Parameters from the environment, for longer runs:
 *   VRMS2FA_HOOK_RACE_RUNS     quick hooks to run (default: as many as fit in
 *                              VRMS2FA_HOOK_RACE_SECONDS, default 3)
 *   VRMS2FA_HOOK_RACE_MB       resident ballast in MB (default 256; 64 sanitized)
 *   VRMS2FA_HOOK_RACE_SLOW     threads running slow hooks (default 16; 8 sanitized)
 *   VRMS2FA_HOOK_RACE_SLEEP    the slow hook's `sleep` argument (default 30)
 *   VRMS2FA_HOOK_RACE_SLOW_MS  the slow hook's deadline (default 3000)
 *   VRMS2FA_HOOK_RACE_QUICK_MS the quick hook's deadline (default 2000)
 * The case: VRMS2FA_HOOK_RACE_RUNS=2000 VRMS2FA_HOOK_RACE_MB=300
 * VRMS2FA_HOOK_RACE_SLOW=8 VRMS2FA_HOOK_RACE_SLEEP=1.5
 * VRMS2FA_HOOK_RACE_SLOW_MS=10000 VRMS2FA_HOOK_RACE_QUICK_MS=1000.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RACE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RACE_SANITIZED 1
#endif
#endif
#ifdef RACE_SANITIZED
#define RACE_DEFAULT_MB		64
#define RACE_DEFAULT_SLOW	8
#else
#define RACE_DEFAULT_MB		256
#define RACE_DEFAULT_SLOW	16
#endif

typedef struct {
	atomic_bool	stop;
	atomic_uint	slow_runs;
	char const	*sleep_arg;
	unsigned	slow_ms;
	pthread_barrier_t start;	/* the slow threads and the quick one start together */
} race_t;

static void *slow_loop(void *arg)
{
	race_t *race = arg;
	char const *argv[] = { "/bin/sleep", race->sleep_arg, NULL };
	char const *envp[] = { NULL };
	hook_result_t r;

	(void)pthread_barrier_wait(&race->start);
	while (!atomic_load(&race->stop)) {
		(void)hook_run(argv, envp, race->slow_ms, &r);	/* killed at its deadline, or done */
		atomic_fetch_add(&race->slow_runs, 1);
	}
	return NULL;
}

static unsigned env_number(char const *name, unsigned dflt)
{
	char const *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static void test_concurrent_pipe_race(void **state)
{
	unsigned runs = env_number("VRMS2FA_HOOK_RACE_RUNS", 0);
	unsigned seconds = env_number("VRMS2FA_HOOK_RACE_SECONDS", 3);
	unsigned mb = env_number("VRMS2FA_HOOK_RACE_MB", RACE_DEFAULT_MB);
	unsigned nslow = env_number("VRMS2FA_HOOK_RACE_SLOW", RACE_DEFAULT_SLOW);
	unsigned quick_ms = env_number("VRMS2FA_HOOK_RACE_QUICK_MS", 2000);
	char const *sleep_arg = getenv("VRMS2FA_HOOK_RACE_SLEEP");
	char const *argv[] = { "/bin/true", NULL };
	char const *envp[] = { NULL };
	size_t ballast_len;
	unsigned done = 0, timeouts = 0, failures = 0;
	long long longest = 0;
	pthread_t slow[64];
	race_t race;
	long long end;
	char *ballast;
	unsigned i;

	(void)state;
	if (nslow > 64) nslow = 64;
	if (mb == 0) mb = 1;
	ballast_len = (size_t)mb << 20;
	ballast = mmap(NULL, ballast_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ballast != MAP_FAILED);
	memset(ballast, 0x5a, ballast_len);		/* resident, not just reserved */

	atomic_init(&race.stop, false);
	atomic_init(&race.slow_runs, 0);
	race.sleep_arg = sleep_arg && *sleep_arg ? sleep_arg : "30";
	race.slow_ms = env_number("VRMS2FA_HOOK_RACE_SLOW_MS", 3000);
	assert_int_equal(pthread_barrier_init(&race.start, NULL, nslow + 1), 0);
	for (i = 0; i < nslow; i++) assert_int_equal(pthread_create(&slow[i], NULL, slow_loop, &race), 0);
	(void)pthread_barrier_wait(&race.start);

	end = ms_now() + (long long)seconds * 1000;
	while (runs ? done < runs : ms_now() < end) {
		long long t0 = ms_now(), took;
		hook_result_t r;

		if (hook_run(argv, envp, quick_ms, &r) != 0) {
			failures++;
			if (r.timed_out) timeouts++;
		}
		took = ms_now() - t0;
		if (took > longest) longest = took;
		done++;
	}
	atomic_store(&race.stop, true);
	for (i = 0; i < nslow; i++) assert_int_equal(pthread_join(slow[i], NULL), 0);
	assert_int_equal(pthread_barrier_destroy(&race.start), 0);
	assert_int_equal(munmap(ballast, ballast_len), 0);

	print_message("pipe race: %u quick hooks (deadline %u ms) beside %u slow threads (%u slow hooks), %u MB: "
		      "%u false timeouts, %u other failures; longest quick hook %lld ms\n",
		      done, quick_ms, nslow, atomic_load(&race.slow_runs), mb, timeouts, failures - timeouts, longest);
	assert_true(done > 0);
	assert_int_equal(timeouts, 0);
	assert_int_equal(failures, 0);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_failure_message),
		cmocka_unit_test(test_environment_and_args),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_missing_and_relative),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_concurrent_pipe_race),
	};
	return cmocka_run_group_tests_name("hook", tests, setup, teardown);
}
