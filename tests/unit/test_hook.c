/*
 * test_hook.c - the external program runner: success, exit status and the
 * last stderr line, the exact environment, a program that hangs (killed at
 * the deadline, with its children), a missing program, a relative path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	};
	return cmocka_run_group_tests_name("hook", tests, setup, teardown);
}
