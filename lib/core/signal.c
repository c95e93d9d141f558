// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* signal.c: SIGINT/SIGTERM set sf_exiting so loops end cleanly and flush;
 * a command may add SIGALRM and a hook that stops what sf_exiting cannot.
 */
#include <errno.h>
#include <string.h>
#include "core.h"

volatile sig_atomic_t sf_exiting;
static void (*volatile exit_hook)(void);

static void on_exit_signal(int sig)
{
	void (*hook)(void) = exit_hook;

	(void)sig;
	sf_exiting = 1;
	if (hook)
		hook();
}

int sf_signals_install_hook(void (*hook)(void), bool alarm_too)
{
	struct sigaction sa;

	exit_hook = hook;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_exit_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    (alarm_too && sigaction(SIGALRM, &sa, NULL)))
		return -errno;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL) ? -errno : 0;
}

int sf_signals_install(void)
{
	return sf_signals_install_hook(NULL, false);
}
