// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* apps.c: the controller's applications: the built-in ones chosen by
 * options (policy, dlp, acl) and shared objects loaded with --app, each a
 * struct sf_app (sysflow/controller.h). Every callback goes to every app in
 * load order; apps see each other's messages only as the hosts do.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "core/core.h"
#include "ctrl_int.h"

static int app_add(struct sf_ctrl *c, const struct sf_app *app,
		   const char *args, void *dl)
{
	void *st;

	if (c->n_apps == MAX_APPS) {
		pr_err("too many applications (at most %d)\n", MAX_APPS);
		return -E2BIG;
	}
	st = app->init ? app->init(c, &sf_ctrl_api, args) : (void *)app;
	if (!st) {
		pr_err("application %s did not start\n", app->name);
		return -EINVAL;
	}
	c->apps[c->n_apps++] = (struct loaded_app){ app, st, dl };
	pr_info("application %s started\n", app->name);
	return 0;
}

static int load_shared(struct sf_ctrl *c, const char *path)
{
	const struct sf_app *app;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int err;

	if (!dl) { /* dlerror() starts with the path itself */
		pr_err("cannot load application %s\n", dlerror());
		return -ENOENT;
	}
	app = dlsym(dl, SF_APP_SYMBOL);
	if (!app || !app->name) {
		pr_err("%s has no 'const struct sf_app %s'; see "
		       "docs/extending.md\n",
		       path, SF_APP_SYMBOL);
		dlclose(dl);
		return -EINVAL;
	}
	err = app_add(c, app, c->o->app_args, dl);
	if (err)
		dlclose(dl);
	return err;
}

/* The dlp app's args: "PATH", or "PATH,encode" for dlp_action "encode". */
static int add_dlp(struct sf_ctrl *c, const char *file, const char *action)
{
	char args[PATH_MAX + 16];

	if (action && strcmp(action, "isolate") && strcmp(action, "encode")) {
		pr_err("dlp action '%s': expected isolate or encode\n", action);
		return -EINVAL;
	}
	snprintf(args, sizeof(args), "%s%s", file,
		 action && !strcmp(action, "encode") ? ",encode" : "");
	return app_add(c, &sf_app_dlp, args, NULL);
}

int apps_load(struct sf_ctrl *c)
{
	const struct sf_ctrl_opts *o = c->o;
	int err = 0;

	if (o->policy_file)
		err = app_add(c, &sf_app_policy, o->policy_file, NULL);
	if (!err && o->dlp_file)
		err = add_dlp(c, o->dlp_file, o->dlp_action);
	if (!err && o->acl_file)
		err = app_add(c, &sf_app_acl, o->acl_file, NULL);
	for (int i = 0; !err && i < o->n_app_paths; i++)
		err = load_shared(c, o->app_paths[i]);
	return err;
}

void apps_unload(struct sf_ctrl *c)
{
	for (int i = c->n_apps - 1; i >= 0; i--) {
		struct loaded_app *a = &c->apps[i];

		if (a->app->fini && a->app->init)
			a->app->fini(a->state);
		if (a->dl)
			dlclose(a->dl);
	}
	c->n_apps = 0;
}

#define EACH_APP(cb, ...)                   \
	for (int i = 0; i < c->n_apps; i++) \
		if (c->apps[i].app->cb)     \
	c->apps[i].app->cb(c->apps[i].state, ##__VA_ARGS__)

void apps_connect(struct sf_ctrl *c, struct sf_host *h)
{
	EACH_APP(on_connect, h);
}

void apps_message(struct sf_ctrl *c, struct sf_host *h, const struct sfp_msg *m)
{
	EACH_APP(on_message, h, m);
}

void apps_message_out(struct sf_ctrl *c, struct sf_host *h,
		      const struct sfp_msg *m)
{
	EACH_APP(on_message_out, h, m);
}

void apps_disconnect(struct sf_ctrl *c, struct sf_host *h)
{
	EACH_APP(on_disconnect, h);
}

void apps_timer(struct sf_ctrl *c, uint64_t now_ms)
{
	EACH_APP(on_timer, now_ms);
}

void apps_reload(struct sf_ctrl *c)
{
	EACH_APP(on_reload);
}
