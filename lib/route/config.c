// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* config.c: load and validate the policy router's JSON configuration
 * (schema in docs/route.md): the document, hooks and tenants; rules are in
 * config_rule.c. jansson parses; every error names the file, the line and
 * column (jpos.c) and the field, e.g.
 *   route.json:14:7: rules[2].dst: bad prefix '10.0.0.0/33' ...
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <jansson.h>
#include "core/core.h"
#include "config_int.h"

/* ---- errors ---- */

int cfg_fail(struct loader *ld, const char *field, const char *fmt, ...)
{
	struct sf_route_error *e = ld->err;
	char path[sizeof(e->field)], *cut;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s", field);
	e->line = e->column = 0;
	while (jpos_find(&ld->jp, path, &e->line, &e->column)) {
		cut = strrchr(path, '.');
		if (!cut || strrchr(path, '[') > cut)
			cut = strrchr(path, '[');
		if (!cut) {
			if (!*path)
				break;
			cut = path;
		}
		*cut = 0;
	}
	pr_err("%s:%d:%d: %s: %s\n", e->file, e->line, e->column,
	       *field ? field : "(top level)", e->msg);
	return -EINVAL;
}

/* ---- field access ---- */

void cfg_path(char *out, size_t len, const char *parent, const char *key)
{
	snprintf(out, len, "%s%s%s", parent, *parent ? "." : "", key);
}

/* Unknown members are errors: a typo must not silently widen a rule. */
int cfg_check_keys(struct loader *ld, json_t *obj, const char *path,
		   const char *const *allowed)
{
	const char *key;
	json_t *v;
	char field[96];

	json_object_foreach(obj, key, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (!allowed[i] && strcmp(key, "comment")) {
			cfg_path(field, sizeof(field), path, key);
			return cfg_fail(ld, field, "unknown field '%s'", key);
		}
	}
	return 0;
}

/* A string member; *out stays NULL when absent and not required. */
int cfg_get_str(struct loader *ld, json_t *obj, const char *path,
		const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	char field[96];

	*out = NULL;
	cfg_path(field, sizeof(field), path, key);
	if (!v) {
		if (required)
			return cfg_fail(ld, path, "missing field '%s'", key);
		return 0;
	}
	if (!json_is_string(v) || !*json_string_value(v))
		return cfg_fail(ld, field, "expected a non-empty string");
	*out = json_string_value(v);
	return 0;
}

int cfg_get_name(struct loader *ld, json_t *obj, const char *path,
		 const char *key, bool required, char *out, size_t len)
{
	const char *s;
	char field[96];
	int err = cfg_get_str(ld, obj, path, key, required, &s);

	if (err || !s)
		return err;
	cfg_path(field, sizeof(field), path, key);
	if (strlen(s) >= len)
		return cfg_fail(ld, field, "'%s' is longer than %zu characters",
				s, len - 1);
	strcpy(out, s);
	return 0;
}

json_t *cfg_get_array(struct loader *ld, json_t *obj, const char *path,
		      const char *key, int *err)
{
	json_t *v = json_object_get(obj, key);
	char field[96];

	*err = 0;
	if (v && !json_is_array(v)) {
		cfg_path(field, sizeof(field), path, key);
		*err = cfg_fail(ld, field, "expected an array");
		return NULL;
	}
	return v;
}

int cfg_get_object(struct loader *ld, json_t *v, const char *path)
{
	return json_is_object(v) ? 0 : cfg_fail(ld, path, "expected an object");
}

/* An interface name that must exist (unless SF_ROUTE_NO_IFACES). */
int cfg_get_iface(struct loader *ld, const char *field, const char *name,
		  char out[IF_NAMESIZE], int *ifindex)
{
	if (strlen(name) >= IF_NAMESIZE)
		return cfg_fail(ld, field, "interface name '%s' is too long",
				name);
	strcpy(out, name);
	*ifindex = 0;
	if (ld->flags & SF_ROUTE_NO_IFACES)
		return 0;
	*ifindex = if_nametoindex(name);
	if (!*ifindex)
		return cfg_fail(ld, field,
				"unknown interface '%s' (see 'ip link "
				"show' in this network namespace)",
				name);
	return 0;
}

int cfg_parse_mac(struct loader *ld, const char *path, const char *key,
		  const char *s, uint8_t mac[6])
{
	char field[96];

	if (!s)
		return 0;
	cfg_path(field, sizeof(field), path, key);
	if (rt_parse_mac(s, mac))
		return cfg_fail(ld, field,
				"bad MAC address '%s' (six hex pairs "
				"separated by ':')",
				s);
	return 0;
}

int cfg_iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

const struct rt_device *cfg_find_device(const struct sf_route_config *cfg,
					const char *name)
{
	for (int t = 0; t < cfg->ntenants; t++)
		for (int i = 0; i < cfg->tenants[t].ndevices; i++)
			if (!strcmp(cfg->tenants[t].devices[i].name, name))
				return &cfg->tenants[t].devices[i];
	return NULL;
}

const struct rt_subnet *cfg_find_subnet(const struct sf_route_config *cfg,
					const char *name)
{
	for (int t = 0; t < cfg->ntenants; t++)
		for (int i = 0; i < cfg->tenants[t].nsubnets; i++)
			if (!strcmp(cfg->tenants[t].subnets[i].name, name))
				return &cfg->tenants[t].subnets[i];
	return NULL;
}

/* ---- attach ---- */

static int load_hooks(struct loader *ld, json_t *root)
{
	static const char *const keys[] = { "iface", "hook", NULL };
	struct sf_route_config *cfg = ld->cfg;
	char path[96], field[96];
	const char *iface, *hook;
	json_t *arr, *v;
	size_t i;
	int err;

	arr = cfg_get_array(ld, root, "", "attach", &err);
	if (err)
		return err;
	if (!arr || !json_array_size(arr))
		return cfg_fail(ld, arr ? "attach" : "", "%s",
				arr ? "needs at least one hook" :
				      "missing field 'attach'");
	json_array_foreach(arr, i, v)
	{
		struct rt_hook *h = &cfg->hooks[cfg->nhooks];

		snprintf(path, sizeof(path), "attach[%zu]", i);
		if (i >= ROUTE_MAX_ATTACH)
			return cfg_fail(ld, path, "at most %d hooks",
					ROUTE_MAX_ATTACH);
		err = cfg_get_object(ld, v, path)			      ?:
			      cfg_check_keys(ld, v, path, keys)		      ?:
			      cfg_get_str(ld, v, path, "iface", true, &iface) ?:
			      cfg_get_str(ld, v, path, "hook", false, &hook);
		if (err)
			return err;
		snprintf(field, sizeof(field), "%s.iface", path);
		err = cfg_get_iface(ld, field, iface, h->iface, &h->ifindex);
		if (err)
			return err;
		snprintf(field, sizeof(field), "%s.hook", path);
		if (hook && strcmp(hook, "ingress") && strcmp(hook, "egress"))
			return cfg_fail(ld, field,
					"unknown hook '%s'; use ingress "
					"or egress",
					hook);
		h->egress = hook && !strcmp(hook, "egress");
		for (int k = 0; k < cfg->nhooks; k++)
			if (!strcmp(cfg->hooks[k].iface, h->iface) &&
			    cfg->hooks[k].egress == h->egress)
				return cfg_fail(
					ld, path,
					"duplicate hook: %s %s "
					"is also attach[%d]",
					h->iface,
					h->egress ? "egress" : "ingress", k);
		cfg->nhooks++;
	}
	return 0;
}

/* ---- tenants: subnets and devices ---- */

static bool name_taken(const struct sf_route_config *cfg, const char *name)
{
	for (int t = 0; t < cfg->ntenants; t++) {
		const struct rt_tenant *tn = &cfg->tenants[t];

		for (int i = 0; i < tn->nsubnets; i++)
			if (!strcmp(tn->subnets[i].name, name))
				return true;
		for (int i = 0; i < tn->ndevices; i++)
			if (!strcmp(tn->devices[i].name, name))
				return true;
	}
	return false;
}

static int load_subnet(struct loader *ld, json_t *v, const char *path,
		       struct rt_subnet *s)
{
	static const char *const keys[] = { "name", "prefix", NULL };
	char field[96];
	const char *prefix;
	int err;

	err = cfg_get_object(ld, v, path)		?:
		      cfg_check_keys(ld, v, path, keys) ?:
		      cfg_get_name(ld, v, path, "name", true, s->name, sizeof(s->name)) ?:
		      cfg_get_str(ld, v, path, "prefix", true, &prefix);
	if (err)
		return err;
	snprintf(field, sizeof(field), "%s.name", path);
	if (name_taken(ld->cfg, s->name))
		return cfg_fail(ld, field,
				"name '%s' is already used by another "
				"subnet or device",
				s->name);
	snprintf(field, sizeof(field), "%s.prefix", path);
	if (rt_parse_prefix(prefix, &s->prefix))
		return cfg_fail(ld, field,
				"bad prefix '%s' (ADDRESS/LEN, host "
				"bits zero)",
				prefix);
	return 0;
}

static int load_device(struct loader *ld, json_t *v, const char *path,
		       struct rt_device *d)
{
	static const char *const keys[] = { "device", "name", "address", "mac",
					    NULL };
	const char *dev, *addr, *mac;
	char field[96];
	int err;

	err = cfg_get_object(ld, v, path)			     ?:
		      cfg_check_keys(ld, v, path, keys)		     ?:
		      cfg_get_str(ld, v, path, "device", true, &dev) ?:
		      cfg_get_name(ld, v, path, "name", true, d->name, sizeof(d->name)) ?:
		      cfg_get_str(ld, v, path, "address", false, &addr) ?:
		      cfg_get_str(ld, v, path, "mac", false, &mac);
	if (err)
		return err;
	snprintf(field, sizeof(field), "%s.name", path);
	if (name_taken(ld->cfg, d->name))
		return cfg_fail(ld, field,
				"name '%s' is already used by another "
				"subnet or device",
				d->name);
	snprintf(field, sizeof(field), "%s.device", path);
	err = cfg_get_iface(ld, field, dev, d->device, &d->ifindex);
	if (err)
		return err;
	snprintf(field, sizeof(field), "%s.address", path);
	if (addr && (rt_parse_prefix(addr, &d->addr) || strchr(addr, '/')))
		return cfg_fail(ld, field,
				"bad address '%s' (an IPv4 or IPv6 "
				"address, no prefix length)",
				addr);
	err = cfg_parse_mac(ld, path, "mac", mac, d->mac);
	if (err)
		return err;
	d->has_mac = mac;
	return 0;
}

/* A device's interface gives its traffic one tenant. */
static int check_device_owner(struct loader *ld, const char *path,
			      const struct rt_device *d, int tenant)
{
	struct sf_route_config *cfg = ld->cfg;

	for (int t = 0; t < cfg->ntenants; t++)
		for (int i = 0; i < cfg->tenants[t].ndevices; i++)
			if (t != tenant &&
			    !strcmp(cfg->tenants[t].devices[i].device,
				    d->device))
				return cfg_fail(ld, path,
						"interface %s already "
						"belongs to tenant '%s'",
						d->device,
						cfg->tenants[t].name);
	return 0;
}

static int load_tenant(struct loader *ld, json_t *v, const char *path, int t)
{
	static const char *const keys[] = { "name", "subnets", "devices",
					    NULL };
	struct rt_tenant *tn = &ld->cfg->tenants[t];
	char sub[96], field[96];
	json_t *subnets, *devices, *e;
	size_t i;
	int err;

	err = cfg_get_object(ld, v, path)		?:
		      cfg_check_keys(ld, v, path, keys) ?:
		      cfg_get_name(ld, v, path, "name", true, tn->name,
				   sizeof(tn->name));
	if (err)
		return err;
	for (int k = 0; k < t; k++)
		if (!strcmp(ld->cfg->tenants[k].name, tn->name)) {
			snprintf(field, sizeof(field), "%s.name", path);
			return cfg_fail(ld, field, "duplicate tenant '%s'",
					tn->name);
		}
	subnets = cfg_get_array(ld, v, path, "subnets", &err);
	if (!err)
		devices = cfg_get_array(ld, v, path, "devices", &err);
	if (err)
		return err;
	tn->subnets =
		calloc(json_array_size(subnets) + 1, sizeof(*tn->subnets));
	tn->devices =
		calloc(json_array_size(devices) + 1, sizeof(*tn->devices));
	if (!tn->subnets || !tn->devices)
		return -ENOMEM;
	json_array_foreach(subnets, i, e)
	{
		snprintf(sub, sizeof(sub), "%s.subnets[%zu]", path, i);
		err = load_subnet(ld, e, sub, &tn->subnets[i]);
		if (err)
			return err;
		tn->nsubnets++;
	}
	json_array_foreach(devices, i, e)
	{
		snprintf(sub, sizeof(sub), "%s.devices[%zu]", path, i);
		err = load_device(ld, e, sub, &tn->devices[i]);
		if (!err) {
			snprintf(field, sizeof(field), "%s.device", sub);
			err = check_device_owner(ld, field, &tn->devices[i], t);
		}
		if (err)
			return err;
		tn->ndevices++;
	}
	return 0;
}

static int load_tenants(struct loader *ld, json_t *root)
{
	char path[96];
	json_t *arr, *v;
	size_t i;
	int err;

	arr = cfg_get_array(ld, root, "", "tenants", &err);
	if (err || !arr)
		return err;
	ld->cfg->tenants =
		calloc(json_array_size(arr) + 1, sizeof(*ld->cfg->tenants));
	if (!ld->cfg->tenants)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		snprintf(path, sizeof(path), "tenants[%zu]", i);
		ld->cfg->ntenants++; /* names seen so far count, and a half
				      * loaded tenant is freed too */
		err = load_tenant(ld, v, path, i);
		if (err)
			return err;
	}
	return 0;
}

/* ---- entry points ---- */

static int read_text(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	long n;
	int err = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		err = -EIO;
	else if (!(*text = malloc(n + 1)))
		err = -ENOMEM;
	else if (fread(*text, 1, n, f) != (size_t)n)
		err = -EIO;
	if (!err) {
		(*text)[n] = 0;
		*len = n;
	}
	fclose(f);
	return err;
}

/* A file that cannot be read has no line or column: "FILE: reason". */
static int check_readable(struct loader *ld)
{
	struct sf_route_error *e = ld->err;
	struct stat st;
	int err = 0;

	if (stat(ld->file, &st) || access(ld->file, R_OK))
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	if (!err)
		return 0;
	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	e->line = e->column = 0;
	e->field[0] = 0;
	snprintf(e->msg, sizeof(e->msg), "cannot read the configuration: %s",
		 strerror(-err));
	pr_err("%s: %s\n", e->file, e->msg);
	return err;
}

/* Positions of the fields for the messages. A text jansson took can still
 * be too deep to index ({"rules": [[[[...]]]]}): say where.
 */
static int index_text(struct loader *ld)
{
	struct sf_route_error *e = ld->err;
	int err, line = 0, col = 0;
	char *text = NULL;
	size_t len = 0;

	err = read_text(ld->file, &text, &len);
	if (!err)
		err = jpos_build(&ld->jp, text, len, &line, &col);
	free(text);
	if (!err)
		return 0;
	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	e->line = line;
	e->column = col;
	e->field[0] = 0;
	if (err == -E2BIG)
		snprintf(e->msg, sizeof(e->msg), "nested deeper than %d levels",
			 JPOS_MAX_DEPTH);
	else
		snprintf(e->msg, sizeof(e->msg),
			 "cannot read the configuration: %s", strerror(-err));
	pr_err("%s:%d:%d: %s\n", e->file, e->line, e->column, e->msg);
	return err == -E2BIG ? -EINVAL : err;
}

static int load_root(struct loader *ld)
{
	static const char *const keys[] = { "attach", "tenants", "rules",
					    NULL };
	struct sf_route_error *e = ld->err;
	json_error_t jerr;
	json_t *root;
	int err;

	err = check_readable(ld);
	if (err)
		return err;
	root = json_load_file(ld->file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(e->file, sizeof(e->file), "%s", ld->file);
		e->line = jerr.line > 0 ? jerr.line : 0;
		/* jansson's column 0: the start of a line (end of file) */
		e->column = jerr.column > 0 ? jerr.column : e->line > 0;
		e->field[0] = 0;
		snprintf(e->msg, sizeof(e->msg), "%s", jerr.text);
		pr_err("%s:%d:%d: %s\n", e->file, e->line, e->column, e->msg);
		return access(ld->file, R_OK) ? -errno : -EINVAL;
	}
	err = index_text(ld);
	if (!err)
		err = cfg_get_object(ld, root, "")		 ?:
			      cfg_check_keys(ld, root, "", keys) ?:
			      load_hooks(ld, root)		 ?:
			      load_tenants(ld, root)		 ?:
			      cfg_load_rules(ld, root);
	json_decref(root);
	return err;
}

int sf_route_config_load(const char *path, unsigned int flags,
			 struct sf_route_config **out,
			 struct sf_route_error *err)
{
	struct sf_route_error local;
	struct loader ld = { .file = path,
			     .flags = flags,
			     .err = err ?: &local };
	int rc;

	memset(ld.err, 0, sizeof(*ld.err));
	*out = NULL;
	ld.cfg = calloc(1, sizeof(*ld.cfg));
	if (!ld.cfg)
		return -ENOMEM;
	snprintf(ld.cfg->path, sizeof(ld.cfg->path), "%s", path);
	rc = load_root(&ld);
	jpos_free(&ld.jp);
	if (rc) {
		sf_route_config_free(ld.cfg);
		return rc;
	}
	*out = ld.cfg;
	return 0;
}

void sf_route_config_free(struct sf_route_config *cfg)
{
	if (!cfg)
		return;
	for (int t = 0; t < cfg->ntenants; t++) {
		free(cfg->tenants[t].subnets);
		free(cfg->tenants[t].devices);
	}
	free(cfg->tenants);
	free(cfg->rules);
	free(cfg);
}

int sf_route_config_nrules(const struct sf_route_config *cfg)
{
	return cfg->nrules;
}
