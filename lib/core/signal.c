// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* signal.c: SIGINT/SIGTERM set sf_exiting so loops end cleanly and flush. */
#include <errno.h>
#include <string.h>
#include "core.h"

volatile sig_atomic_t sf_exiting;

static void on_exit_signal(int sig)
{
	(void)sig;
	sf_exiting = 1;
}

int sf_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_exit_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;
	return 0;
}
