/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* config_int.h: the configuration loader's state and field helpers,
 * shared by config.c (document, hooks, tenants) and config_rule.c (rules).
 */
#ifndef __SYSFLOW_ROUTE_CONFIG_INT_H
#define __SYSFLOW_ROUTE_CONFIG_INT_H

#include <jansson.h>
#include "route_int.h"

struct loader {
	const char *file;
	unsigned int flags;
	struct jpos jp;
	struct sf_route_error *err;
	struct sf_route_config *cfg;
};

/* Report field (a path such as "rules[2].dst") at its position in the
 * file, or at the closest enclosing one; logs and returns -EINVAL.
 */
int cfg_fail(struct loader *ld, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void cfg_path(char *out, size_t len, const char *parent, const char *key);
/* Unknown members are errors ("comment" is allowed everywhere). */
int cfg_check_keys(struct loader *ld, json_t *obj, const char *path,
		   const char *const *allowed);
/* A non-empty string member; *out is NULL when absent and optional. */
int cfg_get_str(struct loader *ld, json_t *obj, const char *path,
		const char *key, bool required, const char **out);
/* A string member that fits in len (with its NUL). */
int cfg_get_name(struct loader *ld, json_t *obj, const char *path,
		 const char *key, bool required, char *out, size_t len);
int cfg_get_object(struct loader *ld, json_t *v, const char *path);
json_t *cfg_get_array(struct loader *ld, json_t *obj, const char *path,
		      const char *key, int *err);
/* An interface that must exist unless SF_ROUTE_NO_IFACES. */
int cfg_get_iface(struct loader *ld, const char *field, const char *name,
		  char out[IF_NAMESIZE], int *ifindex);
/* The MAC address s (six hex pairs) of member key into mac; nothing to do
 * when s is NULL.
 */
int cfg_parse_mac(struct loader *ld, const char *path, const char *key,
		  const char *s, uint8_t mac[6]);
int cfg_iface_mac(const char *ifname, uint8_t mac[6]);
const struct rt_device *cfg_find_device(const struct sf_route_config *cfg,
					const char *name);
const struct rt_subnet *cfg_find_subnet(const struct sf_route_config *cfg,
					const char *name);

/* config_rule.c */
int cfg_load_rules(struct loader *ld, json_t *root);

#endif /* __SYSFLOW_ROUTE_CONFIG_INT_H */
