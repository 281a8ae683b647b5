/*
 * hook.h - run an external program (the email hook) without a shell, with
 * exactly the environment given, and wait for it at most a given time.
 *
 * radiusd reaps children from its own threads, which can steal a child's
 * exit status (and its exec helper stalls up to 10 s under load).  So the
 * program runs as a grandchild: an intermediate process waits for it and
 * writes its exit status into a pipe, which this side reads with a
 * deadline.  On timeout the whole process group is killed.
 */
#ifndef VRMS2FA_HOOK_H
#define VRMS2FA_HOOK_H

#include <stdatomic.h>
#include <stdbool.h>

#define HOOK_MESSAGE_MAX 256

typedef struct {
	bool	timed_out;
	int	exit_status;			/* 0 success; -1 killed, timed out or not started */
	char	message[HOOK_MESSAGE_MAX];	/* the last line the program wrote on stderr, printable ASCII */
} hook_result_t;

/*
 * A limit on the hooks running at once, so that a mail server that hangs
 * can hold at most 'max' of radiusd's worker threads (each for at most the
 * hook's timeout); beyond it a send fails at once.  Owned by the module
 * instance, shared by its threads.
 */
typedef struct {
	unsigned	max;
	atomic_uint	running;
} hook_gate_t;

void hook_gate_init(hook_gate_t *gate, unsigned max);
bool hook_gate_enter(hook_gate_t *gate);	/* false: 'max' hooks are running already */
void hook_gate_leave(hook_gate_t *gate);

/*
 * argv[0] must be an absolute path.  Returns 0 when the program ran and
 * exited 0; -1 otherwise (res says why).
 */
int hook_run(char const *const argv[], char const *const envp[], unsigned timeout_ms, hook_result_t *res);

#endif
